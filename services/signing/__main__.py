from services.runtime.app import serve
from services.signing import bootstrap
from services.signing.config import Settings

if __name__ == "__main__":
    settings = Settings()
    serve(bootstrap.build_app(settings), settings, "signing")

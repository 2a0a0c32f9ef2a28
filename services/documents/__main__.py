from services.documents import bootstrap
from services.documents.config import Settings
from services.runtime.app import serve

if __name__ == "__main__":
    settings = Settings()
    serve(bootstrap.build_app(settings), settings, "documents")

"""`python -m services.automation` serves the rules API and runs the rules."""

from services.automation.bootstrap import build_app
from services.automation.config import Settings
from services.runtime.app import serve

if __name__ == "__main__":
    settings = Settings()
    serve(build_app(settings), settings, "automation")

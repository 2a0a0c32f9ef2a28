"""`python -m services.notifications` decides and sends the mails, and serves the staff API."""

from services.notifications.bootstrap import build_app
from services.notifications.config import Settings
from services.runtime.app import serve

if __name__ == "__main__":
    settings = Settings()
    serve(build_app(settings), settings, "notifications")

from services.portal import bootstrap
from services.portal.config import Settings
from services.runtime.app import serve

settings = Settings()
app = bootstrap.build_app(settings)
serve(app, settings, "portal")

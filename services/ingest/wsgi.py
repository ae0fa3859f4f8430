"""gunicorn entrypoint: services.ingest.wsgi:app"""
from shared.config import Settings
from shared.logs import configure_logging
from services.ingest.app import create_app

settings = Settings.from_env()
configure_logging("ingest", settings.log_level)
app = create_app(settings)

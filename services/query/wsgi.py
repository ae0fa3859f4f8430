"""gunicorn entrypoint: services.query.wsgi:app"""
from shared.config import Settings
from shared.logs import configure_logging
from services.query.app import create_app

settings = Settings.from_env()
configure_logging("query", settings.log_level)
app = create_app(settings)

"""gunicorn entrypoint: services.ingest.wsgi:app"""
import atexit

from shared.config import Settings
from shared.logs import configure_logging
from services.ingest.app import create_app

settings = Settings.from_env()
configure_logging("ingest", settings.log_level)
app = create_app(settings)
# a worker that stops gracefully publishes what its outbox still holds before it goes
atexit.register(app.extensions["storyline.relay"].stop, 10.0, 10.0)

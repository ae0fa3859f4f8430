"""gunicorn entrypoint: services.ingest.wsgi:app (each worker builds its parts at the composition root)."""

import atexit

from services import bootstrap
from shared.config import Settings
from shared.logs import configure_logging

settings = Settings.from_env()
configure_logging("ingest", settings.log_level)
parts = bootstrap.build(settings, roles=("ingest",))
app = parts.ingest_app()
parts.start()
# a worker that stops gracefully publishes what its outbox still holds before it goes
atexit.register(parts.stop, 10.0)

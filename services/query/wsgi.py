"""gunicorn entrypoint: services.query.wsgi:app"""

import atexit

from services import bootstrap
from shared.config import Settings
from shared.logs import configure_logging

settings = Settings.from_env()
configure_logging("query", settings.log_level)
parts = bootstrap.build(settings, roles=("query",))
app = parts.query_app()
# a worker that stops gracefully ends its live streams and stops their poller before the store closes
atexit.register(parts.stop)

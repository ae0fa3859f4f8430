"""Gunicorn settings for the ingest service (services.ingest.wsgi:app)."""

import os
import runpy

# gunicorn loads this file by path, so the shared settings are loaded by path too.
globals().update(
    {
        k: v
        for k, v in runpy.run_path(os.path.join(os.path.dirname(__file__), "common.py")).items()
        if not k.startswith("__")
    }
)

wsgi_app = "services.ingest.wsgi:app"
bind = bind_from_env(8001)  # noqa: F821 - defined by common.py
logconfig_dict = json_logging("ingest")  # noqa: F821

"""gunicorn entrypoint: services.ingest.wsgi:app"""
from services.ingest.app import create_app

app = create_app()

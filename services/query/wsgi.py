"""gunicorn entrypoint: services.query.wsgi:app"""
from services.query.app import create_app

app = create_app()

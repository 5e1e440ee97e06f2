"""WSGI entry point: ``gunicorn wsgi:app``. Nothing else happens at import."""

from app import create_app

app = create_app()

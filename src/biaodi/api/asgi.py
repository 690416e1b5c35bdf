"""ASGI entry point for uvicorn: `uvicorn biaodi.api.asgi:app`."""

from biaodi.api.app import create_app

app = create_app()

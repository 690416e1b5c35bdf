"""Entrypoint: the FastAPI application, JSON API under /api/v1."""

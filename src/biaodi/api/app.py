"""The FastAPI application: JSON API under /api/v1, OpenAPI at /openapi.json, and the pages
(biaodi.web) everywhere else."""

from __future__ import annotations

from fastapi import FastAPI

from biaodi import __version__
from biaodi.api import errors
from biaodi.api.routes import accounts, investing, listings, payments, risk, secondary, servicing
from biaodi.bootstrap import Platform, build_platform
from biaodi.web import app as web

API_PREFIX = "/api/v1"


def create_app(platform: Platform | None = None) -> FastAPI:
    app = FastAPI(
        title="Biaodi",
        version=__version__,
        description="Biaodi (标的): an online lending marketplace built around listing types.",
        docs_url=None,  # Swagger UI loads from a CDN; we link the spec instead
        redoc_url=None,
    )
    app.state.platform = platform or build_platform()
    errors.install(app)
    for router in (accounts.router, accounts.operator_router, listings.router, investing.router,
                   payments.router, risk.router, servicing.router, secondary.router):
        app.include_router(router, prefix=API_PREFIX)

    @app.get("/healthz", tags=["meta"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    web.install(app)  # the pages: the marketplace at /, sign-in, the consoles
    return app

"""The FastAPI application: JSON API under /api/v1, OpenAPI at /openapi.json, and the pages
(biaodi.web) everywhere else."""

from __future__ import annotations

import gc
import importlib.util
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from biaodi import __version__
from biaodi.adapters.db.engine import background_checkpoints
from biaodi.api import errors, guards, openapi
from biaodi.api.routes import (
    accounts,
    advisory,
    analytics,
    audit,
    crowdfunding,
    disclosure,
    documents,
    incentives,
    investing,
    listings,
    notifications,
    payments,
    risk,
    secondary,
    security,
    servicing,
    support,
    wallet,
)
from biaodi.bootstrap import Platform, build_platform
from biaodi.services.investing import funding
from biaodi.web import app as web

DOCS_ASSETS = "/docs/assets"

API_PREFIX = "/api/v1"

#: The JSON API's routers, one a line, in the order the reference lists them.
API_ROUTERS = (
    accounts.router,
    accounts.operator_router,
    listings.router,
    investing.router,
    incentives.router,
    payments.router,
    risk.router,
    servicing.router,
    secondary.router,
    analytics.router,
    disclosure.router,
    audit.router,
    documents.router,
    support.router,
    notifications.router,
    security.router,
    wallet.router,
    crowdfunding.router,
    advisory.router,
)


_heap_settled = False


def settle_heap(platform: Platform) -> None:
    """Once per process, when its first app starts: load what the first requests would (the
    risk model and its libraries), then tell the garbage collector to leave everything alive
    by then — modules, the app with its routes and models, the platform: the process's
    long-lived state — out of its rounds (`gc.freeze`). A full collection then walks only
    the objects made since, not the ~400,000 of the start-up (0.1–0.2 s here, a pause for
    every request in flight)."""
    global _heap_settled
    if not _heap_settled:
        _heap_settled = True
        risk.warm_up(platform)
        gc.collect()
        gc.freeze()


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    platform: Platform = app.state.platform
    settle_heap(platform)
    with background_checkpoints(platform.engine):  # SQLite's WAL, off the requests' path
        yield


def create_app(platform: Platform | None = None) -> FastAPI:
    app = FastAPI(
        lifespan=_lifespan,
        title="Biaodi",
        version=__version__,
        description="Biaodi (标的): an online lending marketplace built around listing types.",
        docs_url=None,  # FastAPI's page loads Swagger UI from a CDN: ours serves it (below)
        redoc_url=None,
    )
    app.state.platform = platform or _started_platform()
    errors.install(app)
    app.add_middleware(guards.Edge, limits={  # every answer names its request
        f"{API_PREFIX}/payments/callbacks": payments.MAX_CALLBACK_BYTES})
    for router in API_ROUTERS:
        app.include_router(router, prefix=API_PREFIX, responses=errors.ERROR_RESPONSES)

    openapi.install(app)
    _api_reference(app)

    @app.get("/healthz", tags=["meta"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    web.install(app)  # the pages: the marketplace at /, sign-in, the consoles
    return app


def _started_platform() -> Platform:
    """The platform of a server that is starting: anything a stopped process left half done
    that is safe to finish is finished first (a listing sold out but not yet disbursed)."""
    platform = build_platform()
    funding.complete_all_sold_out(platform.uow, platform.investing_rules)
    return platform


def _swagger_ui_files() -> Path | None:
    """Swagger UI's files as the `swagger-ui-py` package installs them (Swagger UI 5, which
    reads OpenAPI 3.1), found without importing the package (it would pull in its framework
    adapters)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def _api_reference(app: FastAPI) -> None:
    """`/docs`: the API reference (Swagger UI on /openapi.json), every file from this server."""
    files = _swagger_ui_files()
    if files is not None:
        app.mount(DOCS_ASSETS, StaticFiles(directory=files), name="docs-assets")

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    def docs() -> HTMLResponse:
        if files is None:
            return HTMLResponse("<!doctype html><p>The API reference needs the swagger-ui-py "
                                "package: <code>pip install -e .</code>; the spec is at "
                                "<a href='/openapi.json'>/openapi.json</a>.</p>", 503)
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} API reference",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png",
            # no badge from validator.swagger.io: the page talks to this server only
            swagger_ui_parameters={"validatorUrl": None},
        )

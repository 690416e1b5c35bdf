"""The pages on the platform's FastAPI app: our own static files under /static, the page
routes, and the error pages (403, 404, sign-in redirect) in the visitor's language."""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from biaodi.domain.shared.errors import BiaodiError, TooManyRequests
from biaodi.web import charts, pages
from biaodi.web.routes import (
    accounts,
    advisory,
    auto_invest,
    borrower,
    cash_wallet,
    crowdfunding,
    disclosure,
    documents,
    incentives,
    investor,
    marketplace,
    notifications,
    operator,
    operator_analytics,
    operator_audit,
    operator_defaults,
    operator_disclosure,
    operator_wallet,
    secondary,
    security,
    support,
)

#: The pages' routers, one a line.
PAGE_ROUTERS = (
    marketplace.router,
    accounts.router,
    operator.router,
    operator_defaults.router,
    operator_audit.router,
    operator_analytics.router,
    operator_disclosure.router,
    operator_wallet.router,
    borrower.router,
    investor.router,
    incentives.router,
    auto_invest.router,
    secondary.router,
    notifications.router,
    disclosure.router,
    security.router,
    documents.router,
    support.router,
    cash_wallet.router,
    crowdfunding.router,
    advisory.router,
)

access_log = logging.getLogger("biaodi.access")  # the same log as the API's refusals


def _log_refusal(request: Request, exc: pages.PageError) -> None:
    """A 403 page is logged like a 403 of the API (api/guards.Edge): method, path, the
    user's id or '-', status and a code named after the page's title (forbidden, csrf). No
    personal data. A sign-in redirect of an anonymous visitor is not logged."""
    user = pages.current_user(request)
    code = exc.title_key.removeprefix("error.").removesuffix(".title")
    access_log.warning("access refused: %s %s user=%s status=%s code=%s", request.method,
                       request.url.path, user.id if user else "-", exc.status, code)


def install(app: FastAPI) -> None:
    """Add the pages to `app` (the JSON API stays under /api/v1)."""
    @app.get(charts.VENDOR_PATH, include_in_schema=False)
    def _plotly_js() -> Response:
        """Plotly's own bundle from the installed package (before the /static mount, which
        would take the path). The page asks for it with ?v=<version>, so it may be kept."""
        return FileResponse(charts.plotly_js(), media_type="text/javascript", headers={
            "Cache-Control": "public, max-age=31536000, immutable"})

    app.mount("/static", StaticFiles(directory=pages.HERE / "static"), name="static")
    for router in PAGE_ROUTERS:
        app.include_router(router, include_in_schema=False)

    @app.exception_handler(pages.PageError)
    async def _page_error(request: Request, exc: pages.PageError) -> Response:
        if exc.status == 403:
            _log_refusal(request, exc)
        return pages.render(request, "error.html", {
            "title_key": exc.title_key, "text_key": exc.text_key, "values": exc.values,
        }, exc.status)

    json_business = app.exception_handlers.get(BiaodiError)

    @app.exception_handler(TooManyRequests)
    async def _too_many(request: Request, exc: TooManyRequests) -> Response:
        """A page past a rate limit gets the 429 page (the API keeps its JSON); both say when
        to try again in Retry-After."""
        if request.url.path.startswith("/api/") and json_business is not None:
            response = await json_business(request, exc)
        else:
            response = pages.render(request, "error.html", {
                "title_key": "error.rate_limited.title", "text_key": "error.rate_limited.text",
                "values": {"seconds": exc.retry_after}}, 429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response

    json_invalid = app.exception_handlers.get(RequestValidationError)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        """A page address with an impossible id (or page number) is a 404 page, other bad
        query values a 400 page; the API keeps its JSON."""
        if request.url.path.startswith("/api/") and json_invalid is not None:
            return await json_invalid(request, exc)
        in_path = any(e.get("loc", ("",))[0] == "path" for e in exc.errors())
        keys = ("error.not_found.title", "error.not_found.text") if in_path else (
            "error.bad_request.title", "error.bad_request.text")
        return pages.render(request, "error.html", {
            "title_key": keys[0], "text_key": keys[1], "values": {}}, 404 if in_path else 400)

    json_http = app.exception_handlers.get(StarletteHTTPException)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        """A page address that does not exist gets the 404 page; the API keeps its JSON."""
        if (exc.status_code == 404 and json_http is not None
                and not request.url.path.startswith(("/api/", "/static/"))):
            return pages.render(request, "error.html", {
                "title_key": "error.not_found.title", "text_key": "error.not_found.text",
                "values": {}}, 404)
        if json_http is None:
            raise exc
        return await json_http(request, exc)

    @app.exception_handler(pages.LoginRequired)
    async def _login_required(request: Request, _exc: pages.LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return pages.redirect(f"/login?next={quote(target, safe='')}")

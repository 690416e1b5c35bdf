"""Guards at the edge of the app, before any route runs: a request body over its size limit is
cut off while it streams in (413, never read whole into memory), a NUL character in the query
string is refused (422; PostgreSQL text cannot hold one and used to answer 500), every
answer carries the security headers, and every request runs under an id (X-Request-ID) that
the audit trail records."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from urllib.parse import parse_qsl

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from biaodi.api.errors import error_body
from biaodi.services.shared import audit

#: Any request body (JSON, forms); the payment gateway's callbacks have their own, smaller one.
MAX_BODY_BYTES = 1024 * 1024


class BodyLimit:
    """ASGI middleware: 413 `body_too_large` for a body over its path's limit. A declared
    Content-Length over it is refused before a byte is read; a chunked body is counted as it
    arrives and cut off at the limit (the route sees a disconnect and its answer is dropped)."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES,
                 limits: Mapping[str, int] | None = None) -> None:
        self.app, self.limit, self.limits = app, limit, dict(limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.get(scope["path"], self.limit)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(limit)(scope, receive, send)
            return
        seen, refused = 0, False

        async def counted() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    refused = True
                    await _too_large(limit)(scope, receive, send)
                    return {"type": "http.disconnect"}
            return message

        async def unless_refused(message: Message) -> None:
            if not refused:
                await send(message)

        try:
            await self.app(scope, counted, unless_refused)
        except Exception:
            if not refused:  # the route failed on its own: let the error handlers answer
                raise


def _too_large(limit: int) -> JSONResponse:
    return JSONResponse(error_body("body_too_large",
                                   f"the request body must be at most {limit} bytes", "body"),
                        413, headers={"Connection": "close"})


class RefuseNul:
    """ASGI middleware: a NUL character in the query string is refused with 422 naming the
    parameter (PostgreSQL cannot store one in text and used to answer 500)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and b"%00" in scope.get("query_string", b""):
            for name, value in parse_qsl(scope["query_string"].decode("latin-1"),
                                         keep_blank_values=True):
                if "\x00" in name or "\x00" in value:
                    # a parameter without a name is blamed on the query string
                    field = name.replace("\x00", "") or "query"
                    response = JSONResponse(error_body(
                        "invalid_input", f"{field}: must not contain a NUL character", field),
                        422)
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


#: Pages load scripts, styles and images from this server only (Plotly and Swagger UI are
#: served from their installed packages); nothing may frame them.
CONTENT_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                  "script-src 'self'; object-src 'none'; base-uri 'self'; "
                  "frame-ancestors 'none'")
#: Swagger UI's page starts itself with an inline script.
DOCS_POLICY = CONTENT_POLICY.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")


class SecurityHeaders:
    """ASGI middleware: the security headers on every answer — a content policy, no framing, no
    MIME sniffing, no referrer to other sites, and HSTS when the request came over TLS."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = DOCS_POLICY if scope["path"] == "/docs" else CONTENT_POLICY
        extra = [(b"content-security-policy", policy.encode()),
                 (b"x-frame-options", b"DENY"), (b"x-content-type-options", b"nosniff"),
                 (b"referrer-policy", b"same-origin")]
        if scope.get("scheme") == "https":
            extra.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)


#: A request id the client may choose (X-Request-ID): short, and only characters that are
#: safe in logs and headers; anything else is replaced by one of ours.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


class RequestContext:
    """ASGI middleware: every request gets an id (the client's X-Request-ID when well formed,
    else a fresh one), answered in X-Request-ID, and runs in an audit context naming it: the
    records of what the request changed carry the id and, once authenticated, the user
    (adapters/db/audit.py)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex

        async def with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []),
                                      (b"x-request-id", request_id.encode())]
            await send(message)

        with audit.acting("anonymous", request_id=request_id):
            await self.app(scope, receive, with_id)

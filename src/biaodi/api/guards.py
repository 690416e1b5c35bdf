"""Guards at the edge of the app, before any route runs: a request body over its size limit is
cut off while it streams in (413, never read whole into memory), and a NUL character in the
query string is refused (422; PostgreSQL text cannot hold one and used to answer 500)."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from biaodi.api.errors import error_body

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
                    field = name.replace("\x00", "")
                    response = JSONResponse(error_body(
                        "invalid_input", f"{field}: must not contain a NUL character", field),
                        422)
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)

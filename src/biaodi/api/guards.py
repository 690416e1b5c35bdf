"""Guards at the edge of the app, before any route runs, in one ASGI layer (`Edge`): a request
body over its size limit is cut off while it streams in (413, never read whole into memory), a
NUL character in the query string is refused (422; PostgreSQL text cannot hold one and used to
answer 500), every answer carries the security headers, every request runs under an id
(X-Request-ID) that the audit trail records, and every refusal of the JSON API for want of a
sign-in or a right (401, 403) is logged."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from urllib.parse import parse_qsl

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from biaodi.api.errors import access_log, code_of, error_body
from biaodi.services.shared import audit

#: Any request body (JSON, forms); the payment gateway's callbacks have their own, smaller one.
MAX_BODY_BYTES = 1024 * 1024


def _too_large(limit: int) -> JSONResponse:
    return JSONResponse(error_body("body_too_large",
                                   f"the request body must be at most {limit} bytes", "body"),
                        413, headers={"Connection": "close"})


def _nul_refusal(query_string: bytes) -> JSONResponse | None:
    """422 naming the parameter when the query string holds a NUL character (PostgreSQL
    cannot store one in text and used to answer 500)."""
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            # a parameter without a name is blamed on the query string
            field = name.replace("\x00", "") or "query"
            return JSONResponse(error_body(
                "invalid_input", f"{field}: must not contain a NUL character", field), 422)
    return None


#: Pages load scripts, styles and images from this server only (Plotly and Swagger UI are
#: served from their installed packages); nothing may frame them.
CONTENT_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                  "script-src 'self'; object-src 'none'; base-uri 'self'; "
                  "frame-ancestors 'none'")
#: Swagger UI's page starts itself with an inline script.
DOCS_POLICY = CONTENT_POLICY.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")


def _security_headers(policy: str, https: bool) -> tuple[tuple[bytes, bytes], ...]:
    """A content policy, no framing, no MIME sniffing, no referrer to other sites, and HSTS
    when the request came over TLS."""
    headers = ((b"content-security-policy", policy.encode()), (b"x-frame-options", b"DENY"),
               (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"))
    if https:
        headers += ((b"strict-transport-security", b"max-age=31536000; includeSubDomains"),)
    return headers


#: The security headers by (the API reference's page?, over TLS?), encoded once.
_SECURITY_HEADERS = {(docs, https): _security_headers(DOCS_POLICY if docs else CONTENT_POLICY,
                                                      https)
                     for docs in (False, True) for https in (False, True)}


#: A request id the client may choose (X-Request-ID): short, and only characters that are
#: safe in logs and headers; anything else is replaced by one of ours.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


class Edge:
    """ASGI middleware, outermost of the app's: the edge guards in one layer (as five layers
    they cost 0.2–0.3 ms of CPU a request here, more than some statements).

    - Every request gets an id (the client's X-Request-ID when well formed, else a fresh one),
      answered in X-Request-ID, and runs in an audit context naming it: the records of what
      the request changed carry the id and, once authenticated, the user
      (adapters/db/audit.py).
    - A body over its path's limit is answered 413 `body_too_large`: a declared
      Content-Length over it before a byte is read; a chunked body is counted as it arrives
      and cut off at the limit (the route sees a disconnect and its answer is dropped).
    - A NUL character in the query string is answered 422, naming the parameter.
    - Every answer carries the security headers.
    - Each 401/403 answer of the JSON API is logged to `biaodi.access` (WARNING): method,
      path, user id (when signed in) and the error's code, never personal data. It watches
      the answers rather than the error handler, so that refusals stored and replayed under
      an idempotency key (answered without raising) are logged too."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES,
                 limits: Mapping[str, int] | None = None) -> None:
        self.app, self.limit, self.limits = app, limit, dict(limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given, declared = b"", None
        for name, value in scope.get("headers") or ():  # the last one counts, as in a dict
            if name == b"x-request-id":
                given = value
            elif name == b"content-length":
                declared = value
        text_id = given.decode("latin-1")
        request_id = text_id if _REQUEST_ID.fullmatch(text_id) else uuid.uuid4().hex
        path = scope["path"]
        added = (*_SECURITY_HEADERS[path == "/docs", scope.get("scheme") == "https"],
                 (b"x-request-id", request_id.encode()))

        async def guarded(message: Message) -> None:
            """The guards' own answers: the headers, and nothing else to watch."""
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *added]
            await send(message)

        with audit.acting("anonymous", request_id=request_id):
            limit = self.limits.get(path, self.limit)
            if declared is not None and declared.isdigit() and int(declared) > limit:
                await _too_large(limit)(scope, receive, guarded)
                return
            query = scope.get("query_string", b"")
            refusal = _nul_refusal(query) if b"%00" in query else None
            if refusal is not None:
                await refusal(scope, receive, guarded)
                return
            await self._guarded(scope, receive, send, guarded, limit, added)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send,
                       guarded: Send, limit: int, added: tuple[tuple[bytes, bytes], ...]
                       ) -> None:
        logged = scope["path"].startswith("/api/")
        seen, refused, status = 0, False, 0

        async def counted() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    refused = True
                    await _too_large(limit)(scope, receive, guarded)
                    return {"type": "http.disconnect"}
            return message

        async def answered(message: Message) -> None:
            nonlocal status
            if refused:  # cut off at the limit: the 413 is the answer
                return
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), *added]
            elif message["type"] == "http.response.body" and logged and status in (401, 403):
                user = scope.get("state", {}).get("user_id", "-")
                access_log.warning("access refused: %s %s user=%s status=%s code=%s",
                                   scope["method"], scope["path"], user, status,
                                   code_of(message.get("body", b"")))
                status = 0  # once per answer
            await send(message)

        try:
            await self.app(scope, counted, answered)
        except Exception:
            if not refused:  # the route failed on its own: let the error handlers answer
                raise

"""Every error leaves the API as {"error": {"code", "message", "field"}}."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from biaodi.domain.shared.errors import BiaodiError, TooManyRequests

#: Every refusal of the API for want of a sign-in (401) or of a right (403): method, path,
#: user id (when signed in) and the error's code, never personal data (no names, numbers,
#: tokens or bodies), for whoever watches for probing (written by `api/guards.Edge`).
access_log = logging.getLogger("biaodi.access")


class ErrorDetail(BaseModel):
    """What went wrong: a stable machine `code`, a plain `message`, and the `field` to blame
    (`body` for a body that is not JSON; null when no one input is to blame). Some refusals
    add keys of their own (a refused collection contact names its `rule_id`)."""

    model_config = ConfigDict(extra="allow")

    code: str
    message: str
    field: str | None


class ErrorBody(BaseModel):
    """Every error of the API."""

    error: ErrorDetail


_REASONS = {
    401: "Not signed in, or the token is unknown or expired (`WWW-Authenticate: Bearer`).",
    403: "Signed in without the role or the right to this object.",
    404: "No such object, or not one the caller may see.",
    409: "Well formed, but the current state forbids it (sold out, already closed, ...).",
    413: "The request body is over the size limit (`body_too_large`).",
    422: "Bad input: the field named breaks the stated rule (`invalid_input` for a value the "
         "request cannot take, including a body that is not JSON: field `body`).",
    429: "Too many requests (`rate_limited`): try again after `Retry-After` seconds.",
}

#: The error answers every route of the API may give, documented once for the whole API (each
#: route adds its own success answer, and 502 where the payment gateway is asked).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": reason} for status, reason in _REASONS.items()
}
GATEWAY_RESPONSES: dict[int | str, dict[str, Any]] = {
    502: {"model": ErrorBody, "description": "The payment gateway did not answer, refused, or "
          "its clock differs from the platform's (`gateway_unavailable`, `gateway_refused`, "
          "`gateway_clock_mismatch`)."},
}


def error_body(code: str, message: str, field: str | None = None) -> dict[str, object]:
    return {"error": {"code": code, "message": message, "field": field}}


#: FastAPI's 400 for a body it cannot parse at all (not JSON text: bytes that are not UTF-8).
UNPARSEABLE_BODY = "There was an error parsing the body"


def _field_of(loc: tuple[object, ...]) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form")]
    return ".".join(parts) or None


def _explain(error: Mapping[str, Any]) -> tuple[str | None, str]:
    """The field to blame and a sentence naming it, from pydantic's first error."""
    kind = error.get("type")
    if kind == "json_invalid":  # its location is a character position, not a field
        reason = (error.get("ctx") or {}).get("error", "not valid JSON")
        return "body", f"body: the request body is not valid JSON ({reason})"
    loc = tuple(error.get("loc", ()))
    # the body as a whole is wrong (a list or a number where an object belongs): blame `body`
    field = _field_of(loc) or ("body" if loc[:1] == ("body",) else None)
    if kind == "extra_forbidden":
        return field, f"{field}: not a field of this request (check the spelling)"
    return field, f"{field}: {error.get('msg')}" if field else str(error.get("msg"))


def code_of(body: bytes) -> str:
    """The error code of an answer's body, "-" when it has none."""
    try:
        return str(json.loads(body)["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return "-"


def install(app: FastAPI) -> None:
    @app.exception_handler(BiaodiError)
    async def _business(_request: Request, exc: BiaodiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        if isinstance(exc, TooManyRequests):
            headers = {"Retry-After": str(exc.retry_after)}
        return JSONResponse({"error": exc.as_dict()}, exc.status, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        field, message = _explain(first)
        return JSONResponse(error_body("invalid_input", message, field), 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if (exc.status_code == 400 and exc.detail == UNPARSEABLE_BODY
                and request.url.path.startswith("/api/")):
            # FastAPI's answer to a body it cannot even decode (not UTF-8, say): the same
            # situation as malformed JSON, so the same answer
            return JSONResponse(error_body(
                "invalid_input", "body: the request body is not valid JSON (it cannot be "
                "read as text)", "body"), 422)
        code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized"}.get(
            exc.status_code, "http_error"
        )
        return JSONResponse(
            error_body(code, str(exc.detail)), exc.status_code, getattr(exc, "headers", None)
        )

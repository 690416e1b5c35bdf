"""The OpenAPI document, corrected where FastAPI cannot say what the routes do.

Money-moving routes declare `Idempotency-Key` as an optional header so that its absence is
refused by `check_key` with the documented error (422 naming `Idempotency-Key`) rather than
by FastAPI; the document says what that check enforces: the header is required, not blank,
at most `MAX_KEY_LENGTH` characters. (tests/api/meta/test_spec_conformance.py holds the
document to the behaviour.)"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from biaodi.services.shared.idempotency import MAX_KEY_LENGTH

IDEMPOTENCY_KEY_SCHEMA = {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH,
                          "pattern": r"\S", "title": "Idempotency-Key"}


def _correct(document: dict[str, Any]) -> None:
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", ()):
                if parameter["in"] == "header" and parameter["name"] == "idempotency-key":
                    parameter["required"] = True
                    parameter["schema"] = dict(IDEMPOTENCY_KEY_SCHEMA)


def install(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _correct(generate())  # FastAPI keeps what it generated in app.openapi_schema
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]

"""The OpenAPI document, corrected where FastAPI cannot say what the routes do.

Money-moving routes declare `Idempotency-Key` as an optional header so that its absence is
refused by `check_key` with the documented error (422 naming `Idempotency-Key`) rather than
by FastAPI; the document says what that check enforces: the header is required, not blank,
at most `MAX_KEY_LENGTH` characters. And no text a caller sends may hold a NUL character
(`api/guards.Edge` for query strings, `api/params.RequestBody` for bodies): every free text
parameter and body field says so with a pattern. The bounds of whole numbers are whole (FastAPI
writes them as floats, the largest id rounded up past what a BIGINT holds).
(tests/api/meta/test_spec_conformance.py holds the document to the behaviour.)"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from biaodi.domain.shared.bounds import MAX_ID
from biaodi.services.shared.idempotency import MAX_KEY_LENGTH

#: Any text without a NUL character.
NO_NUL = "^[^\\u0000]*$"

IDEMPOTENCY_KEY_SCHEMA = {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH,
                          "pattern": r"\S", "title": "Idempotency-Key"}


def _no_nul(schema: dict[str, Any], components: dict[str, Any], seen: set[str]) -> None:
    """Give every free text of `schema` (no enum, pattern or format of its own) the pattern
    that refuses a NUL character, following references into `components`."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name not in seen:
            seen.add(name)
            _no_nul(components[name], components, seen)
        return
    if schema.get("type") == "string" and not {"enum", "pattern", "format"} & schema.keys():
        schema["pattern"] = NO_NUL
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, ()):
            _no_nul(sub, components, seen)
    for sub in (*schema.get("properties", {}).values(), schema.get("items"),
                schema.get("additionalProperties")):
        if isinstance(sub, dict):
            _no_nul(sub, components, seen)


def _whole_bounds(node: Any) -> None:
    """FastAPI writes the bounds of the models' numbers as floats, and 2**63 - 1 (the largest
    id) as 9.223372036854776e+18, one more than a BIGINT holds: give whole numbers whole
    bounds again."""
    if isinstance(node, list):
        for item in node:
            _whole_bounds(item)
    elif isinstance(node, dict):
        if node.get("type") == "integer":
            for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
                value = node.get(key)
                if isinstance(value, float) and value.is_integer():
                    node[key] = MAX_ID if value == float(MAX_ID) else int(value)
        for value in node.values():
            _whole_bounds(value)


def _correct(document: dict[str, Any]) -> None:
    _whole_bounds(document)
    components = document.get("components", {}).get("schemas", {})
    seen: set[str] = set()  # request bodies' models: every one is checked once
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", ()):
                if parameter["in"] == "header" and parameter["name"] == "idempotency-key":
                    parameter["required"] = True
                    parameter["schema"] = dict(IDEMPOTENCY_KEY_SCHEMA)
                elif parameter["in"] in ("query", "path"):
                    _no_nul(parameter["schema"], components, seen)
            for content in operation.get("requestBody", {}).get("content", {}).values():
                _no_nul(content["schema"], components, seen)


def install(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _correct(generate())  # FastAPI keeps what it generated in app.openapi_schema
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]

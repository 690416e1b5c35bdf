"""`/docs`: the API reference, served with Swagger UI's files from this server (no CDN)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient


def test_docs_page_and_its_assets_come_from_this_server(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200, page.text
    assert "'/openapi.json'" in page.text
    # Nothing from another host: every src/href is a path on this server, no validator badge.
    links = re.findall(r"""(?:src|href)=["']([^"']+)""", page.text)
    assert links and all(link.startswith("/") and not link.startswith("//") for link in links)
    assert "http://" not in page.text and "https://" not in page.text
    assert '"validatorUrl": null' in page.text
    script = client.get("/docs/assets/swagger-ui-bundle.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert "SwaggerUIBundle" in script.text
    assert client.get("/docs/assets/swagger-ui.css").status_code == 200
    assert client.get("/openapi.json").json()["info"]["title"] == "Biaodi"


def test_the_spec_documents_every_error_answer_and_the_idempotency_key(
        client: TestClient) -> None:
    """Every API operation documents its error answers with the one error shape, and a route
    that needs `Idempotency-Key` says the header is required (it said optional, then refused
    the request without it)."""
    spec = client.get("/openapi.json").json()
    error = spec["components"]["schemas"]["ErrorDetail"]
    assert set(error["required"]) == {"code", "message", "field"}
    keyed = 0
    for path, operations in spec["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, operation in operations.items():
            for status in ("401", "403", "404", "409", "413", "422", "429"):
                content = operation["responses"][status]["content"]["application/json"]
                assert content["schema"] == {"$ref": "#/components/schemas/ErrorBody"}, (
                    method, path, status)
            for parameter in operation.get("parameters", ()):
                if parameter["name"].lower() == "idempotency-key":
                    keyed += 1
                    assert parameter["required"] is True, (method, path)
    assert keyed >= 10
    assert "502" in spec["paths"]["/api/v1/payments/deposits"]["post"]["responses"]


def test_whole_numbers_have_whole_bounds(client: TestClient) -> None:
    """FastAPI wrote the largest id (2**63 - 1) as 9.223372036854776e+18: a schema-valid id one
    past what the database holds."""
    text = client.get("/openapi.json").text
    assert "9.223372036854776e+18" not in text
    assert '"maximum":9223372036854775807' in text.replace(" ", "")

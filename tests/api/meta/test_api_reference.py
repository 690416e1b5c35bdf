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

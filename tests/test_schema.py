"""The OpenAPI 3 schema is valid, and Swagger UI serves its assets locally."""

import json

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_schema_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.json"
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", "--file", str(target)
    )
    schema = json.loads(target.read_text())
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "乡治 Xiangzhi API"
    assert {"/api/v1/auth/token/", "/api/v1/me/"} <= set(schema["paths"])
    # Every API path lives under /api/v1/ (the URL convention every module keeps).
    assert all(p.startswith("/api/v1/") for p in schema["paths"])
    assert "/api/v1/governance/residents/{id}/personal-data/" in schema["paths"]
    assert set(schema["components"]["securitySchemes"]) == {"cookieAuth", "tokenAuth"}


@pytest.mark.django_db
def test_schema_endpoint_is_public_json(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert response.json()["paths"]["/api/v1/me/"]["get"]["responses"]["200"]


@pytest.mark.django_db
def test_swagger_ui_loads_no_cdn(client):
    page = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()
    assert "jsdelivr" not in page

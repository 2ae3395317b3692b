"""Security headers on every kind of answer — a page, the login page, an API answer, a static file
(WhiteNoise answers those before the rest of the middleware, so the header middlewares sit before it) —
and HSTS under SECURE_HTTPS."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import drf_spectacular
import pytest
from django.conf import settings
from django.test import Client, override_settings
from rest_framework.test import APIClient

from tests.conftest import ROOT


def style_hash(template: Path) -> str:
    style = re.search(r"<style>(.*?)</style>", template.read_text(), re.S)
    assert style is not None
    return "'sha256-" + base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode() + "'"


def inline_style_hashes() -> str:
    """The two pages allowed one inline <style> block each: the last-resort 500 page and Swagger UI."""
    swagger = Path(drf_spectacular.__file__).parent / "templates" / "drf_spectacular" / "swagger_ui.html"
    hashes = [style_hash(ROOT / "templates" / "500_plain.html"), style_hash(swagger)]
    return " ".join(hashes)


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' {style}; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
COMMON = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def directives(policy: str) -> dict[str, str]:
    """{directive: its sources}: django-csp writes the directives in no fixed order."""
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))


def assert_security_headers(response) -> None:
    for header, value in COMMON.items():
        assert response.get(header) == value, (header, response.get(header))
    policy = response["Content-Security-Policy"]
    assert directives(policy) == directives(CSP.format(style=inline_style_hashes()))
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy


def test_login_page(db):
    response = Client().get("/login/")
    assert response.status_code == 200
    assert_security_headers(response)


def test_signed_in_page(county_admin_client):
    response = county_admin_client.get("/governance/audit/")
    assert response.status_code == 200
    assert_security_headers(response)


def test_api_answer(demo_county):
    client = APIClient()
    client.force_authenticate(user=None)
    response = client.get("/api/v1/me/")
    assert response.status_code == 401
    assert_security_headers(response)
    assert client.login(username="grid_leader", password="xiangzhi-demo")
    response = client.get("/api/v1/me/")
    assert response.status_code == 200
    assert_security_headers(response)


def test_static_file(db):
    # WhiteNoise serves from the finders here (the suite does not run collectstatic); a fresh client
    # builds its middleware under these settings.
    with override_settings(WHITENOISE_USE_FINDERS=True, WHITENOISE_AUTOREFRESH=True):
        response = Client().get("/static/js/page-actions.js")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/javascript")
        assert_security_headers(response)


def test_error_page(db):
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert_security_headers(response)


def test_hsts_only_over_https(db):
    assert Client().get("/login/", secure=True).get("Strict-Transport-Security") is None  # SECURE_HTTPS=0
    with override_settings(
        SECURE_HSTS_SECONDS=31536000, SECURE_HSTS_INCLUDE_SUBDOMAINS=True, SECURE_HSTS_PRELOAD=True
    ):
        client = Client()
        response = client.get("/login/", secure=True)
        assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
        assert_security_headers(response)
        assert client.get("/login/").get("Strict-Transport-Security") is None  # never on plain HTTP


@pytest.mark.parametrize("name", ["DEBUG", "SECURE_HTTPS"])
def test_suite_runs_with_production_like_settings(name):
    assert getattr(settings, name) is False

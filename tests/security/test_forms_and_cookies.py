"""CSRF on every form and the cookies' flags; the templates carry no inline script, style or event
handler (the Content-Security-Policy would refuse them)."""

from __future__ import annotations

import re
from pathlib import Path

from django.test import Client, override_settings

from governance.models import Region
from tests.conftest import ROOT

TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))
FORM = re.compile(r"<form\b[^>]*>", re.I)


def post_forms(text: str) -> list[tuple[str, str]]:
    """(opening tag, body up to </form>) of every <form method="post">."""
    found = []
    for match in FORM.finditer(text):
        if re.search(r"""method\s*=\s*["']?post""", match.group(0), re.I):
            end = text.find("</form>", match.end())
            found.append((match.group(0), text[match.end() : end if end != -1 else len(text)]))
    return found


def test_every_post_form_in_every_template_has_a_csrf_token():
    assert len(TEMPLATES) > 150
    forms = [(path, tag, body) for path in TEMPLATES for tag, body in post_forms(path.read_text())]
    assert len(forms) >= 144  # 144 on 2026-11-29: the scan finds them
    missing = [
        f"{path.relative_to(ROOT)}: {tag}" for path, tag, body in forms if "{% csrf_token %}" not in body
    ]
    assert missing == []


def test_no_inline_script_style_or_handler_in_templates():
    offences: list[str] = []
    for path in TEMPLATES:
        text = path.read_text()
        name = str(path.relative_to(ROOT))
        offences += [f"{name}: {m}" for m in re.findall(r"<script\b(?![^>]*\bsrc=)[^>]*>", text)]
        offences += [f"{name}: {m}" for m in re.findall(r"""\sstyle\s*=\s*["']""", text)]
        offences += [f"{name}: {m}" for m in re.findall(r"""\son[a-z]+\s*=\s*["']""", text)]
        offences += [f"{name}: {m}" for m in re.findall(r"""javascript:""", text)]
        if name != "templates/500_plain.html":  # hashed in the policy (config/settings.py)
            offences += [f"{name}: <style>" for _ in re.findall(r"<style\b", text)]
    assert offences == []


def test_post_without_csrf_token_is_refused_on_real_forms(demo_county):
    client = Client(enforce_csrf_checks=True)
    # The login form.
    response = client.post("/login/", {"username": "county_admin", "password": "xiangzhi-demo"})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session
    page = client.get("/login/")
    token = client.cookies["csrftoken"].value
    assert page.status_code == 200
    response = client.post(
        "/login/", {"username": "county_admin", "password": "xiangzhi-demo", "csrfmiddlewaretoken": token}
    )
    assert (response.status_code, response["Location"]) == (302, "/start/")
    # A form that changes the region tree.
    regions = Region.objects.count()
    village = demo_county["新华村"]
    response = client.post(f"/governance/regions/{village.pk}/new/", {"name": "第九网格", "code": "9"})
    assert response.status_code == 403
    assert Region.objects.count() == regions
    # Logging out.
    assert client.post("/logout/").status_code == 403
    assert client.get("/").status_code == 200
    assert "_auth_user_id" in client.session
    token = client.cookies["csrftoken"].value
    assert client.post("/logout/", {"csrfmiddlewaretoken": token}).status_code == 302
    assert "_auth_user_id" not in client.session


def cookie_flags(response, name: str) -> dict[str, object]:
    morsel = response.cookies[name]
    return {
        "secure": bool(morsel["secure"]),
        "httponly": bool(morsel["httponly"]),
        "samesite": morsel["samesite"],
    }


def test_session_and_csrf_cookie_flags_without_https(demo_county):
    client = Client()
    client.get("/login/")
    response = client.post("/login/", {"username": "grid_leader", "password": "xiangzhi-demo"})
    assert cookie_flags(response, "sessionid") == {"secure": False, "httponly": True, "samesite": "Lax"}
    assert cookie_flags(response, "csrftoken") == {"secure": False, "httponly": False, "samesite": "Lax"}
    assert response.cookies["sessionid"]["max-age"] == 12 * 3600


def test_session_and_csrf_cookie_flags_under_https(demo_county):
    # The values config/settings.py derives from SECURE_HTTPS=1 (test_deploy.py reads them in a
    # process started with it).
    with override_settings(SESSION_COOKIE_SECURE=True, CSRF_COOKIE_SECURE=True):
        client = Client()
        client.get("/login/", secure=True)
        response = client.post(
            "/login/", {"username": "grid_leader", "password": "xiangzhi-demo"}, secure=True
        )
    assert response.status_code == 302
    assert cookie_flags(response, "sessionid") == {"secure": True, "httponly": True, "samesite": "Lax"}
    assert cookie_flags(response, "csrftoken") == {"secure": True, "httponly": False, "samesite": "Lax"}


def test_templates_folder_is_the_only_one():
    """Every app's templates live in templates/ (APP_DIRS finds none of ours), so the scans above see all."""
    ours = [p for p in ROOT.glob("*/templates") if p.is_dir() and p.parent.name not in {".venv"}]
    assert ours == []
    assert Path(ROOT / "templates").is_dir()

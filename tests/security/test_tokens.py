"""API tokens can be revoked: by their holder (POST /api/v1/auth/token/revoke/ → 204), by an admin (the
users list's action), and by themselves whenever the password changes or the account is deactivated. A
revoked token answers 401 with the Chinese detail every failed authentication gets."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from governance.models import User

UNAUTHENTICATED = {"code": "authentication_failed", "detail": "认证失败：用户名、密码或 Token 不正确。"}


def token_for(username: str) -> str:
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": username, "password": "xiangzhi-demo"}, format="json"
    )
    assert response.status_code == 200
    return response.json()["token"]


def me(key: str):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get("/api/v1/me/")


def test_revoke_own_token(demo_county):
    key = token_for("grid_leader")
    other = token_for("village_secretary")
    assert me(key).status_code == 200
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.post("/api/v1/auth/token/revoke/")
    assert (response.status_code, response.content) == (204, b"")
    response = me(key)
    assert response.status_code == 401
    assert response.json() == UNAUTHENTICATED
    assert response["WWW-Authenticate"] == "Token"
    assert me(other).status_code == 200  # only the caller's
    # Revoked means gone: the next login gets a different token, which works.
    fresh = token_for("grid_leader")
    assert fresh != key
    assert me(fresh).status_code == 200


def test_revoke_needs_authentication_and_only_post(demo_county):
    response = APIClient().post("/api/v1/auth/token/revoke/")
    assert response.status_code == 401
    assert response.json() == {"code": "not_authenticated", "detail": "请先登录（会话或 Token 认证）。"}
    key = token_for("grid_leader")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/auth/token/revoke/").status_code == 405
    assert Token.objects.filter(key=key).exists()


def test_session_user_revokes_their_token(demo_county):
    key = token_for("grid_leader")
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username="grid_leader", password="xiangzhi-demo")
    # A session POST needs the CSRF token like any other.
    assert client.post("/api/v1/auth/token/revoke/").status_code == 403
    client.get("/")  # sets the CSRF cookie
    response = client.post("/api/v1/auth/token/revoke/", HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
    assert response.status_code == 204
    assert me(key).status_code == 401


def test_password_change_revokes(demo_county):
    key = token_for("grid_leader")
    user = User.objects.get(username="grid_leader")
    user.set_password("A-new-long-passphrase-2026")
    user.save()
    assert me(key).json() == UNAUTHENTICATED


def test_password_change_page_revokes(demo_county):
    key = token_for("county_admin")
    target = token_for("grid_leader")
    admin = Client()
    assert admin.login(username="county_admin", password="xiangzhi-demo")
    user = User.objects.get(username="grid_leader")
    response = admin.post(
        f"/admin/governance/user/{user.pk}/password/",
        {"password1": "A-new-long-passphrase-2026", "password2": "A-new-long-passphrase-2026"},
    )
    assert response.status_code == 302
    assert me(target).status_code == 401
    assert me(key).status_code == 200


def test_deactivation_revokes(demo_county):
    key = token_for("grid_leader")
    user = User.objects.get(username="grid_leader")
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert Token.objects.filter(key=key).count() == 0
    assert me(key).json() == UNAUTHENTICATED


def test_other_saves_keep_the_token(demo_county):
    key = token_for("grid_leader")
    user = User.objects.get(username="grid_leader")
    user.full_name = "王秀英（网格长）"
    user.save()
    user.save(update_fields=["last_login"])
    assert me(key).status_code == 200


@pytest.mark.parametrize("superuser", [True, False])
def test_admin_action_revokes_selected_users_tokens(demo_county, superuser):
    grid = token_for("grid_leader")
    village = token_for("village_secretary")
    county = token_for("county_admin")
    admin_user = User.objects.get(username="county_admin")
    if not superuser:
        admin_user.is_superuser = False
        admin_user.save(update_fields=["is_superuser"])
        admin_user.user_permissions.add(Permission.objects.get(codename__in=["change_user"]))
    admin = Client()
    assert admin.login(username="county_admin", password="xiangzhi-demo")
    ids = list(
        User.objects.filter(username__in=["grid_leader", "village_secretary"]).values_list("pk", flat=True)
    )
    response = admin.post(
        "/admin/governance/user/",
        {"action": "revoke_api_tokens", "_selected_action": [str(pk) for pk in ids]},
        follow=True,
    )
    assert response.status_code == 200
    assert "已撤销 2 个 API Token。" in response.content.decode()
    assert (me(grid).status_code, me(village).status_code, me(county).status_code) == (401, 401, 200)


def test_revocation_is_wired_in_every_process():
    """Not only where DRF is loaded: a management command (changepassword, a shell) revokes as well —
    django.setup() loads governance.admin, which imports common.authentication and its receivers."""
    import subprocess
    import sys

    from tests.conftest import ROOT, merged_env

    script = (
        "import django; django.setup()\n"
        "from django.db.models.signals import pre_save\n"
        "print(any(r[0][0] == 'common_token_revoke_on_user_change' for r in pre_save.receivers))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=merged_env({}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (result.returncode, result.stdout.strip()) == (0, "True"), result.stderr

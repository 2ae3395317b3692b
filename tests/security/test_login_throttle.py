"""Login throttling (django-axes): AXES_FAILURE_LIMIT (5) wrong passwords for one username from one
address lock that pair for AXES_COOLOFF_TIME (15 minutes) — on the login page (429, the reason in
Chinese above the form) and on POST /api/v1/auth/token/ (429 {code: "login_locked", detail}); the right
password is refused while locked; another address or another username is not; `axes_reset_username`
unlocks. Axes is on in the whole suite: the test client's login() carries no request and is not counted
(common.authentication.LoginThrottleBackend)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

LOCKED = "登录失败次数过多，该账号在本设备上已被锁定 15 分钟。请稍后再试，或联系管理员解锁。"
WRONG = "用户名或密码不正确，请重新输入。注意区分大小写。"
NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def page_login(client: Client, password: str, username: str = "grid_leader"):
    return client.post("/login/", {"username": username, "password": password})


def api_login(client: APIClient, password: str, username: str = "grid_leader"):
    return client.post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")


def test_settings_are_the_documented_policy():
    assert settings.AXES_ENABLED is True
    assert settings.AXES_FAILURE_LIMIT == 5
    assert dt.timedelta(minutes=15) == settings.AXES_COOLOFF_TIME
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.AUTHENTICATION_BACKENDS[0] == "common.authentication.LoginThrottleBackend"


def test_login_page_locks_after_five_failures(demo_county):
    client = Client(REMOTE_ADDR="10.0.0.7")
    with time_machine.travel(NOW, tick=False):
        for _attempt in range(4):
            response = page_login(client, "wrong-password")
            assert response.status_code == 200
            assert WRONG in response.content.decode()
        response = page_login(client, "wrong-password")
        assert response.status_code == 429
        page = response.content.decode()
        assert LOCKED in page
        assert WRONG not in page
        assert 'value="grid_leader"' in page  # the form is there again, with the username kept
        # The right password is refused while the lock lasts, and does not lengthen it.
        response = page_login(client, "xiangzhi-demo")
        assert response.status_code == 429
        assert LOCKED in response.content.decode()
        assert "_auth_user_id" not in client.session
        # Another address, or another username from this one, is not locked.
        other = Client(REMOTE_ADDR="10.0.0.8")
        assert page_login(other, "xiangzhi-demo").status_code == 302
        assert (
            page_login(Client(REMOTE_ADDR="10.0.0.7"), "xiangzhi-demo", "village_secretary").status_code
            == 302
        )
    assert list(AccessAttempt.objects.values_list("username", "ip_address", "failures_since_start")) == [
        ("grid_leader", "10.0.0.7", 5)
    ]
    # The lock ends 15 minutes after it began.
    client = Client(REMOTE_ADDR="10.0.0.7")
    with time_machine.travel(NOW + dt.timedelta(minutes=14, seconds=59), tick=False):
        assert page_login(client, "xiangzhi-demo").status_code == 429
    with time_machine.travel(NOW + dt.timedelta(minutes=15, seconds=1), tick=False):
        response = page_login(client, "xiangzhi-demo")
        assert (response.status_code, response["Location"]) == (302, "/start/")


def test_token_endpoint_locks_with_chinese_json(demo_county):
    client = APIClient(REMOTE_ADDR="10.0.0.9")
    for _attempt in range(4):
        response = api_login(client, "wrong-password")
        assert response.status_code == 400
    response = api_login(client, "wrong-password")
    assert response.status_code == 429
    assert response.json() == {"code": "login_locked", "detail": LOCKED}
    response = api_login(client, "xiangzhi-demo")
    assert response.status_code == 429
    assert response.json() == {"code": "login_locked", "detail": LOCKED}
    # The lock is the same one the login page sees (same username, same address).
    response = page_login(Client(REMOTE_ADDR="10.0.0.9"), "xiangzhi-demo")
    assert response.status_code == 429


def test_admin_unlocks_with_axes_reset_username(demo_county, capsys):
    client = Client(REMOTE_ADDR="10.0.0.7")
    for _attempt in range(5):
        page_login(client, "wrong-password")
    assert page_login(client, "xiangzhi-demo").status_code == 429
    call_command("axes_reset_username", "grid_leader")
    assert "1 attempts removed." in capsys.readouterr().out
    assert AccessAttempt.objects.count() == 0
    response = page_login(client, "xiangzhi-demo")
    assert (response.status_code, response["Location"]) == (302, "/start/")


def test_a_success_clears_the_count(demo_county):
    client = Client(REMOTE_ADDR="10.0.0.7")
    for _attempt in range(4):
        page_login(client, "wrong-password")
    assert page_login(client, "xiangzhi-demo").status_code == 302
    client.logout()
    for _attempt in range(4):
        assert page_login(client, "wrong-password").status_code == 200
    assert page_login(client, "xiangzhi-demo").status_code == 302


@pytest.mark.parametrize("enabled", [True, False])
def test_client_login_is_never_throttled(demo_county, settings, enabled):
    """client.login() has no request: the suite's many logins work whether axes is on or off."""
    settings.AXES_ENABLED = enabled
    client = Client()
    for _attempt in range(6):
        assert client.login(username="grid_leader", password="wrong") is False
    assert client.login(username="grid_leader", password="xiangzhi-demo") is True
    assert AccessAttempt.objects.count() == 0


def test_admin_unlocks_in_the_admin(demo_county):
    client = Client(REMOTE_ADDR="10.0.0.7")
    for _attempt in range(5):
        page_login(client, "wrong-password")
    attempt = AccessAttempt.objects.get(username="grid_leader")
    admin = Client()
    assert admin.login(username="county_admin", password="xiangzhi-demo")
    listing = admin.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200
    assert "grid_leader" in listing.content.decode()
    response = admin.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    response = page_login(client, "xiangzhi-demo")
    assert (response.status_code, response["Location"]) == (302, "/start/")

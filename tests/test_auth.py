"""Every demo log-in signs in, on the page and through the API, and sees its role."""

import pytest
from django.test import Client

from governance.models import RoleAssignment

EXPECTED_ROLES = {
    "county_admin": ("county_admin", "谷城县", "县委组织部管理员"),
    "township_admin": ("township_admin", "城关镇", "乡镇管理员"),
    "village_secretary": ("village_secretary", "新华村", "村党组织书记"),
    "grid_leader": ("grid_leader", "第一网格", "百户网格长"),
    "canteen_manager": ("canteen_manager", "民营社区", "爱心食堂管理员"),
}


def test_seed_gives_each_demo_login_exactly_its_role(demo_county):
    held = {
        a.user.username: (a.role, a.region.name)
        for a in RoleAssignment.objects.select_related("user", "region")
    }
    assert held == {name: (role, region) for name, (role, region, _label) in EXPECTED_ROLES.items()}


def test_seed_is_idempotent(demo_county):
    from governance.demo import seed_demo_county
    from governance.models import Region, User

    seed_demo_county(password="xiangzhi-demo")
    assert Region.objects.count() == 16
    assert User.objects.count() == 5
    assert RoleAssignment.objects.count() == 5


@pytest.mark.parametrize("username", list(EXPECTED_ROLES))
def test_login_page_signs_in_and_shows_name_and_role(demo_county, username):
    client = Client()
    response = client.post("/login/", {"username": username, "password": "xiangzhi-demo"})
    assert (response.status_code, response["Location"]) == (302, "/start/")
    # Each role then lands on its own start page (tests/test_landing.py); the shell shows who is in.
    response = client.get("/")
    _role, region, label = EXPECTED_ROLES[username]
    page = response.content.decode()
    assert f"{label} · {region}" in page
    assert 'data-testid="logout"' in page


def test_wrong_password_shows_a_chinese_message_and_keeps_the_username(demo_county):
    response = Client().post("/login/", {"username": "grid_leader", "password": "wrong"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "用户名或密码不正确，请重新输入。注意区分大小写。" in page
    assert 'value="grid_leader"' in page


def test_empty_login_marks_each_field(demo_county):
    page = Client().post("/login/", {"username": "", "password": ""}).content.decode()
    assert "请输入用户名。" in page
    assert "请输入密码。" in page


def test_pages_require_login(db):
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/"


def test_logout_is_a_post(county_admin_client):
    response = county_admin_client.post("/logout/")
    assert response.status_code == 302
    assert county_admin_client.get("/").status_code == 302


@pytest.mark.parametrize("username", list(EXPECTED_ROLES))
def test_token_login_then_me(demo_county, username):
    client = Client()
    response = client.post(
        "/api/v1/auth/token/",
        {"username": username, "password": "xiangzhi-demo"},
        content_type="application/json",
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert len(token) == 40
    me = Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}")
    assert me.status_code == 200
    role, region, label = EXPECTED_ROLES[username]
    body = me.json()
    assert body["username"] == username
    assert [(r["role"], r["region_name"], r["role_label"]) for r in body["roles"]] == [(role, region, label)]


def test_me_with_session(county_admin_client):
    body = county_admin_client.get("/api/v1/me/").json()
    assert body["full_name"] == "李华"
    assert body["roles"][0]["region_level"] == "county"

"""The page shell: navigation, error pages inside the shell, language switch."""

import pytest
from django.test import Client
from django.urls import reverse

from common.modules import MODULES


def test_home_shows_every_module(county_admin_client):
    page = county_admin_client.get("/").content.decode()
    for module in MODULES:
        # A module with its own pages links there; the others to their placeholder at /m/<slug>/.
        own = {
            "governance": "/governance/",
            "grids": "/grids/",
            "points": "/points/",
            "canteens": "/canteens/",
            "industry": "/industry/",
            "dashboard": "/dashboard/",
        }
        expected = own.get(module.slug, f"/m/{module.slug}/")
        assert f'href="{expected}"' in page
    assert 'href="/m/governance/"' not in page
    assert 'href="/m/grids/"' not in page
    assert 'href="/m/points/"' not in page
    assert 'href="/m/industry/"' not in page
    assert 'href="/m/dashboard/"' not in page
    assert "李华，您好" in page
    assert "县委组织部管理员 · 谷城县" in page


def test_module_pages_exist(county_admin_client):
    for module in MODULES:
        response = county_admin_client.get(reverse("module-home", args=[module.slug]))
        assert response.status_code == 200
        assert str(module.label) in response.content.decode()


def test_404_renders_inside_the_shell(county_admin_client):
    response = county_admin_client.get("/no/such/page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "页面不存在，或者不在您的管辖范围内。" in page
    assert 'class="topbar"' in page
    assert "返回首页" in page


def test_unknown_module_is_404(county_admin_client):
    assert county_admin_client.get("/m/nothing/").status_code == 404


@pytest.mark.django_db
def test_500_page_inside_the_shell_and_json_under_api(rf):
    from common.views import server_error

    request = rf.get("/somewhere/")
    request.user = __import__("django.contrib.auth.models", fromlist=["AnonymousUser"]).AnonymousUser()
    page = server_error(request)
    assert page.status_code == 500
    assert "服务器内部错误" in page.content.decode()
    api = server_error(rf.get("/api/v1/anything/"))
    assert api.status_code == 500
    assert api["Content-Type"] == "application/json"


def test_403_page(rf, db):
    from django.contrib.auth.models import AnonymousUser

    from common.views import permission_denied

    request = rf.get("/x/")
    request.user = AnonymousUser()
    response = permission_denied(request)
    assert response.status_code == 403
    assert "您没有访问此页面的权限。" in response.content.decode()


def test_chinese_is_the_default_even_for_an_english_browser(db):
    page = Client().get("/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert '<html lang="zh-CN">' in page
    assert "登录乡治" in page


def test_language_switch_to_english_and_back(county_admin_client):
    response = county_admin_client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    page = county_admin_client.get("/").content.decode()
    assert '<html lang="en">' in page
    assert "Points" in page
    county_admin_client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "百分奖积分" in county_admin_client.get("/").content.decode()


def test_security_headers(county_admin_client):
    response = county_admin_client.get("/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"

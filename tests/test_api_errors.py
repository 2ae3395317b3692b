"""API errors are JSON {"code", "detail"} with a Chinese message."""

import pytest
from django.test import Client


@pytest.mark.django_db
def test_unauthenticated_api_call():
    response = Client().get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json() == {"code": "not_authenticated", "detail": "请先登录（会话或 Token 认证）。"}


@pytest.mark.django_db
def test_bad_token():
    response = Client().get("/api/v1/me/", HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert response.status_code == 401
    assert response.json() == {
        "code": "authentication_failed",
        "detail": "认证失败：用户名、密码或 Token 不正确。",
    }


def test_validation_errors_name_each_field(demo_county):
    response = Client().post(
        "/api/v1/auth/token/", {"username": "grid_leader"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "detail": "提交的数据有误，请按字段说明修改后重试。",
        "fields": {"password": ["该字段是必填项。"]},
    }


def test_wrong_credentials_for_token(demo_county):
    response = Client().post(
        "/api/v1/auth/token/",
        {"username": "grid_leader", "password": "nope"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {"non_field_errors": ["无法使用提供的认证信息登录。"]}


def test_malformed_json(county_admin_client):
    response = county_admin_client.post("/api/v1/auth/token/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"code": "parse_error", "detail": "请求数据格式错误，无法解析。"}


def test_method_not_allowed(county_admin_client):
    response = county_admin_client.delete("/api/v1/me/")
    assert response.status_code == 405
    assert response.json() == {"code": "method_not_allowed", "detail": "不支持该请求方法。"}


@pytest.mark.django_db
def test_unknown_api_path_is_json_404():
    response = Client().get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"code": "not_found", "detail": "页面不存在，或者不在您的管辖范围内。"}


def test_domain_error_renders_code_detail_and_field(rf):
    from common.api import exception_handler
    from common.errors import DomainError

    response = exception_handler(
        DomainError("points_cap_reached", "本月该项已达上限。", status=409, field="item", limit=2), {}
    )
    assert response is not None
    assert response.status_code == 409
    assert response.data == {
        "code": "points_cap_reached",
        "detail": "本月该项已达上限。",
        "fields": {"item": ["本月该项已达上限。"]},
        "limit": 2,
    }

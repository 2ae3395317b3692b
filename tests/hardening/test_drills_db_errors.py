"""common.db_errors: a lost database answers 503 with a Chinese message (the pg-restart drill's promise),
and only for connection errors — a bad query stays a 500 (a bug to see, not to retry)."""

from __future__ import annotations

import json

from django.db import IntegrityError, InterfaceError, OperationalError, ProgrammingError
from django.http import HttpResponse
from django.test import RequestFactory

from common.db_errors import DatabaseUnavailableMiddleware


def _middleware() -> DatabaseUnavailableMiddleware:
    return DatabaseUnavailableMiddleware(lambda request: HttpResponse("ok"))


def test_api_request_gets_503_json_with_a_chinese_message() -> None:
    request = RequestFactory().post("/api/v1/points/redemptions/", data={}, content_type="application/json")
    response = _middleware().process_exception(request, OperationalError("server closed the connection"))
    assert response is not None
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Cache-Control"] == "no-store"
    assert json.loads(response.content) == {
        "code": "database_unavailable",
        "detail": "数据库暂时无法连接，您的操作没有保存。请稍后重试。",
    }


def test_page_request_gets_a_plain_503_page() -> None:
    request = RequestFactory().get("/points/till/", HTTP_ACCEPT="text/html")
    response = _middleware().process_exception(request, InterfaceError("connection already closed"))
    assert response is not None
    assert response.status_code == 503
    assert response["Content-Type"] == "text/html; charset=utf-8"
    body = response.content.decode()
    assert "<h1>服务暂时不可用</h1>" in body
    assert "数据库暂时无法连接，您的操作没有保存。请稍后重试。" in body


def test_a_json_client_on_a_page_url_gets_json() -> None:
    request = RequestFactory().get("/grids/queue/", HTTP_ACCEPT="application/json")
    response = _middleware().process_exception(
        request, OperationalError("the database system is starting up")
    )
    assert response is not None
    assert json.loads(response.content)["code"] == "database_unavailable"


def test_other_database_errors_are_left_to_the_500_handler() -> None:
    request = RequestFactory().get("/api/v1/me/")
    for error in (ProgrammingError("syntax error"), IntegrityError("duplicate key"), ValueError("x")):
        assert _middleware().process_exception(request, error) is None

"""/healthz: 200 when the database and the broker answer, 503 naming the one that does not."""

import json
import os
import socket
from urllib.parse import urlparse, urlunparse

import pytest

from tests.conftest import run_python


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # released on close: nothing listens there afterwards


@pytest.mark.django_db
def test_healthy_when_database_and_redis_answer(client, settings):
    assert settings.REDIS_URL.startswith("redis://"), "the suite runs against a real Redis"
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["database"]["kind"] == "postgresql"
    assert body["broker"] == {"ok": True, "kind": "redis", "latency_ms": body["broker"]["latency_ms"]}
    assert "failing" not in body
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_broker_down_answers_503_naming_the_broker(client, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port()}/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["failing"] == ["broker"]
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is False
    assert body["detail"] == "消息队列（Redis）无法连接：ConnectionError"


HEALTH_IN_PROCESS = """
import django, json
django.setup()
from django.test import Client
response = Client().get("/healthz")
print(json.dumps({"status": response.status_code, "body": response.json()}, ensure_ascii=False))
"""


def test_database_down_answers_503_naming_the_database():
    # A fresh process whose DATABASE_URL points at a port where no PostgreSQL listens.
    result = run_python(
        HEALTH_IN_PROCESS,
        {
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{closed_port()}/xiangzhi",
            "DEBUG": "0",
            "SECURE_HTTPS": "0",
            "SECRET_KEY": "x" * 60,
            "ALLOWED_HOSTS": "testserver",
        },
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["status"] == 503
    assert answer["body"]["failing"] == ["database"]
    assert answer["body"]["database"]["ok"] is False
    assert answer["body"]["broker"]["ok"] is True
    assert answer["body"]["detail"] == "数据库无法连接：OperationalError"


def test_demo_mode_without_redis_is_healthy():
    # The health check needs only a server that answers: use the always-present "postgres" database.
    database_url = urlunparse(urlparse(os.environ["DATABASE_URL"])._replace(path="/postgres"))
    result = run_python(
        HEALTH_IN_PROCESS,
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": None,
            "DEBUG": "0",
            "SECURE_HTTPS": "0",
            "SECRET_KEY": "x" * 60,
            "ALLOWED_HOSTS": "testserver",
        },
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["status"] == 200
    assert answer["body"]["broker"]["kind"] == "eager"

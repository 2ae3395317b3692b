"""Readiness checks for /healthz: the database and the Celery broker, each with a short timeout."""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    kind: str
    latency_ms: float
    error: str = ""


def check_database() -> CheckResult:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        # A dead connection would otherwise be reused by the next request on this worker.
        connection.close_if_unusable_or_obsolete()
        return CheckResult(
            False, connection.vendor, _elapsed(started), _("数据库无法连接：%s") % type(exc).__name__
        )
    return CheckResult(True, connection.vendor, _elapsed(started))


def check_broker() -> CheckResult:
    started = time.perf_counter()
    if not settings.REDIS_URL:
        # Demo mode: tasks run eagerly in-process, so there is no broker to be down.
        return CheckResult(True, "eager", _elapsed(started))
    try:
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:
        return CheckResult(
            False, "redis", _elapsed(started), _("消息队列（Redis）无法连接：%s") % type(exc).__name__
        )
    return CheckResult(True, "redis", _elapsed(started))


def _elapsed(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)

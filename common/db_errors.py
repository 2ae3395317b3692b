"""A database that cannot be reached answers 503 with a Chinese message, not a 500 stack trace.

While PostgreSQL restarts (a failover, an upgrade, a crash) every query raises OperationalError or
InterfaceError. That is not a bug in the request: the client should retry later, and the till's offline
queue does. DatabaseUnavailableMiddleware turns those exceptions, raised by a view (DRF re-raises what its
handler does not know), into 503 with `Retry-After`: JSON {"code": "database_unavailable", "detail"} under
/api/ and for clients that ask for JSON, a plain page otherwise (the page shell itself reads the database,
so it is a self-contained template). The failed transaction was rolled back by PostgreSQL or never began,
so nothing is half-written; Django drops the broken connection at the end of the request
(close_if_unusable_or_obsolete), so the next request connects afresh.

Add it to MIDDLEWARE last (innermost, so it sees the view's exception first):
    "common.db_errors.DatabaseUnavailableMiddleware",
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.html import escape
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5


def is_database_unavailable(exc: BaseException) -> bool:
    """True for the errors a lost or refused database connection raises (not for a bad query: those are
    ProgrammingError/DataError/IntegrityError, real bugs that must stay 500 or be domain errors)."""
    return isinstance(exc, OperationalError | InterfaceError)


def database_unavailable_response(request: HttpRequest) -> HttpResponse:
    """503 with a Chinese message: JSON for the API and JSON clients, a minimal page otherwise."""
    detail = _("数据库暂时无法连接，您的操作没有保存。请稍后重试。")
    accepts_json = "application/json" in request.META.get("HTTP_ACCEPT", "")
    if request.path.startswith("/api/") or accepts_json:
        response: HttpResponse = JsonResponse(
            {"code": "database_unavailable", "detail": detail},
            status=503,
            json_dumps_params={"ensure_ascii": False},
        )
    else:
        title = _("服务暂时不可用")
        response = HttpResponse(
            f'<!doctype html><html lang="zh-hans"><meta charset="utf-8"><title>{escape(title)}</title>'
            f"<h1>{escape(title)}</h1><p>{escape(detail)}</p></html>",
            status=503,
            content_type="text/html; charset=utf-8",
        )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_database_unavailable(exception):
            return None
        logger.warning("database unavailable on %s %s: %s", request.method, request.path, exception)
        for connection in connections.all(initialized_only=True):
            # A connection that failed mid-request is unusable; drop it now rather than at request end.
            connection.close_if_unusable_or_obsolete()
        return database_unavailable_response(request)

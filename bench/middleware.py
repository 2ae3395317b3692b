"""Server-side timing for benchmark runs (bench.settings only, never in production).

ServerTimingMiddleware sits first in the stack and adds one header to every answer:

    Server-Timing: app;dur=12.34, db;dur=5.67, sql;desc="4"

app: milliseconds from the first middleware in to the response out (the whole Django stack, the view,
its queries and its template; not gunicorn's parsing or the network); db: milliseconds spent waiting
for PostgreSQL; sql: the number of queries. bench/wrk_report.lua reads it from every answer, so a run
reports the server's own percentiles next to wrk's, which include the queueing of 32 connections for
a handful of workers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse


class _QueryClock:
    """A connection.execute_wrapper that counts the queries and adds up their time."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.count += 1


class ServerTimingMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        clock = _QueryClock()
        started = time.perf_counter()
        with connection.execute_wrapper(clock):
            response = self.get_response(request)
        elapsed = time.perf_counter() - started
        response["Server-Timing"] = (
            f'app;dur={elapsed * 1000:.2f}, db;dur={clock.seconds * 1000:.2f}, sql;desc="{clock.count}"'
        )
        return response

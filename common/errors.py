"""The one domain error type. Services raise it for expected failures; the API exception handler
renders it as {"code", "detail", ...} and the pages show its message next to the field."""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise


class DomainError(Exception):
    """An expected failure: a stable machine `code`, a Chinese `message` for people, an HTTP `status`.

    `field` names the form/API field the message belongs next to; `extra` travels into the JSON body.
    """

    def __init__(
        self,
        code: str,
        message: str | Promise,
        *,
        status: int = 400,
        field: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(str(message))
        self.code = code
        self.message = message
        self.status = status
        self.field = field
        self.extra = extra


class NotFound(DomainError):
    """Missing or out of scope: both answer 404 so that existence does not leak (design.md §3)."""

    def __init__(self, message: str | Promise, **extra: Any) -> None:
        super().__init__("not_found", message, status=404, **extra)


class Conflict(DomainError):
    def __init__(self, code: str, message: str | Promise, **extra: Any) -> None:
        super().__init__(code, message, status=409, **extra)

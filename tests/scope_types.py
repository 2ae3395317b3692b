"""How an API path's objects map to a region, for tests/test_api_scope.py (and tests/industry/scope_*.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Model


@dataclass(frozen=True)
class Scoped:
    """The objects of this endpoint are `model` rows; `path_field` leads from one to its region's path.

    `under` is the model a list's `{param}` refers to (e.g. the region whose children are listed).
    `regionless_for_county` lets county admins see rows with an empty path (county-wide audit entries).
    `items` picks the objects to check out of one result row, when they are nested (default: the row).
    """

    model: type[Model]
    path_field: str
    under: tuple[type[Model], str] | None = None
    regionless_for_county: bool = False
    items: Callable[[dict[str, Any]], list[dict[str, Any]]] | None = None


@dataclass(frozen=True)
class Exempt:
    """Not regional data; `reason` says why it needs no scope check."""

    reason: str

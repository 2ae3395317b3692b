"""Scope rule of the coverage API for tests/test_api_scope.py: its rows are regions (the one asked for,
its townships and villages), each of which must lie in the caller's scope. The data comes from
scope_chains (businesses, projects and work on both sides)."""

from __future__ import annotations

from typing import Any

from governance.models import Region
from tests.scope_types import Exempt, Scoped

RULES: dict[str, Scoped | Exempt] = {
    "/api/v1/industry/coverage/": Scoped(Region, "path"),
}


def data(r: dict[str, Region]) -> dict[str, Any]:
    return {}

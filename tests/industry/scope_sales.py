"""Scope rules of the sales API for tests/test_api_scope.py: a sales record is its event's town's (POST
sales/{id}/reverse/ and correct/ act on the record above them)."""

from __future__ import annotations

from typing import Any

from governance.models import Region
from industry.models import Event, SalesRecord
from tests.industry.scope_events import side_events
from tests.scope_types import Exempt, Scoped

RULES: dict[str, Scoped | Exempt] = {
    "/api/v1/industry/events/{id}/sales/": Scoped(
        SalesRecord, "event__region__path", under=(Event, "region__path")
    ),
    "/api/v1/industry/sales/{id}/": Scoped(SalesRecord, "event__region__path"),
}


def data(r: dict[str, Region]) -> Any:
    return side_events(r, "销售")

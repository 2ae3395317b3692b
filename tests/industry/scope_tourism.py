"""Scope rules of the tourism API for tests/test_api_scope.py.

A tourism record is its region's, or, for a joint community's brand, its lead village's: each record
carries that region as `scope_region`, which the rules check against the caller's subtree. The ids of
`{id}` are chosen among region records (a brand's record has no region path to pick it by);
tests/industry/test_tourism.py checks the brands' records for every role."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from governance.models import Region
from industry.models import TourismRecord
from tests.scope_types import Exempt, Scoped

RULES: dict[str, Scoped | Exempt] = {
    "/api/v1/industry/tourism-records/": Scoped(
        Region, "path", items=lambda row: [{"id": row["scope_region"]}]
    ),
    # PUT acts on the record of the path.
    "/api/v1/industry/tourism-records/{id}/": Scoped(
        Region,
        "path",
        under=(TourismRecord, "region__path"),
        items=lambda body: [{"id": body["scope_region"]}],
    ),
}


def data(r: dict[str, Region]) -> list[TourismRecord]:
    """January of this year for each side's village and township."""
    month = dt.date(timezone.localdate().year, 1, 1)
    return [
        TourismRecord.objects.create(region=r[name], month=month, visits=100 + i, income_fen=50_000 + i)
        for i, name in enumerate(("城关镇", "新华村", "石花镇", "民营社区"))
    ]

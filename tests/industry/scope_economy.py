"""Scope rules of the collective economy API for tests/test_api_scope.py: an income row is its village's;
villages/{id}/collective-income/ answers for any region in scope (a township or the county: the sums
over its villages), checked by the region it names; the thresholds are the county's."""

from __future__ import annotations

from governance.models import Region
from industry.models import CollectiveIncome, IncomeSource
from tests.scope_types import Exempt, Scoped

RULES: dict[str, Scoped | Exempt] = {
    "/api/v1/industry/collective-incomes/": Scoped(CollectiveIncome, "village__path"),
    # PUT sets the village of the path.
    "/api/v1/industry/villages/{id}/collective-income/": Scoped(
        Region, "path", items=lambda body: [{"id": body["region"]}]
    ),
    "/api/v1/industry/thresholds/": Exempt("the county's yearly thresholds: county-wide, not regional data"),
}


def data(r: dict[str, Region]) -> list[CollectiveIncome]:
    """Last year's land rent of each side's village."""
    return [
        CollectiveIncome.objects.create(
            village=r[name], year=2025, source=IncomeSource.LAND_RENT, amount_fen=8_000_000 + i
        )
        for i, name in enumerate(("新华村", "民营社区"))
    ]

"""Scope rules of the designations API for tests/test_api_scope.py: a designation is its region's."""

from __future__ import annotations

from governance.models import Region
from industry.models import DesignationKind, DevelopmentType, RegionDesignation
from tests.scope_types import Exempt, Scoped

RULES: dict[str, Scoped | Exempt] = {
    "/api/v1/industry/designations/": Scoped(RegionDesignation, "region__path"),
    # DELETE removes the designation of the path.
    "/api/v1/industry/designations/{id}/": Scoped(RegionDesignation, "region__path"),
}


def data(r: dict[str, Region]) -> list[RegionDesignation]:
    """A featured town and a village development type on each side."""
    rows = []
    for town, village, theme in (("城关镇", "新华村", "电商小镇"), ("石花镇", "民营社区", "茶旅小镇")):
        rows.append(
            RegionDesignation.objects.create(region=r[town], kind=DesignationKind.FEATURED_TOWN, theme=theme)
        )
        rows.append(
            RegionDesignation.objects.create(
                region=r[village], kind=DesignationKind.DEVELOPMENT_TYPE, theme=DevelopmentType.LIVEABLE
            )
        )
    return rows

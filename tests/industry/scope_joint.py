"""Scope rules of the joint building API for tests/test_api_scope.py: a community is its lead village's
(each side's community has members on its own side only, so the lead's path decides); a member and a
yearly result are their community's (POSTs under .../{id}/ act on the community of the path)."""

from __future__ import annotations

from typing import Any

from governance.models import Region
from industry.models import Business, BusinessKind, JointCommunity, JointKind, JointMember, JointResult
from tests.scope_types import Exempt, Scoped

LEAD = "lead_region__path"
OF_COMMUNITY = "community__lead_region__path"

RULES: dict[str, Scoped | Exempt] = {
    "/api/v1/industry/joint-communities/": Scoped(JointCommunity, LEAD),
    "/api/v1/industry/joint-communities/{id}/": Scoped(JointCommunity, LEAD),
    "/api/v1/industry/joint-communities/{id}/members/": Scoped(
        JointMember, OF_COMMUNITY, under=(JointCommunity, LEAD)
    ),
    "/api/v1/industry/joint-communities/{id}/results/": Scoped(
        JointResult, OF_COMMUNITY, under=(JointCommunity, LEAD)
    ),
    "/api/v1/industry/joint-members/{id}/": Scoped(JointMember, OF_COMMUNITY),
}


def data(r: dict[str, Region]) -> dict[str, Any]:
    """A village–enterprise community on each side, led by its village, with a business member and last
    year's results."""
    made: dict[str, Any] = {}
    for side, village in (("xinhua", "新华村"), ("minying", "民营社区")):
        community = JointCommunity.objects.create(
            kind=JointKind.VILLAGE_ENTERPRISE,
            name=f"范围测试联建{side}",
            brand=f"{village}品牌",
            lead_region=r[village],
        )
        business = Business.objects.create(
            kind=BusinessKind.ENTERPRISE, name=f"范围测试联建企业{side}", region=r[village]
        )
        JointMember.objects.create(community=community, region=r[village])
        JointMember.objects.create(community=community, business=business)
        JointResult.objects.create(
            community=community, year=2025, jobs=10, income_fen=100_000, households_benefited=5
        )
        made[side] = community
    return made

"""Scope rules of the chains API (chains, participations, businesses, household projects, employment) for
tests/test_api_scope.py.

Chains and their links are county-wide reference data (industry.access: every reader sees them; their
figures count only the caller's scope). A business is its village's; a participation its business's; a
project its household's grid; an employment its resident's grid."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from governance.models import Region, User
from governance.models.people import RelationToHead
from governance.services import people as people_services
from industry.models import (
    Business,
    BusinessKind,
    ChainParticipation,
    Employment,
    EmploymentKind,
    HouseholdProject,
    IndustryChain,
    ProjectKind,
)
from industry.services import chains as services
from tests.governance.regions_fixture import id_number_make
from tests.industry.factories_chains import credit_code_next
from tests.scope_types import Exempt, Scoped

REFERENCE = "county-wide reference data (chains and links); the figures count only the caller's scope"
RULES: dict[str, Scoped | Exempt] = {
    "/api/v1/industry/chains/": Exempt(REFERENCE),
    "/api/v1/industry/chains/{id}/": Exempt(REFERENCE),
    "/api/v1/industry/chains/{id}/links/": Exempt(REFERENCE),
    "/api/v1/industry/participations/": Scoped(ChainParticipation, "business__region__path"),
    "/api/v1/industry/participations/{id}/": Scoped(ChainParticipation, "business__region__path"),
    "/api/v1/industry/businesses/": Scoped(Business, "region__path"),
    "/api/v1/industry/businesses/{id}/": Scoped(Business, "region__path"),
    "/api/v1/industry/projects/": Scoped(HouseholdProject, "household__grid__path"),
    "/api/v1/industry/projects/{id}/": Scoped(HouseholdProject, "household__grid__path"),
    "/api/v1/industry/employments/": Scoped(Employment, "resident__household__grid__path"),
    "/api/v1/industry/employments/{id}/": Scoped(Employment, "resident__household__grid__path"),
}

SIDES = {"xinhua": ("新华村", "第一网格"), "minying": ("民营社区", "民营第一网格")}


def _key() -> str:
    return uuid.uuid4().hex


def data(r: dict[str, Region]) -> dict[str, Any]:
    """Per side: a cooperative of the village on a chain, a household of the grid with a project, and a
    resident of it with work at the cooperative — all through the services, as the county admin."""
    admin = User.objects.get(username="county_admin")
    chain = IndustryChain.objects.filter(name="范围测试产业链").first() or services.chain_create(
        actor=admin, idempotency_key=_key(), name="范围测试产业链", links=[("production", "种植")]
    )
    made: dict[str, Any] = {"chain": chain}
    for side, (village, grid) in SIDES.items():
        business = services.business_create(
            actor=admin,
            idempotency_key=_key(),
            kind=BusinessKind.COOPERATIVE,
            name=f"{village}范围测试种植合作社",
            region=r[village],
            credit_code=credit_code_next(),
        )
        participation = services.participation_add(
            actor=admin, idempotency_key=_key(), chain=chain, business=business, area_mu="12.5", jobs=4
        )
        household = people_services.household_create(
            actor=admin, grid=r[grid], number=f"chains-{side}", address=f"{village}2号"
        )
        resident = people_services.resident_create(
            actor=admin,
            household=household,
            name=f"{village}范围测试户主",
            id_number=id_number_make(dt.date(1985, 4, 4), "M"),
            relation_to_head=RelationToHead.SELF,
        )
        project = services.project_add(
            actor=admin,
            idempotency_key=_key(),
            household=household,
            kind=ProjectKind.PLANTING,
            title="种茶 3 亩",
            chain=chain,
            started_on=dt.date(2025, 3, 1),
        )
        employment = services.employment_add(
            actor=admin,
            idempotency_key=_key(),
            resident=resident,
            kind=EmploymentKind.LOCAL_BUSINESS,
            business=business,
            started_on=dt.date(2025, 3, 1),
        )
        made[side] = {
            "business": business,
            "participation": participation,
            "household": household,
            "project": project,
            "employment": employment,
        }
    return made

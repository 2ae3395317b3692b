"""The scope test (issue 3): walk every path of the API schema as each demo role and assert that no object
outside the role's subtree is listed or readable.

Data lives in two separate subtrees (城关镇 / 新华村 / 第一网格 and 石花镇 / 民营社区 / 民营第一网格),
built through the services. For every GET endpoint of the generated OpenAPI schema:
- a list: every object returned lies in the caller's subtree (its region looked up in the database by
  the model and region-path lookup the mapping below gives for that schema path);
- a detail `{id}`: an id from outside the caller's subtree answers 404, exactly like an id that does not
  exist; an id inside answers an object inside;
- a list under `{id}`: both of the above.
Every other method with a path parameter, sent an out-of-scope id, must answer exactly as for a missing id.

A new endpoint fails this test until it is added to SCOPE_RULES: say how its objects map to a region.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.db.models import Model, Q
from drf_spectacular.generators import SchemaGenerator
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from canteens.models import (
    Budget,
    ClassSession,
    DonationFund,
    Enrolment,
    FundMovement,
    Meal,
    PriceRule,
    ServiceLog,
    Settlement,
    Site,
    StationService,
    Volunteer,
    VolunteerHours,
    WagePayment,
    WorkshopOrder,
    WorkshopProduct,
    WorkshopWorker,
)
from governance import access
from governance.models import (
    AuditEvent,
    Household,
    MembershipStage,
    PartyMember,
    PartyOrganisation,
    PartyOrgKind,
    Region,
    RegionKind,
    RelationToHead,
    Resident,
    RoleAssignment,
    RoleModel,
    SagesGroup,
    SagesMemberKind,
    Talent,
    TalentCategory,
    User,
)
from governance.models.imports import ImportJob
from governance.roles import Role
from governance.services import party as party_services
from governance.services import people as people_services
from governance.services import regions as region_services
from governance.services import roles as role_services
from grids.models import Case, CaseCategory, Duty, FeedbackProject, GridLeader, WorkLogEntry
from grids.services.cases import case_file
from grids.services.projects import project_create_from_case
from grids.services.worklog import work_log_record
from points.defaults import points_defaults_install
from points.ledger import account_for_household, ledger_post, system_account
from points.models import (
    Award,
    Evaluation,
    Item,
    Objection,
    Posting,
    Redemption,
    RedemptionReturn,
    StockMovement,
    Store,
)
from points.models import Rule as PointsRule
from points.services import stores as store_services
from points.services.awards import award_propose, award_review
from points.services.objections import objection_file
from points.services.redemptions import redemption_create, redemption_return
from tests.canteens.checkin_scope import meal_scope_data
from tests.canteens.factories import canteen_scope_data
from tests.canteens.settlement_meals import settlement_scope_data
from tests.canteens.test_community_world import community_scope_data
from tests.dashboard.scope_summary import RULES as DASHBOARD_SCOPE_RULES
from tests.governance.regions_fixture import id_number_make
from tests.industry.scope import industry_scope_data, industry_scope_rules
from tests.scope_types import Exempt, Scoped

pytestmark = pytest.mark.django_db

MISSING_ID = 2_147_483_000  # no row has this id: what "does not exist" answers


RESIDENT_PATH = "resident__household__grid__path"

# schema path → how its objects map to a region. Every GET path of the schema must be here.
SCOPE_RULES: dict[str, Scoped | Exempt] = {
    "/api/v1/me/": Exempt("the caller's own account and roles"),
    "/api/v1/governance/regions/": Scoped(Region, "path"),
    "/api/v1/governance/regions/{id}/": Scoped(Region, "path"),
    "/api/v1/governance/regions/{id}/children/": Scoped(Region, "path", under=(Region, "path")),
    "/api/v1/governance/role-assignments/": Scoped(RoleAssignment, "region__path"),
    "/api/v1/governance/role-assignments/{id}/": Scoped(RoleAssignment, "region__path"),
    "/api/v1/governance/households/": Scoped(Household, "grid__path"),
    "/api/v1/governance/households/{id}/": Scoped(Household, "grid__path"),
    "/api/v1/governance/residents/": Scoped(Resident, "household__grid__path"),
    "/api/v1/governance/residents/{id}/": Scoped(Resident, "household__grid__path"),
    "/api/v1/governance/party-organisations/": Scoped(PartyOrganisation, "region__path"),
    "/api/v1/governance/party-organisations/{org_id}/": Scoped(
        PartyOrganisation, "region__path", items=lambda body: [body["organisation"], *body["children"]]
    ),
    "/api/v1/governance/party-members/": Scoped(PartyMember, "organisation__region__path"),
    "/api/v1/governance/party-members/{member_id}/": Scoped(PartyMember, "organisation__region__path"),
    "/api/v1/governance/sages-groups/": Scoped(SagesGroup, "village__path"),
    "/api/v1/governance/talents/": Scoped(Talent, RESIDENT_PATH),
    # County-wide events; the role models listed under each must live in the caller's subtree.
    "/api/v1/governance/shennong-gatherings/": Scoped(
        RoleModel, RESIDENT_PATH, items=lambda row: row["role_models"]
    ),
    "/api/v1/governance/roster-imports/": Scoped(ImportJob, "region__path"),
    "/api/v1/governance/roster-imports/{id}/": Scoped(ImportJob, "region__path"),
    "/api/v1/governance/audit-events/": Scoped(AuditEvent, "region_path", regionless_for_county=True),
    "/api/v1/governance/audit-events/{id}/": Scoped(AuditEvent, "region_path", regionless_for_county=True),
    # Cases belong to their grid; POST .../transitions/ and .../notes/ act on the case of the path above.
    "/api/v1/grids/cases/": Scoped(Case, "grid__path"),
    "/api/v1/grids/cases/{id}/": Scoped(Case, "grid__path"),
    # Points awards belong to their household's grid; POST .../review/ acts on the award above it.
    "/api/v1/points/awards/": Scoped(Award, "household__grid__path"),
    "/api/v1/points/awards/{id}/": Scoped(Award, "household__grid__path"),
    # An objection (and POST .../decide/) belongs to its award's household's grid.
    "/api/v1/points/objections/{id}/": Scoped(Objection, "award__household__grid__path"),
    # A household's points: the balance is the household's; the statement's rows are postings of its
    # account (a household's postings lie at its grid).
    "/api/v1/points/households/{id}/balance/": Scoped(
        Household, "grid__path", items=lambda body: [{"id": body["household"]}]
    ),
    "/api/v1/points/households/{id}/statement/": Scoped(
        Posting, "account__household__grid__path", under=(Household, "grid__path")
    ),
    # The catalog: the county's items apply county-wide (read by every role); a township's or village's
    # additions are listed only to the users of that region, those above it, and those below it.
    "/api/v1/points/board/{code}/": Exempt(
        "the public points board of a village: no log-in, no personal data"
    ),
    "/api/v1/points/evaluations/": Scoped(Evaluation, "village__path"),
    # POST .../{id}/nominations/, review/, open-voting/, votes/, decide/ act on the evaluation above.
    "/api/v1/points/evaluations/{id}/": Scoped(Evaluation, "village__path"),
    "/api/v1/points/rules/": Exempt("the points rules catalog: county-wide items, not regional data"),
    "/api/v1/points/rules/{id}/": Exempt("a points rules catalog item: county-wide, read-only here"),
    "/api/v1/grids/work-log/": Scoped(WorkLogEntry, "grid__path"),
    "/api/v1/grids/work-log/{id}/": Scoped(WorkLogEntry, "grid__path"),
    "/api/v1/grids/regions/{id}/grid-leaders/": Scoped(GridLeader, "grid__path", under=(Region, "path")),
    # Rows are regions (townships, villages or grids) of the caller's scope, keyed by the region id.
    "/api/v1/grids/assessment/": Scoped(Region, "path"),
    # A case's mediation is the case's (POST .../{id}/mediation-*/ act on the case). The caller's own list
    # holds only the cases handed to them (guardian grants), whatever their region
    # (tests/grids/test_mediation.py).
    "/api/v1/grids/cases/{id}/mediation/": Scoped(
        Case, "grid__path", items=lambda body: [{"id": body["case_id"]}]
    ),
    "/api/v1/grids/mediation/my-cases/": Exempt("only the cases handed to the caller for mediation"),
    # Projects belong to their village; POSTs under .../{id}/ act on the project.
    "/api/v1/grids/projects/": Scoped(FeedbackProject, "village__path"),
    "/api/v1/grids/projects/{id}/": Scoped(FeedbackProject, "village__path"),
    # The county's case-handling configuration: county-wide rows, no path ids (objects are named in the
    # body); tests/grids/test_config_services.py checks who reads and writes each.
    "/api/v1/grids/config/categories/": Exempt("county-wide category tree, read by anyone holding a role"),
    "/api/v1/grids/config/time-limits/": Exempt("county-wide time limits, read by anyone holding a role"),
    "/api/v1/grids/config/calendar/": Exempt("county-wide holiday calendar, read by anyone holding a role"),
    "/api/v1/grids/config/templates/": Exempt("county-wide reply templates, read by anyone holding a role"),
    "/api/v1/grids/config/units/": Exempt("handling units with members: county admins only, 404 for others"),
    "/api/v1/grids/config/routing/": Exempt("the county's routing table: county admins only, 404 for others"),
    # Owned, not regional: a user lists and reads only their own exports, and anyone else's id answers
    # 404 whatever their scope (tests/governance/test_exports.py checks it for every role and endpoint).
    # A till receipt belongs to its household's grid; readable by who may run the store's till (TILL).
    "/api/v1/points/redemptions/{id}/": Scoped(Redemption, "household__grid__path"),
    "/api/v1/points/redemptions/{id}/returns/": Scoped(
        RedemptionReturn,
        "line__redemption__household__grid__path",
        under=(Redemption, "household__grid__path"),
    ),
    "/api/v1/points/stores/{id}/items/": Scoped(Item, "store__region__path", under=(Store, "region__path")),
    # Stores the caller manages (or whose till they were granted); an item and its stock ledger are its
    # store's (POST .../stock-in/ and .../adjustments/ act on the item above them).
    "/api/v1/points/stores/": Scoped(Store, "region__path"),
    "/api/v1/points/items/{id}/": Scoped(Item, "store__region__path"),
    "/api/v1/points/items/{id}/movements/": Scoped(
        StockMovement, "item__store__region__path", under=(Item, "store__region__path")
    ),
    "/api/v1/governance/exports/": Exempt("the caller's own export jobs only"),
    "/api/v1/governance/exports/{id}/": Exempt("one of the caller's own export jobs; anyone else's is 404"),
    "/api/v1/governance/exports/{id}/download/": Exempt("the file of one of the caller's own export jobs"),
    # canteens community (classrooms, workshops, red stations): every row belongs to its site's village;
    # a volunteer to the village they registered at; POSTs under .../{id}/ act on the row above them.
    **{
        f"/api/v1/canteens/community/{name}": rule
        for name, rule in {
            "volunteers/": Scoped(Volunteer, "region__path"),
            "volunteers/{id}/": Scoped(Volunteer, "region__path"),
            "sessions/": Scoped(ClassSession, "site__region__path"),
            "sessions/{id}/": Scoped(ClassSession, "site__region__path"),
            "classrooms/{id}/totals/": Scoped(
                Site, "region__path", under=(Site, "region__path"), items=lambda body: [{"id": body["site"]}]
            ),
            "volunteer-hours/": Scoped(VolunteerHours, "site__region__path"),
            "volunteer-hours/{id}/": Scoped(VolunteerHours, "site__region__path"),
            "products/": Scoped(WorkshopProduct, "site__region__path"),
            "products/{id}/": Scoped(WorkshopProduct, "site__region__path"),
            "workers/": Scoped(WorkshopWorker, "site__region__path"),
            "workers/{id}/": Scoped(WorkshopWorker, "site__region__path"),
            "orders/": Scoped(WorkshopOrder, "site__region__path"),
            "orders/{id}/": Scoped(WorkshopOrder, "site__region__path"),
            "wages/": Scoped(WagePayment, "site__region__path"),
            "station-services/": Scoped(StationService, "site__region__path"),
            "station-services/{id}/": Scoped(StationService, "site__region__path"),
            "service-logs/": Scoped(ServiceLog, "site__region__path"),
            "summaries/workshops/": Scoped(Site, "region__path", items=lambda row: [{"id": row["site"]}]),
            "summaries/stations/": Scoped(Site, "region__path", items=lambda row: [{"id": row["site"]}]),
        }.items()
    },
    # canteens sites and setup: a site is its village's; an enrolment and a price rule their canteen's
    # (POST .../{id}/end/ acts on the row above it); tiers are the county's.
    "/api/v1/canteens/sites/": Scoped(Site, "region__path"),
    "/api/v1/canteens/sites/{id}/": Scoped(Site, "region__path"),
    "/api/v1/canteens/tiers/": Exempt("the county's subsidy tiers: county-wide, no personal data"),
    "/api/v1/canteens/sites/{id}/enrolments/": Scoped(
        Enrolment, "site__region__path", under=(Site, "region__path")
    ),
    "/api/v1/canteens/enrolments/{id}/": Scoped(Enrolment, "site__region__path"),
    "/api/v1/canteens/sites/{id}/rules/": Scoped(
        PriceRule, "site__region__path", under=(Site, "region__path")
    ),
    "/api/v1/canteens/rules/{id}/": Scoped(PriceRule, "site__region__path"),
    # canteens settlements: a settlement and a budget are their canteen's (POST .../{id}/submit/, approve/,
    # return/ act on the settlement above them); a report's rows are canteens.
    "/api/v1/canteens/settlements/": Scoped(Settlement, "site__region__path"),
    "/api/v1/canteens/settlements/{id}/": Scoped(Settlement, "site__region__path"),
    "/api/v1/canteens/sites/{id}/settlements/": Scoped(
        Settlement, "site__region__path", under=(Site, "region__path")
    ),
    "/api/v1/canteens/sites/{id}/budgets/": Scoped(
        Budget, "site__region__path", under=(Site, "region__path")
    ),
    "/api/v1/canteens/sites/{id}/report/": Scoped(Site, "region__path", items=lambda body: [body["site"]]),
    "/api/v1/canteens/canteen-reports/": Scoped(Site, "region__path", items=lambda row: [row["site"]]),
    # canteens meals and donations: a meal and a canteen's donation fund are their canteen's (POST
    # meals/{id}/corrections/, correction-apply/, correction-reject/ act on the meal; POST
    # donation-funds/{id}/donations/ on the fund); a movement is its fund's.
    "/api/v1/canteens/meals/": Scoped(Meal, "site__region__path"),
    "/api/v1/canteens/meals/{id}/": Scoped(Meal, "site__region__path"),
    "/api/v1/canteens/donation-funds/": Scoped(DonationFund, "site__region__path"),
    "/api/v1/canteens/donation-funds/{id}/": Scoped(DonationFund, "site__region__path"),
    "/api/v1/canteens/donation-funds/{id}/movements/": Scoped(
        FundMovement, "fund__site__region__path", under=(DonationFund, "site__region__path")
    ),
}
SCOPE_RULES.update(industry_scope_rules())
SCOPE_RULES.update(DASHBOARD_SCOPE_RULES)

# The five demo log-ins, and an account that holds no role at all (it must see nothing: deny by default).
ROLES = ("county_admin", "township_admin", "village_secretary", "grid_leader", "canteen_manager", "nobody")


# ---------- the data: two separate subtrees, built through the services ----------


@pytest.fixture
def two_subtrees(demo_county) -> dict[str, Any]:
    admin = User.objects.get(username="county_admin")
    User.objects.create_user(username="nobody", password="x-long-password-1", full_name="无角色")
    r = dict(demo_county)
    r["民营第一网格"] = region_services.region_create(
        parent=r["民营社区"], name="民营第一网格", kind=RegionKind.GRID, code="420625101002001"
    )
    county_committee = party_services.party_org_create(
        actor=admin, kind=PartyOrgKind.COUNTY_COMMITTEE, name="中共谷城县委员会", region=r["谷城县"]
    )
    gathering = party_services.shennong_gathering_create(
        actor=admin, session=1, held_on=dt.date(2021, 11, 20), venue="谷城县", theme="第一届神农英雄会"
    )
    made: dict[str, Any] = {"regions": r}
    for side, (township, village, grid, surname) in {
        "xinhua": ("城关镇", "新华村", "第一网格", "王"),
        "minying": ("石花镇", "民营社区", "民营第一网格", "孙"),
    }.items():
        household = people_services.household_create(
            actor=admin, grid=r[grid], number=f"{side}-001", address=f"{r[village].name}1号"
        )
        head = people_services.resident_create(
            actor=admin,
            household=household,
            name=f"{surname}大山",
            id_number=id_number_make(dt.date(1960, 1, 5), "M"),
            relation_to_head=RelationToHead.SELF,
            phone="13900001111" if side == "xinhua" else "13900002222",
        )
        spouse = people_services.resident_create(
            actor=admin,
            household=household,
            name=f"{surname}小花",
            id_number=id_number_make(dt.date(1962, 2, 6), "F"),
            relation_to_head=RelationToHead.SPOUSE,
        )
        township_committee = party_services.party_org_create(
            actor=admin,
            kind=PartyOrgKind.TOWNSHIP_COMMITTEE,
            name=f"中共{township}委员会",
            region=r[township],
            parent=county_committee,
        )
        branch = party_services.party_org_create(
            actor=admin,
            kind=PartyOrgKind.VILLAGE_BRANCH,
            name=f"中共{village}支部委员会",
            region=r[village],
            parent=township_committee,
        )
        member = party_services.party_member_create(
            actor=admin,
            resident=head,
            organisation=branch,
            steps={MembershipStage.APPLICANT: dt.date(2023, 3, 1)},
        )
        group = party_services.sages_group_create(actor=admin, village=r[village])
        party_services.sages_member_add(
            actor=admin,
            group=group,
            resident=spouse,
            kind=SagesMemberKind.RESPECTED_VILLAGER,
            joined_on=dt.date(2024, 1, 1),
        )
        party_services.talent_register(
            actor=admin,
            resident=spouse,
            category=TalentCategory.values[0],
            speciality="茶叶种植",
            registered_on=dt.date(2024, 2, 1),
        )
        model = party_services.role_model_create(actor=admin, resident=head, title="最美村民")
        party_services.role_model_select(actor=admin, gathering=gathering, role_model=model)
        ImportJob.objects.create(
            uploaded_by=admin,
            region=r[village],
            file=f"roster_imports/{side}.xlsx",
            original_name=f"{village}花名册.xlsx",
            mode="all_or_nothing",
            idempotency_key=f"scope-test-{side}",
        )
        category, _created = CaseCategory.objects.get_or_create(
            code="scope-test-road", defaults={"duty": Duty.GOVERNANCE_COORDINATION, "name": "道路损坏"}
        )
        case_file(
            actor=admin,
            idempotency_key=f"scope-test-{side}",
            category=category,
            description=f"{village}村道塌陷，路面积水。",
            urgency="normal",
            privacy="public",
            grid=r[grid],
            resident=head,
        )
        work_log_record(
            actor=admin,
            idempotency_key=f"scope-test-{side}",
            grid=r[grid],
            kind="visit",
            occurred_on=dt.date(2026, 3, 8),
            topic=f"走访{head.name}家",
            summary="",
            attendees_count=None,
            household=household,
        )
        project_create_from_case(
            actor=admin,
            case=Case.objects.get(reporter=admin, idempotency_key=f"scope-test-{side}"),
            title=f"{village}前庭后院小花园",
            idempotency_key=f"scope-test-{side}",
        )
        # A points award under public notice with an objection to it (points.services.awards).
        points_defaults_install()
        award = award_propose(
            actor=admin,
            idempotency_key=f"scope-test-{side}",
            household=household,
            rule=PointsRule.objects.get(code="ZF-02"),
            occurred_on=dt.date.today(),
            resident=head,
        )
        award = award_review(actor=admin, award=award, approve=True)
        objection_file(award=award, reason=f"{village}异议：事迹不实")
        # An evaluation of the village (points.services.evaluations).
        Evaluation.objects.create(
            village=r[village],
            title="最美村民",
            year=2026,
            rule=award.rule,
            winners_count=3,
            created_by=admin,
        )
        # Posted points, so the household's statement has rows (points.ledger).
        ledger_post(
            township=r[township],
            kind="award",
            memo="范围测试入账",
            legs=[(system_account(r[township], "issuance"), -10), (account_for_household(household), 10)],
            actor=admin,
        )
        # A store of the township with an item, one receipt at its till and one returned unit
        # (points.services.stores / redemptions), run by a township admin of that side.
        till_admin = User.objects.create_user(
            username=f"scope-till-{side}", password="x-long-password-1", full_name="兑换员"
        )
        role_services.role_assign(user=till_admin, role=Role.TOWNSHIP_ADMIN, region=r[township])
        store = store_services.store_create(
            actor=till_admin,
            idempotency_key=f"scope-test-{side}",
            region=r[township],
            name=f"{township}积分超市",
        )
        item = store_services.item_create(
            actor=till_admin,
            idempotency_key=f"scope-test-{side}",
            store=store,
            name="大米",
            unit="袋",
            points_price=4,
        )
        store_services.stock_in(
            actor=till_admin,
            idempotency_key=f"scope-test-{side}-stock",
            item=item,
            kind="purchase",
            quantity=5,
            source="供销社",
            value_fen=5000,
        )
        item.refresh_from_db()
        receipt = redemption_create(
            actor=till_admin,
            idempotency_key=f"scope-test-{side}",
            store=store,
            household=household,
            lines=[(item, 2)],
        )
        redemption_return(
            actor=till_admin,
            idempotency_key=f"scope-test-{side}-return",
            line=receipt.lines.get(),
            quantity=1,
            reason="包装破损",
        )
        made[side] = {"household": household, "residents": [head, spouse], "member": member}
    made["community_sites"] = community_scope_data(r)  # canteens: classrooms, workshops, red stations
    made["canteens"] = canteen_scope_data(r)  # canteens: a canteen, an enrolment and a price rule each side
    made["settlements"] = settlement_scope_data(made["canteens"])  # canteens: last month's settlement each
    made["meals"] = meal_scope_data(made["canteens"])  # canteens: a donation fund and today's lunch each side
    made["industry"] = industry_scope_data(r)  # industry: one module per area (tests/industry/scope.py)
    return made


# ---------- walking the schema ----------


def _schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def _client(username: str) -> APIClient:
    client = APIClient()
    token, _created = Token.objects.get_or_create(user=User.objects.get(username=username))
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def _is_list(operation: dict[str, Any]) -> bool:
    schema = (
        operation["responses"].get("200", {}).get("content", {}).get("application/json", {}).get("schema", {})
    )
    ref = schema.get("$ref", "")
    return schema.get("type") == "array" or ref.split("/")[-1].startswith("Paginated")


def _params(path: str) -> list[str]:
    return re.findall(r"{(\w+)}", path)


def _fill(path: str, value: int) -> str:
    return re.sub(r"{\w+}", str(value), path)


def _rows(client: APIClient, url: str) -> Iterator[dict[str, Any]]:
    """Every row of a (paginated or plain) list, following `next` links."""
    while url:
        response = client.get(url)
        assert response.status_code == 200, f"GET {url}: {response.status_code} {response.content[:300]!r}"
        body = response.json()
        if isinstance(body, list):
            yield from body
            return
        yield from body["results"]
        url = body.get("next") or ""


def _in_scope_q(path_field: str, paths: list[str]) -> Q:
    if not paths:
        return Q(pk__in=[])
    q = Q()
    for path in paths:
        q |= Q(**{f"{path_field}__startswith": path})
    return q


def _assert_in_scope(
    rule: Scoped, rows: list[dict[str, Any]], user: User, paths: list[str], where: str
) -> None:
    items = [item for row in rows for item in (rule.items(row) if rule.items else [row])]
    ids = [item["id"] for item in items]
    found = dict(rule.model._default_manager.filter(pk__in=ids).values_list("pk", rule.path_field))
    for object_id in ids:
        assert object_id in found, (
            f"{where}: {rule.model.__name__} {object_id} listed but not in the database"
        )
        region_path = found[object_id] or ""
        if rule.regionless_for_county and region_path == "" and access.is_county_admin(user):
            continue
        assert any(region_path.startswith(p) for p in paths), (
            f"{where}: {user.username} got {rule.model.__name__} {object_id} at {region_path!r}, "
            f"outside its subtree {paths}"
        )


def _outside_id(model: type[Model], path_field: str, paths: list[str]) -> int | None:
    row = model._default_manager.exclude(_in_scope_q(path_field, paths)).exclude(**{path_field: ""}).first()
    return row.pk if row is not None else None


def _inside_id(model: type[Model], path_field: str, paths: list[str]) -> int | None:
    row = model._default_manager.filter(_in_scope_q(path_field, paths)).order_by("pk").first()
    return row.pk if row is not None else None


def test_every_get_path_of_the_schema_is_mapped(two_subtrees):
    schema = _schema()
    get_paths = sorted(p for p, ops in schema["paths"].items() if "get" in ops)
    unmapped = [p for p in get_paths if p not in SCOPE_RULES]
    assert not unmapped, (
        f"GET endpoints not covered by the scope test: {unmapped}. Add each to SCOPE_RULES in "
        "tests/test_api_scope.py: the model its objects are and the lookup to their region path "
        "(or Exempt with the reason it holds no regional data)."
    )
    stale = sorted(set(SCOPE_RULES) - set(get_paths))
    assert not stale, f"SCOPE_RULES names paths the schema no longer has: {stale}"


@pytest.mark.parametrize("username", ROLES)
def test_no_role_lists_or_reads_outside_its_subtree(two_subtrees, username):
    schema = _schema()
    user = User.objects.get(username=username)
    paths = access.outermost([path for _role, path in access.assignments(user)])
    client = _client(username)
    checked: list[str] = []
    for path, operations in sorted(schema["paths"].items()):
        get = operations.get("get")
        rule = SCOPE_RULES.get(path)
        if get is None or rule is None or isinstance(rule, Exempt):
            continue
        params = _params(path)
        if not params:
            rows = list(_rows(client, path))
            _assert_in_scope(rule, rows, user, paths, f"GET {path}")
            outside = _outside_id(rule.model, rule.path_field, paths)
            if username != "county_admin":
                assert outside is not None, (
                    f"the fixture has no {rule.model.__name__} outside {username}'s subtree, so {path} "
                    "cannot show a leak: add one to two_subtrees"
                )
            else:
                assert rows, f"GET {path} is empty for the county admin: add fixture data for it"
            checked.append(path)
            continue
        assert len(params) == 1, f"{path}: teach the scope test about several path parameters"
        model, path_field = rule.under if rule.under else (rule.model, rule.path_field)
        missing = client.get(_fill(path, MISSING_ID))
        assert missing.status_code == 404, f"GET {path} with a missing id: {missing.status_code}"
        outside = _outside_id(model, path_field, paths)
        if outside is not None:
            response = client.get(_fill(path, outside))
            assert response.status_code == 404, (
                f"GET {_fill(path, outside)} as {username}: {response.status_code}, expected 404 "
                f"({model.__name__} {outside} is outside {paths})"
            )
            assert response.json() == missing.json(), f"{path}: out of scope must answer like a missing id"
        elif username != "county_admin":
            pytest.fail(f"the fixture has no {model.__name__} outside {username}'s subtree for {path}")
        inside = _inside_id(model, path_field, paths)
        if inside is not None:
            response = client.get(_fill(path, inside))
            if response.status_code == 200:
                body = response.json()
                rows = list(_rows(client, _fill(path, inside))) if _is_list(get) else [body]
                _assert_in_scope(rule, rows, user, paths, f"GET {_fill(path, inside)}")
            else:
                # Some endpoints serve only some roles (e.g. admins): they may refuse, never leak.
                assert response.status_code in (403, 404), (
                    f"GET {_fill(path, inside)}: {response.status_code}"
                )
                assert username != "county_admin", f"the county admin cannot read {_fill(path, inside)}"
        checked.append(path)
    assert checked, "no endpoint was checked"


@pytest.mark.parametrize("username", ROLES)
def test_writes_to_an_out_of_scope_id_answer_like_a_missing_one(two_subtrees, username):
    """Every non-GET operation with a path parameter, given an id from outside the caller's subtree, must
    neither act nor tell that the object exists: the same answer as for an id that does not exist."""
    schema = _schema()
    user = User.objects.get(username=username)
    paths = access.outermost([path for _role, path in access.assignments(user)])
    client = _client(username)
    for path, operations in sorted(schema["paths"].items()):
        params = _params(path)
        if not params:
            continue
        # An action (".../{id}/advance/") acts on the object of the path above it (".../{id}/").
        rule = SCOPE_RULES.get(path) or SCOPE_RULES.get(re.sub(r"(\{\w+\}/)[\w-]+/$", r"\1", path))
        if isinstance(rule, Exempt) and not {"post", "put", "patch", "delete"} & set(operations):
            continue  # read-only and not regional: nothing to write to
        assert isinstance(rule, Scoped), f"{path}: add its object's rule to SCOPE_RULES"
        model, path_field = rule.under if rule.under else (rule.model, rule.path_field)
        outside = _outside_id(model, path_field, paths)
        if outside is None:
            continue
        for method in ("post", "put", "patch", "delete"):
            if method not in operations:
                continue
            send = getattr(client, method)
            missing = send(_fill(path, MISSING_ID), {}, format="json")
            response = send(_fill(path, outside), {}, format="json")
            where = f"{method.upper()} {_fill(path, outside)} as {username}"
            assert response.status_code not in range(200, 300), f"{where} succeeded on an out-of-scope object"
            assert (response.status_code, response.json()) == (missing.status_code, missing.json()), (
                f"{where} answered {response.status_code} {response.json()}, unlike a missing id "
                f"({missing.status_code} {missing.json()})"
            )

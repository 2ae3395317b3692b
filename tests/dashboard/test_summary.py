"""The dashboard summary (governance/selectors/summary.py, GET /api/v1/dashboard/summary/): exact values
of every key at every level on a small county, stock figures as at the period's end (a leader change,
a site opened after the end, a closed site), flow figures from the rollup facts, rates None at 0/0,
scope, the API's errors and a constant number of queries.

The world is tests/rollups/factories.py's (county C; T1 with V1, V2; T2 with V3; grids G1, G2 (re-zoned
from V1 to V3 on 15 March 2026), G3 under V2, G4 under V3), plus the registries the stock figures count.
The main period is the first half of 2026 (H1), wholly in the past.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from canteens.models import Site
from common.errors import DomainError, NotFound
from governance.models import (
    Region,
    RoleAssignment,
    RoleModel,
    RoleModelSelection,
    RollupRun,
    ShennongGathering,
    User,
)
from governance.roles import Role
from governance.rollups import runs
from governance.selectors import summary as s
from grids.models import GridLeader
from industry.models import (
    Business,
    ChainParticipation,
    Event,
    Exhibitor,
    IndustryChain,
    RegionDesignation,
)
from tests.rollups import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.serial]

H1 = (dt.date(2026, 1, 1), dt.date(2026, 6, 30))
CODES = {"C": "429900000000", "T1": "429900100000", "T2": "429900200000", "V1": "429900100001"}


def user_with(role: Role, region: Region, name: str = "") -> User:
    user = User.objects.create(username=name or f"{role}-{region.pk}")
    RoleAssignment.objects.create(user=user, role=role, region=region)
    return user


def leader(w: f.World, grid: str, elected: dt.date, ended: dt.date | None, household: int) -> None:
    GridLeader.objects.create(
        grid=w.grids[grid],
        resident=w.residents[2 * household],
        elected_on=elected,
        term_end=elected.replace(year=elected.year + 3),
        ended_on=ended,
    )


def gathering(session: int, held_on: dt.date, *role_models: RoleModel) -> None:
    meeting = ShennongGathering.objects.create(session=session, held_on=held_on, venue="县城")
    for model in role_models:
        RoleModelSelection.objects.create(gathering=meeting, role_model=model)


@pytest.fixture
def world() -> f.World:
    w = f.world_make()
    for key, code in CODES.items():
        region = {"C": w.county, **w.townships, **w.villages}[key]
        Region.objects.filter(pk=region.pk).update(code=code)
        region.code = code
    # Households 0, 1 live in G1; 2, 3 in G2; 4, 5 in G3; 6, 7 in G4 (residents 2i, 2i+1 in household i).
    # ---- grid leaders: G1 changes leader on 10 April; G3's first leader comes after H1.
    leader(w, "G1", dt.date(2025, 3, 1), dt.date(2026, 4, 10), household=0)
    leader(w, "G1", dt.date(2026, 4, 10), None, household=1)
    leader(w, "G2", dt.date(2025, 1, 1), None, household=2)
    leader(w, "G3", dt.date(2026, 7, 1), None, household=4)
    leader(w, "G4", dt.date(2024, 1, 1), None, household=6)
    # ---- sites (the world has canteens in V1 and V3 and a classroom in V2, all with no opening date)
    v1, v2, v3 = w.villages["V1"], w.villages["V2"], w.villages["V3"]
    Site.objects.create(kind="workshop", name="甲村爱心作坊", region=v1, opened_on=dt.date(2026, 2, 1))
    Site.objects.create(kind="workshop", name="丙村爱心作坊", region=v3, opened_on=dt.date(2026, 8, 1))
    Site.objects.create(kind="red_station", name="乙村红色驿站", region=v2, opened_on=dt.date(2025, 5, 1))
    Site.objects.create(
        kind="red_station", name="丙村红色驿站", region=v3, opened_on=dt.date(2025, 1, 1), is_active=False
    )
    # ---- role models and gatherings
    rm = [
        RoleModel.objects.create(resident=w.residents[0], title="孝老爱亲"),  # G1 (T1)
        RoleModel.objects.create(resident=w.residents[12], title="致富带头人"),  # G4 (T2)
        RoleModel.objects.create(resident=w.residents[8], title="热心公益"),  # G3 (V2, T1)
        RoleModel.objects.create(resident=w.residents[13], title="返乡创业"),  # G4 (T2)
    ]
    gathering(1, dt.date(2024, 10, 1), rm[0], rm[1])
    gathering(2, dt.date(2026, 5, 1), rm[2], rm[0])
    gathering(3, dt.date(2026, 9, 1), rm[3])
    # ---- events: the world's expo in T1 (1 Jan 2026, exhibitors from V1 and V3), plus:
    t1, t2 = w.townships["T1"], w.townships["T2"]
    festival = Event.objects.create(
        kind="festival",
        name="二镇节会",
        region=t2,
        starts_on=dt.date(2026, 5, 20),
        ends_on=dt.date(2026, 5, 22),
    )
    Exhibitor.objects.create(event=festival, business=w.exhibitors[1].business)
    Event.objects.create(
        kind="expo",
        name="一镇秋季展会",
        region=t1,
        starts_on=dt.date(2026, 8, 10),
        ends_on=dt.date(2026, 8, 12),
    )
    Event.objects.create(
        kind="festival",
        name="全县节会",
        region=w.county,
        starts_on=dt.date(2026, 3, 1),
        ends_on=dt.date(2026, 3, 1),
    )
    # ---- chains: A (V1 business), B (V3 business joining after H1), C inactive (V1)
    v1_business, v3_business = w.exhibitors[0].business, w.exhibitors[1].business
    chain_a = IndustryChain.objects.create(name="茶叶")
    chain_b = IndustryChain.objects.create(name="食用菌")
    chain_c = IndustryChain.objects.create(name="油茶", is_active=False)
    ChainParticipation.objects.create(chain=chain_a, business=v1_business)
    ChainParticipation.objects.create(chain=chain_b, business=v3_business, joined_on=dt.date(2026, 7, 1))
    ChainParticipation.objects.create(chain=chain_c, business=v1_business)
    Business.objects.create(kind="company", name="乙村公司", region=v2)  # on no chain
    # ---- featured towns: two themes of T1 (one year unknown), one of T2 designated later; a village's
    RegionDesignation.objects.create(region=t1, kind="featured_town", theme="茶旅小镇", designated_year=2025)
    RegionDesignation.objects.create(region=t1, kind="featured_town", theme="电商小镇", designated_year=None)
    RegionDesignation.objects.create(region=t2, kind="featured_town", theme="鲟游小镇", designated_year=2027)
    RegionDesignation.objects.create(region=v2, kind="featured_village", theme="蜜旅村", designated_year=2020)

    # ---- flows (source rows; the facts come from the rollup pass below)
    c1 = f.case_write(w, grid="G1", at=f.at_of(10, 9))  # 11 Jan, T1
    c2 = f.case_write(w, grid="G2", at=f.at_of(10, 10))  # G2 still in V1 / T1
    c3 = f.case_write(w, grid="G2", at=f.at_of(100, 9))  # 11 April: G2 now in V3 / T2
    f.case_write(w, grid="G4", at=f.at_of(200, 9))  # 20 July: after H1
    f.case_event_write(w, c1, kind="resolve", at=f.at_of(12, 9), on_time=True)
    f.case_event_write(w, c2, kind="resolve", at=f.at_of(20, 9), on_time=False)
    f.case_event_write(w, c3, kind="resolve", at=f.at_of(105, 9), on_time=True)
    f.case_event_write(w, c1, kind="follow_up", at=f.at_of(14, 9), satisfaction="satisfied")
    f.case_event_write(w, c2, kind="follow_up", at=f.at_of(22, 9), satisfaction="unsatisfied")
    f.case_event_write(w, c3, kind="follow_up", at=f.at_of(110, 9), satisfaction="basically")
    hh = w.households
    f.posting_write(w, household=hh[0], kind="award", amount=50, at=f.at_of(4, 10))
    f.posting_write(w, household=hh[0], kind="redemption", amount=20, at=f.at_of(33, 10))
    f.posting_write(w, household=hh[6], kind="award", amount=30, at=f.at_of(40, 10))
    f.posting_write(w, household=hh[0], kind="award", amount=100, at=f.at_of(250, 10))  # September
    r = w.residents
    f.meal_write(w, site=0, resident=r[0], day=dt.date(2026, 1, 20), slot="lunch")
    f.meal_write(w, site=1, resident=None, day=dt.date(2026, 3, 3), slot="lunch")  # a guest
    f.meal_write(w, site=1, resident=r[2], day=dt.date(2026, 3, 3), slot="lunch")
    f.meal_write(w, site=1, resident=r[0], day=dt.date(2026, 7, 5), slot="lunch")  # after H1
    f.attendance_write(w, day=dt.date(2026, 2, 14), residents=[r[0], r[1]])
    f.sale_write(w, exhibitor=0, product=0, day=dt.date(2026, 1, 2), amount_fen=12_345)
    f.sale_write(w, exhibitor=1, product=1, day=dt.date(2026, 1, 3), amount_fen=100_000)
    wrong = f.sale_write(w, exhibitor=1, product=2, day=dt.date(2026, 2, 1), amount_fen=50_000)
    f.sale_reverse(w, wrong, day=dt.date(2026, 2, 5))
    f.sale_write(w, exhibitor=0, product=1, day=dt.date(2026, 7, 2), amount_fen=7_000)  # after H1
    f.tourism_write(w, subject="V1", month=dt.date(2026, 2, 1), visits=1000, income_fen=500_000)
    f.tourism_write(w, subject="T2", month=dt.date(2026, 3, 1), visits=300, income_fen=20_000)
    f.tourism_write(w, subject="V2", month=dt.date(2026, 8, 1), visits=77, income_fen=7_700)  # after H1
    assert runs.incremental()["status"] == "ok"  # the pass, written down as a RollupRun
    return w


# Every key, every level, over H1 (stock figures as at 30 June 2026; the tree as it is now: G2 in V3).
EXPECTED_H1: dict[str, dict[str, int | Decimal | None]] = {
    "C": {
        "grid_leaders": 3,  # G1's second leader, G2, G4 (G3's comes in July)
        "love_canteens": 2,
        "love_classrooms": 1,
        "canteen_classroom_beneficiaries": 3,  # residents 0, 1, 2; the guest is nobody
        "love_workshops": 1,  # V3's opens in August
        "red_stations": 1,  # V3's is closed
        "hero_gatherings": 2,
        "role_models": 3,
        "expos": 3,  # the T1 expo, the T2 festival, the county festival (not T1's August expo)
        "expo_sales_yuan": Decimal("1123.45"),
        "expo_product_kinds": 2,  # product 2's only sale was reversed
        "industry_chains": 2,  # every active chain
        "featured_towns": 2,
        "cases_filed": 3,
        "cases_resolved_on_time_rate": Decimal("0.6667"),
        "satisfaction_rate": Decimal("0.6667"),
        "points_issued": 80,
        "points_redeemed": 20,
        "points_balance": 60,
        "meals_served": 3,
        "subsidy_government_yuan": 10,
        "tourism_visits": 1300,
        "tourism_income_yuan": 5200,
    },
    "T1": {
        "grid_leaders": 1,
        "love_canteens": 1,
        "love_classrooms": 1,
        "canteen_classroom_beneficiaries": 2,
        "love_workshops": 1,
        "red_stations": 1,
        "hero_gatherings": 2,
        "role_models": 2,
        "expos": 1,
        "expo_sales_yuan": Decimal("123.45"),
        "expo_product_kinds": 1,
        "industry_chains": 1,
        "featured_towns": 2,
        "cases_filed": 2,  # G2's January case stays in T1
        "cases_resolved_on_time_rate": Decimal("0.5000"),
        "satisfaction_rate": Decimal("0.5000"),
        "points_issued": 50,
        "points_redeemed": 20,
        "points_balance": 30,
        "meals_served": 1,
        "subsidy_government_yuan": 5,
        "tourism_visits": 1000,
        "tourism_income_yuan": 5000,
    },
    "T2": {
        "grid_leaders": 2,  # G2 (re-zoned here) and G4
        "love_canteens": 1,
        "love_classrooms": 0,
        "canteen_classroom_beneficiaries": 1,
        "love_workshops": 0,
        "red_stations": 0,
        "hero_gatherings": 1,
        "role_models": 1,
        "expos": 1,
        "expo_sales_yuan": 1000,
        "expo_product_kinds": 1,
        "industry_chains": 0,  # its business joins chain B in July
        "featured_towns": 0,
        "cases_filed": 1,
        "cases_resolved_on_time_rate": Decimal("1.0000"),
        "satisfaction_rate": Decimal("1.0000"),
        "points_issued": 30,
        "points_redeemed": 0,
        "points_balance": 30,
        "meals_served": 2,
        "subsidy_government_yuan": 5,
        "tourism_visits": 300,
        "tourism_income_yuan": 200,
    },
    "V2": {
        "grid_leaders": 0,
        "love_canteens": 0,
        "love_classrooms": 1,
        "canteen_classroom_beneficiaries": 2,
        "love_workshops": 0,
        "red_stations": 1,
        "hero_gatherings": 1,
        "role_models": 1,
        "expos": 0,  # none of its businesses exhibited
        "expo_sales_yuan": 0,
        "expo_product_kinds": 0,
        "industry_chains": 0,
        "featured_towns": 0,
        "cases_filed": 0,
        "cases_resolved_on_time_rate": None,
        "satisfaction_rate": None,
        "points_issued": 0,
        "points_redeemed": 0,
        "points_balance": 0,
        "meals_served": 0,
        "subsidy_government_yuan": 0,
        "tourism_visits": 0,
        "tourism_income_yuan": 0,
    },
    "V3": {
        "grid_leaders": 2,
        "love_canteens": 1,
        "love_classrooms": 0,
        "canteen_classroom_beneficiaries": 1,
        "love_workshops": 0,
        "red_stations": 0,
        "hero_gatherings": 1,
        "role_models": 1,
        "expos": 2,  # its business exhibited at the T1 expo and the T2 festival
        "expo_sales_yuan": 1000,
        "expo_product_kinds": 1,
        "industry_chains": 0,
        "featured_towns": 0,
        "cases_filed": 1,
        "cases_resolved_on_time_rate": Decimal("1.0000"),
        "satisfaction_rate": Decimal("1.0000"),
        "points_issued": 30,
        "points_redeemed": 0,
        "points_balance": 30,
        "meals_served": 2,
        "subsidy_government_yuan": 5,
        "tourism_visits": 0,  # T2's figures are the town's own (village 0)
        "tourism_income_yuan": 0,
    },
}


def region_of(w: f.World, key: str) -> Region:
    return {"C": w.county, **w.townships, **w.villages, **w.grids}[key]


def test_the_fields_name_every_key_once_in_display_order():
    keys = [field.key for field in s.SUMMARY_FIELDS]
    assert keys[:19] == [
        "grid_leaders",
        "love_canteens",
        "love_classrooms",
        "canteen_classroom_beneficiaries",
        "love_workshops",
        "red_stations",
        "hero_gatherings",
        "role_models",
        "expos",
        "expo_sales_yuan",
        "expo_product_kinds",
        "industry_chains",
        "featured_towns",
        "cases_filed",
        "cases_resolved_on_time_rate",
        "satisfaction_rate",
        "points_issued",
        "points_redeemed",
        "points_balance",
    ]
    assert keys[19:] == ["meals_served", "subsidy_government_yuan", "tourism_visits", "tourism_income_yuan"]
    assert {field.kind for field in s.SUMMARY_FIELDS} == {"stock", "flow", "rate"}
    assert all(field.unit == "%" for field in s.SUMMARY_FIELDS if field.kind == "rate")
    assert str(s.SUMMARY_FIELDS[0].label) == "百户网格长"


@pytest.mark.parametrize("key", list(EXPECTED_H1))
def test_every_key_at_every_level_over_a_past_half_year(world, key):
    admin = user_with(Role.COUNTY_ADMIN, world.county)
    summary = s.summary_for(user=admin, region=region_of(world, key), start=H1[0], end=H1[1])
    assert summary.values == EXPECTED_H1[key]
    assert list(summary.values) == [field.key for field in s.SUMMARY_FIELDS]
    assert (summary.start, summary.end, summary.as_of) == (H1[0], H1[1], H1[1])
    assert summary.region.pk == region_of(world, key).pk


def test_a_grid_counts_its_own_leader_people_and_cases(world):
    admin = user_with(Role.COUNTY_ADMIN, world.county)
    values = s.summary_for(user=admin, region=world.grids["G1"], start=H1[0], end=H1[1]).values
    picked = {k: values[k] for k in ("grid_leaders", "role_models", "hero_gatherings", "cases_filed")}
    assert picked == {"grid_leaders": 1, "role_models": 1, "hero_gatherings": 2, "cases_filed": 1}
    assert values["points_balance"] == 30
    # Sites, sales and canteen facts sit at villages (grid 0): nothing at a grid.
    assert (values["love_canteens"], values["meals_served"], values["expo_sales_yuan"], values["expos"]) == (
        0,
        0,
        0,
        0,
    )


def test_the_types_are_ints_decimals_and_none(world):
    admin = user_with(Role.COUNTY_ADMIN, world.county)
    values = s.summary_for(user=admin, region=world.county, start=H1[0], end=H1[1]).values
    assert type(values["grid_leaders"]) is int
    assert type(values["subsidy_government_yuan"]) is int  # whole yuan
    assert values["expo_sales_yuan"] == Decimal("1123.45")
    assert isinstance(values["expo_sales_yuan"], Decimal)
    assert isinstance(values["satisfaction_rate"], Decimal)
    assert values["satisfaction_rate"].as_tuple().exponent == -4


@pytest.mark.parametrize(
    "end", [dt.date(2026, 3, 31), dt.date(2026, 4, 9), dt.date(2026, 4, 10), dt.date(2026, 4, 11)]
)
def test_a_period_straddling_a_leader_change_counts_the_leader_in_office_at_its_end(world, end):
    """G1's first leader leaves on 10 April, the day the second is elected: on every end date exactly
    one of them is in office (never both, never none)."""
    admin = user_with(Role.COUNTY_ADMIN, world.county)
    v1 = s.summary_for(user=admin, region=world.villages["V1"], start=dt.date(2026, 1, 1), end=end)
    assert v1.values["grid_leaders"] == 1
    county = s.summary_for(user=admin, region=world.county, start=dt.date(2026, 1, 1), end=end)
    assert county.values["grid_leaders"] == 3  # G1's leader of the day, G2, G4


def test_a_leader_who_left_without_a_successor_is_not_counted(world):
    admin = user_with(Role.COUNTY_ADMIN, world.county)
    GridLeader.objects.filter(grid=world.grids["G4"]).update(ended_on=dt.date(2026, 5, 1))
    t2 = s.summary_for(user=admin, region=world.townships["T2"], start=H1[0], end=H1[1])
    assert t2.values["grid_leaders"] == 1  # G2 only
    april = s.summary_for(user=admin, region=world.townships["T2"], start=H1[0], end=dt.date(2026, 4, 30))
    assert april.values["grid_leaders"] == 2


def test_a_site_opened_after_the_end_counts_from_its_opening_day(world):
    admin = user_with(Role.COUNTY_ADMIN, world.county)
    start = dt.date(2026, 1, 1)
    before = s.summary_for(user=admin, region=world.county, start=start, end=dt.date(2026, 7, 31))
    on = s.summary_for(user=admin, region=world.county, start=start, end=dt.date(2026, 8, 1))
    assert (before.values["love_workshops"], on.values["love_workshops"]) == (1, 2)
    january = s.summary_for(user=admin, region=world.county, start=start, end=dt.date(2026, 1, 31))
    assert january.values["love_workshops"] == 0  # V1's opened on 1 February
    # Canteens without an opening date count whatever the period; a closed station never does.
    old = s.summary_for(user=admin, region=world.county, start=dt.date(2020, 1, 1), end=dt.date(2020, 12, 31))
    assert (old.values["love_canteens"], old.values["red_stations"], old.values["role_models"]) == (2, 0, 0)


def test_rates_are_none_when_nothing_was_resolved_or_followed_up(world):
    admin = user_with(Role.COUNTY_ADMIN, world.county)
    # 1–10 Jan: nothing resolved, nothing followed up (the first case is filed on 11 Jan).
    quiet = s.summary_for(
        user=admin, region=world.county, start=dt.date(2026, 1, 1), end=dt.date(2026, 1, 10)
    )
    assert (quiet.values["cases_resolved_on_time_rate"], quiet.values["satisfaction_rate"]) == (None, None)
    # 11–13 Jan: one resolved on time, no follow-up yet.
    early = s.summary_for(
        user=admin, region=world.county, start=dt.date(2026, 1, 11), end=dt.date(2026, 1, 13)
    )
    assert (early.values["cases_resolved_on_time_rate"], early.values["satisfaction_rate"]) == (
        Decimal("1.0000"),
        None,
    )


def test_a_period_ending_in_the_future_counts_stock_as_at_today(world):
    admin = user_with(Role.COUNTY_ADMIN, world.county)
    today = timezone.localdate()
    later = today + dt.timedelta(days=400)
    summary = s.summary_for(user=admin, region=world.county, start=H1[0], end=later)
    assert summary.as_of == today
    gatherings_so_far = ShennongGathering.objects.filter(held_on__lte=today).count()
    assert summary.values["hero_gatherings"] == gatherings_so_far


def test_rollup_as_of_is_the_last_successful_pass(world):
    admin = user_with(Role.COUNTY_ADMIN, world.county)
    last = RollupRun.objects.filter(status="ok").exclude(kind="verify").order_by("-started_at").first()
    assert last is not None
    summary = s.summary_for(user=admin, region=world.county, start=H1[0], end=H1[1])
    assert summary.rollup_as_of == last.finished_at


# ---- scope


def test_a_township_admin_sees_only_its_township(world):
    t1_admin = user_with(Role.TOWNSHIP_ADMIN, world.townships["T1"])
    assert (
        s.summary_for(user=t1_admin, region=world.villages["V2"], start=H1[0], end=H1[1]).values
        == (EXPECTED_H1["V2"])
    )
    for outside in (world.county, world.townships["T2"], world.villages["V3"], world.grids["G2"]):
        with pytest.raises(NotFound):
            s.summary_for(user=t1_admin, region=outside, start=H1[0], end=H1[1])
    with pytest.raises(NotFound):
        s.summary_for(user=t1_admin, region=world.townships["T2"].pk, start=H1[0], end=H1[1])
    # Its default region is its township.
    default = s.summary_for_code(user=t1_admin, region_code=None, start=H1[0], end=H1[1])
    assert (default.region.pk, default.values) == (world.townships["T1"].pk, EXPECTED_H1["T1"])
    with pytest.raises(NotFound):
        s.summary_for_code(user=t1_admin, region_code=CODES["T2"], start=H1[0], end=H1[1])


def test_roles_without_the_dashboard_see_nothing(world):
    nobody = User.objects.create(username="nobody-here")
    manager = user_with(Role.CANTEEN_MANAGER, world.villages["V1"])
    for user in (nobody, manager):
        with pytest.raises(NotFound):
            s.summary_for(user=user, region=world.villages["V1"], start=H1[0], end=H1[1])
        with pytest.raises(NotFound):
            s.summary_for_year(user=user, region_code=None, year=2026)


def test_the_broadest_region_is_the_default(world):
    both = user_with(Role.VILLAGE_SECRETARY, world.villages["V3"], name="two-roles")
    RoleAssignment.objects.create(user=both, role=Role.VIEWER, region=world.townships["T2"])
    summary = s.summary_for_code(user=both, region_code=None, start=H1[0], end=H1[1])
    assert summary.region.pk == world.townships["T2"].pk


def test_bad_arguments_name_their_field(world):
    admin = user_with(Role.COUNTY_ADMIN, world.county)
    cases = [
        (lambda: s.summary_for(user=admin, region=world.county, start=H1[1], end=H1[0]), "start"),
        (lambda: s.summary_for_year(user=admin, region_code=None, year=1999), "year"),
        (lambda: s.summary_for_year(user=admin, region_code="42-06", year=2026), "region"),
    ]
    for call, field in cases:
        with pytest.raises(DomainError) as raised:
            call()
        assert (raised.value.status, raised.value.field) == (400, field)


# ---- a constant number of queries


@pytest.mark.parametrize(
    ("key", "start", "end"),
    [
        ("C", H1[0], H1[1]),
        ("C", dt.date(2021, 1, 1), dt.date(2026, 12, 31)),
        ("T2", dt.date(2026, 3, 3), dt.date(2026, 3, 3)),
        ("V1", H1[0], H1[1]),
        ("G4", H1[0], H1[1]),
    ],
)
def test_a_constant_number_of_queries(world, key, start, end):
    admin = user_with(Role.COUNTY_ADMIN, world.county)
    region = region_of(world, key)
    s.summary_for_code(user=admin, region_code=None, start=start, end=end)  # prepares the roles' statement
    with CaptureQueriesContext(connection) as by_object:
        s.summary_for(user=admin, region=region, start=start, end=end)
    with CaptureQueriesContext(connection) as by_id:
        s.summary_for(user=admin, region=region.pk, start=start, end=end)
    with CaptureQueriesContext(connection) as by_code:
        s.summary_for_code(user=admin, region_code=CODES.get(key), start=start, end=end)
    # The roles and the one statement; the region by id; the region by code (or the default by id).
    assert (len(by_object), len(by_id), len(by_code)) == (2, 3, 3)


# ---- the API


def api_client(user: User) -> APIClient:
    client = APIClient()
    token, _created = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def as_json(values: dict[str, int | Decimal | None]) -> dict[str, int | float | None]:
    return {k: float(v) if isinstance(v, Decimal) else v for k, v in values.items()}


def test_the_api_answers_every_key_for_a_period(world):
    client = api_client(user_with(Role.COUNTY_ADMIN, world.county))
    response = client.get(
        "/api/v1/dashboard/summary/", {"region": CODES["T1"], "start": "2026-01-01", "end": "2026-06-30"}
    )
    assert response.status_code == 200, response.content
    last = RollupRun.objects.filter(status="ok").exclude(kind="verify").order_by("-started_at").first()
    assert last is not None
    assert last.finished_at is not None
    assert response.json() == {
        "region": {"id": world.townships["T1"].pk, "code": CODES["T1"], "name": "一镇", "level": "township"},
        "start": "2026-01-01",
        "end": "2026-06-30",
        "year": None,
        "as_of": "2026-06-30",
        **as_json(EXPECTED_H1["T1"]),
        "rollup_as_of": response.json()["rollup_as_of"],
    }
    assert dt.datetime.fromisoformat(response.json()["rollup_as_of"]) == last.finished_at
    assert response.json()["expo_sales_yuan"] == 123.45
    assert response.json()["cases_resolved_on_time_rate"] == 0.5


def test_the_api_defaults_to_this_year_and_the_callers_broadest_region(world):
    admin = user_with(Role.COUNTY_ADMIN, world.county)
    client = api_client(admin)
    response = client.get("/api/v1/dashboard/summary/")
    assert response.status_code == 200, response.content
    body = response.json()
    this_year = timezone.localdate().year
    assert (body["region"]["code"], body["year"], body["start"], body["end"]) == (
        CODES["C"],
        this_year,
        f"{this_year}-01-01",
        f"{this_year}-12-31",
    )
    by_year = client.get("/api/v1/dashboard/summary/", {"region": CODES["C"], "year": "2026"}).json()
    expected = s.summary_for_year(user=admin, region_code=None, year=2026)
    assert by_year["year"] == 2026
    assert {k: by_year[k] for k in expected.values} == as_json(expected.values)
    # The stock figures of the year 2026 (ends after today, or today): counted as at min(31 Dec, today).
    assert by_year["as_of"] == min(dt.date(2026, 12, 31), timezone.localdate()).isoformat()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"year": "20x6"}, "year"),
        ({"year": "1999"}, "year"),
        ({"year": "2026", "start": "2026-01-01", "end": "2026-02-01"}, "year"),
        ({"region": "谷城"}, "region"),
        ({"start": "2026-02-01", "end": "2026-01-01"}, "start"),
        ({"start": "2026-02-30", "end": "2026-03-01"}, "start"),
        ({"start": "2026-02-01"}, "end"),
    ],
)
def test_the_api_answers_400_naming_the_field(world, params, field):
    client = api_client(user_with(Role.COUNTY_ADMIN, world.county))
    response = client.get("/api/v1/dashboard/summary/", params)
    assert response.status_code == 400, response.content
    body = response.json()
    assert list(body["fields"]) == [field]
    assert body["detail"] == body["fields"][field][0]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["detail"])  # a Chinese message


def test_the_api_answers_404_outside_the_scope_and_401_anonymous(world):
    client = api_client(user_with(Role.TOWNSHIP_ADMIN, world.townships["T1"]))
    outside = client.get("/api/v1/dashboard/summary/", {"region": CODES["T2"], "year": "2026"})
    unknown = client.get("/api/v1/dashboard/summary/", {"region": "429999999999", "year": "2026"})
    assert (outside.status_code, unknown.status_code) == (404, 404)
    assert outside.json() == unknown.json()
    inside = client.get(
        "/api/v1/dashboard/summary/", {"region": CODES["V1"], "start": "2026-01-01", "end": "2026-06-30"}
    )
    assert inside.status_code == 200
    assert inside.json()["grid_leaders"] == 1
    assert APIClient().get("/api/v1/dashboard/summary/").status_code == 401
    nobody = api_client(User.objects.create(username="no-role"))
    assert nobody.get("/api/v1/dashboard/summary/").status_code == 404


@pytest.mark.parametrize(
    ("username", "region_name"),
    [
        ("county_admin", "谷城县"),
        ("township_admin", "城关镇"),
        ("village_secretary", "新华村"),
        ("grid_leader", "第一网格"),
        ("canteen_manager", None),  # no dashboard role: nothing at all
    ],
)
def test_each_demo_log_in_gets_its_own_region_and_nothing_outside(demo_county, username, region_name):
    client = api_client(User.objects.get(username=username))
    default = client.get("/api/v1/dashboard/summary/", {"year": "2022"})
    county_code = demo_county["谷城县"].code
    shihua = client.get(
        "/api/v1/dashboard/summary/", {"region": demo_county["民营社区"].code, "year": "2022"}
    )
    county = client.get("/api/v1/dashboard/summary/", {"region": county_code, "year": "2022"})
    if region_name is None:
        assert (default.status_code, shihua.status_code, county.status_code) == (404, 404, 404)
        return
    assert default.status_code == 200, default.content
    assert default.json()["region"] == {
        "id": demo_county[region_name].pk,
        "code": demo_county[region_name].code,
        "name": region_name,
        "level": demo_county[region_name].level,
    }
    assert shihua.status_code == (200 if username == "county_admin" else 404)
    assert county.status_code == (200 if username == "county_admin" else 404)

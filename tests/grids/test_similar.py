"""Duplicates and hotspots: similar open cases (same category, open, same grid or within the radius —
haversine in SQL after a bounding box), "me too" once per user or resident, and the recurring problems
(category × grid with the most cases in the last 90 days)."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.utils import timezone

from common.errors import Conflict, DomainError, NotFound
from governance.models import AuditEvent
from grids.models import Case, CaseEvent, CaseStatus, CaseSupporter
from grids.selectors.similar import EARTH_RADIUS_M, SIMILAR_LIMIT, recurring_problems, similar_open_cases
from grids.services.support import case_me_too
from tests.grids.factories import case_bring_to, case_make, grids_world_make

pytestmark = pytest.mark.django_db

# A point in 城关镇 and points due north of it at known distances.
ORIGIN = (32.262000, 111.640000)


def north_of(metres: float) -> tuple[Decimal, Decimal]:
    dlat = math.degrees(metres / EARTH_RADIUS_M)
    return Decimal(f"{ORIGIN[0] + dlat:.6f}"), Decimal(f"{ORIGIN[1]:.6f}")


def east_of(metres: float) -> tuple[Decimal, Decimal]:
    dlng = math.degrees(metres / (EARTH_RADIUS_M * math.cos(math.radians(ORIGIN[0]))))
    return Decimal(f"{ORIGIN[0]:.6f}"), Decimal(f"{ORIGIN[1] + dlng:.6f}")


def haversine(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


@pytest.fixture
def world(demo_county):
    return grids_world_make(demo_county)


def at(world, grid: str, point: tuple[Decimal, Decimal] | None, **kwargs) -> Case:
    reporter = {"第一网格": "grid_leader", "第二网格": "grid_leader_2"}.get(grid, "county_admin")
    latitude, longitude = point if point else (None, None)
    return case_make(world, reporter=reporter, grid=grid, latitude=latitude, longitude=longitude, **kwargs)


# --- similar_open_cases --------------------------------------------------------------------------------


def test_same_grid_same_category_open_cases_without_a_point(world):
    same = at(world, "第一网格", None)
    at(world, "第一网格", None, category="boundary", description="两户宅基地边界争执")
    closed = case_bring_to(world, at(world, "第一网格", None, description="已修好的路"), CaseStatus.CLOSED)
    resolved = case_bring_to(
        world, at(world, "第一网格", None, description="刚办结的路"), CaseStatus.RESOLVED
    )
    other_grid = at(world, "第二网格", None, description="第二网格的路")
    found = similar_open_cases(
        world.users["village_secretary"], world.categories["road"], world.regions["第一网格"]
    )
    assert [case.pk for case in found] == [same.pk]
    assert found[0].distance_m is None
    assert closed.pk not in [c.pk for c in found]
    assert resolved.pk not in [c.pk for c in found]
    assert other_grid.pk not in [c.pk for c in found]


def test_within_the_radius_in_another_grid_nearest_first_with_exact_distance(world):
    near = at(world, "第二网格", north_of(120), description="桥北120米")
    nearer = at(world, "第二网格", east_of(40), description="桥东40米")
    edge_in = at(world, "第二网格", north_of(295), description="桥北295米")
    edge_out = at(world, "第二网格", north_of(310), description="桥北310米")
    # Inside the bounding box's corner but outside the circle: the exact formula refuses it.
    corner = at(world, "第二网格", (north_of(250)[0], east_of(250)[1]), description="东北角")
    far = at(world, "第二网格", north_of(2000), description="两公里外")
    same_grid_far = at(world, "第一网格", north_of(5000), description="同网格但很远")
    found = similar_open_cases(
        world.users["village_secretary"],
        world.categories["road"].pk,
        world.regions["第一网格"].pk,
        latitude=ORIGIN[0],
        longitude=ORIGIN[1],
    )
    assert [c.pk for c in found] == [nearer.pk, near.pk, edge_in.pk, same_grid_far.pk]
    for case in found:
        expected = haversine(ORIGIN[0], ORIGIN[1], float(case.latitude), float(case.longitude))
        assert case.distance_m == pytest.approx(expected, abs=0.01)
    assert found[0].distance_m == pytest.approx(40, abs=0.2)
    ids = {c.pk for c in found}
    assert edge_out.pk not in ids
    assert corner.pk not in ids
    assert far.pk not in ids
    # A wider radius takes them in.
    wide = similar_open_cases(
        world.users["village_secretary"],
        world.categories["road"],
        world.regions["第一网格"],
        latitude=Decimal(str(ORIGIN[0])),
        longitude=Decimal(str(ORIGIN[1])),
        radius_m=400,
    )
    assert {edge_out.pk, corner.pk} <= {c.pk for c in wide}


def test_only_cases_the_user_may_see(world):
    mine = at(world, "第一网格", north_of(50), description="本网格的路")
    neighbours = at(world, "第二网格", north_of(60), description="第二网格的路")
    leader = world.users["grid_leader"]
    found = similar_open_cases(
        leader, world.categories["road"], world.regions["第一网格"], ORIGIN[0], ORIGIN[1]
    )
    assert [c.pk for c in found] == [mine.pk]
    secretary = similar_open_cases(
        world.users["village_secretary"],
        world.categories["road"],
        world.regions["第一网格"],
        ORIGIN[0],
        ORIGIN[1],
    )
    assert [c.pk for c in secretary] == [mine.pk, neighbours.pk]
    assert (
        similar_open_cases(world.users["nobody"], world.categories["road"], world.regions["第一网格"]) == []
    )


def test_at_most_five_most_supported_first_without_a_point(world):
    cases = [at(world, "第一网格", None, description=f"第{i}处路面坑洼") for i in range(7)]
    popular = cases[2]
    case_me_too(actor=world.users["village_secretary"], case=popular)
    found = similar_open_cases(
        world.users["grid_leader"], world.categories["road"], world.regions["第一网格"]
    )
    assert len(found) == SIMILAR_LIMIT == 5
    assert found[0].pk == popular.pk
    assert [c.pk for c in found[1:]] == [c.pk for c in reversed(cases) if c.pk != popular.pk][:4]


def test_similar_runs_in_two_queries(world, django_assert_num_queries):
    for i in range(3):
        at(world, "第一网格", north_of(10 * i), description=f"第{i}处")
    user = world.users["village_secretary"]
    with django_assert_num_queries(2):
        # The user's role assignments (their scope), then the cases: unit membership and mediator grants
        # are subqueries of that one query, whatever the number of cases.
        found = similar_open_cases(user, world.categories["road"], world.regions["第一网格"], *ORIGIN)
    assert len(found) == 3


# --- case_me_too ---------------------------------------------------------------------------------------


def test_me_too_counts_a_user_once(world):
    case = at(world, "第一网格", None)
    secretary = world.users["village_secretary"]
    first = case_me_too(actor=secretary, case=case)
    assert first.created is True
    assert first.case.me_too_count == 1
    again = case_me_too(actor=secretary, case=case.pk)
    assert again.created is False
    assert again.supporter.pk == first.supporter.pk
    case.refresh_from_db()
    assert case.me_too_count == 1
    events = CaseEvent.objects.filter(case=case, kind="me_too")
    assert events.count() == 1
    event = events.get()
    assert event.actor == secretary
    assert event.is_public
    assert event.note == "又有群众反映同一问题（共 1 人附议）"
    assert event.data == {"me_too_count": 1, "for_resident": False}
    audit = AuditEvent.objects.filter(object_type="grids.casesupporter").get()
    assert audit.changes == {"me_too_count": [0, 1]}
    assert audit.region_path == world.regions["第一网格"].path


def test_me_too_counts_each_resident_once(world):
    case = at(world, "第一网格", None, resident="王建国")
    leader_2 = world.users["village_secretary"]
    case_me_too(actor=leader_2, case=case, resident=world.people.residents["李德明"])
    case_me_too(actor=leader_2, case=case, resident=world.people.residents["李德明"].pk)
    # The same resident through another user is still the same person.
    repeat = case_me_too(
        actor=world.users["township_admin"], case=case, resident=world.people.residents["李德明"]
    )
    assert repeat.created is False
    case_me_too(actor=leader_2, case=case, resident=world.people.residents["李芳"])
    case_me_too(actor=leader_2, case=case)
    case.refresh_from_db()
    assert case.me_too_count == 3
    assert CaseSupporter.objects.filter(case=case).count() == 3
    assert CaseEvent.objects.filter(case=case, kind="me_too").count() == 3


def test_me_too_refusals(world):
    case = at(world, "第一网格", None, resident="王建国")
    leader = world.users["grid_leader"]
    with pytest.raises(DomainError) as own:
        case_me_too(actor=leader, case=case)
    assert own.value.code == "me_too_own_case"
    with pytest.raises(DomainError) as own_resident:
        case_me_too(actor=leader, case=case, resident=world.people.residents["王建国"])
    assert (own_resident.value.code, own_resident.value.field) == ("me_too_own_resident", "resident")
    with pytest.raises(DomainError) as outside:
        case_me_too(actor=leader, case=case, resident=world.people.residents["张伟"])
    assert outside.value.code == "me_too_resident_invalid"
    with pytest.raises(DomainError) as away:
        case_me_too(actor=leader, case=case, resident=world.people.residents["王小明"])
    assert away.value.code == "me_too_resident_invalid"
    with pytest.raises(NotFound):
        case_me_too(actor=world.users["minying_leader"], case=case)
    closed = case_bring_to(world, at(world, "第一网格", None, description="已归档的路"), CaseStatus.CLOSED)
    with pytest.raises(Conflict) as done:
        case_me_too(actor=world.users["village_secretary"], case=closed)
    assert done.value.code == "me_too_case_closed"
    assert done.value.status == 409
    case.refresh_from_db()
    closed.refresh_from_db()
    assert case.me_too_count == 0
    assert closed.me_too_count == 0
    assert not CaseSupporter.objects.exists()
    assert not CaseEvent.objects.filter(kind="me_too").exists()


def test_the_database_refuses_a_second_supporter_row(world):
    case = at(world, "第一网格", None)
    CaseSupporter.objects.create(case=case, user=world.users["village_secretary"])
    with pytest.raises(IntegrityError), transaction.atomic():
        CaseSupporter.objects.create(case=case, user=world.users["village_secretary"])
    resident = world.people.residents["李德明"]
    CaseSupporter.objects.create(case=case, user=world.users["village_secretary"], resident=resident)
    with pytest.raises(IntegrityError), transaction.atomic():
        CaseSupporter.objects.create(case=case, user=world.users["township_admin"], resident=resident)


# --- recurring problems --------------------------------------------------------------------------------


def test_recurring_problems_by_category_and_grid_in_the_last_90_days(world):
    now = timezone.now()
    with time_machine.travel(now - dt.timedelta(days=100), tick=False):
        at(world, "第一网格", None, category="boundary", description="很久以前的纠纷一")
        at(world, "第一网格", None, category="boundary", description="很久以前的纠纷二")
    with time_machine.travel(now - dt.timedelta(days=80), tick=False):
        old_road = at(world, "第一网格", None, description="八十天前的路")
    for text in ("路面塌陷", "路灯不亮的路段积水"):
        at(world, "第一网格", None, description=text)
    closed = case_bring_to(world, at(world, "第一网格", None, description="修好的路"), CaseStatus.CLOSED)
    at(world, "第一网格", None, category="boundary", description="新的宅基地纠纷")
    at(world, "第二网格", None, description="第二网格一处路")
    at(world, "第二网格", None, category="boundary", description="第二网格纠纷一")
    at(world, "第二网格", None, category="boundary", description="第二网格纠纷二")
    case_me_too(actor=world.users["township_admin"], case=old_road)

    rows = recurring_problems(world.users["village_secretary"])
    assert [(r.category_name, r.grid_name, r.case_count, r.open_count, r.me_too_count) for r in rows] == [
        ("道路损坏", "第一网格", 4, 3, 1),
        ("宅基地边界纠纷", "第二网格", 2, 2, 0),
    ]
    assert rows[0].village_name == "新华村"
    assert rows[0].latest_at == Case.objects.get(pk=closed.pk).filed_at
    # The grid leader of 第二网格 sees only their grid.
    assert [(r.grid_name, r.case_count) for r in recurring_problems(world.users["grid_leader_2"])] == [
        ("第二网格", 2)
    ]
    assert recurring_problems(world.users["nobody"]) == []
    # A longer window counts the old disputes; a region narrows.
    longer = recurring_problems(world.users["village_secretary"], days=120, region=world.regions["第一网格"])
    assert [(r.category_name, r.case_count) for r in longer] == [("道路损坏", 4), ("宅基地边界纠纷", 3)]


def test_recurring_problems_is_one_query(world, django_assert_num_queries):
    for _ in range(3):
        at(world, "第一网格", None)
    user = world.users["village_secretary"]
    with django_assert_num_queries(2):
        rows = recurring_problems(user)
    assert rows[0].case_count == 3

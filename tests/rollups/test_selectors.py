"""The dashboard's reads of the facts: exact values at every level, history kept where it happened when
a grid is re-zoned, distinct counts never summed, a balance read as its running value, scope and a
constant number of queries."""

from __future__ import annotations

import datetime as dt

import pytest

from common.errors import DomainError, NotFound
from governance.models import RoleAssignment, User
from governance.roles import Role
from governance.rollups import engine, selectors
from tests.rollups import factories as f

pytestmark = pytest.mark.django_db

YEAR = (dt.date(2026, 1, 1), dt.date(2026, 12, 31))


@pytest.fixture
def world() -> f.World:
    w = f.world_make()
    r0 = w.residents[0]  # lives in G1; eats in V1, learns in V2, eats in V3
    f.case_write(w, grid="G2", at=f.at_of(10, 9))  # G2 still in V1 / T1
    f.case_write(w, grid="G2", at=f.at_of(100, 9))  # G2 now in V3 / T2
    f.case_write(w, grid="G1", at=f.at_of(100, 5))  # 05:30 local: 21:30 UTC the day before
    f.meal_write(w, site=0, resident=r0, day=dt.date(2026, 1, 20), slot="lunch")
    f.attendance_write(w, day=dt.date(2026, 2, 14), residents=[r0, w.residents[1]])
    f.meal_write(w, site=1, resident=r0, day=dt.date(2026, 3, 3), slot="lunch")
    household = w.households[0]
    f.posting_write(w, household=household, kind="award", amount=50, at=f.at_of(4, 10))
    f.posting_write(w, household=household, kind="redemption", amount=20, at=f.at_of(33, 10))
    engine.incremental_pass()
    return w


def user_with(role: Role, region) -> User:
    user = User.objects.create(username=f"{role}-{region.pk}")
    RoleAssignment.objects.create(user=user, role=role, region=region)
    return user


def test_cases_stay_where_they_were_filed_when_the_grid_moves(world):
    admin = user_with(Role.COUNTY_ADMIN, world.county)
    by_township = selectors.metric_by_child(
        user=admin, metric="grids.cases_filed", region=world.county, start=YEAR[0], end=YEAR[1]
    )
    assert [(c.name, c.value) for c in by_township] == [("一镇", 2), ("二镇", 1)]
    by_grid = selectors.metric_by_child(
        user=admin, metric="grids.cases_filed", region=world.villages["V1"], start=YEAR[0], end=YEAR[1]
    )
    # G2 now lies under V3, but its January case is V1's: it is listed under V1 with it.
    assert sorted((c.name, c.value) for c in by_grid) == [("第一网格", 1), ("第二网格", 1)]
    v3 = selectors.metric_total(
        user=admin, metric="grids.cases_filed", region=world.villages["V3"], start=YEAR[0], end=YEAR[1]
    )
    assert v3.value == 1
    days = selectors.metric_series(
        user=admin,
        metric="grids.cases_filed",
        region=world.county,
        start=dt.date(2026, 4, 11),
        end=dt.date(2026, 4, 12),
        by="day",
    )
    # Day 100 is 11 April in Asia/Shanghai, though the 05:30 case was still 10 April in UTC.
    assert [(p.period, p.value) for p in days] == [(dt.date(2026, 4, 11), 2), (dt.date(2026, 4, 12), 0)]


def test_a_person_served_in_two_villages_counts_once_above_them(world):
    admin = user_with(Role.COUNTY_ADMIN, world.county)
    args = {"user": admin, "metric": "canteens.beneficiaries", "start": YEAR[0], "end": YEAR[1]}
    assert selectors.metric_total(region=world.county, **args).value == 2
    assert selectors.metric_total(region=world.townships["T1"], **args).value == 2
    assert selectors.metric_total(region=world.townships["T2"], **args).value == 1
    by_village = selectors.metric_by_child(region=world.townships["T1"], **args)
    assert [(c.name, c.value) for c in by_village] == [("甲村", 1), ("乙村", 2)]
    quarter = selectors.metric_total(
        region=world.county,
        user=admin,
        metric="canteens.beneficiaries",
        start=dt.date(2026, 1, 15),  # widened to whole months
        end=dt.date(2026, 3, 1),
    )
    assert quarter.value == 2
    months = selectors.metric_series(
        region=world.county,
        user=admin,
        metric="canteens.beneficiaries",
        start=YEAR[0],
        end=dt.date(2026, 4, 30),
    )
    assert [p.value for p in months] == [1, 2, 1, 0]
    with pytest.raises(DomainError):
        selectors.metric_series(region=world.county, by="day", **args)


def test_balance_is_the_running_value_at_the_period_end(world):
    admin = user_with(Role.COUNTY_ADMIN, world.county)
    args = {"user": admin, "metric": "points.balance", "region": world.grids["G1"]}
    series = selectors.metric_series(start=YEAR[0], end=dt.date(2026, 3, 31), **args)
    assert [(p.period.month, p.value) for p in series] == [(1, 50), (2, 30), (3, 30)]
    assert selectors.metric_total(start=dt.date(2026, 1, 1), end=dt.date(2026, 1, 31), **args).value == 50
    assert selectors.metric_total(start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31), **args).value == 30
    march = selectors.metric_series(start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 2), by="day", **args)
    assert [p.value for p in march] == [30, 30]
    issued = selectors.metric_total(
        user=admin, metric="points.issued", region=world.county, start=YEAR[0], end=YEAR[1]
    )
    redeemed = selectors.metric_total(
        user=admin, metric="points.redeemed", region=world.county, start=YEAR[0], end=YEAR[1]
    )
    assert (issued.value, redeemed.value) == (50, 20)


def test_scope_out_of_reach_is_not_found_and_unknown_metric_refused(world):
    township_admin = user_with(Role.TOWNSHIP_ADMIN, world.townships["T1"])
    args = {"user": township_admin, "metric": "grids.cases_filed", "start": YEAR[0], "end": YEAR[1]}
    assert selectors.metric_total(region=world.townships["T1"], **args).value == 2
    with pytest.raises(NotFound):
        selectors.metric_total(region=world.townships["T2"], **args)
    with pytest.raises(NotFound):
        selectors.metric_total(region=world.county, **args)
    with pytest.raises(NotFound):
        selectors.metric_total(region=world.county.pk + 10_000, **args)
    outsider = User.objects.create(username="nobody")
    with pytest.raises(NotFound):
        selectors.metric_total(region=world.grids["G1"], **{**args, "user": outsider})
    canteen_manager = user_with(Role.CANTEEN_MANAGER, world.villages["V1"])
    with pytest.raises(NotFound):
        selectors.metric_total(region=world.villages["V1"], **{**args, "user": canteen_manager})
    with pytest.raises(DomainError) as unknown:
        selectors.metric_total(region=world.townships["T1"], **{**args, "metric": "grids.nothing"})
    assert unknown.value.code == "metric_unknown"


def test_reads_are_a_constant_number_of_queries(world, django_assert_num_queries):
    admin = user_with(Role.COUNTY_ADMIN, world.county)
    args = {"user": admin, "metric": "grids.cases_filed", "start": YEAR[0], "end": YEAR[1]}
    with django_assert_num_queries(2):
        selectors.metric_total(region=world.county, **args)
    with django_assert_num_queries(3):
        selectors.metric_total(region=world.county.pk, **args)
    with django_assert_num_queries(2):
        selectors.metric_series(region=world.county, **args)
    with django_assert_num_queries(3):
        selectors.metric_by_child(region=world.county, **args)

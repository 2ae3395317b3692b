"""The assessment's per-(grid, month) counters (migration grids 0005, grids.assessment_counters): kept
equal to a direct GROUP BY of the cases by the triggers after every kind of change — each workflow
transition, re-handling, follow-up, re-assignment, re-zoning a case, re-dating it, bulk inserts, deletes,
TRUNCATE — and read by the assessment so that every range (whole months, partial edge months, one day)
gives exactly what counting the cases gives, in the same number of queries.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.db import connection
from django.utils import timezone

from governance.models import User
from grids import assessment_counters as counters
from grids.models import Case, CaseStatus, HandlingLevel, Satisfaction
from grids.selectors import assessment as selectors
from grids.selectors.assessment import AssessmentFilters, Tally, _periods, _plan, assessment_report
from tests.grids.factories import PATHS, GridsWorld, case_make, case_step, grids_world_make

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(dt.datetime(2026, 1, 10, 12, 0))
GRIDS = ("第一网格", "第二网格", "东街第一网格", "民营第一网格")
_numbers = itertools.count(1)


@pytest.fixture
def world(demo_county) -> GridsWorld:
    return grids_world_make(demo_county)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def row(world: GridsWorld, grid: str, filed: dt.datetime, **flags) -> Case:
    """A case row written directly with the flags given (as tests/grids/test_assessment.py does)."""
    grid_row = world.regions[grid]
    number = next(_numbers)
    return Case(
        number=f"TC{number:06d}",
        category=world.categories[flags.pop("category", "road")],
        description="测试用诉求",
        grid=grid_row,
        reporter=world.users["county_admin"],
        idempotency_key=f"counters-{number}",
        level=HandlingLevel.VILLAGE,
        handling_region=grid_row.parent,
        filed_at=filed,
        **flags,
    )


def tallies(tally: Tally) -> tuple[int, ...]:
    return (
        tally.filed,
        tally.signed,
        tally.signed_on_time,
        tally.resolved,
        tally.resolved_on_time,
        tally.followed_up,
        tally.satisfied,
        tally.rehandle_base,
        tally.rehandled,
        tally.overdue,
    )


def everything(world: GridsWorld, monkeypatch, live: bool, **kwargs) -> list:
    """Every number the county's report shows (rows, total, heat cells of every grid), counted from the
    counters or (`live`) from the cases."""
    now = kwargs.pop("now", NOW)
    monkeypatch.setattr(selectors, "USE_COUNTERS", not live)
    result = assessment_report(
        user=world.users["county_admin"], filters=AssessmentFilters(heat_grain="grid", **kwargs), now=now
    )
    monkeypatch.setattr(selectors, "USE_COUNTERS", True)
    cells = [
        (cell.region_id, tallies(cell.tally), cell.step) for block in result.heat for cell in block.cells
    ]
    return [tallies(result.total), [(r.region_id, tallies(r.tally)) for r in result.rows], cells]


def counter_rows(table: str = counters.MONTHS) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT grid_id, period, {', '.join(counters.COUNTS)} FROM {table}"  # noqa: S608
            " WHERE filed <> 0 ORDER BY 1, 2"
        )
        return cursor.fetchall()


def mixed(world: GridsWorld) -> None:
    """Cases over 2025 in four grids with every combination of flags, some at month edges (00:00 and
    23:59 local time on the first and last days), some open past their deadline."""
    S = Satisfaction
    cases = []
    for index in range(96):
        month = 1 + index // 4 % 12
        day = dt.date(2025, month, 1) if index % 3 else dt.date(2025, month, 28)
        if index % 8 == 0:
            filed = at(day, 0)
        elif index % 8 == 1:
            filed = timezone.make_aware(dt.datetime.combine(day, dt.time(23, 59, 59)))
        else:
            filed = at(day + dt.timedelta(days=index % 3))
        resolved = index % 2 == 1
        status = CaseStatus.CLOSED if resolved else [CaseStatus.SIGNED, CaseStatus.REOPENED][index % 4 // 2]
        cases.append(
            row(
                world,
                GRIDS[index % 4],
                filed,
                status=status,
                signed_on_time=[None, True, False][index % 3],
                resolved_on_time=[None, True, False][index % 3] if resolved else None,
                resolved_at=filed + dt.timedelta(days=2) if resolved else None,
                satisfaction=[S.SATISFIED, S.BASICALLY, S.UNSATISFIED, ""][index % 4] if resolved else "",
                rehandle_count=index % 5 == 0,
                resolve_deadline=filed + dt.timedelta(days=5 + index % 40 * 10),
            )
        )
    Case.objects.bulk_create(cases)


# ---------------------------------------------------------------------------------------------------------
# The counters equal the cases


def test_a_case_counts_in_its_grid_and_local_month(world):
    S = Satisfaction
    Case.objects.bulk_create(
        [
            # 2025-01-31 23:30 in Asia/Shanghai is 15:30 UTC: January's.
            row(
                world,
                "第一网格",
                timezone.make_aware(dt.datetime(2025, 1, 31, 23, 30)),
                status=CaseStatus.CLOSED,
                signed_on_time=True,
                resolved_on_time=False,
                resolved_at=at(dt.date(2025, 2, 9)),
                satisfaction=S.BASICALLY,
                rehandle_count=2,
            ),
            # 2025-02-01 00:00 local is still January 31st in UTC: February's.
            row(
                world, "第一网格", at(dt.date(2025, 2, 1), 0), status=CaseStatus.SIGNED, signed_on_time=False
            ),
            row(
                world,
                "第一网格",
                at(dt.date(2025, 1, 3)),
                status=CaseStatus.FOLLOWED_UP,
                signed_on_time=True,
                resolved_on_time=True,
                resolved_at=at(dt.date(2025, 1, 6)),
                satisfaction=S.UNSATISFIED,
            ),
        ]
    )
    grid = world.regions["第一网格"].pk
    # filed, signed, signed_on_time, resolved, resolved_on_time, followed_up, satisfied, rehandle_base,
    # rehandled, resolved_late
    assert counter_rows() == [
        (grid, dt.date(2025, 1, 1), 2, 2, 2, 2, 1, 2, 1, 2, 1, 1),
        (grid, dt.date(2025, 2, 1), 1, 1, 0, 0, 0, 0, 0, 0, 0, 0),
    ]
    assert counter_rows(counters.YEARS) == [(grid, dt.date(2025, 1, 1), 3, 3, 2, 2, 1, 2, 1, 2, 1, 1)]
    assert counters.counters_verify() == []


def test_the_migration_counted_the_cases_and_bulk_inserts_are_counted(world):
    assert counters.counters_verify() == []
    mixed(world)  # one bulk INSERT of 96 rows: one statement trigger
    assert counters.counters_verify() == []
    months = {
        (case.grid_id, timezone.localtime(case.filed_at).date().replace(day=1)) for case in Case.objects.all()
    }
    assert [(r[0], r[1]) for r in counter_rows()] == sorted(months)
    assert sum(r[2] for r in counter_rows()) == 96
    assert [(r[0], r[1], r[2]) for r in counter_rows(counters.YEARS)] == [
        (world.regions[grid].pk, dt.date(2025, 1, 1), 24)
        for grid in sorted(GRIDS, key=lambda g: world.regions[g].pk)
    ]


def test_the_demo_seed_bulk_load_is_counted(monkeypatch):
    # The demo writes its cases with COPY in batches (grids/demo.py), then updates some of them.
    from governance.demo import seed_demo_county

    seed_demo_county(password="xiangzhi-demo", scale="test")
    filed = Case.objects.count()
    assert filed > 0
    assert counters.counters_verify() == []
    admin = User.objects.get(username="county_admin")
    now = timezone.now()
    today = timezone.localdate(now)
    for date_from in (
        today - dt.timedelta(days=365),
        today.replace(month=1, day=1),
        today - dt.timedelta(days=40),
    ):
        results = []
        for live in (True, False):
            monkeypatch.setattr(selectors, "USE_COUNTERS", not live)
            report = assessment_report(
                user=admin,
                filters=AssessmentFilters(date_from=date_from, date_to=today, heat_grain="grid"),
                now=now,
            )
            cells = [(c.region_id, tallies(c.tally), c.step) for block in report.heat for c in block.cells]
            results.append(
                (tallies(report.total), [(r.region_id, tallies(r.tally)) for r in report.rows], cells)
            )
        assert results[0] == results[1]
    assert results[0][0][0] == Case.objects.filter(filed_at__gte=at(today - dt.timedelta(days=40), 0)).count()


@pytest.mark.parametrize("status", list(PATHS))
def test_each_transition_keeps_the_counters_exact(world, status):
    case = case_make(world)
    assert counters.counters_verify() == []
    for step in PATHS[status]:
        case_step(world, case, step)
        assert counters.counters_verify() == [], step
    case.refresh_from_db()
    assert case.status == status


def test_re_handling_re_assigning_and_resolving_late_keep_the_counters_exact(world, monkeypatch):
    case = case_make(world)
    for step in PATHS[CaseStatus.REOPENED]:
        case_step(world, case, step)
    # Sent back: re-handled once; the next round's assignment clears the on-time flags.
    for step in ("assign", "sign_for", "start"):
        case_step(world, case, step)
        assert counters.counters_verify() == [], step
    Case.objects.filter(pk=case.pk).update(resolve_deadline=timezone.now() - dt.timedelta(hours=1))
    assert counters.counters_verify() == []
    for step in ("resolve", "follow_up", "archive"):
        case_step(world, case, step)
        assert counters.counters_verify() == [], step
    case.refresh_from_db()
    assert (case.resolved_on_time, case.rehandle_count, case.satisfaction) == (
        False,
        1,
        Satisfaction.SATISFIED,
    )
    today = timezone.localdate()
    live = everything(world, monkeypatch, True, date_from=today, date_to=today, now=timezone.now())
    assert everything(world, monkeypatch, False, date_from=today, date_to=today, now=timezone.now()) == live
    assert live[0] == (1, 1, 1, 1, 0, 1, 1, 1, 1, 1)


def test_re_zoning_re_dating_and_deleting_a_case_move_its_counts(world):
    mixed(world)
    first, second = world.regions["第一网格"], world.regions["第二网格"]
    moved = Case.objects.filter(grid=first).order_by("filed_at").first()
    assert moved is not None
    # Re-zoned to another grid, then re-dated into another month, then deleted (no timeline: rows).
    Case.objects.filter(pk=moved.pk).update(grid=second)
    assert counters.counters_verify() == []
    Case.objects.filter(pk=moved.pk).update(filed_at=at(dt.date(2024, 12, 31), 23))
    assert counters.counters_verify() == []
    Case.objects.filter(grid=second, filed_at__month=3).delete()
    assert counters.counters_verify() == []
    # Every flag of many rows at once (one UPDATE, a row trigger per changed row).
    Case.objects.filter(grid=first).update(satisfaction="", rehandle_count=0, resolved_on_time=None)
    assert counters.counters_verify() == []


def test_an_update_of_other_columns_does_not_touch_the_counters(world):
    mixed(world)
    # A row's xmin is the transaction that last wrote it: the same for every row written in this test.
    versions = f"SELECT count(*) FROM {counters.MONTHS} WHERE xmin = pg_current_xact_id()::xid"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(versions)
        assert cursor.fetchone() == (48,)
        cursor.execute(f"UPDATE {counters.MONTHS} SET filed = filed")  # noqa: S608
        cursor.execute(f"SELECT ctid FROM {counters.MONTHS} ORDER BY grid_id, period")  # noqa: S608
        before = cursor.fetchall()
        Case.objects.update(warning="yellow", description="改过的说明", status=CaseStatus.CLOSED)
        cursor.execute(f"SELECT ctid FROM {counters.MONTHS} ORDER BY grid_id, period")  # noqa: S608
        assert cursor.fetchall() == before  # no row rewritten


def test_truncate_empties_and_rebuild_restores_the_counters(world):
    mixed(world)
    rows, years = counter_rows(), counter_rows(counters.YEARS)
    assert (len(rows), len(years)) == (48, 4)  # 4 grids x 12 months, 4 grids x 1 year
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {counters.MONTHS}")  # noqa: S608
        cursor.execute(f"UPDATE {counters.YEARS} SET filed = filed + 1")  # noqa: S608
    assert len(counters.counters_verify()) == 48 + 4
    assert counters.counters_rebuild() == 48 + 4
    assert counters.counters_verify() == []
    assert (counter_rows(), counter_rows(counters.YEARS)) == (rows, years)
    with connection.cursor() as cursor:
        # The test's transaction has deferred foreign-key checks pending; TRUNCATE wants none.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE grids_case CASCADE")
        left = f"SELECT (SELECT count(*) FROM {counters.MONTHS}), (SELECT count(*) FROM {counters.YEARS})"  # noqa: S608
        cursor.execute(left)
        assert cursor.fetchone() == (0, 0)


# ---------------------------------------------------------------------------------------------------------
# The assessment reads them: same answers as counting the cases


@pytest.mark.parametrize(
    ("date_from", "date_to"),
    [
        (dt.date(2025, 1, 1), dt.date(2025, 12, 31)),  # whole months only
        (dt.date(2025, 1, 2), dt.date(2025, 12, 30)),  # both edges: counters minus a day
        (dt.date(2025, 1, 28), dt.date(2025, 3, 1)),  # both edges: a few days added
        (dt.date(2025, 3, 1), dt.date(2025, 3, 1)),  # one day
        (dt.date(2025, 3, 2), dt.date(2025, 3, 30)),  # inside one month, both ends subtracted
        (dt.date(2025, 2, 15), dt.date(2025, 2, 28)),  # half of February: added
        (dt.date(2025, 2, 14), dt.date(2025, 2, 28)),  # more than half: counters minus the start
        (dt.date(2024, 12, 31), dt.date(2025, 1, 31)),  # across the year
        (dt.date(2025, 6, 1), dt.date(2026, 1, 10)),  # up to "today": this month's counters minus none
    ],
)
def test_every_range_gives_what_counting_the_cases_gives(world, monkeypatch, date_from, date_to):
    mixed(world)
    for now in (NOW, at(dt.date(2025, 6, 15))):
        live = everything(world, monkeypatch, True, date_from=date_from, date_to=date_to, now=now)
        assert everything(world, monkeypatch, False, date_from=date_from, date_to=date_to, now=now) == live
    assert (
        live[0][0]
        == Case.objects.filter(
            filed_at__gte=at(date_from, 0), filed_at__lt=at(date_to + dt.timedelta(days=1), 0)
        ).count()
    )


def test_overdue_counts_open_cases_past_their_deadline_once(world, monkeypatch):
    filed = at(dt.date(2025, 5, 10))
    deadline = filed + dt.timedelta(days=5)
    Case.objects.bulk_create(
        [
            # open, past the deadline on 2025-06-01: overdue (live)
            row(
                world,
                "第一网格",
                filed,
                status=CaseStatus.SIGNED,
                signed_on_time=True,
                resolve_deadline=deadline,
            ),
            # resolved late, then sent back and open again past the deadline: overdue once
            row(
                world,
                "第一网格",
                filed,
                status=CaseStatus.REOPENED,
                resolved_on_time=False,
                rehandle_count=1,
                resolve_deadline=deadline,
            ),
            # resolved late and closed: overdue (counters)
            row(
                world,
                "第一网格",
                filed,
                status=CaseStatus.CLOSED,
                resolved_on_time=False,
                resolved_at=filed + dt.timedelta(days=9),
                resolve_deadline=deadline,
            ),
            # open, deadline not yet passed on 2025-05-12: not overdue then
            row(world, "第二网格", filed, status=CaseStatus.ASSIGNED, resolve_deadline=deadline),
        ]
    )
    year = {"date_from": dt.date(2025, 1, 1), "date_to": dt.date(2025, 12, 31)}
    for now, overdue in ((at(dt.date(2025, 6, 1)), 4), (at(dt.date(2025, 5, 12)), 2)):
        live = everything(world, monkeypatch, True, now=now, **year)
        assert everything(world, monkeypatch, False, now=now, **year) == live
        assert live[0][-1] == overdue


def test_a_category_filter_counts_the_cases(world, monkeypatch):
    mixed(world)
    road = world.categories["road"]
    year = {"date_from": dt.date(2025, 1, 1), "date_to": dt.date(2025, 12, 31), "category": road}
    assert everything(world, monkeypatch, False, **year) == everything(world, monkeypatch, True, **year)


@pytest.mark.parametrize("per_grid", [1, 30])
@pytest.mark.parametrize(
    ("date_from", "date_to"),
    [(dt.date(2025, 1, 1), dt.date(2025, 12, 31)), (dt.date(2025, 1, 20), dt.date(2025, 11, 5))],
)
def test_the_report_reads_the_counters_in_one_query(
    world, django_assert_num_queries, per_grid, date_from, date_to
):
    Case.objects.bulk_create(
        [
            row(world, grid, at(dt.date(2025, 1 + index % 12, 1 + index % 28)), signed_on_time=True)
            for grid in GRIDS
            for index in range(per_grid)
        ]
    )
    filters = AssessmentFilters(date_from=date_from, date_to=date_to)
    assessment_report(user=world.users["county_admin"], filters=filters, now=NOW)  # prepares the roles' query
    # Roles, the region shown, the regions under it, the counts: four for the county (no grid rows).
    with django_assert_num_queries(4):
        result = assessment_report(user=world.users["county_admin"], filters=filters, now=NOW)
    expected = Case.objects.filter(
        filed_at__gte=at(date_from, 0), filed_at__lt=at(date_to + dt.timedelta(days=1), 0)
    ).count()
    assert (result.total.filed, result.total.signed_on_time) == (expected, expected)


# ---------------------------------------------------------------------------------------------------------
# The plan of a range


@pytest.mark.parametrize(
    ("date_from", "date_to", "months", "add", "subtract"),
    [
        ("2025-01-01", "2025-12-31", ("2025-01-01", "2025-12-01"), [], []),
        ("2025-01-01", "2025-11-29", ("2025-01-01", "2025-11-01"), [], [("2025-11-30", "2025-12-01")]),
        (
            "2025-01-20",
            "2025-03-05",
            ("2025-02-01", "2025-02-01"),
            [("2025-01-20", "2025-02-01"), ("2025-03-01", "2025-03-06")],
            [],
        ),
        ("2025-01-10", "2025-03-31", ("2025-01-01", "2025-03-01"), [], [("2025-01-01", "2025-01-10")]),
        (
            "2025-03-02",
            "2025-03-30",
            ("2025-03-01", "2025-03-01"),
            [],
            [("2025-03-01", "2025-03-02"), ("2025-03-31", "2025-04-01")],
        ),
        ("2025-02-15", "2025-02-28", None, [("2025-02-15", "2025-03-01")], []),
        ("2025-12-31", "2025-12-31", None, [("2025-12-31", "2026-01-01")], []),
    ],
)
def test_a_range_is_whole_months_plus_or_minus_edge_days(date_from, date_to, months, add, subtract):
    d = dt.date.fromisoformat
    plan = _plan(d(date_from), d(date_to))
    assert plan.months == (tuple(d(m) for m in months) if months else None)
    assert plan.add == tuple((d(a), d(b)) for a, b in add)
    assert plan.subtract == tuple((d(a), d(b)) for a, b in subtract)


@pytest.mark.parametrize(
    ("first", "last", "years", "months", "outside"),
    [
        ("2025-01-01", "2025-12-01", ["2025-01-01"], [], []),
        ("2025-01-01", "2025-11-01", ["2025-01-01"], [], ["2025-12-01"]),
        (
            "2025-03-01",
            "2025-10-01",
            ["2025-01-01"],
            [],
            ["2025-01-01", "2025-02-01", "2025-11-01", "2025-12-01"],
        ),
        (
            "2025-02-01",
            "2025-07-01",
            [],
            ["2025-02-01", "2025-03-01", "2025-04-01", "2025-05-01", "2025-06-01", "2025-07-01"],
            [],
        ),
        ("2024-12-01", "2025-02-01", [], ["2024-12-01", "2025-01-01", "2025-02-01"], []),
        (
            "2023-11-01",
            "2025-08-01",
            ["2024-01-01", "2025-01-01"],
            ["2023-11-01", "2023-12-01"],
            ["2025-09-01", "2025-10-01", "2025-11-01", "2025-12-01"],
        ),
    ],
)
def test_whole_months_read_a_year_row_when_it_is_mostly_inside(first, last, years, months, outside):
    d = dt.date.fromisoformat
    assert _periods((d(first), d(last))) == (
        [d(y) for y in years],
        [d(m) for m in months],
        [d(m) for m in outside],
    )
    assert _periods(None) == ([], [], [])


def test_days_of_another_time_zone_count_the_cases(world, monkeypatch):
    # 2025-02-01 00:00 in Asia/Shanghai is January 31st in UTC: the counters' February is not UTC's.
    Case.objects.bulk_create([row(world, "第一网格", at(dt.date(2025, 2, 1), 0))])
    february = {"date_from": dt.date(2025, 2, 1), "date_to": dt.date(2025, 2, 28)}
    assert counters.counters_available()
    assert everything(world, monkeypatch, False, **february)[0][0] == 1
    with timezone.override("UTC"):
        assert not counters.counters_available()
        assert everything(world, monkeypatch, False, **february)[0][0] == 0

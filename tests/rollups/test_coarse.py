"""The coarser facts (governance/rollups/coarse.py): the facts summed per village and day and per village
and month follow every write of the facts (insert, update of a value or of a key, delete, truncate) in
the writer's own statement, are rebuilt with the facts by a rebuild into empty tables (which keeps the
triggers), are checked by --verify, and read back as the facts do for any period."""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict

import pytest
from django.core.management import call_command
from django.db import connection

from governance.models import MemberYear, MetricFact, MetricMember, VillageDayFact, VillageMonthFact
from governance.rollups import coarse, engine
from governance.rollups.sql import FACTS, MEMBERS
from tests.rollups import factories as f
from tests.rollups.test_idempotency import history

pytestmark = pytest.mark.django_db

CoarseKey = tuple[str, dt.date, int, int, int]


def summed_from_facts() -> tuple[dict[CoarseKey, int], dict[CoarseKey, int]]:
    """The stored facts summed per village and day, and per village and month, in Python."""
    days: dict[CoarseKey, int] = defaultdict(int)
    months: dict[CoarseKey, int] = defaultdict(int)
    for fact in MetricFact.objects.all():
        where = (fact.county_id, fact.township_id, fact.village_id)
        days[(fact.metric, fact.day, *where)] += fact.value
        months[(fact.metric, fact.day.replace(day=1), *where)] += fact.value
    return {k: v for k, v in days.items() if v}, {k: v for k, v in months.items() if v}


def stored_coarse() -> tuple[dict[CoarseKey, int], dict[CoarseKey, int]]:
    """The coarse tables as stored (a 0 left by deleted facts is no row)."""
    days = {
        (r.metric, r.day, r.county_id, r.township_id, r.village_id): r.value
        for r in VillageDayFact.objects.all()
        if r.value
    }
    months = {
        (r.metric, r.month, r.county_id, r.township_id, r.village_id): r.value
        for r in VillageMonthFact.objects.all()
        if r.value
    }
    return days, months


YearKey = tuple[str, int, int, int, int, int]


def years_from_members() -> dict[YearKey, int]:
    """The members per year at the county and township levels, with the month rows behind
    each (MemberYear's support), in Python."""
    years: dict[YearKey, int] = defaultdict(int)
    for m in MetricMember.objects.all():
        for level, region, parent in ((1, m.county_id, 0), (2, m.township_id, m.county_id)):
            years[(m.metric, m.month.year, level, region, parent, m.member_id)] += 1
    return dict(years)


def stored_years() -> dict[YearKey, int]:
    return {
        (r.metric, r.year, r.level, r.region_id, r.parent_id, r.member_id): r.support
        for r in MemberYear.objects.all()
    }


def triggers(table: str = FACTS) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal ORDER BY 1",
            [table],
        )
        return [name for (name,) in cursor.fetchall()]


def test_the_coarse_facts_follow_every_write_of_the_facts():
    w = f.world_make()
    history(w)
    engine.incremental_pass()
    days, months = summed_from_facts()
    # Something in several villages and months, or the comparison proves little.
    assert len({k[4] for k in days}) >= 3
    assert len({k[1] for k in months}) >= 3
    assert stored_coarse() == (days, months)
    v1, v3 = w.villages["V1"].pk, w.villages["V3"].pk
    t2 = w.townships["T2"].pk
    with connection.cursor() as cursor:
        # A value changed, a fact moved to another village and month (its key updated), facts deleted,
        # a new one inserted: the triggers add each statement's difference.
        cursor.execute(f"UPDATE {FACTS} SET value = value * 3 WHERE metric = 'points.issued'")  # noqa: S608
        assert cursor.rowcount > 0
        cursor.execute(
            f"UPDATE {FACTS} SET village_id = %s, township_id = %s, day = day + 40 "  # noqa: S608
            "WHERE metric = 'grids.cases_filed'",
            [v3, t2],
        )
        assert cursor.rowcount == 1
        cursor.execute(f"DELETE FROM {FACTS} WHERE metric = 'industry.sales_fen'")  # noqa: S608
        assert cursor.rowcount == 1
        cursor.execute(
            f"INSERT INTO {FACTS} (metric, day, county_id, township_id, village_id, grid_id, value) "  # noqa: S608
            "VALUES ('canteens.meals', '2026-07-09', %s, %s, %s, 0, 4)",
            [w.county.pk, w.townships["T1"].pk, v1],
        )
    assert stored_coarse() == summed_from_facts()
    assert ("industry.sales_fen", dt.date(2026, 4, 1)) not in {k[:2] for k in stored_coarse()[1]}
    assert (
        stored_coarse()[1][("canteens.meals", dt.date(2026, 7, 1), w.county.pk, w.townships["T1"].pk, v1)]
        == 4
    )
    # Verify sees the facts differ from their sources, never the coarse tables from the facts.
    found = engine.verify()
    assert found.differences
    assert not [d for d in found.differences if d.grain]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {FACTS}")
    assert (VillageDayFact.objects.count(), VillageMonthFact.objects.count()) == (0, 0)


def test_a_rebuild_into_empty_facts_builds_them_and_keeps_the_triggers():
    w = f.world_make()
    history(w)
    engine.incremental_pass()
    expected = stored_coarse()
    expected_years = stored_years()
    assert expected_years == years_from_members()
    names = triggers()
    assert names == [
        "rollup_coarse_clear",
        "rollup_coarse_delete",
        "rollup_coarse_insert",
        "rollup_coarse_update",
    ]
    member_names = triggers(MEMBERS)
    assert member_names == [
        "rollup_member_year_clear",
        "rollup_member_year_delete",
        "rollup_member_year_insert",
        "rollup_member_year_update",
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {FACTS}, {MEMBERS}")
        cursor.execute("SELECT %s::regclass::oid", [FACTS])
        before = cursor.fetchone()
    engine.full_rebuild(progress=False)
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::regclass::oid", [FACTS])
        assert cursor.fetchone() != before  # swapped in
    assert stored_coarse() == expected
    assert stored_years() == expected_years
    assert triggers() == names
    assert triggers(MEMBERS) == member_names
    # The triggers work on the swapped-in table: a later pass keeps the coarse facts exact.
    history(w, shift=30)
    engine.incremental_pass()
    assert stored_coarse() == summed_from_facts()
    assert stored_coarse() != expected
    assert stored_years() == years_from_members()
    assert stored_years() != expected_years
    assert engine.verify().is_exact


def test_verify_names_a_coarse_fact_that_differs_from_the_facts():
    w = f.world_make()
    history(w)
    engine.incremental_pass()
    assert engine.verify().is_exact
    row = VillageDayFact.objects.filter(metric="points.issued").order_by("day").first()
    assert row is not None
    VillageDayFact.objects.filter(metric="points.issued", day=row.day, village_id=row.village_id).update(
        value=row.value + 5
    )
    found = engine.verify()
    assert [d.line() for d in found.differences] == [
        f"points.issued {row.day} village-day county={w.county.pk} township={row.township_id} "
        f"village={row.village_id}: stored {row.value + 5} vs facts {row.value}"
    ]
    assert engine.verify(since=row.day + dt.timedelta(days=1)).is_exact
    # --metric checks the coarse facts of that metric's source only.
    assert engine.verify(metric="grids.cases_filed").is_exact
    assert len(engine.verify(metric="points.redeemed").differences) == 1
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_status:
        call_command("rollup", "--verify", stdout=out, stderr=io.StringIO())
    assert exit_status.value.code == 1
    assert "village-day" in out.getvalue()
    # A month wrong too: named with its first day.
    VillageMonthFact.objects.filter(metric="points.issued", township_id=row.township_id).update(value=0)
    grains = sorted({d.grain for d in engine.verify().differences})
    assert grains == ["village-day", "village-month"]


@pytest.mark.parametrize(
    ("lo", "hi", "days", "months"),
    [
        # [lo, hi) half-open
        ("2026-01-01", "2027-01-01", [], ("2026-01-01", "2027-01-01")),
        ("2026-02-03", "2026-03-21", [("2026-02-03", "2026-03-21")], None),
        (
            "2026-02-03",
            "2026-05-21",
            [("2026-02-03", "2026-03-01"), ("2026-05-01", "2026-05-21")],
            ("2026-03-01", "2026-05-01"),
        ),
        ("2026-04-01", "2026-04-15", [("2026-04-01", "2026-04-15")], None),
        ("2026-04-01", "2026-05-01", [], ("2026-04-01", "2026-05-01")),
        ("2026-03-31", "2026-05-01", [("2026-03-31", "2026-04-01")], ("2026-04-01", "2026-05-01")),
    ],
)
def test_a_range_splits_into_whole_months_and_the_days_around_them(lo, hi, days, months):
    def d(text: str) -> dt.date:
        return dt.date.fromisoformat(text)

    got_days, got_months = coarse._month_split(d(lo), d(hi))
    assert got_days == [(d(a), d(b)) for a, b in days]
    assert got_months == (None if months is None else (d(months[0]), d(months[1])))


def test_the_yearly_members_follow_every_write_of_the_members():
    w = f.world_make()
    history(w)
    history(w, shift=30)
    engine.incremental_pass()
    years = stored_years()
    assert years == years_from_members()
    # A member counted in two months of a year is one row per level, its support 2.
    assert max(years.values()) >= 2
    assert {k[2] for k in years} == {1, 2}
    member = MetricMember.objects.filter(metric="points.households_awarded").order_by("month").first()
    assert member is not None
    with connection.cursor() as cursor:
        # One month row of a member deleted, another moved to another village, one added.
        cursor.execute(
            f"DELETE FROM {MEMBERS} WHERE metric = 'points.households_awarded' AND month = %s "  # noqa: S608
            "AND member_id = %s",
            [member.month, member.member_id],
        )
        assert cursor.rowcount >= 1
        cursor.execute(
            f"UPDATE {MEMBERS} SET village_id = %s WHERE metric = 'canteens.beneficiaries'",  # noqa: S608
            [w.villages["V3"].pk],
        )
        assert cursor.rowcount >= 1
        cursor.execute(
            f"INSERT INTO {MEMBERS} (metric, month, county_id, township_id, village_id, grid_id, member_id) "  # noqa: S608
            "VALUES ('industry.product_kinds', '2025-12-01', %s, %s, %s, 0, 99)",
            [w.county.pk, w.townships["T1"].pk, w.villages["V1"].pk],
        )
    assert stored_years() == years_from_members()
    assert stored_years()[("industry.product_kinds", 2025, 1, w.county.pk, 0, 99)] == 1
    # No row is left without support (the members deleted took theirs with them).
    assert min(stored_years().values()) >= 1
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {MEMBERS}")
    assert MemberYear.objects.count() == 0


def test_verify_names_a_yearly_member_that_differs_from_the_members():
    w = f.world_make()
    history(w)
    engine.incremental_pass()
    row = MemberYear.objects.filter(metric="canteens.beneficiaries", level=2).get()
    MemberYear.objects.filter(
        metric="canteens.beneficiaries", level=2, region_id=row.region_id, member_id=row.member_id
    ).update(support=5)
    found = engine.verify()
    assert [d.line() for d in found.differences] == [
        f"canteens.beneficiaries {row.year} member-year county={w.county.pk} township={row.region_id} "
        f"village=0 member={row.member_id}: 5 month rows stored vs 1 in the members"
    ]
    assert engine.verify(since=dt.date(row.year + 1, 1, 1)).is_exact
    assert engine.verify(metric="grids.cases_filed").is_exact


@pytest.mark.parametrize(
    ("text", "functions"),
    [
        (coarse.TRIGGERS_SQL, ["rollup_coarse_apply", "rollup_coarse_clear"]),
        (coarse.MEMBER_TRIGGERS_SQL, ["rollup_member_year_apply", "rollup_member_year_clear"]),
    ],
)
def test_the_installed_trigger_functions_are_the_current_text(text, functions):
    """The migrations froze the functions' text; coarse.py holds the copy a later migration starts from.
    They must not drift apart unnoticed."""
    bodies = text.split("$$")[1::2]
    with connection.cursor() as cursor:
        cursor.execute("SELECT proname, prosrc FROM pg_proc WHERE proname = ANY(%s) ORDER BY 1", [functions])
        installed = cursor.fetchall()
    assert [name for name, _src in installed] == functions
    assert [src for _name, src in installed] == bodies

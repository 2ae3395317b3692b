"""A distinct source whose members only grow (points.households_awarded): the incremental pass inserts the
(month, household) pairs of the new award postings alone, ON CONFLICT DO NOTHING, instead of recomputing
the touched pairs from all their month's postings. A reversal in a later pass keeps the household; a
rerun adds nothing; the nightly window still recomputes (and repairs) the months."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.models import Household, MetricMember, Region
from governance.rollups import engine, registry
from governance.rollups.registry import Feed, Metric, Part, Source
from points.models import Posting
from tests.rollups import factories as f

pytestmark = pytest.mark.django_db

METRIC = "points.households_awarded"
POSTINGS = Posting._meta.db_table


def members() -> set[tuple[dt.date, int, int]]:
    return set(MetricMember.objects.filter(metric=METRIC).values_list("month", "grid_id", "member_id"))


def source_step(result: engine.PassResult) -> engine.SourceResult:
    return next(s for s in result.sources if s.source == METRIC)


def test_the_source_is_declared_add_only_and_the_others_are_not():
    sources = registry.sources()
    assert sources[METRIC].members_only_grow is True
    # Voided meals, reversed sales take a member out: those stay on the recompute path.
    assert sources["canteens.beneficiaries"].members_only_grow is False
    assert sources["industry.product_kinds"].members_only_grow is False


def test_an_award_reversed_in_a_later_pass_still_counts_the_household():
    w = f.world_make()
    household = w.households[0]
    grid = w.grid_of(household)
    engine.incremental_pass()  # every source read once: watermarks set
    award = f.posting_write(w, household=household, kind="award", amount=30, at=f.at_of(100, 10))

    with CaptureQueriesContext(connection) as queries:
        first = engine.incremental_pass()
    step = source_step(first)
    assert (step.full, step.rows) == (False, 1)  # keys: the id ranges read (new ids, awaited holes)
    assert members() == {(dt.date(2026, 4, 1), grid.pk, household.pk)}
    writes = [q["sql"] for q in queries.captured_queries if "governance_metricmember" in q["sql"]]
    # The add-only statement, and no recompute (its FULL OUTER JOIN against the stored members).
    assert any("ON CONFLICT DO NOTHING" in sql and "BETWEEN" in sql for sql in writes)
    assert not any("FULL OUTER JOIN" in sql and "households_awarded" in str(sql) for sql in writes)

    f.posting_reverse(w, award, at=f.at_of(103, 9))
    second = engine.incremental_pass()
    assert (source_step(second).rows) == 0
    assert members() == {(dt.date(2026, 4, 1), grid.pk, household.pk)}
    assert f.stored_members() == w.expected.member_rows()
    assert engine.verify().is_exact

    # A rerun with nothing new adds nothing (it may re-read id ranges still awaited: other tests' rows,
    # truncated away, leave holes in the ids).
    third = engine.incremental_pass()
    assert source_step(third).rows == 0
    assert members() == {(dt.date(2026, 4, 1), grid.pk, household.pk)}
    assert engine.verify().is_exact


def test_only_the_new_rows_are_read_and_a_stray_row_waits_for_the_nightly_window():
    """The add-only pass does not re-read the month: a household moved to another grid keeps its old
    grid's row beside the new one until the nightly window recomputes the month (as for every source's
    rows of a moved household, docs/rollups.md)."""
    w = f.world_make()
    household = w.households[0]
    old_grid = w.grid_of(household)
    new_grid = next(g for g in w.grids.values() if g.pk != old_grid.pk and g.name != "第二网格")
    engine.incremental_pass()
    f.posting_write(w, household=household, kind="award", amount=5, at=f.at_of(120, 8))
    engine.incremental_pass()
    assert members() == {(dt.date(2026, 5, 1), old_grid.pk, household.pk)}

    Household.objects.filter(pk=household.pk).update(grid=new_grid)
    household.refresh_from_db()
    f.posting_write(w, household=household, kind="award", amount=6, at=f.at_of(125, 8))
    step = source_step(engine.incremental_pass())
    assert step.rows == 1
    assert members() == {
        (dt.date(2026, 5, 1), old_grid.pk, household.pk),
        (dt.date(2026, 5, 1), new_grid.pk, household.pk),
    }

    engine.window_pass(since=dt.date(2026, 5, 1), metric=METRIC)
    assert members() == {(dt.date(2026, 5, 1), new_grid.pk, household.pk)}
    assert engine.verify(metric=METRIC).is_exact


def test_ids_awaited_below_the_watermark_are_added_when_they_arrive():
    """A posting whose id lies below the watermark (its transaction committed after the pass: ids are
    handed out before commit) is read from the id ranges the feed waits for, and only then added."""
    w = f.world_make()
    engine.incremental_pass()
    late = w.households[1]
    with connection.cursor() as cursor:
        # Two ids taken by a transaction that has not committed yet …
        cursor.execute(
            f"SELECT nextval(pg_get_serial_sequence('{POSTINGS}', 'id')) "  # noqa: S608
            "FROM generate_series(1, 2)"
        )
        reserved = [int(row[0]) for row in cursor.fetchall()]
    # … while a later award commits and a pass moves the watermark past them.
    f.posting_write(w, household=w.households[2], kind="award", amount=8, at=f.at_of(41, 9))
    engine.incremental_pass()
    assert members() == {(dt.date(2026, 2, 1), w.grid_of(w.households[2]).pk, w.households[2].pk)}

    at = f.at_of(40, 9)
    township = w.accounts[late.pk].township_id
    entry = f._transaction(w, kind="award", township=Region.objects.get(pk=township), at=at)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {POSTINGS} (id, transaction_id, account_id, amount, created_at) "  # noqa: S608
            "VALUES (%s, %s, %s, 7, %s), (%s, %s, %s, -7, %s)",
            [reserved[0], entry, w.accounts[late.pk].pk, at, reserved[1], entry, w.issuance[township].pk, at],
        )
    step = source_step(engine.incremental_pass())
    assert step.rows == 1
    assert members() == {
        (dt.date(2026, 2, 1), w.grid_of(w.households[2]).pk, w.households[2].pk),
        (dt.date(2026, 2, 1), w.grid_of(late).pk, late.pk),
    }
    assert engine.verify(metric=METRIC).is_exact


def test_members_only_grow_needs_a_distinct_source_with_one_id_feed_and_id_columns():
    part = Part(sql="SELECT 1 WHERE {filter}", time_filter="TRUE", region_column="1", member_column="1")
    feed = Feed(name="x.feed", table="x", touched_sql="SELECT 1 WHERE {ids}")
    with pytest.raises(ValueError, match="members_only_grow"):
        registry.register(
            source=Source(
                name="x.members",
                metrics=("x.members",),
                parts=(part,),
                feeds=(feed,),
                distinct=True,
                members_only_grow=True,
            ),
            metrics=[Metric("x.members", "x", "x", source="x.members", distinct=True)],
        )
    assert "x.members" not in registry.sources()

"""The full rebuild into empty facts builds new tables and swaps them in: the facts come out exact, the
tables keep every index under its name (the primary key included), and a rebuild over current facts
recomputes them in place."""

from __future__ import annotations

import pytest
from django.db import connection

from governance.models import MetricFact, MetricMember, RollupKind
from governance.rollups import engine
from governance.rollups.sql import FACTS, MEMBERS
from tests.rollups import factories as f
from tests.rollups.test_idempotency import history

pytestmark = pytest.mark.django_db


def indexes(table: str) -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.relname, regexp_replace(pg_get_indexdef(x.indexrelid), ' ON \\S+ ', ' ON t ') "
            "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = %s::regclass "
            "ORDER BY 1",
            [table],
        )
        return [(name, definition) for name, definition in cursor.fetchall()]


def columns(table: str) -> list[tuple[str, str, bool, str | None]]:
    """(name, type, NOT NULL, default) of each column, in order."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
            "pg_get_expr(d.adbin, d.adrelid) "
            "FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
            "WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            [table],
        )
        return [tuple(row) for row in cursor.fetchall()]


def test_a_rebuild_into_empty_facts_swaps_in_exact_indexed_tables():
    w = f.world_make()
    history(w)
    before = {FACTS: indexes(FACTS), MEMBERS: indexes(MEMBERS)}
    shapes = {FACTS: columns(FACTS), MEMBERS: columns(MEMBERS)}
    assert shapes[FACTS][0] == ("metric", "rollup_metric", True, None)
    assert shapes[FACTS][-2] == ("grid_id", "integer", True, "0")
    assert "governance_metricfact_pkey" in [name for name, _d in before[FACTS]]
    assert "rollup_fact_village" in [name for name, _d in before[FACTS]]
    result = engine.full_rebuild(progress=False)
    assert result.kind == RollupKind.FULL
    assert f.stored_facts() == w.expected.fact_rows()
    assert f.stored_members() == w.expected.member_rows()
    assert {FACTS: indexes(FACTS), MEMBERS: indexes(MEMBERS)} == before
    assert {FACTS: columns(FACTS), MEMBERS: columns(MEMBERS)} == shapes
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM pg_class WHERE relname LIKE %s", ["%\\_rebuild"])
        assert cursor.fetchone()[0] == 0
    assert engine.verify().is_exact
    # Over current facts the rebuild works in place: the same rows, the same tables.
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::regclass::oid, %s::regclass::oid", [FACTS, MEMBERS])
        oids = cursor.fetchone()
    engine.full_rebuild(progress=False)
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::regclass::oid, %s::regclass::oid", [FACTS, MEMBERS])
        assert cursor.fetchone() == oids
    assert f.stored_facts() == w.expected.fact_rows()
    assert (MetricFact.objects.count(), MetricMember.objects.count()) == (
        len(w.expected.fact_rows()),
        len(w.expected.member_rows()),
    )

"""Metric names are stored as the enum rollup_metric (migration 0009): every registered metric is one of
its values, the fact tables keep the type through a rebuild's swap, and a metric registered after the
migration is added by the post-migrate sync."""

from __future__ import annotations

import pytest
from django.db import connection

from governance.models import METRIC_TYPE, MetricFact
from governance.rollups import engine, registry
from governance.rollups.registry import Metric
from governance.rollups.sql import FACTS, MEMBERS

pytestmark = pytest.mark.django_db


def labels() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid WHERE t.typname = %s "
            "ORDER BY e.enumsortorder",
            [METRIC_TYPE],
        )
        return [label for (label,) in cursor.fetchall()]


def column_type(table: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attname = 'metric'",
            [table],
        )
        return str(cursor.fetchone()[0])


def test_both_tables_store_names_as_the_enum_and_every_metric_is_a_value():
    assert column_type(FACTS) == METRIC_TYPE
    assert column_type(MEMBERS) == METRIC_TYPE
    assert set(registry.metrics()) <= set(labels())
    assert engine.metric_type_sync() == []


def test_the_orm_reads_and_filters_by_name():
    MetricFact.objects.create(
        metric="points.issued", day="2026-03-01", county_id=1, township_id=2, village_id=3, grid_id=4, value=9
    )
    assert list(MetricFact.objects.filter(metric="points.issued").values_list("metric", "value")) == [
        ("points.issued", 9)
    ]
    assert MetricFact.objects.filter(metric__in=["points.issued", "grids.cases_filed"]).count() == 1
    assert MetricFact.objects.filter(metric="points.redeemed").count() == 0


def test_a_name_that_is_no_value_is_refused_by_the_database():
    from django.db import DataError, transaction

    with pytest.raises(DataError), transaction.atomic():
        MetricFact.objects.create(
            metric="x.unknown", day="2026-03-01", county_id=1, township_id=2, village_id=3, grid_id=4, value=1
        )


def test_a_metric_registered_after_the_migration_is_added_by_the_sync(monkeypatch):
    known = dict(registry.metrics())
    late = Metric("x.late_metric", "x", "x", source="points.postings")
    monkeypatch.setattr(registry, "metrics", lambda: {**known, late.name: late})
    assert engine.metric_type_sync() == ["x.late_metric"]
    assert labels()[-1] == "x.late_metric"
    assert engine.metric_type_sync() == []

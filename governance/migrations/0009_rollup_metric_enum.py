"""Metric names in the rollup facts become the PostgreSQL enum rollup_metric (governance/models/rollups.py:
MetricNameField): the full rebuild's index builds sort 4-byte enum keys instead of varchars.

The enum's values are the metrics registered when this migration was written, frozen here (a migration
must not import code that changes later); metrics registered later are added after every migrate by
governance.apps.metric_type_sync. Stored facts keep their rows (the names cast to the enum and back).
On SQLite (the embedded demo) the column stays a varchar and the type is not created."""

from django.db import migrations

import governance.models.rollups

METRICS = (
    "canteens.beneficiaries",
    "canteens.meals",
    "canteens.subsidy_government_fen",
    "grids.cases_filed",
    "grids.cases_overdue",
    "grids.cases_resolved",
    "grids.cases_resolved_on_time",
    "grids.satisfaction_total",
    "grids.satisfaction_yes",
    "industry.product_kinds",
    "industry.sales_fen",
    "industry.sales_records",
    "industry.tourism_income_fen",
    "industry.visits",
    "points.balance",
    "points.households_awarded",
    "points.issued",
    "points.redeemed",
)


TABLES = ("governance_metricfact", "governance_metricmember")


def to_enum(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    labels = ", ".join(schema_editor.quote_value(name) for name in METRICS)
    schema_editor.execute(f"CREATE TYPE rollup_metric AS ENUM ({labels})")
    for table in TABLES:
        schema_editor.execute(
            f"ALTER TABLE {table} ALTER COLUMN metric TYPE rollup_metric USING metric::rollup_metric"
        )


def to_varchar(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"ALTER TABLE {table} ALTER COLUMN metric TYPE varchar(60) USING metric::text")
    schema_editor.execute("DROP TYPE rollup_metric")


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0008_pending_task"),
    ]

    operations = [
        # Django would alter the column without a USING cast (both fields are CharFields to it): the
        # type change is written here, the model state changed below.
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(to_enum, to_varchar)],
            state_operations=[
                migrations.AlterField(
                    model_name="metricfact",
                    name="metric",
                    field=governance.models.rollups.MetricNameField(max_length=60, verbose_name="指标"),
                ),
                migrations.AlterField(
                    model_name="metricmember",
                    name="metric",
                    field=governance.models.rollups.MetricNameField(max_length=60, verbose_name="指标"),
                ),
            ],
        ),
    ]

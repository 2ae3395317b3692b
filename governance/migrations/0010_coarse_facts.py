"""The coarser facts (design.md §5): the facts summed per village and day and per village and month, kept
by statement-level triggers on the facts table (governance/rollups/coarse.py) and filled here from the
facts already stored.

The backfill runs after CREATE TRIGGER in the same transaction: CREATE TRIGGER locks the facts against
writes until the commit, so no fact is counted twice or missed. PostgreSQL only: on SQLite (the embedded
demo) the tables stay empty and the dashboard reads the facts. Keep the SQL here as it is (a migration is
history); the current text lives in governance/rollups/coarse.py."""

import governance.models.rollups
from django.db import migrations, models

TRIGGERS = """
CREATE OR REPLACE FUNCTION rollup_coarse_apply() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        
WITH d AS (
    SELECT metric, day, county_id, township_id, village_id, SUM(value) AS value
    FROM (SELECT metric, day, county_id, township_id, village_id, value FROM rollup_fact_new) AS c (metric, day, county_id, township_id, village_id, value)
    GROUP BY metric, day, county_id, township_id, village_id HAVING SUM(value) <> 0
), by_day AS (
    INSERT INTO governance_villagedayfact AS t (metric, day, county_id, township_id, village_id, value)
    SELECT metric, day, county_id, township_id, village_id, value FROM d ORDER BY metric, day, township_id, village_id
    ON CONFLICT (metric, day, township_id, village_id) DO UPDATE SET value = t.value + EXCLUDED.value
)
INSERT INTO governance_villagemonthfact AS t (metric, month, county_id, township_id, village_id, value)
SELECT metric, date_trunc('month', day)::date, county_id, township_id, village_id, SUM(value) FROM d
GROUP BY metric, date_trunc('month', day)::date, county_id, township_id, village_id HAVING SUM(value) <> 0
ORDER BY 1, 2, 4, 5
ON CONFLICT (metric, month, township_id, village_id) DO UPDATE SET value = t.value + EXCLUDED.value
;
    ELSIF TG_OP = 'DELETE' THEN
        
WITH d AS (
    SELECT metric, day, county_id, township_id, village_id, SUM(value) AS value
    FROM (SELECT metric, day, county_id, township_id, village_id, -value FROM rollup_fact_old) AS c (metric, day, county_id, township_id, village_id, value)
    GROUP BY metric, day, county_id, township_id, village_id HAVING SUM(value) <> 0
), by_day AS (
    INSERT INTO governance_villagedayfact AS t (metric, day, county_id, township_id, village_id, value)
    SELECT metric, day, county_id, township_id, village_id, value FROM d ORDER BY metric, day, township_id, village_id
    ON CONFLICT (metric, day, township_id, village_id) DO UPDATE SET value = t.value + EXCLUDED.value
)
INSERT INTO governance_villagemonthfact AS t (metric, month, county_id, township_id, village_id, value)
SELECT metric, date_trunc('month', day)::date, county_id, township_id, village_id, SUM(value) FROM d
GROUP BY metric, date_trunc('month', day)::date, county_id, township_id, village_id HAVING SUM(value) <> 0
ORDER BY 1, 2, 4, 5
ON CONFLICT (metric, month, township_id, village_id) DO UPDATE SET value = t.value + EXCLUDED.value
;
    ELSE
        
WITH d AS (
    SELECT metric, day, county_id, township_id, village_id, SUM(value) AS value
    FROM (SELECT metric, day, county_id, township_id, village_id, value FROM rollup_fact_new UNION ALL SELECT metric, day, county_id, township_id, village_id, -value FROM rollup_fact_old) AS c (metric, day, county_id, township_id, village_id, value)
    GROUP BY metric, day, county_id, township_id, village_id HAVING SUM(value) <> 0
), by_day AS (
    INSERT INTO governance_villagedayfact AS t (metric, day, county_id, township_id, village_id, value)
    SELECT metric, day, county_id, township_id, village_id, value FROM d ORDER BY metric, day, township_id, village_id
    ON CONFLICT (metric, day, township_id, village_id) DO UPDATE SET value = t.value + EXCLUDED.value
)
INSERT INTO governance_villagemonthfact AS t (metric, month, county_id, township_id, village_id, value)
SELECT metric, date_trunc('month', day)::date, county_id, township_id, village_id, SUM(value) FROM d
GROUP BY metric, date_trunc('month', day)::date, county_id, township_id, village_id HAVING SUM(value) <> 0
ORDER BY 1, 2, 4, 5
ON CONFLICT (metric, month, township_id, village_id) DO UPDATE SET value = t.value + EXCLUDED.value
;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION rollup_coarse_clear() RETURNS trigger AS $$
BEGIN
    DELETE FROM governance_villagedayfact;
    DELETE FROM governance_villagemonthfact;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER rollup_coarse_insert AFTER INSERT ON governance_metricfact
    REFERENCING NEW TABLE AS rollup_fact_new FOR EACH STATEMENT EXECUTE FUNCTION rollup_coarse_apply();
CREATE TRIGGER rollup_coarse_update AFTER UPDATE ON governance_metricfact
    REFERENCING OLD TABLE AS rollup_fact_old NEW TABLE AS rollup_fact_new FOR EACH STATEMENT EXECUTE FUNCTION rollup_coarse_apply();
CREATE TRIGGER rollup_coarse_delete AFTER DELETE ON governance_metricfact
    REFERENCING OLD TABLE AS rollup_fact_old FOR EACH STATEMENT EXECUTE FUNCTION rollup_coarse_apply();
CREATE TRIGGER rollup_coarse_clear AFTER TRUNCATE ON governance_metricfact
    FOR EACH STATEMENT EXECUTE FUNCTION rollup_coarse_clear();
"""

FILL = """INSERT INTO governance_villagedayfact (metric, day, county_id, township_id, village_id, value) SELECT metric, day, county_id, township_id, village_id, SUM(value) FROM governance_metricfact GROUP BY metric, day, county_id, township_id, village_id;
INSERT INTO governance_villagemonthfact (metric, month, county_id, township_id, village_id, value) SELECT metric, date_trunc('month', day)::date, county_id, township_id, village_id, SUM(value) FROM governance_villagedayfact GROUP BY metric, date_trunc('month', day)::date, county_id, township_id, village_id"""

DROP = """
DROP TRIGGER IF EXISTS rollup_coarse_clear ON governance_metricfact;
DROP TRIGGER IF EXISTS rollup_coarse_delete ON governance_metricfact;
DROP TRIGGER IF EXISTS rollup_coarse_update ON governance_metricfact;
DROP TRIGGER IF EXISTS rollup_coarse_insert ON governance_metricfact;
DROP FUNCTION IF EXISTS rollup_coarse_clear();
DROP FUNCTION IF EXISTS rollup_coarse_apply();
"""


def create_triggers_and_fill(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGERS, params=None)
        for statement in FILL.split(";\n"):
            schema_editor.execute(statement, params=None)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('governance', '0009_rollup_metric_enum'),
    ]

    operations = [
        migrations.CreateModel(
            name='VillageDayFact',
            fields=[
                ('metric', governance.models.rollups.MetricNameField(max_length=60, verbose_name='指标')),
                ('county_id', models.IntegerField(verbose_name='县')),
                ('township_id', models.IntegerField(verbose_name='乡镇')),
                ('village_id', models.IntegerField(verbose_name='村（社区）')),
                ('value', models.BigIntegerField(verbose_name='数值')),
                ('pk', models.CompositePrimaryKey('metric', 'day', 'township_id', 'village_id', blank=True, editable=False, primary_key=True, serialize=False)),
                ('day', models.DateField(verbose_name='日期')),
            ],
            options={
                'verbose_name': '村级指标日数据',
                'verbose_name_plural': '村级指标日数据',
            },
        ),
        migrations.CreateModel(
            name='VillageMonthFact',
            fields=[
                ('metric', governance.models.rollups.MetricNameField(max_length=60, verbose_name='指标')),
                ('county_id', models.IntegerField(verbose_name='县')),
                ('township_id', models.IntegerField(verbose_name='乡镇')),
                ('village_id', models.IntegerField(verbose_name='村（社区）')),
                ('value', models.BigIntegerField(verbose_name='数值')),
                ('pk', models.CompositePrimaryKey('metric', 'month', 'township_id', 'village_id', blank=True, editable=False, primary_key=True, serialize=False)),
                ('month', models.DateField(verbose_name='月份')),
            ],
            options={
                'verbose_name': '村级指标月数据',
                'verbose_name_plural': '村级指标月数据',
            },
        ),
        migrations.RunPython(create_triggers_and_fill, drop_triggers),
    ]

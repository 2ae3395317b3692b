"""The members behind the distinct metrics per calendar year at the county and each township
(governance.models.MemberYear), kept by statement-level triggers on the members table
(governance/rollups/coarse.py) and filled here from the members already stored (after CREATE TRIGGER, in
the same transaction: the members are locked against writes until the commit). PostgreSQL only. Keep the
SQL here as it is (a migration is history); the current text lives in governance/rollups/coarse.py."""

import governance.models.rollups
from django.db import migrations, models

TRIGGERS = """
CREATE OR REPLACE FUNCTION rollup_member_year_apply() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO governance_memberyear AS t (metric, year, level, region_id, parent_id, member_id, support) SELECT metric, year, level, region_id, parent_id, member_id, SUM(n) FROM (SELECT m.metric, EXTRACT(YEAR FROM m.month)::smallint, l.level, l.region_id, l.parent_id, m.member_id, m.n FROM (SELECT metric, month, county_id, township_id, village_id, member_id, 1 FROM rollup_member_new) AS m (metric, month, county_id, township_id, village_id, member_id, n) CROSS JOIN LATERAL (VALUES (1::smallint, m.county_id, 0), (2::smallint, m.township_id, m.county_id)) AS l (level, region_id, parent_id)) AS c (metric, year, level, region_id, parent_id, member_id, n) GROUP BY metric, year, level, region_id, parent_id, member_id HAVING SUM(n) <> 0 ORDER BY metric, year, level, region_id, parent_id, member_id ON CONFLICT (metric, year, level, region_id, parent_id, member_id) DO UPDATE SET support = t.support + EXCLUDED.support;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO governance_memberyear AS t (metric, year, level, region_id, parent_id, member_id, support) SELECT metric, year, level, region_id, parent_id, member_id, SUM(n) FROM (SELECT m.metric, EXTRACT(YEAR FROM m.month)::smallint, l.level, l.region_id, l.parent_id, m.member_id, m.n FROM (SELECT metric, month, county_id, township_id, village_id, member_id, -1 FROM rollup_member_old) AS m (metric, month, county_id, township_id, village_id, member_id, n) CROSS JOIN LATERAL (VALUES (1::smallint, m.county_id, 0), (2::smallint, m.township_id, m.county_id)) AS l (level, region_id, parent_id)) AS c (metric, year, level, region_id, parent_id, member_id, n) GROUP BY metric, year, level, region_id, parent_id, member_id HAVING SUM(n) <> 0 ORDER BY metric, year, level, region_id, parent_id, member_id ON CONFLICT (metric, year, level, region_id, parent_id, member_id) DO UPDATE SET support = t.support + EXCLUDED.support;
        DELETE FROM governance_memberyear AS t USING (SELECT DISTINCT metric, year, level, region_id, parent_id, member_id FROM (SELECT m.metric, EXTRACT(YEAR FROM m.month)::smallint, l.level, l.region_id, l.parent_id, m.member_id, m.n FROM (SELECT metric, month, county_id, township_id, village_id, member_id, -1 FROM rollup_member_old) AS m (metric, month, county_id, township_id, village_id, member_id, n) CROSS JOIN LATERAL (VALUES (1::smallint, m.county_id, 0), (2::smallint, m.township_id, m.county_id)) AS l (level, region_id, parent_id)) AS c (metric, year, level, region_id, parent_id, member_id, n)) AS c WHERE t.metric = c.metric AND t.year = c.year AND t.level = c.level AND t.region_id = c.region_id AND t.parent_id = c.parent_id AND t.member_id = c.member_id AND t.support <= 0;
    ELSE
        INSERT INTO governance_memberyear AS t (metric, year, level, region_id, parent_id, member_id, support) SELECT metric, year, level, region_id, parent_id, member_id, SUM(n) FROM (SELECT m.metric, EXTRACT(YEAR FROM m.month)::smallint, l.level, l.region_id, l.parent_id, m.member_id, m.n FROM (SELECT metric, month, county_id, township_id, village_id, member_id, 1 FROM rollup_member_new UNION ALL SELECT metric, month, county_id, township_id, village_id, member_id, -1 FROM rollup_member_old) AS m (metric, month, county_id, township_id, village_id, member_id, n) CROSS JOIN LATERAL (VALUES (1::smallint, m.county_id, 0), (2::smallint, m.township_id, m.county_id)) AS l (level, region_id, parent_id)) AS c (metric, year, level, region_id, parent_id, member_id, n) GROUP BY metric, year, level, region_id, parent_id, member_id HAVING SUM(n) <> 0 ORDER BY metric, year, level, region_id, parent_id, member_id ON CONFLICT (metric, year, level, region_id, parent_id, member_id) DO UPDATE SET support = t.support + EXCLUDED.support;
        DELETE FROM governance_memberyear AS t USING (SELECT DISTINCT metric, year, level, region_id, parent_id, member_id FROM (SELECT m.metric, EXTRACT(YEAR FROM m.month)::smallint, l.level, l.region_id, l.parent_id, m.member_id, m.n FROM (SELECT metric, month, county_id, township_id, village_id, member_id, -1 FROM rollup_member_old) AS m (metric, month, county_id, township_id, village_id, member_id, n) CROSS JOIN LATERAL (VALUES (1::smallint, m.county_id, 0), (2::smallint, m.township_id, m.county_id)) AS l (level, region_id, parent_id)) AS c (metric, year, level, region_id, parent_id, member_id, n)) AS c WHERE t.metric = c.metric AND t.year = c.year AND t.level = c.level AND t.region_id = c.region_id AND t.parent_id = c.parent_id AND t.member_id = c.member_id AND t.support <= 0;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION rollup_member_year_clear() RETURNS trigger AS $$
BEGIN
    DELETE FROM governance_memberyear;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER rollup_member_year_insert AFTER INSERT ON governance_metricmember
    REFERENCING NEW TABLE AS rollup_member_new FOR EACH STATEMENT EXECUTE FUNCTION rollup_member_year_apply();
CREATE TRIGGER rollup_member_year_update AFTER UPDATE ON governance_metricmember
    REFERENCING OLD TABLE AS rollup_member_old NEW TABLE AS rollup_member_new
    FOR EACH STATEMENT EXECUTE FUNCTION rollup_member_year_apply();
CREATE TRIGGER rollup_member_year_delete AFTER DELETE ON governance_metricmember
    REFERENCING OLD TABLE AS rollup_member_old FOR EACH STATEMENT EXECUTE FUNCTION rollup_member_year_apply();
CREATE TRIGGER rollup_member_year_clear AFTER TRUNCATE ON governance_metricmember
    FOR EACH STATEMENT EXECUTE FUNCTION rollup_member_year_clear();
"""

FILL = """INSERT INTO governance_memberyear (metric, year, level, region_id, parent_id, member_id, support) SELECT metric, year, level, region_id, parent_id, member_id, SUM(n) FROM (SELECT m.metric, EXTRACT(YEAR FROM m.month)::smallint, l.level, l.region_id, l.parent_id, m.member_id, m.n FROM (SELECT metric, month, county_id, township_id, village_id, member_id, 1 FROM governance_metricmember) AS m (metric, month, county_id, township_id, village_id, member_id, n) CROSS JOIN LATERAL (VALUES (1::smallint, m.county_id, 0), (2::smallint, m.township_id, m.county_id)) AS l (level, region_id, parent_id)) AS c (metric, year, level, region_id, parent_id, member_id, n) GROUP BY metric, year, level, region_id, parent_id, member_id"""

DROP = """
DROP TRIGGER IF EXISTS rollup_member_year_clear ON governance_metricmember;
DROP TRIGGER IF EXISTS rollup_member_year_delete ON governance_metricmember;
DROP TRIGGER IF EXISTS rollup_member_year_update ON governance_metricmember;
DROP TRIGGER IF EXISTS rollup_member_year_insert ON governance_metricmember;
DROP FUNCTION IF EXISTS rollup_member_year_clear();
DROP FUNCTION IF EXISTS rollup_member_year_apply();
"""


def create_triggers_and_fill(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGERS, params=None)
        schema_editor.execute(FILL, params=None)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('governance', '0010_coarse_facts'),
    ]

    operations = [
        migrations.CreateModel(
            name='MemberYear',
            fields=[
                ('pk', models.CompositePrimaryKey('metric', 'year', 'level', 'region_id', 'parent_id', 'member_id', blank=True, editable=False, primary_key=True, serialize=False)),
                ('metric', governance.models.rollups.MetricNameField(max_length=60, verbose_name='指标')),
                ('year', models.SmallIntegerField(verbose_name='年份')),
                ('level', models.SmallIntegerField(verbose_name='层级')),
                ('region_id', models.IntegerField(verbose_name='区域')),
                ('parent_id', models.IntegerField(verbose_name='上级区域')),
                ('member_id', models.BigIntegerField(verbose_name='对象')),
                ('support', models.IntegerField(verbose_name='月度记录数')),
            ],
            options={
                'verbose_name': '指标年度去重对象',
                'verbose_name_plural': '指标年度去重对象',
            },
        ),
        migrations.RunPython(create_triggers_and_fill, drop_triggers),
    ]

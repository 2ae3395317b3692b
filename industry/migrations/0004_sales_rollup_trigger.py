"""The sales rollup kept by PostgreSQL (issue 7), and its backfill from the existing sales records.

A statement-level AFTER INSERT trigger with a transition table adds each statement's records to
industry_sales_rollup in one INSERT ... SELECT ... GROUP BY GROUPING SETS ... ON CONFLICT DO UPDATE: one
pass per statement, so a COPY of 20,000 imported rows costs one aggregate, not 20,000 upserts. The rollup
is part of the inserting transaction, so it is exact at every commit. An AFTER TRUNCATE trigger empties it
with the records. SalesRecord refuses UPDATE and DELETE (0002), so inserts are the only changes to follow.

The backfill runs after CREATE TRIGGER in the same transaction: CREATE TRIGGER locks industry_salesrecord
against inserts until the commit, so no record is counted twice or missed.

PostgreSQL only, like 0002: on SQLite (the demo) the table stays empty and industry/selectors/dashboard.py
answers with the direct GROUP BY instead. Keep the SQL here as it is (a migration is history); the current
copy of the aggregate lives in industry/rollup.py.
"""

from django.db import migrations

# {source} is the relation whose rows are added: the transition table or the whole sales table.
ADD_SQL = """
INSERT INTO industry_sales_rollup AS r
    (event_id, grain, day, channel, platform, product_id, exhibitor_id, amount_fen, quantity, records)
SELECT s.event_id,
       CASE WHEN GROUPING(s.day) = 0 THEN 'day'
            WHEN GROUPING(s.channel) = 0 THEN 'channel'
            WHEN GROUPING(s.product_id) = 0 THEN 'product'
            ELSE 'exhibitor' END,
       s.day, s.channel, s.platform, s.product_id, s.exhibitor_id,
       SUM(s.amount_fen), SUM(s.quantity), SUM(s.records)
FROM (
    SELECT n.event_id, n.exhibitor_id, n.product_id, n.channel, n.platform, n.amount_fen, n.quantity,
           CASE WHEN n.reverses_id IS NULL THEN 1 ELSE -1 END AS records,
           CASE WHEN n.reverses_id IS NULL THEN n.sold_on
                ELSE (SELECT o.sold_on FROM industry_salesrecord o WHERE o.id = n.reverses_id) END AS day
    FROM {source} n
) s
GROUP BY GROUPING SETS ((s.event_id, s.day), (s.event_id, s.channel, s.platform),
                        (s.event_id, s.product_id), (s.event_id, s.exhibitor_id))
ORDER BY 1, 2, 3, 4, 5, 6, 7
ON CONFLICT (event_id, grain, day, channel, platform, product_id, exhibitor_id) DO UPDATE
SET amount_fen = r.amount_fen + EXCLUDED.amount_fen,
    quantity = r.quantity + EXCLUDED.quantity,
    records = r.records + EXCLUDED.records
"""

# Built from constants only.
CREATE = f"""
CREATE OR REPLACE FUNCTION industry_sales_rollup_add() RETURNS trigger AS $$
BEGIN
    {ADD_SQL.format(source="industry_sales_new")};
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER industry_sales_rollup_add
    AFTER INSERT ON industry_salesrecord
    REFERENCING NEW TABLE AS industry_sales_new
    FOR EACH STATEMENT EXECUTE FUNCTION industry_sales_rollup_add();

CREATE OR REPLACE FUNCTION industry_sales_rollup_clear() RETURNS trigger AS $$
BEGIN
    DELETE FROM industry_sales_rollup;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER industry_sales_rollup_clear
    AFTER TRUNCATE ON industry_salesrecord
    FOR EACH STATEMENT EXECUTE FUNCTION industry_sales_rollup_clear();
"""  # noqa: S608

BACKFILL = "DELETE FROM industry_sales_rollup;\n" + ADD_SQL.format(source="industry_salesrecord")  # noqa: S608

DROP = """
DROP TRIGGER IF EXISTS industry_sales_rollup_clear ON industry_salesrecord;
DROP FUNCTION IF EXISTS industry_sales_rollup_clear();
DROP TRIGGER IF EXISTS industry_sales_rollup_add ON industry_salesrecord;
DROP FUNCTION IF EXISTS industry_sales_rollup_add();
DELETE FROM industry_sales_rollup;
"""


def create_trigger_and_backfill(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)
        schema_editor.execute(BACKFILL, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("industry", "0003_sales_rollup")]

    operations = [migrations.RunPython(create_trigger_and_backfill, drop_trigger)]

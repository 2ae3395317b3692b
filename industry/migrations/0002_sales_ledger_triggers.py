"""The sales ledger's invariants that CHECK constraints cannot state, as PostgreSQL triggers:

- sales records are append-only (UPDATE and DELETE refused); a correction is a new record;
- a reversal negates exactly the record it names (same event, exhibitor, product, channel and platform;
  quantity and amount negated), and a reversal is never itself reversed.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION industry_sales_guard() RETURNS trigger AS $$
DECLARE
    original industry_salesrecord%ROWTYPE;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        RAISE EXCEPTION 'industry_salesrecord is append-only: % refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.reverses_id IS NOT NULL THEN
        SELECT * INTO original FROM industry_salesrecord WHERE id = NEW.reverses_id;
        IF original.reverses_id IS NOT NULL THEN
            RAISE EXCEPTION 'a reversal cannot be reversed' USING ERRCODE = 'check_violation';
        END IF;
        IF NEW.amount_fen <> -original.amount_fen OR NEW.quantity <> -original.quantity
           OR NEW.event_id <> original.event_id OR NEW.exhibitor_id <> original.exhibitor_id
           OR NEW.product_id <> original.product_id OR NEW.channel <> original.channel
           OR NEW.platform <> original.platform THEN
            RAISE EXCEPTION 'a reversal must negate exactly the record it names' USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER industry_sales_guard
    BEFORE INSERT OR UPDATE OR DELETE ON industry_salesrecord
    FOR EACH ROW EXECUTE FUNCTION industry_sales_guard();
"""

DROP = """
DROP TRIGGER IF EXISTS industry_sales_guard ON industry_salesrecord;
DROP FUNCTION IF EXISTS industry_sales_guard();
"""


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("industry", "0001_initial")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]

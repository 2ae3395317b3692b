"""The canteens' money invariants that CHECK constraints cannot state, as PostgreSQL triggers:

- donation fund movements are append-only (a correction is a new movement);
- a meal row is never deleted, and the only change it accepts is `voided_at` set once (when a correction's
  reversal meal takes it back); everything else about a served meal stays as it was recorded;
- an approved subsidy claim is locked: its settlement row and lines refuse UPDATE and DELETE, and no line
  is added to it (corrections land in a later period).
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION canteens_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER canteens_fundmovement_append_only
    BEFORE UPDATE OR DELETE ON canteens_fundmovement
    FOR EACH ROW EXECUTE FUNCTION canteens_append_only();

CREATE OR REPLACE FUNCTION canteens_meal_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'canteens_meal is append-only: DELETE refused' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.voided_at IS NOT NULL OR NEW.voided_at IS NULL
       OR (to_jsonb(NEW) - 'voided_at') IS DISTINCT FROM (to_jsonb(OLD) - 'voided_at') THEN
        RAISE EXCEPTION 'canteens_meal: only voided_at may be set, once' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER canteens_meal_guard
    BEFORE UPDATE OR DELETE ON canteens_meal
    FOR EACH ROW EXECUTE FUNCTION canteens_meal_guard();

CREATE OR REPLACE FUNCTION canteens_settlement_locked() RETURNS trigger AS $$
BEGIN
    IF OLD.status = 'approved' THEN
        RAISE EXCEPTION 'settlement % is approved and locked: % refused', OLD.id, TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER canteens_settlement_locked
    BEFORE UPDATE OR DELETE ON canteens_settlement
    FOR EACH ROW EXECUTE FUNCTION canteens_settlement_locked();

CREATE OR REPLACE FUNCTION canteens_settlementline_locked() RETURNS trigger AS $$
DECLARE
    owner_status text;
BEGIN
    SELECT status INTO owner_status FROM canteens_settlement
        WHERE id = CASE WHEN TG_OP = 'INSERT' THEN NEW.settlement_id ELSE OLD.settlement_id END;
    IF owner_status = 'approved' THEN
        RAISE EXCEPTION 'the lines of an approved settlement are locked: % refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER canteens_settlementline_locked
    BEFORE INSERT OR UPDATE OR DELETE ON canteens_settlementline
    FOR EACH ROW EXECUTE FUNCTION canteens_settlementline_locked();
"""

DROP = """
DROP TRIGGER IF EXISTS canteens_settlementline_locked ON canteens_settlementline;
DROP FUNCTION IF EXISTS canteens_settlementline_locked();
DROP TRIGGER IF EXISTS canteens_settlement_locked ON canteens_settlement;
DROP FUNCTION IF EXISTS canteens_settlement_locked();
DROP TRIGGER IF EXISTS canteens_meal_guard ON canteens_meal;
DROP FUNCTION IF EXISTS canteens_meal_guard();
DROP TRIGGER IF EXISTS canteens_fundmovement_append_only ON canteens_fundmovement;
DROP FUNCTION IF EXISTS canteens_append_only();
"""


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("canteens", "0001_initial")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]

"""The ledger's invariants that CHECK constraints cannot state, as PostgreSQL triggers (design.md §4):

- postings and stock movements are append-only: UPDATE and DELETE are refused (a correction is a
  reversal; TRUNCATE stays with the database's privileges, as for the audit log);
- the postings of a transaction sum to zero: a constraint trigger deferred to COMMIT sums the postings of
  every transaction a statement touched, so a service may write the legs one by one inside its transaction,
  but can never commit an unbalanced one.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION points_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER points_posting_append_only
    BEFORE UPDATE OR DELETE ON points_posting
    FOR EACH ROW EXECUTE FUNCTION points_append_only();
CREATE TRIGGER points_stockmovement_append_only
    BEFORE UPDATE OR DELETE ON points_stockmovement
    FOR EACH ROW EXECUTE FUNCTION points_append_only();

CREATE OR REPLACE FUNCTION points_transaction_balanced() RETURNS trigger AS $$
DECLARE
    total bigint;
BEGIN
    SELECT COALESCE(SUM(amount), 0) INTO total FROM points_posting WHERE transaction_id = NEW.transaction_id;
    IF total <> 0 THEN
        RAISE EXCEPTION 'points transaction % does not balance: postings sum to %', NEW.transaction_id, total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE CONSTRAINT TRIGGER points_posting_balanced
    AFTER INSERT ON points_posting
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION points_transaction_balanced();
"""

DROP = """
DROP TRIGGER IF EXISTS points_posting_balanced ON points_posting;
DROP FUNCTION IF EXISTS points_transaction_balanced();
DROP TRIGGER IF EXISTS points_stockmovement_append_only ON points_stockmovement;
DROP TRIGGER IF EXISTS points_posting_append_only ON points_posting;
DROP FUNCTION IF EXISTS points_append_only();
"""


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("points", "0001_initial")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]

"""A case's timeline is append-only: on PostgreSQL a trigger refuses UPDATE and DELETE on its rows
(a correction is a new entry), as for the audit log (governance 0003)."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION grids_caseevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'grids_caseevent is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER grids_caseevent_append_only
    BEFORE UPDATE OR DELETE ON grids_caseevent
    FOR EACH ROW EXECUTE FUNCTION grids_caseevent_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS grids_caseevent_append_only ON grids_caseevent;
DROP FUNCTION IF EXISTS grids_caseevent_append_only();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("grids", "0002_cases_workflow")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]

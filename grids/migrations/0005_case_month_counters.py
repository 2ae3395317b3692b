"""Per-(grid, month) and per-(grid, year) counters of the assessment, kept exact by triggers on
grids_case (PostgreSQL only).

grids_case_month holds, for every grid and calendar month (Asia/Shanghai, the month a case was *filed*
in; `period` is its first day), and grids_case_year for every grid and year, the counts the assessment
(grids.selectors.assessment) reads: filed, signed, signed_on_time, resolved, resolved_on_time,
followed_up, satisfied, rehandle_base, rehandled and resolved_late (the part of "overdue" that does not
depend on the clock: resolved after its deadline). The assessment reads whole years and months from
here (a year's row minus a month or two rather than ten month rows) and only the partial edge months
(and the open cases past their deadline, which depend on now) from the cases.

Kept by triggers in the same transaction as the change, so a statement sees counters and cases from
the same snapshot:
- AFTER INSERT / AFTER DELETE, once per statement, with the statement's rows as a transition table:
  a bulk load (the demo's COPY, bulk_create) adds one GROUP BY per statement, not one upsert per row;
- AFTER UPDATE OF the columns the counts read, per row, only when one of them changed: subtracts the
  old row's contribution and adds the new one's (a case re-zoned to another grid, or re-dated, moves);
  both tables, two upserts;
- AFTER TRUNCATE empties the counters.
Upserts go in (grid, period) order, so concurrent statements lock counter rows in the same order.

The counts are written out here, not imported: a migration must not change when the code does. The
definitions match grids.selectors.assessment._aggregates; grids.assessment_counters.counters_verify
compares both tables with a direct GROUP BY. The embedded SQLite demo has no counters (the assessment
counts the cases there). Reversible: the reverse drops index, triggers, functions and tables.
"""

from django.db import migrations

# The month and the year of a case, as the assessment's local days count them (settings.TIME_ZONE).
PERIODS = {
    "grids_case_month": "date_trunc('month', {r}.filed_at AT TIME ZONE 'Asia/Shanghai')::date",
    "grids_case_year": "date_trunc('year', {r}.filed_at AT TIME ZONE 'Asia/Shanghai')::date",
}

# name -> the condition on one case row `r` (None: every row). Same order as the tables' columns.
COUNTS = {
    "filed": None,
    "signed": "{r}.signed_on_time IS NOT NULL",
    "signed_on_time": "{r}.signed_on_time",
    "resolved": "{r}.resolved_on_time IS NOT NULL",
    "resolved_on_time": "{r}.resolved_on_time",
    "followed_up": "{r}.satisfaction <> ''",
    "satisfied": "{r}.satisfaction IN ('satisfied', 'basically')",
    "rehandle_base": "{r}.resolved_at IS NOT NULL OR {r}.rehandle_count > 0",
    "rehandled": "{r}.rehandle_count > 0",
    "resolved_late": "NOT {r}.resolved_on_time",
}
# The columns of grids_case the counts read: an UPDATE touching none of them does not fire.
READ = (
    "grid_id",
    "filed_at",
    "signed_on_time",
    "resolved_on_time",
    "satisfaction",
    "resolved_at",
    "rehandle_count",
)

COLUMNS = ", ".join(COUNTS)
UPSERT_SET = ", ".join(f"{name} = m.{name} + EXCLUDED.{name}" for name in COUNTS)


def _sums(sign: str) -> str:
    """The aggregate expressions of every count over rows `r`, each row weighing `sign` (1 or -1, or a
    column of `r` holding it)."""
    parts = []
    for condition in COUNTS.values():
        if condition is None:
            parts.append(f"sum({sign})")
        else:
            parts.append(f"coalesce(sum({sign}) FILTER (WHERE {condition.format(r='r')}), 0)")
    return ", ".join(parts)


def _add(source: str, sign: str) -> str:
    """Add the counts of the rows of `source` (aliased r), weighed by `sign`, to both tables."""
    return "\n".join(
        f"""
    INSERT INTO {table} AS m (grid_id, period, {COLUMNS})
    SELECT r.grid_id, {period.format(r="r")}, {_sums(sign)}
    FROM {source}
    GROUP BY 1, 2
    ORDER BY 1, 2
    ON CONFLICT (grid_id, period) DO UPDATE SET {UPSERT_SET};"""  # noqa: S608 - the module's constants
        for table, period in PERIODS.items()
    )


UPDATE_CHANGED = " OR ".join(f"OLD.{column} IS DISTINCT FROM NEW.{column}" for column in READ)
UPDATE_ROWS = (
    f"(VALUES (-1, {', '.join(f'OLD.{column}' for column in READ)}),"
    f" (1, {', '.join(f'NEW.{column}' for column in READ)})) AS r(sign, {', '.join(READ)})"
)
TABLES = "\n".join(
    f"""
CREATE TABLE {table} (
    grid_id bigint NOT NULL,
    period date NOT NULL,
    {", ".join(f"{name} integer NOT NULL DEFAULT 0" for name in COUNTS)},
    -- Period first: the assessment reads a few periods of many grids (the grids joined by hash).
    PRIMARY KEY (period, grid_id)
);
COMMENT ON TABLE {table} IS
    'Assessment counters per grid and {grain} filed (Asia/Shanghai), kept by triggers on grids_case';"""
    for table, grain in (("grids_case_month", "month"), ("grids_case_year", "year"))
)

CREATE = f"""
{TABLES}

CREATE FUNCTION grids_case_counters_insert() RETURNS trigger AS $$
BEGIN
    {_add("new_rows AS r", "1")}
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION grids_case_counters_delete() RETURNS trigger AS $$
BEGIN
    {_add("old_rows AS r", "-1")}
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION grids_case_counters_update() RETURNS trigger AS $$
BEGIN
    {_add(UPDATE_ROWS, "r.sign")}
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION grids_case_counters_truncate() RETURNS trigger AS $$
BEGIN
    DELETE FROM grids_case_month;
    DELETE FROM grids_case_year;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER grids_case_counters_insert AFTER INSERT ON grids_case
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION grids_case_counters_insert();
CREATE TRIGGER grids_case_counters_delete AFTER DELETE ON grids_case
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION grids_case_counters_delete();
CREATE TRIGGER grids_case_counters_update AFTER UPDATE OF {", ".join(READ)} ON grids_case
    FOR EACH ROW WHEN ({UPDATE_CHANGED})
    EXECUTE FUNCTION grids_case_counters_update();
CREATE TRIGGER grids_case_counters_truncate AFTER TRUNCATE ON grids_case
    FOR EACH STATEMENT EXECUTE FUNCTION grids_case_counters_truncate();

-- The open cases of the assessment's live part: those past their deadline count as overdue, which
-- depends on the clock. Few rows (the open cases only), in grid order like case_assessment.
CREATE INDEX case_assessment_open ON grids_case (grid_id, filed_at)
    INCLUDE (resolve_deadline, resolved_on_time)
    WHERE resolved_at IS NULL
      AND status IN ('submitted', 'accepted', 'assigned', 'signed', 'returned', 'in_progress', 'reopened');

-- The cases already there.
{_add("grids_case AS r", "1")}
ANALYZE grids_case_month, grids_case_year;
"""  # noqa: S608

DROP = """
DROP INDEX IF EXISTS case_assessment_open;
DROP TRIGGER IF EXISTS grids_case_counters_truncate ON grids_case;
DROP TRIGGER IF EXISTS grids_case_counters_update ON grids_case;
DROP TRIGGER IF EXISTS grids_case_counters_delete ON grids_case;
DROP TRIGGER IF EXISTS grids_case_counters_insert ON grids_case;
DROP FUNCTION IF EXISTS grids_case_counters_truncate();
DROP FUNCTION IF EXISTS grids_case_counters_update();
DROP FUNCTION IF EXISTS grids_case_counters_delete();
DROP FUNCTION IF EXISTS grids_case_counters_insert();
DROP TABLE IF EXISTS grids_case_year;
DROP TABLE IF EXISTS grids_case_month;
"""


def create_counters(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_counters(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("grids", "0004_case_assessment_and_queue_indexes")]

    operations = [migrations.RunPython(create_counters, drop_counters)]

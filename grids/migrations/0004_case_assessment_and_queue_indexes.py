"""Two covering indexes on grids_case (PostgreSQL only) for the pages that read many cases at once.

- case_assessment (grid_id, filed_at) INCLUDE (every column the assessment's counts read): the
  assessment (grids.selectors.assessment) counts the cases filed in a date range in a set of grids; with
  this index PostgreSQL reads them from the index alone (no visit to the 400-byte table rows), grid by
  grid and in grid order, and aggregates them as it reads. The county's year at county scale (~290,000
  cases) went from a hashed scan of the whole table to an index-only walk.
- case_queue_open (handling_region_id, status) INCLUDE (warning and the queue's filter columns), partial
  on the states a triage queue shows (grids.selectors.queue.QUEUE_TABS): the counts of every tab read
  only the open cases of the regions in scope, from the index alone, instead of every open case of the
  county through the status index.

Both are plain B-tree indexes the planner may use or not; no query depends on them for its result. The
embedded SQLite demo does without (INCLUDE is PostgreSQL's). Built inside the migration's transaction:
a few seconds at county scale, during which writes to grids_case wait.
"""

from django.db import migrations

# The states of the triage queue's tabs (grids.selectors.queue.QUEUE_TABS), spelled out: a migration must
# not change when the code does. A query for any subset of them can use the partial index.
QUEUE_STATES = (
    "submitted",
    "accepted",
    "assigned",
    "signed",
    "in_progress",
    "resolved",
    "followed_up",
    "returned",
    "reopened",
)

CREATE = f"""
CREATE INDEX case_assessment ON grids_case (grid_id, filed_at)
    INCLUDE (category_id, status, signed_on_time, resolved_on_time, satisfaction, resolved_at,
             rehandle_count, resolve_deadline);
CREATE INDEX case_queue_open ON grids_case (handling_region_id, status)
    INCLUDE (warning, urgency, level, category_id, grid_id, filed_at)
    WHERE status IN ({", ".join(f"'{state}'" for state in QUEUE_STATES)});
"""

DROP = """
DROP INDEX IF EXISTS case_queue_open;
DROP INDEX IF EXISTS case_assessment;
"""


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("grids", "0003_case_timeline_append_only")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]

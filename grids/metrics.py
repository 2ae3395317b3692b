"""The grids app's rollup metrics (governance/rollups/registry.py): cases filed, resolved (on time),
follow-up satisfaction and overdue supervisions, per grid and day.

- cases_filed: Case rows by filed_at (the assessment's cohort date), every status counted.
- cases_resolved / cases_resolved_on_time: "resolve" entries of the case timeline (CaseEvent) by their
  time; on time is the flag the workflow stored in the entry (data.on_time: resolved by the deadline;
  no deadline set: not on time, as grids.selectors.assessment leaves it out of the on-time side). An
  entry without the flag (written by the demo seed, not the workflow) is on time when its time is not
  after the case's resolve_deadline. A case re-handled and resolved again counts again.
- satisfaction_yes / satisfaction_total: "follow_up" entries; yes = 满意 + 基本满意, as the assessment's
  满意率 counts them.
- cases_overdue: red supervisions (超期督办) raised by the deadline task, by raised_at.
The timeline and supervisions are append-only and Case rows keep their grid and filing time, so every
feed is read by id.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from governance.rollups.registry import Feed, Metric, Part, Source, register
from grids.models import Case, CaseEvent, CaseSupervision

CASES = Case._meta.db_table
EVENTS = CaseEvent._meta.db_table
SUPERVISIONS = CaseSupervision._meta.db_table
DAY = "(({col}) AT TIME ZONE %(tz)s)::date"

register(
    source=Source(
        name="grids.cases",
        metrics=("grids.cases_filed",),
        parts=(
            Part(
                sql=(
                    f"SELECT c.filed_at AS at, {DAY.format(col='c.filed_at')} AS day, "  # noqa: S608
                    "c.grid_id AS region_id, "
                    f"1 AS m0 FROM {CASES} c WHERE {{filter}}"
                ),
                time_filter="c.filed_at >= {lo} AND c.filed_at < {hi}",
                region_column="c.grid_id",
            ),
        ),
        feeds=(
            Feed(
                name="grids.cases",
                table=CASES,
                touched_sql=(
                    f"SELECT DISTINCT {DAY.format(col='filed_at')} FROM {CASES} "  # noqa: S608
                    "WHERE {ids}"
                ),
            ),
        ),
        rule="Case.filed_at",
    ),
    metrics=[
        Metric("grids.cases_filed", _("上报诉求"), _("件"), source="grids.cases"),
    ],
)

register(
    source=Source(
        name="grids.case_events",
        metrics=(
            "grids.cases_resolved",
            "grids.cases_resolved_on_time",
            "grids.satisfaction_yes",
            "grids.satisfaction_total",
        ),
        parts=(
            Part(
                sql=(
                    f"SELECT e.at AS at, {DAY.format(col='e.at')} AS day, c.grid_id AS region_id, "  # noqa: S608
                    "CASE WHEN e.kind = 'resolve' THEN 1 ELSE 0 END AS m0, "
                    "CASE WHEN e.kind = 'resolve' AND CASE WHEN e.data ? 'on_time' "
                    "THEN e.data->>'on_time' = 'true' "
                    "ELSE e.at <= c.resolve_deadline END THEN 1 ELSE 0 END AS m1, "
                    "CASE WHEN e.kind = 'follow_up' "
                    "AND e.data->>'satisfaction' IN ('satisfied', 'basically') "
                    "THEN 1 ELSE 0 END AS m2, "
                    "CASE WHEN e.kind = 'follow_up' AND COALESCE(e.data->>'satisfaction', '') <> '' "
                    "THEN 1 ELSE 0 END AS m3 "
                    f"FROM {EVENTS} e JOIN {CASES} c ON c.id = e.case_id "
                    "WHERE e.kind IN ('resolve', 'follow_up') AND {filter}"
                ),
                time_filter="e.at >= {lo} AND e.at < {hi}",
                region_column="c.grid_id",
            ),
        ),
        feeds=(
            Feed(
                name="grids.case_events",
                table=EVENTS,
                touched_sql=(
                    f"SELECT DISTINCT {DAY.format(col='at')} FROM {EVENTS} "  # noqa: S608
                    "WHERE {ids} AND kind IN ('resolve', 'follow_up')"
                ),
            ),
        ),
        rule="CaseEvent kind resolve / follow_up, by CaseEvent.at",
    ),
    metrics=[
        Metric("grids.cases_resolved", _("办结诉求"), _("件"), source="grids.case_events"),
        Metric("grids.cases_resolved_on_time", _("按时办结"), _("件"), source="grids.case_events"),
        Metric("grids.satisfaction_yes", _("回访满意（含基本满意）"), _("件"), source="grids.case_events"),
        Metric("grids.satisfaction_total", _("回访"), _("件"), source="grids.case_events"),
    ],
)

register(
    source=Source(
        name="grids.supervisions",
        metrics=("grids.cases_overdue",),
        parts=(
            Part(
                sql=(
                    f"SELECT s.raised_at AS at, {DAY.format(col='s.raised_at')} AS day, "  # noqa: S608
                    f"c.grid_id AS region_id, 1 AS m0 FROM {SUPERVISIONS} s "
                    f"JOIN {CASES} c ON c.id = s.case_id WHERE s.kind = 'red' AND {{filter}}"
                ),
                time_filter="s.raised_at >= {lo} AND s.raised_at < {hi}",
                region_column="c.grid_id",
            ),
        ),
        feeds=(
            Feed(
                name="grids.supervisions",
                table=SUPERVISIONS,
                touched_sql=(
                    f"SELECT DISTINCT {DAY.format(col='raised_at')} FROM {SUPERVISIONS} "  # noqa: S608
                    "WHERE {ids} AND kind = 'red'"
                ),
            ),
        ),
        rule="CaseSupervision kind red, by raised_at",
    ),
    metrics=[
        Metric("grids.cases_overdue", _("超期督办"), _("件次"), source="grids.supervisions"),
    ],
)

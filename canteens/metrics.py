"""The canteens app's rollup metrics (governance/rollups/registry.py), per village (a site's region;
grid 0) and day. They follow canteens.selectors.reports:

- meals: person-times by served_on, a meal +1 and a correction's reversal meal −1 (dated in its own
  period, so it counts there), guests included — the report's 人次;
- subsidy_government_fen: Σ government_fen of the same rows (a reversal carries it negated);
- beneficiaries: distinct residents per month who had a meal of their own (not a guest's, not a
  reversal, not voided) at a canteen or attended a class at a classroom — the report's "people
  benefiting" (beneficiaries_count), exact at every level and over any run of months.

Meals are append-only except voided_at, which is set in the transaction that inserts the reversal: a
new reversal row therefore also names the original's month and resident as touched. Class attendance
is read by id (a deleted attendance is repaired by the nightly window or a full rebuild).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from canteens.models import ClassAttendance, ClassSession, Meal, Site
from governance.rollups.registry import Feed, Metric, Part, Source, register

MEALS = Meal._meta.db_table
SITES = Site._meta.db_table
SESSIONS = ClassSession._meta.db_table
ATTENDANCE = ClassAttendance._meta.db_table
AT = "(({col})::timestamp AT TIME ZONE %(tz)s)"
MONTH = "date_trunc('month', {col})::date"

register(
    source=Source(
        name="canteens.meals",
        metrics=("canteens.meals", "canteens.subsidy_government_fen"),
        time_kind="date",
        parts=(
            Part(
                sql=(
                    f"SELECT {AT.format(col='m.served_on')} AS at, m.served_on AS day, "  # noqa: S608
                    "s.region_id AS region_id, "
                    "CASE WHEN m.reverses_id IS NULL THEN 1 ELSE -1 END AS m0, m.government_fen AS m1 "
                    f"FROM {MEALS} m JOIN {SITES} s ON s.id = m.site_id WHERE {{filter}}"
                ),
                time_filter="m.served_on >= {lo} AND m.served_on < {hi}",
                region_column="s.region_id",
            ),
        ),
        feeds=(
            Feed(
                name="canteens.meals",
                table=MEALS,
                touched_sql=(
                    f"SELECT DISTINCT served_on FROM {MEALS} "  # noqa: S608
                    "WHERE {ids}"
                ),
            ),
        ),
        rule="Meal by served_on; a reversal −1",
    ),
    metrics=[
        Metric("canteens.meals", _("就餐人次"), _("人次"), source="canteens.meals"),
        Metric("canteens.subsidy_government_fen", _("政府补贴"), _("分"), source="canteens.meals"),
    ],
)

_STANDING = "m.is_guest = false AND m.reverses_id IS NULL AND m.voided_at IS NULL"

register(
    source=Source(
        name="canteens.beneficiaries",
        metrics=("canteens.beneficiaries",),
        distinct=True,
        time_kind="date",
        parts=(
            Part(
                sql=(
                    f"SELECT {AT.format(col='m.served_on')} AS at, {MONTH.format(col='m.served_on')} AS day, "  # noqa: S608
                    "s.region_id AS region_id, m.resident_id AS member_id "
                    f"FROM {MEALS} m JOIN {SITES} s ON s.id = m.site_id AND s.kind = 'canteen' "
                    f"WHERE {_STANDING} AND {{filter}}"
                ),
                time_filter="m.served_on >= {lo} AND m.served_on < {hi}",
                region_column="s.region_id",
                member_column="m.resident_id",
            ),
            Part(
                sql=(
                    f"SELECT {AT.format(col='cs.held_on')} AS at, {MONTH.format(col='cs.held_on')} AS day, "  # noqa: S608
                    "s.region_id AS region_id, ca.resident_id AS member_id "
                    f"FROM {ATTENDANCE} ca JOIN {SESSIONS} cs ON cs.id = ca.session_id "
                    f"JOIN {SITES} s ON s.id = cs.site_id AND s.kind = 'classroom' WHERE {{filter}}"
                ),
                time_filter="cs.held_on >= {lo} AND cs.held_on < {hi}",
                region_column="s.region_id",
                member_column="ca.resident_id",
            ),
        ),
        feeds=(
            Feed(
                name="canteens.beneficiaries.meals",
                table=MEALS,
                id_column="m.id",
                touched_sql=(
                    f"SELECT DISTINCT {MONTH.format(col='m.served_on')}, m.resident_id FROM {MEALS} m "  # noqa: S608
                    "WHERE {ids} AND m.resident_id IS NOT NULL "
                    f"UNION SELECT {MONTH.format(col='o.served_on')}, o.resident_id FROM {MEALS} m "
                    f"JOIN {MEALS} o ON o.id = m.reverses_id "
                    "WHERE {ids} AND o.resident_id IS NOT NULL"
                ),
            ),
            Feed(
                name="canteens.beneficiaries.attendance",
                table=ATTENDANCE,
                id_column="ca.id",
                touched_sql=(
                    f"SELECT DISTINCT {MONTH.format(col='cs.held_on')}, ca.resident_id FROM {ATTENDANCE} ca "  # noqa: S608
                    f"JOIN {SESSIONS} cs ON cs.id = ca.session_id "
                    "WHERE {ids}"
                ),
            ),
        ),
        rule="distinct residents: standing own meals at canteens + class attendance at classrooms",
    ),
    metrics=[
        Metric(
            "canteens.beneficiaries",
            _("受益群众"),
            _("人"),
            source="canteens.beneficiaries",
            distinct=True,
        ),
    ],
)

"""The assessment's per-(grid, month) and per-(grid, year) counters (tables grids_case_month and
grids_case_year, migration grids 0005): what they count, whether they can be used, how to check them
against the cases and how to rebuild them.

The triggers of migration grids 0005 keep both tables exact in the same transaction as every change to
grids_case (insert, delete, truncate, and an update of any column a count reads — a re-zoned or
re-dated case moves between rows). `counters_verify` compares the tables with a direct GROUP BY of the
cases; `counters_rebuild` recomputes them (after a load that bypassed the triggers, e.g. with
`session_replication_role = replica`). PostgreSQL only: the embedded SQLite demo counts the cases.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

MONTHS = "grids_case_month"
YEARS = "grids_case_year"
# The zone whose calendar the triggers bucket by (migration grids 0005, spelled out there). In another
# zone the counters' months would not be the assessment's months: it counts the cases instead.
TIME_ZONE = "Asia/Shanghai"
# table -> the period (first day of the month or year, local) of a grids_case row.
PERIODS = {
    MONTHS: f"date_trunc('month', filed_at AT TIME ZONE '{TIME_ZONE}')::date",
    YEARS: f"date_trunc('year', filed_at AT TIME ZONE '{TIME_ZONE}')::date",
}

# name -> condition on a grids_case row (None: every row), as in migration grids 0005 and
# grids.selectors.assessment._aggregates. "resolved_late" is the part of "overdue" that does not
# depend on the clock; the open cases past their deadline are counted live.
COUNTS: dict[str, str | None] = {
    "filed": None,
    "signed": "signed_on_time IS NOT NULL",
    "signed_on_time": "signed_on_time",
    "resolved": "resolved_on_time IS NOT NULL",
    "resolved_on_time": "resolved_on_time",
    "followed_up": "satisfaction <> ''",
    "satisfied": "satisfaction IN ('satisfied', 'basically')",
    "rehandle_base": "resolved_at IS NOT NULL OR rehandle_count > 0",
    "rehandled": "rehandle_count > 0",
    "resolved_late": "NOT resolved_on_time",
}


def counters_available() -> bool:
    """Whether the assessment may read the counters: PostgreSQL (the tables and their triggers exist
    there once migrated) and days in the zone the triggers bucket by (the assessment's days are the
    current time zone's: settings.TIME_ZONE unless a request activated another)."""
    return connection.vendor == "postgresql" and timezone.get_current_timezone_name() == TIME_ZONE


def count_expressions(sign: str = "") -> list[str]:
    """The COUNT(1) FILTER (...) expressions of every count, in COUNTS order, over grids_case; `sign` "-"
    negates them. COUNT(1): every column read is in the covering index case_assessment."""
    return [
        f"{sign}count(1)" if condition is None else f"{sign}count(1) FILTER (WHERE {condition})"
        for condition in COUNTS.values()
    ]


@dataclass(frozen=True)
class Mismatch:
    """A (table, grid, period) whose counters differ from the cases: both sides in COUNTS order."""

    table: str
    grid_id: int
    period: str
    counters: tuple[int, ...]
    cases: tuple[int, ...]


def _direct_sql(table: str) -> str:
    # Identifiers and conditions are this module's constants, never input (S608).
    counts = ", ".join(count_expressions())
    return f"SELECT grid_id, {PERIODS[table]} AS period, {counts} FROM grids_case GROUP BY 1, 2"  # noqa: S608


def counters_verify() -> list[Mismatch]:
    """Every (table, grid, period) where the counters differ from a direct GROUP BY of the cases (empty:
    exact). A counter row of zeros and no row at all are the same. One query, so one snapshot."""
    names = list(COUNTS)
    kept = ", ".join(f"coalesce(c.{name}, 0)" for name in names)
    counted = ", ".join(f"coalesce(d.d{i}, 0)" for i in range(len(names)))
    direct = ", ".join(f"d{i}" for i in range(len(names)))
    sql = " UNION ALL ".join(
        f"""
        (SELECT '{table}', coalesce(c.grid_id, d.grid_id), coalesce(c.period, d.period)::text,
                {kept}, {counted}
        FROM {table} AS c
        FULL JOIN ({_direct_sql(table)}) AS d (grid_id, period, {direct})
            ON d.grid_id = c.grid_id AND d.period = c.period
        WHERE ({kept}) IS DISTINCT FROM ({counted}))"""  # noqa: S608
        for table in PERIODS
    )
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} ORDER BY 1, 2, 3")
        rows = cursor.fetchall()
    n = len(names)
    return [
        Mismatch(
            table=row[0],
            grid_id=row[1],
            period=row[2],
            counters=tuple(row[3 : 3 + n]),
            cases=tuple(row[3 + n :]),
        )
        for row in rows
    ]


def counters_rebuild() -> int:
    """Recompute both tables from the cases (writes to grids_case wait meanwhile); the number of rows
    written."""
    names = ", ".join(COUNTS)
    written = 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE grids_case IN SHARE MODE")
        for table in PERIODS:
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608
            cursor.execute(f"INSERT INTO {table} (grid_id, period, {names}) {_direct_sql(table)}")
            written += cursor.rowcount
    return written

"""The coarser facts (design.md §5): the day × grid facts summed per village and day (VillageDayFact) and
per village and month (VillageMonthFact), which the county's and the townships' dashboards read.

At county scale a county year of one metric is about a million day × grid facts; a page of a dozen
metrics summed them in seconds. Per village they are a tenth of that per day, and three thousand rows
per month: a year's figures read whole months, a month's daily trend reads village days.

How they stay exact:
  - statement-level triggers on the facts table (migration 0010 installed them; TRIGGERS_SQL here is
    their current text) add each statement's changes — inserted rows, deleted rows negated, updated
    rows as new minus old — grouped once per statement, so every pass that writes facts (incremental,
    nightly, per township, in place) keeps them in its own transaction;
  - the full rebuild into empty facts writes the village days in the statements that write the facts
    (sql.village_days_cte), the months and yearly members from those (months_fill_sql,
    member_fill_sql), swaps them in with the facts (engine._rebuild_swapped), then puts the triggers on
    the new facts and members tables;
  - `rollup --verify` compares them with the facts (verify_sql()).
A cell whose facts were all deleted keeps a 0 (a sum reads it as nothing); verify treats 0 and no row
alike.

Readers: fact_rows_sql() gives the rows behind a set of metrics and a period for a county or a township
as a subquery, from these tables (whole months from the monthly table unless the caller groups by
day, the days around them from the daily one), or from the facts themselves for a village or a grid
and on a database without the triggers (the embedded SQLite demo).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection

from governance.models import METRIC_TYPE, MemberYear, VillageDayFact, VillageMonthFact
from governance.rollups.sql import FACTS, MEMBERS

MEMBER_YEARS = MemberYear._meta.db_table
VILLAGE_DAYS = VillageDayFact._meta.db_table
VILLAGE_MONTHS = VillageMonthFact._meta.db_table
# The columns a coarse row shares with a fact (besides its day or month).
PLACE = ("county_id", "township_id", "village_id")
# The levels read from the coarse tables: their children (townships, villages) are columns of them.
COARSE_COLUMNS = ("county_id", "township_id")
MONTH_OF_DAY = "date_trunc('month', day)::date"

NEW_ROWS = "rollup_fact_new"
OLD_ROWS = "rollup_fact_old"
PREFIX = "rollup_coarse"


def _changes(operation: str) -> str:
    """The rows one statement added to the facts (a deletion negated) as (metric, day, place…, value)."""
    columns = ", ".join(("metric", "day", *PLACE))
    new = f"SELECT {columns}, value FROM {NEW_ROWS}"  # noqa: S608
    old = f"SELECT {columns}, -value FROM {OLD_ROWS}"  # noqa: S608
    return {"INSERT": new, "DELETE": old, "UPDATE": f"{new} UNION ALL {old}"}[operation]


def apply_sql(changes: str, *, days: str = VILLAGE_DAYS, months: str = VILLAGE_MONTHS) -> str:
    """One statement adding the fact rows `changes` selects to both coarse tables: grouped once per
    village and day, those groups again per month; rows in key order (concurrent writers lock alike)."""
    place = ", ".join(PLACE)
    return f"""
WITH d AS (
    SELECT metric, day, {place}, SUM(value) AS value
    FROM ({changes}) AS c (metric, day, {place}, value)
    GROUP BY metric, day, {place} HAVING SUM(value) <> 0
), by_day AS (
    INSERT INTO {days} AS t (metric, day, {place}, value)
    SELECT metric, day, {place}, value FROM d ORDER BY metric, day, township_id, village_id
    ON CONFLICT (metric, day, township_id, village_id) DO UPDATE SET value = t.value + EXCLUDED.value
)
INSERT INTO {months} AS t (metric, month, {place}, value)
SELECT metric, {MONTH_OF_DAY}, {place}, SUM(value) FROM d
GROUP BY metric, {MONTH_OF_DAY}, {place} HAVING SUM(value) <> 0
ORDER BY 1, 2, 4, 5
ON CONFLICT (metric, month, township_id, village_id) DO UPDATE SET value = t.value + EXCLUDED.value
"""  # noqa: S608 - table names are constants


def triggers_sql(
    *, table: str, prefix: str, apply: Callable[[str], str], cleared: Sequence[str], new: str, old: str
) -> str:
    """The functions and statement-level triggers keeping tables derived from `table`: `prefix`_apply
    runs `apply(operation)` (INSERT, DELETE or UPDATE: the statement whose transition tables are `new`
    and `old`), `prefix`_clear empties `cleared` after a TRUNCATE."""
    clear = "".join(f"\n    DELETE FROM {name};" for name in cleared)  # noqa: S608
    return f"""
CREATE OR REPLACE FUNCTION {prefix}_apply() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {apply("INSERT")};
    ELSIF TG_OP = 'DELETE' THEN
        {apply("DELETE")};
    ELSE
        {apply("UPDATE")};
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION {prefix}_clear() RETURNS trigger AS $$
BEGIN{clear}
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER {prefix}_insert AFTER INSERT ON {table}
    REFERENCING NEW TABLE AS {new} FOR EACH STATEMENT EXECUTE FUNCTION {prefix}_apply();
CREATE TRIGGER {prefix}_update AFTER UPDATE ON {table}
    REFERENCING OLD TABLE AS {old} NEW TABLE AS {new}
    FOR EACH STATEMENT EXECUTE FUNCTION {prefix}_apply();
CREATE TRIGGER {prefix}_delete AFTER DELETE ON {table}
    REFERENCING OLD TABLE AS {old} FOR EACH STATEMENT EXECUTE FUNCTION {prefix}_apply();
CREATE TRIGGER {prefix}_clear AFTER TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION {prefix}_clear();
"""


# The triggers' current text (migration 0010 holds the text it installed).
TRIGGERS_SQL = triggers_sql(
    table=FACTS,
    prefix=PREFIX,
    apply=lambda operation: apply_sql(_changes(operation)),
    cleared=(VILLAGE_DAYS, VILLAGE_MONTHS),
    new=NEW_ROWS,
    old=OLD_ROWS,
)


def months_fill_sql(*, days: str = VILLAGE_DAYS, months: str = VILLAGE_MONTHS) -> str:
    """Fill an empty monthly table from the daily one (the rebuild's statements fill that one as they
    write the facts: sql.village_days_cte)."""
    place = ", ".join(PLACE)
    return (
        f"INSERT INTO {months} (metric, month, {place}, value) "  # noqa: S608
        f"SELECT metric, {MONTH_OF_DAY}, {place}, SUM(value) FROM {days} "
        f"GROUP BY metric, {MONTH_OF_DAY}, {place}"
    )


def verify_sql(since: dt.date | None, metrics: Sequence[str] | None, params: dict[str, Any]) -> str:
    """Rows (grain, metric, day or month, county, township, village, stored, from the facts) where a
    coarse table differs from the facts summed (0 and no row count alike)."""
    place = ", ".join(PLACE)
    on = " AND ".join(f"s.{c} = x.{c}" for c in ("metric", "day", "township_id", "village_id"))
    conditions = []
    if since is not None:
        params["coarse_since"] = since
        params["coarse_since_month"] = since.replace(day=1)
    if metrics is not None:
        params["coarse_metrics"] = list(metrics)
        conditions.append(f"metric = ANY(%(coarse_metrics)s::{METRIC_TYPE}[])")
    parts = []
    for grain, table, column, expression, lower in (
        ("village-day", VILLAGE_DAYS, "day", "day", "coarse_since"),
        ("village-month", VILLAGE_MONTHS, "month", MONTH_OF_DAY, "coarse_since_month"),
    ):
        where = [*conditions, *([f"day >= %({lower})s"] if since is not None else [])]
        stored_where = [*conditions, *([f"{column} >= %({lower})s"] if since is not None else [])]
        parts.append(
            f"SELECT '{grain}', COALESCE(s.metric, x.metric), COALESCE(s.day, x.day), "  # noqa: S608
            "COALESCE(s.county_id, x.county_id), COALESCE(s.township_id, x.township_id), "
            "COALESCE(s.village_id, x.village_id), COALESCE(s.value, 0), COALESCE(x.value, 0) "
            f"FROM (SELECT metric, {column} AS day, {place}, value FROM {table} "
            f"WHERE {' AND '.join(stored_where) or 'TRUE'}) AS s "
            f"FULL JOIN (SELECT metric, {expression} AS day, {place}, SUM(value) AS value FROM {FACTS} "
            f"WHERE {' AND '.join(where) or 'TRUE'} GROUP BY metric, {expression}, {place}) AS x ON {on} "
            "WHERE COALESCE(s.value, 0) <> COALESCE(x.value, 0)"
        )
    return " UNION ALL ".join(parts) + " ORDER BY 1, 2, 3, 5, 6"


# --- the members per year ---------------------------------------------------------------------------

MEMBER_NEW = "rollup_member_new"
MEMBER_OLD = "rollup_member_old"
MEMBER_PREFIX = "rollup_member_year"
YEAR_KEY = ("metric", "year", "level", "region_id", "parent_id", "member_id")
# MemberYear.level: a member row counts at its county (1) and its township (2).
COUNTY, TOWNSHIP = 1, 2
LEVEL_OF_COLUMN = {"county_id": COUNTY, "township_id": TOWNSHIP}


def _member_levels(rows: str) -> str:
    """`rows` (metric, month, county_id, township_id, village_id, member_id, n) as one row per level:
    (metric, year, level, region_id, parent_id, member_id, n)."""
    return (
        f"SELECT m.metric, EXTRACT(YEAR FROM m.month)::smallint, l.level, l.region_id, l.parent_id, "  # noqa: S608
        f"m.member_id, m.n FROM ({rows}) "
        "AS m (metric, month, county_id, township_id, village_id, member_id, n) "
        f"CROSS JOIN LATERAL (VALUES ({COUNTY}::smallint, m.county_id, 0), "
        f"({TOWNSHIP}::smallint, m.township_id, m.county_id)) "
        "AS l (level, region_id, parent_id)"
    )


def _member_rows(table: str, n: int, where: str = "") -> str:
    """`table`'s member rows, each counted `n` times: the rows _member_levels takes."""
    return f"SELECT metric, month, county_id, township_id, village_id, member_id, {n} FROM {table}{where}"  # noqa: S608


def _member_years(rows: str) -> str:
    """`rows` (_member_rows) summed per yearly member: (metric, year, level, region_id, parent_id,
    member_id, support)."""
    key = ", ".join(YEAR_KEY)
    return f"SELECT {key}, SUM(n) FROM ({_member_levels(rows)}) AS c ({key}, n) GROUP BY {key}"  # noqa: S608


def _member_changes(operation: str) -> str:
    new = _member_rows(MEMBER_NEW, 1)
    old = _member_rows(MEMBER_OLD, -1)
    return {"INSERT": new, "DELETE": old, "UPDATE": f"{new} UNION ALL {old}"}[operation]


def member_apply_sql(operation: str, *, table: str = MEMBER_YEARS) -> str:
    """The statements adding one statement's member rows to the yearly members (support counted), then,
    where rows went away, deleting the yearly rows left without support."""
    key = ", ".join(YEAR_KEY)
    upsert = (
        f"INSERT INTO {table} AS t ({key}, support) "
        f"{_member_years(_member_changes(operation))} HAVING SUM(n) <> 0 ORDER BY {key} "
        f"ON CONFLICT ({key}) DO UPDATE SET support = t.support + EXCLUDED.support"
    )
    if operation == "INSERT":
        return upsert
    on = " AND ".join(f"t.{c} = c.{c}" for c in YEAR_KEY)
    prune = (
        f"DELETE FROM {table} AS t USING (SELECT DISTINCT {key} FROM "  # noqa: S608
        f"({_member_levels(_member_changes('DELETE'))}) AS c ({key}, n)) AS c WHERE {on} AND t.support <= 0"
    )
    return f"{upsert};\n        {prune}"


# The triggers' current text (migration 0011 holds the text it installed).
MEMBER_TRIGGERS_SQL = triggers_sql(
    table=MEMBERS,
    prefix=MEMBER_PREFIX,
    apply=member_apply_sql,
    cleared=(MEMBER_YEARS,),
    new=MEMBER_NEW,
    old=MEMBER_OLD,
)


def member_fill_sql(*, members: str = MEMBERS, table: str = MEMBER_YEARS) -> str:
    """Fill an empty yearly members table from the members."""
    key = ", ".join(YEAR_KEY)
    return f"INSERT INTO {table} ({key}, support) {_member_years(_member_rows(members, 1))}"


def member_verify_sql(since: dt.date | None, metrics: Sequence[str] | None, params: dict[str, Any]) -> str:
    """Rows (metric, year, level, region_id, parent_id, member_id, stored support, member rows) where
    the yearly members differ from the members (years from `since`'s)."""
    key = ", ".join(YEAR_KEY)
    conditions, member_conditions = [], []
    if since is not None:
        params["member_since_year"] = since.year
        conditions.append("year >= %(member_since_year)s")
        member_conditions.append("EXTRACT(YEAR FROM month) >= %(member_since_year)s")
    if metrics is not None:
        params["member_metrics"] = list(metrics)
        for where in (conditions, member_conditions):
            where.append(f"metric = ANY(%(member_metrics)s::{METRIC_TYPE}[])")
    rows = _member_rows(MEMBERS, 1, f" WHERE {' AND '.join(member_conditions) or 'TRUE'}")
    on = " AND ".join(f"s.{c} = x.{c}" for c in YEAR_KEY)
    pick = ", ".join(f"COALESCE(s.{c}, x.{c})" for c in YEAR_KEY)
    return (
        f"SELECT {pick}, COALESCE(s.support, 0), COALESCE(x.support, 0) "  # noqa: S608
        f"FROM (SELECT {key}, support FROM {MEMBER_YEARS} WHERE {' AND '.join(conditions) or 'TRUE'}) AS s "
        f"FULL JOIN ({_member_years(rows)}) AS x ({key}, support) ON {on} "
        "WHERE COALESCE(s.support, 0) <> COALESCE(x.support, 0) ORDER BY 1, 2, 3, 4, 5, 6"
    )


def is_whole_year(start: dt.date, end: dt.date) -> bool:
    return (start.month, start.day, end.month, end.day) == (1, 1, 12, 31) and start.year == end.year


# --- reading --------------------------------------------------------------------------------------------


def is_kept() -> bool:
    """Whether this database keeps the coarse tables (PostgreSQL: the triggers of migration 0010)."""
    return connection.vendor == "postgresql"


def _month_split(
    lo: dt.date, hi: dt.date
) -> tuple[list[tuple[dt.date, dt.date]], tuple[dt.date, dt.date] | None]:
    """[lo, hi) as the whole months inside it ([first month, month after the last) or None) and the day
    ranges around them (half-open)."""
    # Imported here: the engine imports this module.
    from governance.rollups.engine import month_after

    first = lo if lo.day == 1 else month_after(lo)
    last = hi if hi.day == 1 else hi.replace(day=1)
    if first >= last:
        return [(lo, hi)], None
    days = [(a, b) for a, b in ((lo, first), (last, hi)) if a < b]
    return days, (first, last)


def fact_rows_sql(
    *,
    column: str,
    region_id: int,
    summed: Sequence[str],
    last: Sequence[str],
    start: dt.date,
    end: dt.date,
    by_day: bool = False,
) -> tuple[str, list[Any]]:
    """A subquery of (metric, day, county_id, township_id, village_id, value) rows whose sums are the
    facts of `region_id` (its level's id `column`) behind a period [start, end]: of the `summed` metrics
    the days of the period, of the `last` ones (a balance) every day up to its end. A row's day is a
    day, or a month's first day standing for the whole month — never inside the period when `by_day`
    (the caller groups by day), always a whole month inside [start, end] or before `start`. For a
    village or a grid (or without the coarse tables): the facts themselves (with grid_id too)."""
    if column not in COARSE_COLUMNS or not is_kept():
        return (
            f"SELECT * FROM {FACTS} WHERE {column} = %s AND ("  # noqa: S608
            f"(metric = ANY(%s::{METRIC_TYPE}[]) AND day >= %s AND day <= %s) "
            f"OR (metric = ANY(%s::{METRIC_TYPE}[]) AND day <= %s))",
            [region_id, list(summed), start, end, list(last), end],
        )
    place = ", ".join(PLACE)
    selects: list[str] = []
    params: list[Any] = []

    def read(table: str, time: str, metrics: list[str], lo: dt.date | None, hi: dt.date) -> None:
        """Rows of `table` (its `time` column: day or month) in [lo, hi) (lo None: everything before hi)."""
        lower = f"{time} >= %s AND " if lo is not None else ""
        selects.append(
            f"SELECT metric, {time} AS day, {place}, value FROM {table} "  # noqa: S608
            f"WHERE {column} = %s AND metric = ANY(%s::{METRIC_TYPE}[]) AND {lower}{time} < %s"
        )
        params.extend([region_id, metrics, *([lo] if lo is not None else []), hi])

    def days(metrics: list[str], lo: dt.date | None, hi: dt.date) -> None:
        read(VILLAGE_DAYS, "day", metrics, lo, hi)

    def months(metrics: list[str], lo: dt.date | None, hi: dt.date) -> None:
        read(VILLAGE_MONTHS, "month", metrics, lo, hi)

    after = end + dt.timedelta(days=1)
    within = [*summed, *last]
    if within:
        if by_day:
            days(within, start, after)
        else:
            day_ranges, whole = _month_split(start, after)
            for lo, hi in day_ranges:
                days(within, lo, hi)
            if whole is not None:
                months(within, *whole)
    if last:
        # Everything before the period: whole months, then the days of start's month before it.
        opening = start.replace(day=1)
        months(list(last), None, opening)
        if opening < start:
            days(list(last), opening, start)
    if not selects:
        return f"SELECT metric, day, {place}, value FROM {VILLAGE_DAYS} WHERE FALSE", []  # noqa: S608
    return " UNION ALL ".join(selects), params


def member_counts_sql(
    *, column: str, region_id: int, metrics: Sequence[str], year: int, children: bool = True
) -> tuple[str, list[Any]] | None:
    """The distinct counts of `metrics` in calendar year `year` for a county or a township (its level's
    id `column`) and, with `children`, for each of a county's townships, from the yearly members: rows
    (metric, child id or NULL for the region itself, count). None where they do not apply: a village or
    a grid, a township's villages (the caller counts the members), no triggers."""
    level = LEVEL_OF_COLUMN.get(column)
    if level is None or (children and level != COUNTY) or not is_kept():
        return None
    # A child is a row one level below the region's (a township's own row is never its county's child).
    params: list[Any] = [level + 1, list(metrics), year, level, region_id]
    below = ""
    if children:
        below = " OR (level = %s AND parent_id = %s)"
        params += [TOWNSHIP, region_id]
    return (
        f"SELECT metric, CASE WHEN level = %s THEN region_id END, COUNT(*) FROM {MEMBER_YEARS} "  # noqa: S608
        f"WHERE metric = ANY(%s::{METRIC_TYPE}[]) AND year = %s "
        f"AND ((level = %s AND region_id = %s){below}) GROUP BY metric, level, region_id",
        params,
    )

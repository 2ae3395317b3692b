"""The SQL the engine runs, built once per source and scope from the sources' parts.

Every statement has the same spine:
  mv   the regions' earlier homes: for each RegionMove, the region's old_path over the interval
       [previous move, this move). An event at `at` lies in the interval of the first move with
       moved_at > at, so joining on the interval is "the old_path of the first RegionMove of that grid
       after the event, else its current path" — the region as it was when the event happened. (An
       interval join rather than a LATERAL subquery per row: the moves are few, so PostgreSQL hashes
       them once and a source row costs one probe instead of one index lookup.)
  src  the source's parts, UNION ALL, each with the engine's filter in place of `{filter}`;
  g    grouped by (day, region, moved path) — integers and a mostly-NULL text, cheap to hash — so the
       path arithmetic below runs per group, not per source row;
  k    the path as it was (COALESCE(moved path, current path)), split into its ancestor ids:
       split_part(path, '/', n) is the county (1), township (2), village (3) and grid (4); a level the
       path does not reach is 0.
A summed source's metrics are columns m0, m1, … of one row, unpivoted only after grouping; values that
net to zero are left out. write_sql turns the result into one statement that changes only the stored
rows that differ.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone

from governance.models import METRIC_TYPE, MetricFact, MetricMember, Region, RegionMove
from governance.rollups.registry import Part, Source

FACTS = MetricFact._meta.db_table
MEMBERS = MetricMember._meta.db_table
KEY = ("metric", "day", "county_id", "township_id", "village_id", "grid_id")
MEMBER_KEY = ("metric", "month", "county_id", "township_id", "village_id", "grid_id", "member_id")


@dataclass(frozen=True)
class Scope:
    """Which source rows a statement reads. None means no restriction of that kind.

    ranges: half-open [first day, day after the last) ranges of fact days (a distinct source: months'
    first days); regions: the region ids (the full rebuild's township candidates); members: member
    ids (a distinct source's incremental pass); ids: row id ranges (the incremental pass of a source
    whose members only grow); township: keep only facts of this township id."""

    ranges: tuple[tuple[dt.date, dt.date], ...] | None = None
    regions: tuple[int, ...] | None = None
    members: tuple[int, ...] | None = None
    # Inclusive (first, last) ranges of the feed's row ids, on each part's id_column: the new rows of a
    # source whose members only grow (registry.Source.members_only_grow).
    ids: tuple[tuple[int, int], ...] | None = None
    township: int | None = None
    # False when the caller knows there is no RegionMove (and keeps moves out while it runs): the
    # statement then leaves out the interval join on the moves, every row at its region's path now.
    moves: bool = True


def moves_cte() -> str:
    # A move's old path equal to the region's path now (moved away and back) is written as NULL, the
    # same as "no move": then (region, moved path) names exactly one path, and grouping by it needs no
    # second pass to merge the groups of one fact key.
    return (
        "mv AS (SELECT m.region_id, NULLIF(m.old_path, r.path) AS path, "  # noqa: S608
        "COALESCE(LAG(m.moved_at) OVER (PARTITION BY m.region_id ORDER BY m.moved_at, m.id), "
        "'-infinity'::timestamptz) AS after, m.moved_at AS until "
        f"FROM {RegionMove._meta.db_table} m JOIN {Region._meta.db_table} r ON r.id = m.region_id)"
    )


PATH_AT_JOIN = "LEFT JOIN mv ON mv.region_id = s.region_id AND s.at >= mv.after AND s.at < mv.until"


def _moves(scope: Scope) -> tuple[str, str, str]:
    """(the moves CTE and a comma, the moved path column, the join) — or, without moves, a NULL path."""
    if scope.moves:
        return f"{moves_cte()}, ", "mv.path", PATH_AT_JOIN
    return "", "NULL::text", ""


RID_JOIN = "JOIN rid r ON r.id = g.region_id"
# Keeps PostgreSQL from pulling the grouped, id-joined subquery up into the unpivot below it: it would
# otherwise unpivot first and look the region up once per metric (2.9 M probes instead of 1.2 M for
# the points postings at county scale).
FENCE = "OFFSET 0"
K_IDS = "k.county_id, k.township_id, k.village_id, k.grid_id"


LEVELS = ("county_id", "township_id", "village_id", "grid_id")


def _ids_of_k() -> str:
    """The ancestor ids of a group: its region's (rid: split once per region, not per group or fact),
    or, a group of a moved grid's earlier rows, those of the path it had then."""
    return ", ".join(
        f"CASE WHEN g.moved_path IS NULL THEN r.{level} ELSE {_level_id('g.moved_path', n)} END AS {level}"
        for n, level in enumerate(LEVELS)
    )


def _level_id(path: str, n: int) -> str:
    """The id at depth n (0: county) of a region path; 0 where the path does not reach."""
    if n == 0:
        return f"split_part({path}, '/', 1)::integer"
    return f"COALESCE(NULLIF(split_part({path}, '/', {n + 1}), '')::integer, 0)"


def _rid_cte(scope: Scope) -> str:
    """The regions' ancestor ids. A whole source or township (the full rebuild: millions of groups) splits
    each region's path once, MATERIALIZED, and hashes it. A narrow scope (an incremental pass, the
    nightly window: a day's or a month's rows) lets PostgreSQL inline it instead: it then looks the few
    thousand groups' regions up by primary key. Materialized there, the CTE met a grouping PostgreSQL
    had guessed at a dozen rows (the time filters' estimates multiply) with a nested loop over all
    3,832 regions per group — 8.8 M comparisons, 1.2 s for one new day at county scale, 6.7 s for
    15,000 members (docs/benchmarks.md)."""
    narrow = scope.ranges is not None or scope.members is not None or scope.ids is not None
    materialized = "NOT MATERIALIZED" if narrow else "MATERIALIZED"
    return f"rid AS {materialized} (SELECT id, {_ids('path')} FROM {Region._meta.db_table}), "  # noqa: S608


def _ids(path: str) -> str:
    return ", ".join(f"{_level_id(path, n)} AS {level}" for n, level in enumerate(LEVELS))


def _bound(day: dt.date, time_kind: str) -> dt.date | dt.datetime:
    if time_kind == "date":
        return day
    # Local midnight: a fact's day is the event's date in the county's time zone.
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _part_filter(part: Part, source: Source, scope: Scope, params: dict[str, Any], n: int) -> str:
    conditions: list[str] = []
    if scope.ranges is not None:
        if not scope.ranges:
            return "FALSE"
        alternatives = []
        for i, (lo, hi) in enumerate(scope.ranges):
            lo_name, hi_name = f"p{n}_lo{i}", f"p{n}_hi{i}"
            params[lo_name] = _bound(lo, source.time_kind)
            params[hi_name] = _bound(hi, source.time_kind)
            alternatives.append("(" + part.time_filter.format(lo=f"%({lo_name})s", hi=f"%({hi_name})s") + ")")
        conditions.append("(" + " OR ".join(alternatives) + ")")
    if scope.regions is not None:
        params["regions"] = list(scope.regions)
        conditions.append(f"{part.region_column} = ANY(%(regions)s::bigint[])")
    if scope.members is not None:
        params["members"] = list(scope.members)
        conditions.append(f"{part.member_column} = ANY(%(members)s::bigint[])")
    if scope.ids is not None:
        if not scope.ids:
            return "FALSE"
        between = []
        for i, (first, last) in enumerate(scope.ids):
            params[f"ids_lo{i}"], params[f"ids_hi{i}"] = int(first), int(last)
            between.append(f"{part.id_column} BETWEEN %(ids_lo{i})s AND %(ids_hi{i})s")
        conditions.append("(" + " OR ".join(between) + ")")
    return " AND ".join(conditions) if conditions else "TRUE"


def _src(source: Source, scope: Scope, params: dict[str, Any]) -> str:
    params["tz"] = settings.TIME_ZONE
    return " UNION ALL ".join(
        "(" + part.sql.format(filter=_part_filter(part, source, scope, params, n)) + ")"
        for n, part in enumerate(source.parts)
    )


def _township_where(scope: Scope, params: dict[str, Any]) -> str:
    if scope.township is None:
        return ""
    params["township"] = scope.township
    return "AND k.township_id = %(township)s"


def _sums_and_values(source: Source, params: dict[str, Any]) -> tuple[str, list[str]]:
    """A summed source's grouping sums (m0, m1, … over its rows `s`) and the VALUES rows that unpivot
    them from `k` into (metric, value), its metric names bound as params metric_0, metric_1, …"""
    sums = ", ".join(f"SUM(s.m{i})::bigint AS m{i}" for i in range(len(source.metrics)))
    values = []
    for i, name in enumerate(source.metrics):
        params[f"metric_{i}"] = name
        values.append(f"(%(metric_{i})s::{METRIC_TYPE}, k.m{i})")
    return sums, values


def village_days_cte(into: str, values: list[str], n: int) -> str:
    """A data-modifying CTE writing the facts of `k` summed per village and day (the coarse
    VillageDayFact rows, governance/rollups/coarse.py) into `into`: the rebuild's statements group their
    (day, grid) rows again per village — a third as many rows as the unpivoted facts for the points,
    all metrics at once — instead of grouping the 4 million new facts afterwards (2.7 s at county
    scale)."""
    sums = ", ".join(f"SUM(k.m{i})::bigint AS m{i}" for i in range(n))
    return (
        f"village_days_in AS (INSERT INTO {into} (metric, day, county_id, township_id, village_id, value) "  # noqa: S608
        "SELECT v.metric, k.day, k.county_id, k.township_id, k.village_id, v.value FROM "
        f"(SELECT k.day, k.county_id, k.township_id, k.village_id, {sums} FROM k GROUP BY 1, 2, 3, 4) AS k "
        f"CROSS JOIN LATERAL (VALUES {', '.join(values)}) AS v(metric, value) WHERE v.value <> 0)"
    )


def fact_select(source: Source, scope: Scope, params: dict[str, Any]) -> tuple[str, str]:
    """(WITH clause, final SELECT) giving the facts of a summed `source` over `scope`: columns
    metric, day, county_id, township_id, village_id, grid_id, value. Each (region, moved path) names
    one path and a path its ids, so each fact key comes out once."""
    mv_cte, moved, join = _moves(scope)
    n = len(source.metrics)
    sums, values = _sums_and_values(source, params)
    with_clause = (
        f"WITH {mv_cte}{_rid_cte(scope)}src AS ({_src(source, scope, params)}), "  # noqa: S608
        f"g AS (SELECT s.day, s.region_id, {moved} AS moved_path, {sums} FROM src s {join} "
        f"GROUP BY 1, 2{', 3' if scope.moves else ''}), "
        f"k AS (SELECT g.day, {_ids_of_k()}, "
        f"{', '.join(f'g.m{i}' for i in range(n))} FROM g {RID_JOIN} {FENCE}) "
    )
    final = (
        f"SELECT v.metric, k.day, {K_IDS}, v.value "  # noqa: S608
        f"FROM k CROSS JOIN LATERAL (VALUES {', '.join(values)}) AS v(metric, value) "
        f"WHERE v.value <> 0 {_township_where(scope, params)}"
    )
    return with_clause, final


def member_select(source: Source, scope: Scope, params: dict[str, Any]) -> tuple[str, str]:
    """(WITH clause, final SELECT) giving the member rows of a distinct `source` over `scope`:
    columns metric, month, county_id, township_id, village_id, grid_id, member_id."""
    mv_cte, moved, join = _moves(scope)
    params["metric_0"] = source.metrics[0]
    with_clause = (
        f"WITH {mv_cte}{_rid_cte(scope)}src AS ({_src(source, scope, params)}), "  # noqa: S608
        f"g AS (SELECT DISTINCT s.day, s.region_id, {moved} AS moved_path, s.member_id "
        f"FROM src s {join}), "
        f"k AS (SELECT g.day, {_ids_of_k()}, g.member_id FROM g {RID_JOIN}) "
    )
    final = (
        f"SELECT %(metric_0)s::{METRIC_TYPE} AS metric, k.day AS month, {K_IDS}, k.member_id "  # noqa: S608
        f"FROM k WHERE TRUE {_township_where(scope, params)}"
    )
    return with_clause, final


def write_sql(source: Source, scope: Scope, owned: str, params: dict[str, Any]) -> str:
    """One statement that makes the stored facts (or members) of `source` under the condition `owned`
    (on the stored table's columns: the cells this recompute is responsible for) equal to those
    computed over `scope`: a FULL OUTER JOIN of the computed and the stored rows keeps those that
    differ; it deletes the stored rows the computation no longer gives and inserts or updates the
    rest, writing only rows that change. Rewriting unchanged cells would leave a dead
    row version per cell and pass (a pass every few minutes rewrites today's cells), and each unique
    check would then wade through them until autovacuum came by. Returns one row: (deleted, written).

    `owned` must select exactly the keys the computation can produce over `scope` (the same days, or
    township, or months and members), so nothing outside it is touched."""
    if source.distinct:
        with_clause, final = member_select(source, scope, params)
        key: tuple[str, ...] = MEMBER_KEY
        table, columns, differs = MEMBERS, MEMBER_KEY, "FALSE"
        on_conflict = "ON CONFLICT DO NOTHING"
    else:
        with_clause, final = fact_select(source, scope, params)
        key = KEY[:2] + KEY[3:]
        table, columns = FACTS, (*KEY, "value")
        differs = "n.value <> f.value OR n.county_id <> f.county_id"
        on_conflict = (
            f"ON CONFLICT ({', '.join(key)}) DO UPDATE "
            "SET value = EXCLUDED.value, county_id = EXCLUDED.county_id"
        )
    on = " AND ".join(f"n.{c} = f.{c}" for c in key)
    listed = ", ".join(columns)
    # One pass over the stored rows the recompute owns, joined to the computed ones: only the rows that
    # differ go on — those stored only are deleted, the others inserted or updated. (Unchanged rows are
    # never touched: ON CONFLICT DO UPDATE would lock, that is write, every row it meets.)
    return (
        f"{with_clause}, new AS ({final}), "  # noqa: S608
        f"diff AS MATERIALIZED (SELECT {', '.join(f'n.{c}' for c in columns)}, "
        f"{', '.join(f'f.{c} AS old_{c}' for c in key)} "
        f"FROM new n FULL OUTER JOIN (SELECT {listed} FROM {table} f WHERE {owned}) f ON {on} "
        f"WHERE n.metric IS NULL OR f.metric IS NULL OR {differs}), "
        f"gone AS (DELETE FROM {table} f USING diff d WHERE d.metric IS NULL AND "
        f"{' AND '.join(f'f.{c} = d.old_{c}' for c in key)} RETURNING 1), "
        f"put AS (INSERT INTO {table} ({listed}) SELECT {listed} FROM diff WHERE metric IS NOT NULL "
        f"{on_conflict} RETURNING 1) "
        "SELECT (SELECT COUNT(*) FROM gone), (SELECT COUNT(*) FROM put)"
    )


def insert_sql(
    source: Source,
    scope: Scope,
    params: dict[str, Any],
    *,
    into: str | None = None,
    village_days_into: str | None = None,
) -> str:
    """One plain INSERT … SELECT of the facts (or members) of `source` over `scope`, for when the table
    holds none of the source's rows (a first run, a rebuild after clearing them): nothing to compare
    with, so no outer join and no conflict handling. Into the stored table the rows go in key order (its
    B-trees then fill at their right edge: a third less time than in arrival order at county scale);
    `into` names a table without indexes instead (the full rebuild's new table), in arrival order.
    `village_days_into`: a summed source's facts also go, summed per village and day, into that table
    (the rebuild's new VillageDayFact table: village_days_cte)."""
    key: tuple[str, ...]
    if source.distinct:
        with_clause, final = member_select(source, scope, params)
        table, columns, key = MEMBERS, MEMBER_KEY, MEMBER_KEY
    else:
        with_clause, final = fact_select(source, scope, params)
        table, columns, key = FACTS, (*KEY, "value"), KEY[:2] + KEY[3:]
    listed = ", ".join(columns)
    order = "" if into else f" ORDER BY {', '.join(key)}"
    if village_days_into and not source.distinct:
        _sums, values = _sums_and_values(source, params)
        with_clause = f"{with_clause}, {village_days_cte(village_days_into, values, len(source.metrics))} "
    return (
        f"{with_clause} INSERT INTO {into or table} ({listed}) "  # noqa: S608
        f"SELECT {listed} FROM ({final}) n{order}"
    )


def shared_insert_sql(
    summed: Source,
    derived: Source,
    scope: Scope,
    params: dict[str, Any],
    *,
    facts_into: str,
    members_into: str,
    village_days_into: str,
) -> str:
    """One statement writing the facts of `summed` into `facts_into` and the members of `derived` (a
    distinct source rebuilt from it: Source.rebuilt_from) into `members_into`, reading the summed
    source's rows once (materialized) for both: what insert_sql does for each alone, without joining
    the same millions of source rows twice; the facts summed per village and day go into
    `village_days_into` (village_days_cte). Returns one row: (facts written, members written)."""
    if derived.rebuilt_from is None or derived.rebuilt_from[0] != summed.name:
        raise ValueError(f"{derived.name} is not rebuilt from {summed.name}")
    member = derived.rebuilt_from[1]
    mv_cte, moved, join = _moves(scope)
    n = len(summed.metrics)
    sums, values = _sums_and_values(summed, params)
    params["derived_metric"] = derived.metrics[0]
    group = f"GROUP BY 1, 2{', 3' if scope.moves else ''}"
    facts = ", ".join((*KEY, "value"))
    return (
        f"WITH {mv_cte}{_rid_cte(scope)}src AS MATERIALIZED ({_src(summed, scope, params)}), "  # noqa: S608
        f"g AS (SELECT s.day, s.region_id, {moved} AS moved_path, {sums} FROM src s {join} {group}), "
        f"k AS (SELECT g.day, {_ids_of_k()}, {', '.join(f'g.m{i}' for i in range(n))} FROM g {RID_JOIN} "
        f"{FENCE}), "
        f"facts_in AS (INSERT INTO {facts_into} ({facts}) SELECT v.metric, k.day, {K_IDS}, v.value "
        f"FROM k CROSS JOIN LATERAL (VALUES {', '.join(values)}) AS v(metric, value) WHERE v.value <> 0 "
        "RETURNING 1), "
        f"{village_days_cte(village_days_into, values, n)}, "
        "gm AS (SELECT DISTINCT date_trunc('month', s.day)::date AS day, s.region_id, "
        f"{moved} AS moved_path, s.{member} AS member_id FROM src s {join} WHERE s.{member} IS NOT NULL), "
        f"km AS (SELECT g.day, {_ids_of_k()}, g.member_id FROM gm g {RID_JOIN}), "
        f"members_in AS (INSERT INTO {members_into} ({', '.join(MEMBER_KEY)}) "
        f"SELECT %(derived_metric)s::{METRIC_TYPE}, km.day, {K_IDS.replace('k.', 'km.')}, km.member_id "
        "FROM km RETURNING 1) "
        "SELECT (SELECT COUNT(*) FROM facts_in), (SELECT COUNT(*) FROM members_in)"
    )


def add_members_sql(source: Source, scope: Scope, params: dict[str, Any]) -> str:
    """The member rows of a distinct `source` over `scope` (its new rows: Scope.ids) added to the
    stored ones, those already there left alone (ON CONFLICT DO NOTHING): the incremental write of a
    source whose members only grow. Adds nothing that a recompute of the same months would not give,
    and takes nothing away. Returns the rows inserted (rowcount)."""
    if not source.distinct:
        raise ValueError(f"{source.name} is not a distinct source")
    with_clause, final = member_select(source, scope, params)
    listed = ", ".join(MEMBER_KEY)
    return (
        f"{with_clause} INSERT INTO {MEMBERS} ({listed}) "  # noqa: S608
        # In the primary key's order (its B-tree is then filled left to right).
        f"SELECT {listed} FROM ({final}) n ORDER BY {', '.join(c for c in MEMBER_KEY if c != 'county_id')} "
        "ON CONFLICT DO NOTHING"
    )


def verify_sql(source: Source, since: dt.date | None, params: dict[str, Any]) -> str:
    """Differences between the stored facts (or members) of `source` and a direct aggregate over its
    source rows, days ≥ `since`: a FULL OUTER JOIN on the keys. Columns: metric, day, county_id,
    township_id, village_id, grid_id, stored, computed (a member row: member_id in place of the values,
    stored/computed 1 or NULL)."""
    far = dt.date(9999, 1, 1)
    if source.distinct:
        start = since.replace(day=1) if since else None
        scope = Scope(ranges=((start, far),) if start else None)
        with_clause, final = member_select(source, scope, params)
        params["v_metrics"] = list(source.metrics)
        stored_where = f"metric = ANY(%(v_metrics)s::{METRIC_TYPE}[])"
        if start:
            params["v_since"] = start
            stored_where += " AND month >= %(v_since)s"
        on = " AND ".join(f"d.{c} = f.{c}" for c in MEMBER_KEY)
        cols = ", ".join(f"COALESCE(d.{c}, f.{c}) AS {c}" for c in MEMBER_KEY)
        return (
            f"{with_clause}, d AS ({final}), f AS (SELECT {', '.join(MEMBER_KEY)} FROM {MEMBERS} "  # noqa: S608
            f"WHERE {stored_where}) SELECT {cols}, "
            "CASE WHEN f.metric IS NULL THEN 0 ELSE 1 END AS stored, "
            "CASE WHEN d.metric IS NULL THEN 0 ELSE 1 END AS computed "
            f"FROM d FULL OUTER JOIN f ON {on} WHERE d.metric IS NULL OR f.metric IS NULL "
            "ORDER BY 1, 2, 4, 5, 6, 7"
        )
    scope = Scope(ranges=((since, far),) if since else None)
    with_clause, final = fact_select(source, scope, params)
    params["v_metrics"] = list(source.metrics)
    stored_where = f"metric = ANY(%(v_metrics)s::{METRIC_TYPE}[])"
    if since:
        params["v_since"] = since
        stored_where += " AND day >= %(v_since)s"
    on = " AND ".join(f"d.{c} = f.{c}" for c in KEY)
    cols = ", ".join(f"COALESCE(d.{c}, f.{c}) AS {c}" for c in KEY)
    return (
        f"{with_clause}, d AS ({final}), f AS (SELECT {', '.join(KEY)}, value FROM {FACTS} "  # noqa: S608
        f"WHERE {stored_where}) SELECT {cols}, COALESCE(f.value, 0) AS stored, "
        "COALESCE(d.value, 0) AS computed "
        f"FROM d FULL OUTER JOIN f ON {on} WHERE COALESCE(d.value, 0) <> COALESCE(f.value, 0) "
        "ORDER BY 1, 2, 4, 5, 6"
    )

"""The rollup engine: recompute facts from their sources — incrementally, over a recent window, in
full per township — and verify them against the sources.

Recompute, never add: every pass recomputes the whole (metric, day) cells (or the members of the
(month, member) pairs) it touches from the source rows and makes the stored ones equal to them
(deleting, inserting or updating only what differs: sql.write_sql), in one transaction per source
together with the watermark it advances. A rerun is therefore a no-op on the result, and a pass killed
halfway leaves each source either fully before or fully after its transaction; the next pass repairs
the rest. Cost grows with the rows of the touched days, not with history.

One exception, declared per source: a distinct source whose members only grow (registry.Source.
members_only_grow: no later row can take a member out, e.g. a household awarded in the month) gets the
(month, member) pairs of its new rows alone inserted by the incremental pass, ON CONFLICT DO NOTHING —
the same result as recomputing the touched pairs, without re-reading their months. Adding is
idempotent too (a rerun inserts nothing), and the nightly window and the full rebuild recompute it
as every other source.

Watermarks: an append-only source is read by id, a mutable one by updated_at. Ids and timestamps are
handed out before commit and do not arrive in order, so an id feed re-reads the ids below its
watermark it could not see yet (for ROLLUP_TIME_OVERLAP_SECONDS), and an updated_at feed the last
ROLLUP_TIME_OVERLAP_SECONDS before its watermark. Re-reading is harmless.

The passes here take no lock; governance.rollups.lock serialises them (the tasks and the command).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, connections, transaction
from django.utils import timezone

from governance.models import (
    METRIC_TYPE,
    Region,
    RegionLevel,
    RegionMove,
    RollupKind,
    RollupRun,
    RollupStatus,
    RollupWatermark,
)
from governance.rollups import coarse, registry
from governance.rollups.registry import Source
from governance.rollups.sql import (
    FACTS,
    MEMBERS,
    Scope,
    add_members_sql,
    insert_sql,
    shared_insert_sql,
    verify_sql,
    write_sql,
)

log = logging.getLogger(__name__)

ID_OVERLAP = 0
# A whole recompute cannot look for unseen ids through all history: it waits for those among the last
# RECENT_IDS below where it stopped (a transaction holding an older id for minutes is not expected).
RECENT_IDS = 10_000
TIME_OVERLAP_SECONDS = 600
NIGHTLY_DAYS = 7
WORK_MEM = "64MB"
FULL_WORK_MEM = "256MB"
RANDOM_PAGE_COST = "1.1"
PROGRESS_KEY = "rollups:full:progress"
# The stored rows of a source's metrics (params["owned_metrics"]: their names).
OWNED_METRICS = f"f.metric = ANY(%(owned_metrics)s::{METRIC_TYPE}[])"
# A difference list longer than this is cut in the run record (the command prints them all).
DIFFERENCES_KEPT = 200


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def day_ranges(days: Iterable[dt.date]) -> tuple[tuple[dt.date, dt.date], ...]:
    """Consecutive days merged into half-open [first, last + 1) ranges, in order."""
    ranges: list[list[dt.date]] = []
    for day in sorted(set(days)):
        if ranges and ranges[-1][1] == day:
            ranges[-1][1] = day + dt.timedelta(days=1)
        else:
            ranges.append([day, day + dt.timedelta(days=1)])
    return tuple((lo, hi) for lo, hi in ranges)


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_after(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def month_ranges(months: Iterable[dt.date]) -> tuple[tuple[dt.date, dt.date], ...]:
    """Months (first days) merged into half-open ranges of whole months."""
    ranges: list[list[dt.date]] = []
    for month in sorted({month_start(m) for m in months}):
        if ranges and ranges[-1][1] == month:
            ranges[-1][1] = month_after(month)
        else:
            ranges.append([month, month_after(month)])
    return tuple((lo, hi) for lo, hi in ranges)


def _execute(sql: str, params: dict[str, Any] | list[Any] | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _fetch(sql: str, params: dict[str, Any] | list[Any] | None = None) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def metric_type_sync(*, using: str = "default") -> list[str]:
    """Add every registered metric missing from the enum the facts store names as (METRIC_TYPE, on
    PostgreSQL once migration 0009 made it). Returns the names added. Run after every migrate."""
    db = connections[using]
    if db.vendor != "postgresql":
        return []
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid WHERE t.typname = %s",
            [METRIC_TYPE],
        )
        known = {label for (label,) in cursor.fetchall()}
        if not known:
            return []  # before migration 0009 (or after it was reversed): the column is a varchar
        added = [name for name in sorted(registry.metrics()) if name not in known]
        for name in added:
            cursor.execute(f"ALTER TYPE {METRIC_TYPE} ADD VALUE IF NOT EXISTS %s", [name])
    return added


# --------------------------------------------------------------------------------------------------------
# Recomputing cells


def _write(source: Source, scope: Scope, owned: str, params: dict[str, Any]) -> int:
    """Run write_sql; returns the rows deleted plus the rows written."""
    params["owned_metrics"] = list(source.metrics)
    row = _fetch(write_sql(source, scope, owned, params), params)
    return int(row[0][0]) + int(row[0][1])


def _work_mem(*, full: bool = False) -> None:
    # The groupings hash tens of thousands of (day, path) groups per township; with the default 4 MB
    # PostgreSQL sorts them on disk instead. A whole source (millions of groups at county scale) gets
    # ROLLUP_FULL_WORK_MEM.
    if full:
        value = getattr(settings, "ROLLUP_FULL_WORK_MEM", FULL_WORK_MEM)
        # A whole source's statement is priced far above JIT's inlining and optimization thresholds
        # (PostgreSQL guesses ten groups per real one), so each paid 0.3–0.6 s of LLVM optimization,
        # most of a small source's statement; the plain JIT of expressions stays.
        _execute("SELECT set_config('jit_inline_above_cost', '-1', true)")
        _execute("SELECT set_config('jit_optimize_above_cost', '-1', true)")
    else:
        value = getattr(settings, "ROLLUP_WORK_MEM", WORK_MEM)
        # A pass over a day's or a month's rows: compiling its statement (JIT, switched on by a cost
        # estimate the postings' id or time ranges inflate) took longer than running it — 1.0 s of
        # 2.0 s for the 30,000 rows of a day at county scale.
        _execute("SELECT set_config('jit', 'off', true)")
        # And its rows are found by index probes (postings by id or by their transactions, those by
        # primary key): at the default random_page_cost (4) PostgreSQL priced 30,000–60,000 probes
        # above a sequential scan of the 10 M postings or 5 M transactions (0.8 s each) and scanned
        # them. 1.1 (cached data, SSD) keeps the probes: a day's pass 0.35–0.48 s instead of 1.1–1.3 s.
        _execute(
            "SELECT set_config('random_page_cost', %s, true)",
            [str(getattr(settings, "ROLLUP_RANDOM_PAGE_COST", RANDOM_PAGE_COST))],
        )
    _execute("SELECT set_config('work_mem', %s, true)", [value])


def _owns_none(source: Source, township_id: int | None = None) -> bool:
    """Whether the stored facts (or members) hold no row of `source` (in township `township_id`): then
    a recompute has nothing to compare with and writes with insert_sql."""
    table = MEMBERS if source.distinct else FACTS
    sql = f"SELECT NOT EXISTS (SELECT 1 FROM {table} WHERE metric = ANY(%s::{METRIC_TYPE}[])"  # noqa: S608
    params: list[Any] = [list(source.metrics)]
    if township_id is not None:
        sql += " AND township_id = %s"
        params.append(township_id)
    return bool(_fetch(sql + ")", params)[0][0])


def _insert(source: Source, scope: Scope) -> int:
    params: dict[str, Any] = {}
    return _execute(insert_sql(source, scope, params), params)


def recompute_days(source: Source, days: Iterable[dt.date]) -> int:
    """Make the facts of `source` on `days` (a distinct source: the members of the months of `days`)
    equal to the source rows. Returns the rows changed. Call inside a transaction."""
    days = sorted(set(days))
    if not days:
        return 0
    _work_mem()
    if source.distinct:
        months = sorted({month_start(d) for d in days})
        params: dict[str, Any] = {"owned_months": months}
        owned = f"{OWNED_METRICS} AND f.month = ANY(%(owned_months)s::date[])"
        return _write(source, Scope(ranges=month_ranges(months)), owned, params)
    params = {"owned_days": days}
    owned = f"{OWNED_METRICS} AND f.day = ANY(%(owned_days)s::date[])"
    return _write(source, Scope(ranges=day_ranges(days)), owned, params)


def recompute_members(source: Source, pairs: Iterable[tuple[dt.date, int]]) -> int:
    """Make the member rows of a distinct `source` right for these (month, member) pairs only: per
    month, the members seen changing, read through the source's member index. Returns the rows
    changed. Call inside a transaction."""
    by_month: dict[dt.date, set[int]] = defaultdict(set)
    for month, member in pairs:
        by_month[month_start(month)].add(int(member))
    if by_month:
        _work_mem()
    changed = 0
    for month, members in sorted(by_month.items()):
        ids = sorted(members)
        params: dict[str, Any] = {"owned_month": month, "owned_members": ids}
        owned = (
            f"{OWNED_METRICS} AND f.member_id = ANY(%(owned_members)s::bigint[]) "
            "AND f.month = %(owned_month)s"
        )
        scope = Scope(ranges=((month, month_after(month)),), members=tuple(ids))
        changed += _write(source, scope, owned, params)
    return changed


def add_members(source: Source, ids: Iterable[tuple[int, int]]) -> int:
    """Add the (month, member) rows of the feed rows with these ids (inclusive ranges) of a source whose
    members only grow, leaving the stored rows as they are. Returns the rows added. Call inside a
    transaction."""
    scope = Scope(ids=tuple((int(lo), int(hi)) for lo, hi in ids))
    if not scope.ids:
        return 0
    _work_mem()
    params: dict[str, Any] = {}
    return _execute(add_members_sql(source, scope, params), params)


def recompute_all(source: Source) -> int:
    """Make every fact of `source` equal to the source rows (one statement). Call inside a
    transaction."""
    _work_mem(full=True)
    if _owns_none(source):
        return _insert(source, Scope())
    return _write(source, Scope(), OWNED_METRICS, {})


def recompute_township(source: Source, township_id: int, regions: tuple[int, ...]) -> int:
    """Make every fact of `source` in township `township_id` equal to the source rows of `regions`
    (the township's regions now and before moves). Call inside a transaction."""
    _work_mem(full=True)
    scope = Scope(regions=regions, township=township_id)
    if _owns_none(source, township_id):
        return _insert(source, scope)
    params: dict[str, Any] = {"owned_township": township_id}
    owned = f"{OWNED_METRICS} AND f.township_id = %(owned_township)s"
    return _write(source, scope, owned, params)


# --------------------------------------------------------------------------------------------------------
# Watermarks


def _marks_locked(source: Source) -> dict[str, RollupWatermark]:
    names = [feed.name for feed in source.feeds]
    # Created empty on first sight, then locked: two passes over one source queue here (the Redis lock
    # normally keeps them apart; this keeps a stray manual run from interleaving).
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {RollupWatermark._meta.db_table} (feed, position, pending, updated_at) "
            "SELECT unnest(%s::varchar[]), 0, '[]'::jsonb, now() ON CONFLICT (feed) DO NOTHING",
            [names],
        )
    return {m.feed: m for m in RollupWatermark.objects.select_for_update().filter(feed__in=names)}


def feed_target(kind: str, table: str) -> tuple[int, dt.datetime | None]:
    """Where a feed stands now: (max id, None) for an id feed, (0, clock) for an updated_at feed."""
    if kind == "id":
        row = _fetch(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
        return int(row[0][0]), None
    row = _fetch("SELECT clock_timestamp()")
    return 0, row[0][0]


def _marks_set(
    targets: dict[str, tuple[int, dt.datetime | None]], pending: dict[str, list[list[Any]]] | None = None
) -> None:
    now = timezone.now()
    pending = pending or {}
    for feed, (position, moment) in targets.items():
        # An id feed's moment is when it was last read: a set moment means "read before" for both kinds.
        RollupWatermark.objects.update_or_create(
            feed=feed,
            defaults={
                "position": position,
                "moment": moment or now,
                "pending": pending.get(feed, []),
                "updated_at": now,
            },
        )


# --------------------------------------------------------------------------------------------------------
# The passes


@dataclass
class SourceResult:
    source: str
    keys: int = 0
    rows: int = 0
    seconds: float = 0.0
    full: bool = False


@dataclass
class PassResult:
    kind: str
    status: str = RollupStatus.OK
    sources: list[SourceResult] = field(default_factory=list)
    seconds: float = 0.0
    # A full rebuild into empty facts: the time spent indexing the new tables and swapping them in.
    index_seconds: float = 0.0

    def detail(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 3),
            **({"index_seconds": round(self.index_seconds, 3)} if self.index_seconds else {}),
            "sources": {
                s.source: {"keys": s.keys, "rows": s.rows, "seconds": round(s.seconds, 3), "full": s.full}
                for s in self.sources
            },
        }


def selected_sources(metric: str | None = None) -> list[Source]:
    """All sources, or the one feeding `metric` (ValueError for an unknown metric)."""
    if metric is None:
        return list(registry.sources().values())
    if registry.metric_get(metric) is None:
        raise ValueError(f"unknown metric: {metric}")
    return [registry.source_of(metric)]


def _ids_condition(column: str, ranges: list[list[Any]], params: dict[str, Any]) -> str:
    """The id feed's condition: ids beyond the watermark, or in one of the ranges still awaited."""
    alternatives = [f"{column} > %(since)s AND {column} <= %(upto)s"]
    for i, (lo, hi, _seen) in enumerate(ranges):
        params[f"gap_lo{i}"], params[f"gap_hi{i}"] = int(lo), int(hi)
        alternatives.append(f"{column} BETWEEN %(gap_lo{i})s AND %(gap_hi{i})s")
    return "(" + " OR ".join(alternatives) + ")"


def _missing(table: str, lo: int, hi: int) -> list[tuple[int, int]]:
    """The runs of ids in [lo, hi] that no visible row of `table` holds, as (first, last) pairs: one
    ordered walk over the ids present, whatever the size of the holes."""
    if hi < lo:
        return []
    rows = _fetch(
        "SELECT prev + 1, id - 1 FROM (SELECT id, LAG(id, 1, %s::bigint) OVER (ORDER BY id) AS prev "  # noqa: S608
        f"FROM (SELECT id FROM {table} WHERE id >= %s AND id <= %s UNION ALL SELECT %s::bigint) AS x) AS y "
        "WHERE id > prev + 1",
        [lo - 1, lo, hi, hi + 1],
    )
    return [(int(first), int(last)) for first, last in rows]


def _gaps(table: str, since: int, upto: int, waiting: list[list[Any]], now: dt.datetime) -> list[list[Any]]:
    """The id ranges an id feed must look at again next time: the holes in (since, upto] — ids handed
    to transactions that had not committed when the feed was read (or that rolled back) — and what is
    still missing of the ranges it was already waiting for, each kept for ROLLUP_TIME_OVERLAP_SECONDS
    after it was first missed. [[first id, last id, first missed (ISO time)], …]"""
    keep_after = now - dt.timedelta(seconds=_setting("ROLLUP_TIME_OVERLAP_SECONDS", TIME_OVERLAP_SECONDS))
    kept: list[list[Any]] = []
    for lo, hi, seen in waiting:
        if dt.datetime.fromisoformat(seen) > keep_after:
            kept += [[first, last, seen] for first, last in _missing(table, int(lo), int(hi))]
    stamp = now.isoformat()
    kept += [[first, last, stamp] for first, last in _missing(table, since + 1, upto)]
    return kept


def source_incremental(source: Source) -> SourceResult:
    """One source's incremental step, in one transaction: read what its feeds touched since their
    watermarks, recompute those cells, advance the watermarks. A source never read before (no
    watermark yet) is recomputed whole.

    Ids and update times are handed out before commit, so rows do not become visible in their order.
    An id feed therefore remembers the ranges of ids at or below its watermark it could not see (gaps)
    and reads them again on every pass for ROLLUP_TIME_OVERLAP_SECONDS, plus the last ROLLUP_ID_OVERLAP
    ids (0 by default: the gaps cover it); an updated_at feed re-reads the last ROLLUP_TIME_OVERLAP_SECONDS
    before its watermark. Reading a row twice is harmless: its cells are recomputed, not added to (a
    source whose members only grow: its pairs are inserted if missing, add_members)."""
    started = time.monotonic()
    result = SourceResult(source=source.name)
    id_overlap = _setting("ROLLUP_ID_OVERLAP", ID_OVERLAP)
    time_overlap = dt.timedelta(seconds=_setting("ROLLUP_TIME_OVERLAP_SECONDS", TIME_OVERLAP_SECONDS))
    with transaction.atomic():
        marks = _marks_locked(source)
        targets: dict[str, tuple[int, dt.datetime | None]] = {}
        pending: dict[str, list[list[Any]]] = {}
        fresh = any(marks[feed.name].moment is None for feed in source.feeds)
        touched: set[Any] = set()
        new_ids: list[tuple[int, int]] = []
        now = timezone.now()
        for feed in source.feeds:
            mark = marks[feed.name]
            position, moment = feed_target(feed.kind, feed.table)
            targets[feed.name] = (position, moment)
            if fresh:
                if feed.kind == "id":
                    pending[feed.name] = _gaps(feed.table, max(0, position - RECENT_IDS), position, [], now)
                continue
            if feed.kind == "id":
                waiting = _gaps(feed.table, mark.position, position, list(mark.pending), now)
                pending[feed.name] = waiting
                if source.members_only_grow:
                    # Its new rows only add pairs: read them alone (below), no touched pairs needed.
                    new_ids.append((max(0, mark.position - id_overlap) + 1, position))
                    new_ids += [(int(lo), int(hi)) for lo, hi, _seen in mark.pending]
                    continue
                params: dict[str, Any] = {
                    "since": max(0, mark.position - id_overlap),
                    "upto": position,
                    "tz": settings.TIME_ZONE,
                }
                # The ranges it waited for (their rows may have arrived) — those still missing wait on.
                sql = feed.touched_sql.format(ids=_ids_condition(feed.id_column, list(mark.pending), params))
            else:
                params = {"since": (mark.moment or now) - time_overlap, "tz": settings.TIME_ZONE}
                sql = feed.touched_sql
            touched.update(tuple(row) if len(row) > 1 else row[0] for row in _fetch(sql, params))
        if fresh:
            result.full = True
            result.rows = recompute_all(source)
        elif source.members_only_grow:
            ranges = [(lo, hi) for lo, hi in new_ids if lo <= hi]
            result.keys = len(ranges)
            result.rows = add_members(source, ranges)
        elif source.distinct:
            result.keys = len(touched)
            result.rows = recompute_members(source, touched)
        else:
            result.keys = len(touched)
            result.rows = recompute_days(source, touched)
        _marks_set(targets, pending)
    result.seconds = time.monotonic() - started
    return result


def incremental_pass(*, metric: str | None = None) -> PassResult:
    """Every source's incremental step (each its own transaction), in registry order."""
    started = time.monotonic()
    result = PassResult(kind=RollupKind.INCREMENTAL)
    for source in selected_sources(metric):
        result.sources.append(source_incremental(source))
    result.seconds = time.monotonic() - started
    return result


def window_pass(
    *, since: dt.date | None = None, days: int | None = None, metric: str | None = None
) -> PassResult:
    """Recompute the days from `since` (default: the last ROLLUP_NIGHTLY_DAYS days) to today for every
    source (distinct sources: the whole months they fall in). Watermarks are left as they are."""
    started = time.monotonic()
    today = timezone.localdate()
    if since is None:
        window = days if days is not None else _setting("ROLLUP_NIGHTLY_DAYS", NIGHTLY_DAYS)
        since = today - dt.timedelta(days=window - 1)
    span = [since + dt.timedelta(days=i) for i in range((today - since).days + 1)]
    result = PassResult(kind=RollupKind.NIGHTLY)
    for source in selected_sources(metric):
        one = time.monotonic()
        with transaction.atomic():
            rows = recompute_days(source, span)
        result.sources.append(
            SourceResult(source=source.name, keys=len(span), rows=rows, seconds=time.monotonic() - one)
        )
    result.seconds = time.monotonic() - started
    return result


# --------------------------------------------------------------------------------------------------------
# The full rebuild, per township


def full_townships() -> list[int]:
    """The township ids a full rebuild fans out over, plus 0 for the records above any township."""
    ids = Region.objects.filter(level=RegionLevel.TOWNSHIP).order_by("path").values_list("pk", flat=True)
    return [*ids, 0]


def full_targets(metric: str | None = None) -> dict[str, list[Any]]:
    """Where every feed stands before a rebuild starts: the watermarks the rebuild ends with, so rows
    arriving while it runs are the next incremental pass's (JSON-friendly: a Celery argument)."""
    targets: dict[str, list[Any]] = {}
    now = timezone.now()
    for source in selected_sources(metric):
        for feed in source.feeds:
            position, moment = feed_target(feed.kind, feed.table)
            gaps = (
                _gaps(feed.table, max(0, position - RECENT_IDS), position, [], now)
                if feed.kind == "id"
                else []
            )
            targets[feed.name] = [position, moment.isoformat() if moment else None, gaps]
    return targets


def township_regions(township_id: int) -> list[int]:
    """The regions whose source rows may belong to township `township_id` at some time: those under it
    now, and those that were under it before a move (their old rows stay with it)."""
    if township_id == 0:
        return list(Region.objects.filter(level=RegionLevel.COUNTY).values_list("pk", flat=True))
    path = Region.objects.values_list("path", flat=True).get(pk=township_id)
    now = Region.objects.filter(path__startswith=path).values_list("pk", flat=True)
    before = RegionMove.objects.filter(old_path__startswith=path).values_list("region_id", flat=True)
    return sorted({*now, *before})


def full_township(township_id: int, *, metric: str | None = None) -> PassResult:
    """Rewrite every fact of township `township_id` (0: the records above any township) for all days,
    one transaction per source: DELETE by township, INSERT from the source rows of its regions."""
    started = time.monotonic()
    result = PassResult(kind=RollupKind.FULL)
    regions = tuple(township_regions(township_id))
    for source in selected_sources(metric):
        one = time.monotonic()
        with transaction.atomic():
            rows = recompute_township(source, township_id, regions)
        result.sources.append(SourceResult(source=source.name, rows=rows, seconds=time.monotonic() - one))
    result.seconds = time.monotonic() - started
    return result


def full_finish(targets: dict[str, list[Any]]) -> None:
    """Set the watermarks to where the feeds stood when the rebuild started."""
    with transaction.atomic():
        _marks_set(
            {
                feed: (int(target[0]), dt.datetime.fromisoformat(target[1]) if target[1] else None)
                for feed, target in targets.items()
            },
            {feed: list(target[2]) if len(target) > 2 else [] for feed, target in targets.items()},
        )


def _index_definitions(table: str) -> list[tuple[str, str, str | None]]:
    """The indexes of `table` as (index name, CREATE INDEX statement, constraint name or None): what the
    rebuilt table must have again, read from the catalog (so an index a later migration adds comes
    along). A constraint's index (the primary key) is recreated as that constraint."""
    rows = _fetch(
        "SELECT i.relname, pg_get_indexdef(x.indexrelid), c.conname, pg_get_constraintdef(c.oid) "
        "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
        "LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid "
        "WHERE x.indrelid = %s::regclass ORDER BY x.indisprimary DESC, i.relname",
        [table],
    )
    return [(name, condef if conname else indexdef, conname) for name, indexdef, conname, condef in rows]


def _trigger_definitions(table: str) -> list[str]:
    """The CREATE TRIGGER statements of `table`'s own triggers (the coarse facts' on the facts table),
    read from the catalog like its indexes, with the table's name left as {table}."""
    rows = _fetch(
        "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal "
        "ORDER BY tgname",
        [table],
    )
    pattern = re.compile(rf" ON (?:\w+\.)?{re.escape(table)} ")
    return [pattern.sub(" ON {table} ", definition, count=1) for (definition,) in rows]


def _build_name(name: str) -> str:
    return f"{name[:50]}_rebuild"


def _build_start(table: str) -> str:
    """An empty copy of `table` (columns, defaults, NOT NULL and CHECK constraints), no indexes."""
    build = _build_name(table)
    _execute(f"CREATE TABLE {build} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    return build


def _build_swap(table: str, build: str) -> None:
    """Index the filled `build` as `table` is indexed (one sorted bulk build per index instead of a
    B-tree insertion per row), gather its statistics, then put it in `table`'s place: `table` is dropped
    and `build` and its indexes take their names. Readers of `table` wait only for these last renames."""
    definitions = _index_definitions(table)
    triggers = _trigger_definitions(table)
    for name, definition, constraint in definitions:
        if constraint:
            _execute(f"ALTER TABLE {build} ADD CONSTRAINT {_build_name(name)} {definition}")
        else:
            head, _on, rest = definition.partition(" ON ")
            _table, _using, method = rest.partition(" USING ")
            unique = "UNIQUE " if head.startswith("CREATE UNIQUE") else ""
            _execute(f"CREATE {unique}INDEX {_build_name(name)} ON {build} USING {method}")
    _execute(f"ANALYZE {build}")
    # After the rows are in: the coarse facts' triggers would otherwise add the rebuild to them again.
    for trigger in triggers:
        _execute(trigger.replace("{table}", build))
    _execute(f"DROP TABLE {table}")
    _execute(f"ALTER TABLE {build} RENAME TO {table}")
    for name, _definition, constraint in definitions:
        if constraint:
            _execute(f"ALTER TABLE {table} RENAME CONSTRAINT {_build_name(name)} TO {name}")
        else:
            _execute(f"ALTER INDEX {_build_name(name)} RENAME TO {name}")


def _rebuild_swapped(sources: list[Source], result: PassResult, progress: bool) -> None:
    """Every source's facts and members written into new, unindexed tables, then indexed and swapped
    in for the stored ones, all in one transaction. Readers keep reading the stored facts until the
    commit (a killed rebuild leaves them as they were, and its half-built tables vanish with its
    transaction); writing rows into a table without indexes and building each index once in bulk
    costs about a third of inserting them into the indexed table (docs/benchmarks.md)."""
    with transaction.atomic():
        _work_mem(full=True)
        # Its commit need not wait for the disk: lost in a crash, the rebuild simply did not happen (the
        # old facts stand, consistent), and the watermarks full_finish sets afterwards are committed
        # after it in the log, so they are never kept without it.
        _execute("SELECT set_config('synchronous_commit', 'off', true)")
        # A grid re-zoned while the rebuild runs waits for it (moves are rare); with none recorded, the
        # statements leave out the interval join on the moves (a hash probe per source row).
        _execute(f"LOCK TABLE {RegionMove._meta.db_table} IN SHARE MODE")
        # Each statement groups millions of source rows into about a million (day, region) groups, but
        # PostgreSQL cannot estimate the groups of a date expression and guesses one per source row; it
        # then joined the regions' ancestor ids (3,832 rows) by sorting the unpivoted groups for a merge
        # join (2.9 M rows sorted on disk for the points postings). A hash of the regions needs no sort.
        _execute("SELECT set_config('enable_mergejoin', 'off', true)")
        scope = Scope(moves=RegionMove.objects.exists())
        tables = (FACTS, MEMBERS, coarse.VILLAGE_DAYS, coarse.VILLAGE_MONTHS, coarse.MEMBER_YEARS)
        builds = {table: _build_start(table) for table in tables}
        # A distinct source rebuilt from a summed one (registry.Source.rebuilt_from) is written by that
        # source's statement, which reads their shared source rows once.
        names = {source.name for source in sources}
        derived = {
            s.rebuilt_from[0]: s for s in sources if s.rebuilt_from is not None and s.rebuilt_from[0] in names
        }
        for source in sources:
            if source.rebuilt_from is not None and source.rebuilt_from[0] in names:
                continue
            one = time.monotonic()
            params: dict[str, Any] = {}
            if source.name in derived:
                sql = shared_insert_sql(
                    source,
                    derived[source.name],
                    scope,
                    params,
                    facts_into=builds[FACTS],
                    members_into=builds[MEMBERS],
                    village_days_into=builds[coarse.VILLAGE_DAYS],
                )
                facts, members = _fetch(sql, params)[0]
                seconds = time.monotonic() - one
                result.sources.append(SourceResult(source=source.name, rows=int(facts), seconds=seconds))
                # Its time is in the summed source's: one statement wrote both.
                result.sources.append(SourceResult(source=derived[source.name].name, rows=int(members)))
                if progress:
                    progress_step()
                    progress_step()
                continue
            into = builds[MEMBERS if source.distinct else FACTS]
            sql = insert_sql(source, scope, params, into=into, village_days_into=builds[coarse.VILLAGE_DAYS])
            rows = _execute(sql, params)
            result.sources.append(SourceResult(source=source.name, rows=rows, seconds=time.monotonic() - one))
            if progress:
                progress_step()
        indexing = time.monotonic()
        # The statements above wrote the facts per village and day too; the months and the yearly
        # members come from the new tables (the triggers that keep them come onto the new tables after
        # their rows).
        _execute(
            coarse.months_fill_sql(days=builds[coarse.VILLAGE_DAYS], months=builds[coarse.VILLAGE_MONTHS])
        )
        _execute(coarse.member_fill_sql(members=builds[MEMBERS], table=builds[coarse.MEMBER_YEARS]))
        for table, build in builds.items():
            _build_swap(table, build)
        result.index_seconds = time.monotonic() - indexing


def full_rebuild(
    *, metric: str | None = None, progress: bool = True, by_township: bool = False
) -> PassResult:
    """The full rebuild in this process, with its progress in the cache (a step per source). Every
    source into empty facts: new fact tables filled with one INSERT … SELECT per source, indexed,
    swapped in (_rebuild_swapped); over stored facts (or one metric's source): one statement per source
    recomputing its facts in place, writing only the differences; `by_township`: the Celery group's
    steps one after the other. Either way the watermarks end where the feeds stood when it started."""
    started = time.monotonic()
    targets = full_targets(metric)
    result = PassResult(kind=RollupKind.FULL)
    if not by_township and metric is None and all(_owns_none(s) for s in selected_sources()):
        # Nothing stored to compare with: build and swap. (Over current facts the in-place statements
        # below are cheaper: they read and compare, and write only what differs.)
        chosen = selected_sources(metric)
        if progress:
            progress_start(len(chosen))
        _rebuild_swapped(chosen, result, progress)
        full_finish(targets)
        result.seconds = time.monotonic() - started
        return result
    if not by_township:
        chosen = selected_sources(metric)
        if progress:
            progress_start(len(chosen))
        for source in chosen:
            one = time.monotonic()
            with transaction.atomic():
                rows = recompute_all(source)
            result.sources.append(SourceResult(source=source.name, rows=rows, seconds=time.monotonic() - one))
            if progress:
                progress_step()
        full_finish(targets)
        result.seconds = time.monotonic() - started
        return result
    townships = full_townships()
    if progress:
        progress_start(len(townships))
    for township_id in townships:
        part = full_township(township_id, metric=metric)
        if progress:
            progress_step()
        for step in part.sources:
            merged = next((s for s in result.sources if s.source == step.source), None)
            if merged is None:
                result.sources.append(step)
            else:
                merged.rows += step.rows
                merged.seconds += step.seconds
    full_finish(targets)
    result.seconds = time.monotonic() - started
    return result


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    running: bool

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, self.done * 100 // self.total)


def progress_start(total: int) -> None:
    cache.set(f"{PROGRESS_KEY}:total", total, timeout=None)
    cache.set(f"{PROGRESS_KEY}:done", 0, timeout=None)


def progress_step() -> None:
    try:
        cache.incr(f"{PROGRESS_KEY}:done")
    except ValueError:
        cache.set(f"{PROGRESS_KEY}:done", 1, timeout=None)


def progress_read() -> Progress:
    """The last full rebuild's progress: townships done of total."""
    values = cache.get_many([f"{PROGRESS_KEY}:done", f"{PROGRESS_KEY}:total"])
    done = int(values.get(f"{PROGRESS_KEY}:done") or 0)
    total = int(values.get(f"{PROGRESS_KEY}:total") or 0)
    return Progress(done=done, total=total, running=bool(total) and done < total)


# --------------------------------------------------------------------------------------------------------
# Verification


@dataclass(frozen=True)
class Difference:
    metric: str
    day: dt.date
    county_id: int
    township_id: int
    village_id: int
    grid_id: int
    stored: int
    computed: int
    member_id: int | None = None
    # "" for a fact or a member; "village-day" or "village-month" for a coarse fact (its grid is 0),
    # "member-year" for a yearly member (day: 1 January; stored/computed: its month rows).
    grain: str = ""

    def line(self) -> str:
        where = (
            f"county={self.county_id} township={self.township_id} "
            f"village={self.village_id} grid={self.grid_id}"
        )
        if self.grain:
            # A coarse row has no grid.
            where = f"county={self.county_id} township={self.township_id} village={self.village_id}"
            if self.grain == "member-year":
                values = f"{self.stored} month rows stored vs {self.computed} in the members"
                return f"{self.metric} {self.day:%Y} {self.grain} {where} member={self.member_id}: {values}"
            values = f"stored {self.stored} vs facts {self.computed}"
            return f"{self.metric} {self.day} {self.grain} {where}: {values}"
        if self.member_id is not None:
            state = "stored only" if self.stored else "missing"
            return f"{self.metric} {self.day:%Y-%m} {where} member={self.member_id}: {state}"
        return f"{self.metric} {self.day} {where}: fact {self.stored} vs source {self.computed}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "day": self.day.isoformat(),
            "township_id": self.township_id,
            "village_id": self.village_id,
            "grid_id": self.grid_id,
            "member_id": self.member_id,
            "grain": self.grain,
            "stored": self.stored,
            "computed": self.computed,
        }


def _year_place(level: int, region: int, parent: int) -> tuple[int, int, int, int]:
    """(county, township, village, grid) of a yearly member row (a level below it is 0)."""
    if level == coarse.COUNTY:
        return region, 0, 0, 0
    return parent, region, 0, 0


@dataclass
class VerifyResult:
    differences: list[Difference] = field(default_factory=list)
    facts: int = 0
    members: int = 0
    seconds: float = 0.0

    @property
    def is_exact(self) -> bool:
        return not self.differences


def verify(*, since: dt.date | None = None, metric: str | None = None) -> VerifyResult:
    """Compare every fact and member row (days ≥ `since`) with a direct aggregate over the source rows."""
    started = time.monotonic()
    result = VerifyResult()
    sources = selected_sources(metric)
    for source in sources:
        params: dict[str, Any] = {}
        rows = _fetch(verify_sql(source, since, params), params)
        for row in rows:
            if source.distinct:
                metric_name, month, county, township, village, grid, member, stored, computed = row
                result.differences.append(
                    Difference(metric_name, month, county, township, village, grid, stored, computed, member)
                )
            else:
                metric_name, day, county, township, village, grid, stored, computed = row
                result.differences.append(
                    Difference(metric_name, day, county, township, village, grid, int(stored), int(computed))
                )
    if coarse.is_kept():
        # The coarse facts against the stored facts (which the loop above held to the sources).
        params = {}
        chosen = None if metric is None else [name for source in sources for name in source.metrics]
        for grain, metric_name, day, county, township, village, stored, computed in _fetch(
            coarse.verify_sql(since, chosen, params), params
        ):
            result.differences.append(
                Difference(
                    metric_name, day, county, township, village, 0, int(stored), int(computed), grain=grain
                )
            )
        params = {}
        for metric_name, year, level, region, parent, member, stored, computed in _fetch(
            coarse.member_verify_sql(since, chosen, params), params
        ):
            result.differences.append(
                Difference(
                    metric_name,
                    dt.date(int(year), 1, 1),
                    *_year_place(int(level), int(region), int(parent)),
                    int(stored),
                    int(computed),
                    int(member),
                    grain="member-year",
                )
            )
    counts = _fetch(
        f"SELECT (SELECT COUNT(*) FROM {FACTS}), (SELECT COUNT(*) FROM {MEMBERS})"  # noqa: S608
    )
    result.facts, result.members = int(counts[0][0]), int(counts[0][1])
    result.seconds = time.monotonic() - started
    return result


# --------------------------------------------------------------------------------------------------------
# Run records


# The passes that run only under the rollup lock (a verify reads and runs beside them).
LOCKED_KINDS = (RollupKind.INCREMENTAL, RollupKind.NIGHTLY, RollupKind.FULL)
# A verify still "running" after this long was killed (the task's hard limit is far shorter).
VERIFY_ABANDONED_AFTER = dt.timedelta(hours=6)


def run_start(kind: str) -> RollupRun:
    """Record a pass as running. A locked pass holds the lock, so no other locked pass is alive: one still
    "running" was killed before it could record its end (SIGKILL, a lost worker) and is closed as failed,
    instead of showing as running for ever on the data-quality panel."""
    now = timezone.now()
    abandoned = {"error": "abandoned: the run ended without recording its end (process killed?)"}
    if kind in LOCKED_KINDS:
        RollupRun.objects.filter(kind__in=LOCKED_KINDS, status=RollupStatus.RUNNING).update(
            status=RollupStatus.FAILED, finished_at=now, detail=abandoned
        )
    else:
        RollupRun.objects.filter(
            kind=kind, status=RollupStatus.RUNNING, started_at__lt=now - VERIFY_ABANDONED_AFTER
        ).update(status=RollupStatus.FAILED, finished_at=now, detail=abandoned)
    return RollupRun.objects.create(kind=kind, started_at=now)


def run_finish(run: RollupRun, *, status: str, detail: dict[str, Any]) -> RollupRun:
    run.status = status
    run.finished_at = timezone.now()
    run.detail = detail
    run.save(update_fields=["status", "finished_at", "detail"])
    return run


def run_skipped(kind: str) -> RollupRun:
    now = timezone.now()
    return RollupRun.objects.create(
        kind=kind,
        status=RollupStatus.SKIPPED,
        started_at=now,
        finished_at=now,
        detail={"reason": "locked"},
    )


def verify_recorded(*, since: dt.date | None = None, metric: str | None = None) -> VerifyResult:
    """verify(), written down as a RollupRun (the data-quality panel shows the last one)."""
    run = run_start(RollupKind.VERIFY)
    result = verify(since=since, metric=metric)
    run_finish(
        run,
        status=RollupStatus.OK if result.is_exact else RollupStatus.DIFFERENT,
        detail={
            "differences": len(result.differences),
            "first": [d.as_dict() for d in result.differences[:DIFFERENCES_KEPT]],
            "facts": result.facts,
            "members": result.members,
            "since": since.isoformat() if since else None,
            "seconds": round(result.seconds, 3),
        },
    )
    return result

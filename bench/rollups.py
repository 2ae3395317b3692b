#!/usr/bin/env python3
"""The rollup engine against its floors, on a seeded database (issue 8). Run separately, never in the
suite (tests/rollups/test_bench_smoke.py runs --quick on a tiny world):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/xiangzhi .venv/bin/python bench/rollups.py

It works on DATABASE_URL's own database (seed it first: `seed_demo --scale county`) and leaves it as
it found it: every phase runs inside one transaction that is rolled back at the end.

1. Full rebuild vs floor. The floor is the hand-written GROUP BY over the same source rows: per source,
   its rows (the same joins and filters, the registry's own SQL) grouped by (day, region) — or SELECT
   DISTINCT (month, region, member) for a distinct source — read to the end, no region history, no
   writes. The rebuild is engine.full_rebuild(): every township in turn (what the Celery group spreads
   over workers), each DELETE + INSERT … SELECT per source with the regions as they were. Ratio target
   ≤ 1.5 (issue 8). The single-statement rebuild per source (recompute_all) is printed too.
2. Incremental pass after one day of new rows: --rows postings (default 30,000: award pairs on household
   accounts, half on each leg) written on a new day, then engine.incremental_pass() over every source,
   timed. Then the points history is doubled (every transaction and posting copied a year earlier), the
   watermarks moved past the copies, and the same measured again: the pass must stay under 1 s and not
   grow with history.
Exit status 1 when a target is missed (not in --quick mode, which only checks that everything runs).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RATIO_TARGET = 1.5
INCREMENTAL_TARGET_SECONDS = 1.0


def log(message: str) -> None:
    print(f"[rollups-bench] {message}", flush=True)


class Rollback(Exception):
    """Raised at the end of a phase to undo everything it wrote."""


def floor_seconds(runs: int) -> tuple[float, dict[str, float]]:
    """The hand-written GROUP BY over every source's rows: the median of `runs` timings (their sum over
    the sources), and each source's median."""
    from django.conf import settings
    from django.db import connection

    from governance.rollups import registry

    per_source: dict[str, float] = {}
    for source in registry.sources().values():
        parts = " UNION ALL ".join("(" + part.sql.format(filter="TRUE") + ")" for part in source.parts)
        if source.distinct:
            sql = f"SELECT COUNT(*) FROM (SELECT DISTINCT day, region_id, member_id FROM ({parts}) s) g"  # noqa: S608
        else:
            sums = ", ".join(f"SUM(s.m{i})" for i in range(len(source.metrics)))
            sql = f"SELECT COUNT(*) FROM (SELECT day, region_id, {sums} FROM ({parts}) s GROUP BY 1, 2) g"  # noqa: S608
        timings = []
        for _run in range(runs):
            started = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(sql, {"tz": settings.TIME_ZONE})
                cursor.fetchall()
            timings.append(time.perf_counter() - started)
        per_source[source.name] = statistics.median(timings)
    return sum(per_source.values()), per_source


def _timed(runs: int, work: Any) -> float:
    timings = []
    for _run in range(runs):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def _facts_clear() -> None:
    from django.db import connection

    from governance.rollups.sql import FACTS, MEMBERS

    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {FACTS}, {MEMBERS}")


def phase_full(runs: int) -> dict[str, Any]:
    from django.db import transaction

    from governance.rollups import engine

    figures: dict[str, Any] = {}
    try:
        with transaction.atomic():
            floor, per_source = floor_seconds(runs)
            engine.full_rebuild(progress=False)  # the facts current, whatever state they were in

            def from_empty() -> None:
                _facts_clear()
                figures["result"] = engine.full_rebuild(progress=False)

            figures.update(
                floor=floor,
                floor_sources=per_source,
                empty=_timed(runs, from_empty),
                current=_timed(runs, lambda: engine.full_rebuild(progress=False)),
                townships=_timed(runs, lambda: engine.full_rebuild(progress=False, by_township=True)),
                township_count=len(engine.full_townships()),
            )
            result = figures.pop("result")
            figures["empty_sources"] = {s.source: s.seconds for s in result.sources}
            figures["rows"] = sum(s.rows for s in result.sources)
            raise Rollback
    except Rollback:
        pass
    return figures


def _day_of_postings(rows: int, day: dt.date) -> int:
    """`rows` postings on `day`: award transactions of two legs (a household's and its township's
    issuance account), spread over the household accounts and the day's hours. Returns rows written."""
    from django.db import connection
    from django.utils import timezone

    from points.models import Account, LedgerTransaction, Posting

    accounts = list(
        Account.objects.filter(kind="household")
        .order_by("id")
        .values_list("id", "township_id")[: max(1, rows // 2)]
    )
    issuance = dict(Account.objects.filter(kind="issuance").values_list("township_id", "id"))
    if not accounts or not issuance:
        raise SystemExit("the database has no household or issuance accounts: seed it first (seed_demo)")
    start = timezone.make_aware(dt.datetime.combine(day, dt.time(8)))
    pairs = rows // 2
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH legs AS (
                SELECT g AS n, a.id AS account_id, a.township_id, i.id AS issuance_id,
                       %s::timestamptz + (g * interval '1 second') AS at
                FROM generate_series(0, %s - 1) g
                JOIN unnest(%s::bigint[], %s::bigint[]) WITH ORDINALITY AS a(id, township_id, ord)
                  ON a.ord = (g %% %s) + 1
                JOIN unnest(%s::bigint[], %s::bigint[]) AS i(township_id, id) ON i.township_id = a.township_id
            ), entries AS (
                INSERT INTO {LedgerTransaction._meta.db_table} (kind, township_id, memo, created_at)
                SELECT 'award', township_id, 'bench ' || n, at FROM legs
                RETURNING id, memo, created_at
            )
            INSERT INTO {Posting._meta.db_table} (transaction_id, account_id, amount, created_at)
            SELECT e.id, x.account_id, x.amount, e.created_at
            FROM entries e JOIN legs l ON e.memo = 'bench ' || l.n
            CROSS JOIN LATERAL (VALUES (l.account_id, 5), (l.issuance_id, -5)) AS x(account_id, amount)
            """,  # noqa: S608
            [
                start,
                pairs,
                [a for a, _t in accounts],
                [t for _a, t in accounts],
                len(accounts),
                list(issuance),
                list(issuance.values()),
            ],
        )
        return int(cursor.rowcount)


def _double_points_history() -> int:
    """Copy every ledger transaction and posting a year earlier (new ids). Returns postings copied."""
    from django.db import connection

    from points.models import LedgerTransaction, Posting

    t, p = LedgerTransaction._meta.db_table, Posting._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE bench_map ON COMMIT DROP AS "  # noqa: S608
            f"SELECT id AS old, nextval(pg_get_serial_sequence('{t}', 'id')) AS new FROM {t}"
        )
        cursor.execute(
            f"INSERT INTO {t} (id, kind, township_id, memo, created_at) "  # noqa: S608
            f"SELECT m.new, x.kind, x.township_id, x.memo, x.created_at - interval '1 year' "
            f"FROM {t} x JOIN bench_map m ON m.old = x.id"
        )
        cursor.execute(
            f"INSERT INTO {p} (transaction_id, account_id, amount, created_at) "  # noqa: S608
            f"SELECT m.new, x.account_id, x.amount, x.created_at - interval '1 year' "
            f"FROM {p} x JOIN bench_map m ON m.old = x.transaction_id"
        )
        copied = int(cursor.rowcount)
        cursor.execute(f"ANALYZE {t}; ANALYZE {p}")
    return copied


def _marks_to_now() -> None:
    from governance.rollups import engine

    engine.full_finish(engine.full_targets())


def phase_incremental(rows: int) -> dict[str, Any]:
    from django.db import connection, transaction
    from django.utils import timezone

    from governance.rollups import engine
    from points.models import Posting

    figures: dict[str, Any] = {}
    try:
        with transaction.atomic():
            # The facts current and the watermarks where the rows stand now, as after a routine pass.
            engine.incremental_pass()
            _marks_to_now()
            for label, day_ahead in (("history", 1), ("history x2", 2)):
                if label == "history x2":
                    copied = _double_points_history()
                    _marks_to_now()
                    figures["copied"] = copied
                postings = Posting.objects.count()
                written = _day_of_postings(rows, timezone.localdate() + dt.timedelta(days=day_ahead))
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE")
                started = time.perf_counter()
                result = engine.incremental_pass()
                seconds = time.perf_counter() - started
                figures[label] = {
                    "postings": postings,
                    "written": written,
                    "seconds": seconds,
                    "sources": {s.source: (s.keys, s.rows, s.seconds) for s in result.sources},
                }
            raise Rollback
    except Rollback:
        pass
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=30_000, help="postings written on the new day")
    parser.add_argument("--runs", type=int, default=3, help="timings per figure (the median is kept)")
    parser.add_argument("--quick", action="store_true", help="one run, few rows, no verdict (smoke test)")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.rows = 1, min(args.rows, 2_000)

    import django
    from django.conf import settings

    if not settings.configured:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit("bench/rollups.py needs PostgreSQL: set DATABASE_URL=postgres://...")

    log(f"database {connection.settings_dict['NAME']}, {args.runs} run(s), {args.rows} rows on the new day")
    full = phase_full(args.runs)
    floor = full["floor"] or 1e-9
    ratio = full["empty"] / floor
    log(f"floor (hand-written GROUP BY over every source's rows): {full['floor']:.3f} s")
    for name, seconds in full["floor_sources"].items():
        log(f"    {name:32} floor {seconds:8.3f} s   rebuild {full['empty_sources'].get(name, 0):8.3f} s")
    log(
        f"full rebuild into empty facts ({full['rows']} rows written): {full['empty']:.3f} s "
        f"→ ratio {ratio:.2f} (target ≤ {RATIO_TARGET})"
    )
    log(
        f"full rebuild over current facts (nothing to write): {full['current']:.3f} s "
        f"→ ratio {full['current'] / floor:.2f}"
    )
    log(
        f"full rebuild township by township ({full['township_count']} steps in one process; the Celery group "
        f"spreads them over the workers): {full['townships']:.3f} s → ratio {full['townships'] / floor:.2f}"
    )
    incremental = phase_incremental(args.rows)
    verdicts = [ratio <= RATIO_TARGET]
    for label in ("history", "history x2"):
        figures = incremental[label]
        log(
            f"incremental pass, {label} ({figures['postings']} postings before, "
            f"{figures['written']} new on one "
            f"day): {figures['seconds']:.3f} s (target < {INCREMENTAL_TARGET_SECONDS} s)"
        )
        for name, (keys, rows, seconds) in figures["sources"].items():
            if seconds >= 0.01:
                log(f"    {name:32} {keys:6} keys {rows:8} rows {seconds:8.3f} s")
        verdicts.append(figures["seconds"] < INCREMENTAL_TARGET_SECONDS)
    growth = incremental["history x2"]["seconds"] / max(incremental["history"]["seconds"], 1e-9)
    log(f"doubling the history ({incremental['copied']} postings copied) changed the pass by ×{growth:.2f}")
    if args.quick:
        log("quick run: no verdict")
        return 0
    if all(verdicts):
        log("all targets met")
        return 0
    log("a target was missed")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""The rollup engine against its floors, on a seeded database (issue 8). Run separately, never in the
suite (tests/rollups/test_bench_smoke.py runs --quick on a tiny world):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/xiangzhi .venv/bin/python bench/rollups.py

It works on DATABASE_URL's own database (seed it first: `seed_demo --scale county`) and leaves it as
it found it: every phase runs inside one transaction that is rolled back at the end.

The county seed holds one year of about 350,000 points postings; issue 8's county has about 10 million
(~30,000 a day). `--postings-target 10000000` first copies the seeded year's ledger transactions and
postings onto the same accounts, each copy shifted 11 days further back and wrapped into the same year,
until there are that many (inside the rolled-back transaction: ~29 copies, a few minutes).
`--postings-target 10000000 --grow-only` does the copying once and commits it (a separate step that
changes the database for good: the accounts' stored balances no longer match their postings there).

1. Full rebuild vs floor. The floor is the hand-written GROUP BY over the same source rows: per source,
   its rows (the same joins and filters, the registry's own SQL) grouped by (day, region) with every
   sum computed and read — or SELECT DISTINCT (month, region, member) for a distinct source — no region
   history, no writes, with the rebuild's work_mem. The rebuild is engine.full_rebuild(): into empty
   facts one INSERT … SELECT per source into new unindexed tables, indexed and swapped in; over current
   facts one statement per source in place. Ratio target ≤ 1.5 (issue 8), into empty facts (the
   verdict) and over current ones. The Celery group's per-township steps run one after the
   other in this process are printed too (the group spreads them over workers).
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

    from governance.rollups import engine, registry

    per_source: dict[str, float] = {}
    # The same work_mem as the rebuild gets (a floor spilling its hash to disk would flatter the ratio).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('work_mem', %s, true)",
            [getattr(settings, "ROLLUP_FULL_WORK_MEM", engine.FULL_WORK_MEM)],
        )
    for source in registry.sources().values():
        parts = " UNION ALL ".join("(" + part.sql.format(filter="TRUE") + ")" for part in source.parts)
        if source.distinct:
            sql = f"SELECT COUNT(*) FROM (SELECT DISTINCT day, region_id, member_id FROM ({parts}) s) g"  # noqa: S608
        else:
            # The sums are read (summed again) so PostgreSQL computes them: a bare COUNT(*) over the
            # groups lets it drop the sums and with them the joins only they need (the reversed
            # transaction, the returns) — no longer the same work over the same rows.
            n = len(source.metrics)
            sums = ", ".join(f"SUM(s.m{i}) AS s{i}" for i in range(n))
            totals = ", ".join(f"SUM(g.s{i})" for i in range(n))
            sql = (
                f"SELECT COUNT(*), {totals} FROM "  # noqa: S608
                f"(SELECT day, region_id, {sums} FROM ({parts}) s GROUP BY 1, 2) g"
            )
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
                # One run: the serial form of the Celery group is the slow one, and only informative.
                townships=_timed(1, lambda: engine.full_rebuild(progress=False, by_township=True)),
                township_count=len(engine.full_townships()),
            )
            result = figures.pop("result")
            figures["empty_sources"] = {s.source: s.seconds for s in result.sources}
            figures["empty_index"] = result.index_seconds
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
    _triggers_off()
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


def _triggers_off() -> None:
    """Skip the ledger's row triggers (the deferred balance check, the foreign-key checks) for the rest of
    the transaction: the copies are copies of balanced transactions, and millions of queued trigger
    events would cost more than the copying. Needs a superuser; without one the triggers stay on."""
    from django.db import DatabaseError, connection, transaction

    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
    except DatabaseError:
        log("(not a superuser: the copies fire the ledger's triggers)")


def _grow_points_history(target: int) -> tuple[int, float]:
    """Bring the points postings to about `target` by copying the seeded year's ledger transactions and
    postings k times onto the same accounts, each copy shifted by a further 11 days and wrapped into the
    seeded year: one year of ledger (as the county's "about 10 million postings" is, ~30,000 a day),
    denser per household and grid. Returns (postings copied, seconds)."""
    from django.db import connection

    from points.models import LedgerTransaction, Posting

    t, p = LedgerTransaction._meta.db_table, Posting._meta.db_table
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT COUNT(*) FROM {p}), MIN(created_at), MAX(created_at) FROM {t}"  # noqa: S608
        )
        have, first, last = cursor.fetchone()
        if not have or have >= target:
            return 0, 0.0
        copies = -(-(target - have) // have)  # ceiling
        _triggers_off()
        # Each copy c: its transactions' times moved back c × 11 days, wrapped into [first, last].
        cursor.execute(
            f"CREATE TEMP TABLE bench_grow ON COMMIT DROP AS "  # noqa: S608
            f"SELECT x.id AS old, nextval(pg_get_serial_sequence('{t}', 'id')) AS new, "
            "(to_timestamp(extract(epoch FROM %(first)s::timestamptz) + mod(("
            "extract(epoch FROM x.created_at) - extract(epoch FROM %(first)s::timestamptz) "
            "- c * 11 * 86400 + 40 * span)::numeric, span)) - x.created_at) AS shift "
            f"FROM {t} x CROSS JOIN generate_series(1, %(copies)s) c "
            "CROSS JOIN (SELECT greatest(extract(epoch FROM %(last)s::timestamptz) "
            "- extract(epoch FROM %(first)s::timestamptz), 1)::numeric AS span) s",
            {"first": first, "last": last, "copies": copies},
        )
        cursor.execute(
            f"INSERT INTO {t} (id, kind, township_id, memo, created_by_id, created_at) "  # noqa: S608
            "SELECT m.new, x.kind, x.township_id, x.memo, x.created_by_id, x.created_at + m.shift "
            f"FROM {t} x JOIN bench_grow m ON m.old = x.id"
        )
        cursor.execute(
            f"INSERT INTO {p} (transaction_id, account_id, amount, created_at) "  # noqa: S608
            "SELECT m.new, x.account_id, x.amount, x.created_at + m.shift "
            f"FROM {p} x JOIN bench_grow m ON m.old = x.transaction_id"
        )
        copied = int(cursor.rowcount)
        cursor.execute(f"DROP TABLE bench_grow; ANALYZE {t}; ANALYZE {p}")
    return copied, time.perf_counter() - started


def _marks_to_now() -> None:
    from governance.rollups import engine

    engine.full_finish(engine.full_targets())


def phase_incremental(rows: int, runs: int = 1, day: dt.date | None = None) -> dict[str, Any]:
    from django.db import connection, transaction
    from django.utils import timezone

    from governance.rollups import engine
    from points.models import LedgerTransaction, Posting

    figures: dict[str, Any] = {}
    try:
        with transaction.atomic():
            # The facts current and the watermarks where the rows stand now, as after a routine pass.
            engine.full_rebuild(progress=False)
            _marks_to_now()
            for label, day_ahead in (("history", 1), ("history x2", 2)):
                if label == "history x2":
                    copied = _double_points_history()
                    _marks_to_now()
                    figures["copied"] = copied
                postings = Posting.objects.count()
                # Tomorrow (and the day after) by default: a day of its own, possibly a new month's
                # first. `day` puts the rows on a day (and the next) that already holds postings, as
                # a pass in the middle of a month meets them.
                new_day = (day or timezone.localdate()) + dt.timedelta(days=day_ahead - (1 if day else 0))
                written = _day_of_postings(rows, new_day)
                with connection.cursor() as cursor:
                    # The tables written, not the whole database: a database-wide ANALYZE inside this
                    # long transaction holds a lock on the shared catalogs until it ends, and every other
                    # ANALYZE on the server (another database's test run) would wait for it.
                    cursor.execute(
                        f"ANALYZE {LedgerTransaction._meta.db_table}; ANALYZE {Posting._meta.db_table}"
                    )
                # `runs` passes over the same new rows, each undone (a savepoint) so the next one finds
                # the same watermarks and facts: the median pass, and each source's median.
                timings: list[float] = []
                per_source: dict[str, list[tuple[int, int, float]]] = {}
                for _run in range(runs):
                    try:
                        with transaction.atomic():
                            started = time.perf_counter()
                            result = engine.incremental_pass()
                            timings.append(time.perf_counter() - started)
                            for s in result.sources:
                                per_source.setdefault(s.source, []).append((s.keys, s.rows, s.seconds))
                            raise Rollback
                    except Rollback:
                        pass
                figures[label] = {
                    "day": new_day,
                    "postings": postings,
                    "written": written,
                    "seconds": statistics.median(timings),
                    "timings": timings,
                    "sources": {
                        name: (runs_[0][0], runs_[0][1], statistics.median(r[2] for r in runs_))
                        for name, runs_ in per_source.items()
                    },
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
    parser.add_argument(
        "--day",
        type=dt.date.fromisoformat,
        default=None,
        help="put the new rows on this day (history x2: the next day) instead of tomorrow, e.g. a day "
        "in the middle of a month that holds postings already",
    )
    parser.add_argument(
        "--only",
        choices=["full", "incremental"],
        default=None,
        help="run only that phase (the full phase alone takes minutes at county scale)",
    )
    parser.add_argument(
        "--postings-target",
        type=int,
        default=0,
        help="first copy the points history (the seeded year, denser) until there are about this many "
        "postings, inside the run's transaction (rolled back); e.g. 10000000 at county scale",
    )
    parser.add_argument(
        "--grow-only",
        action="store_true",
        help="with --postings-target: copy the history, commit it and exit (a separate, kept step)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.rows = 1, min(args.rows, 2_000)

    import django
    from django.conf import settings

    if not settings.configured:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        django.setup()
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        raise SystemExit("bench/rollups.py needs PostgreSQL: set DATABASE_URL=postgres://...")

    log(f"database {connection.settings_dict['NAME']}, {args.runs} run(s), {args.rows} rows on the new day")
    log(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.grow_only:
        with transaction.atomic():
            copied, seconds = _grow_points_history(args.postings_target or 0)
        log(f"points history grown by {copied} postings in {seconds:.1f} s (committed)")
        return 0
    try:
        with transaction.atomic():
            code = _measure(args)
            raise Rollback
    except Rollback:
        pass
    _statistics_restore()
    log(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return code


def _statistics_restore() -> None:
    """VACUUM and ANALYZE, after the rollback, the tables the run wrote to. ANALYZE writes a table's row
    count (pg_class.reltuples) in place, outside the transaction: the incremental phase's doubled
    history was rolled back but left the ledger's tables counted at 20 million rows, and the next run's
    floor was planned for twice the rows it read (a parallel plan the rebuild's INSERT cannot have:
    9–10 s against 15 s with the true counts); and the rolled-back copies stay in the tables as dead
    rows every later scan reads until a VACUUM."""
    from django.db import connection

    from governance.rollups.sql import FACTS, MEMBERS
    from points.models import LedgerTransaction, Posting

    with connection.cursor() as cursor:
        for table in (LedgerTransaction._meta.db_table, Posting._meta.db_table, FACTS, MEMBERS):
            # VACUUM cannot run in a transaction (the suite's smoke test calls main() inside one).
            cursor.execute(f"ANALYZE {table}" if connection.in_atomic_block else f"VACUUM (ANALYZE) {table}")


def _measure(args: argparse.Namespace) -> int:
    if args.postings_target:
        copied, seconds = _grow_points_history(args.postings_target)
        if copied:
            log(f"points history grown by {copied} postings in {seconds:.1f} s (rolled back at the end)")
    from points.models import Posting

    log(f"points postings: {Posting.objects.count()}")
    verdicts: list[bool] = []
    if args.only != "incremental":
        verdicts.append(_report_full(args))
    if args.only != "full":
        verdicts += _report_incremental(args)
    if args.quick:
        log("quick run: no verdict")
        return 0
    if all(verdicts):
        log("all targets met")
        return 0
    log("a target was missed")
    return 1


def _report_full(args: argparse.Namespace) -> bool:
    full = phase_full(args.runs)
    floor = full["floor"] or 1e-9
    ratio = full["empty"] / floor
    log(f"floor (hand-written GROUP BY over every source's rows): {full['floor']:.3f} s")
    for name, seconds in full["floor_sources"].items():
        log(f"    {name:32} floor {seconds:8.3f} s   rebuild {full['empty_sources'].get(name, 0):8.3f} s")
    log(
        f"full rebuild into empty facts ({full['rows']} rows written): {full['empty']:.3f} s "
        f"→ ratio {ratio:.2f} (target ≤ {RATIO_TARGET}); of which indexing the new tables and swapping "
        f"them in {full['empty_index']:.3f} s"
    )
    log(f"full rebuild over current facts: {full['current']:.3f} s → ratio {full['current'] / floor:.2f}")
    log(
        f"full rebuild township by township ({full['township_count']} steps in one process; the Celery group "
        f"spreads them over the workers): {full['townships']:.3f} s → ratio {full['townships'] / floor:.2f}"
    )
    return ratio <= RATIO_TARGET


def _report_incremental(args: argparse.Namespace) -> list[bool]:
    incremental = phase_incremental(args.rows, args.runs, args.day)
    verdicts: list[bool] = []
    for label in ("history", "history x2"):
        figures = incremental[label]
        log(
            f"incremental pass, {label} ({figures['postings']} postings before, "
            f"{figures['written']} new on {figures['day']}): {figures['seconds']:.3f} s, "
            f"median of {len(figures['timings'])} "
            f"({' '.join(f'{t:.3f}' for t in figures['timings'])}; load "
            f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}) (target < {INCREMENTAL_TARGET_SECONDS} s)"
        )
        for name, (keys, rows, seconds) in figures["sources"].items():
            log(f"    {name:32} {keys:6} keys {rows:8} rows {seconds:8.3f} s")
        verdicts.append(figures["seconds"] < INCREMENTAL_TARGET_SECONDS)
    growth = incremental["history x2"]["seconds"] / max(incremental["history"]["seconds"], 1e-9)
    log(f"doubling the history ({incremental['copied']} postings copied) changed the pass by ×{growth:.2f}")
    return verdicts


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

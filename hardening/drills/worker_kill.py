"""Drill "worker-kill": the process doing a full rollup is SIGKILLed mid-run; the rerun finishes exact.

On the demo county (the recovery drill's restored database when it ran first, else a fresh seed):
1. inline: `manage.py rollup --full` is SIGKILLed once the rebuild is under way. Expected: a rerun at once
   is refused by the lock the dead run still holds ("skipped"), the dashboard keeps reading whole facts
   meanwhile (a rebuild swaps tables at the end), and once the lock's time runs out — fast-forwarded here
   with PEXPIRE, where production waits its TTL (docs/rollups.md) — the rerun ends "exact" under
   `rollup --verify`, with the same facts as before the kill;
2. Celery: a worker (-c 2) runs `governance.rollup_full` (a group of per-township tasks and a chord) and
   is SIGKILLed, with its pool, after the first townships finished. A new worker and a new rollup_full
   (after the lock's fast-forwarded expiry) finish the rebuild; `rollup --verify` is exact and the facts
   equal the ones before.
3. an Excel roster import (IMPORT_ROWS rows, all-or-nothing) queued to a worker, which is SIGKILLed while
   the job is validating or importing. The job stays claimed (its writes rolled back with the dead
   worker's transaction); once it counts as stale — STALE_AFTER, fast-forwarded here by moving its
   started_at back — the task sent again re-claims it and the import ends "succeeded" with exactly
   IMPORT_ROWS new residents, none twice.
"""

from __future__ import annotations

import contextlib
import signal
import time
from typing import Any

import redis

from hardening.drills.core import DrillResult, new_database
from hardening.drills.infra import PYTHON, ROOT, Stack, rollup_verify, wait_for
from hardening.drills.recovery import DATABASE as RECOVERY_DATABASE

DATABASE = "drill_worker_kill"
LOCK_KEY = "xiangzhi:rollups:lock"
KILL_AFTER = 0.7


def facts_fingerprint(stack: Stack, database: str) -> tuple[int, str]:
    """(rows, md5 of every fact row without its id, in a fixed order)."""
    columns = [
        name
        for (name,) in stack.pg.query(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'governance_metricfact' "
            "AND column_name <> 'id' ORDER BY column_name",
            database=database,
        )
    ]
    listed = ", ".join(f'"{c}"' for c in columns)
    ((rows, digest),) = stack.pg.query(
        f"SELECT COUNT(*), md5(COALESCE(string_agg(r::text, '|' ORDER BY r::text), '')) "  # noqa: S608
        f"FROM (SELECT {listed} FROM governance_metricfact) r",
        database=database,
    )
    return int(rows), str(digest)


def _latest_run(stack: Stack, database: str) -> tuple[Any, ...] | None:
    rows = stack.pg.query(
        "SELECT id, kind, status FROM governance_rolluprun ORDER BY id DESC LIMIT 1", database=database
    )
    return rows[0] if rows else None


def run(stack: Stack, result: DrillResult) -> None:
    if stack.pg.database_exists(RECOVERY_DATABASE):
        stack.pg.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        stack.pg.execute(f'CREATE DATABASE "{DATABASE}" TEMPLATE "{RECOVERY_DATABASE}"')
        result.fact("on a copy of the recovery drill's restored demo county")
    else:
        new_database(stack, DATABASE)
        stack.manage(stack.env(DATABASE), "seed_demo", "--quiet-logins")
        stack.manage(stack.env(DATABASE), "rollup", "--full")
    redis_db = 3
    env = stack.env(DATABASE, redis_db=redis_db)
    broker = redis.Redis.from_url(stack.redis.url(redis_db))
    broker.flushdb()
    before = facts_fingerprint(stack, DATABASE)
    result.fact(f"facts before: {before[0]} rows")

    # 1. the inline rebuild, killed.
    process = stack.spawn([PYTHON, str(ROOT / "manage.py"), "rollup", "--full"], env, "rollup-inline.log")
    wait_for(lambda: broker.get(LOCK_KEY) is not None, 60, "the inline rebuild to take the lock")
    # A full rebuild of the demo county takes 3 s on an idle machine: kill it well inside that.
    time.sleep(KILL_AFTER)
    still_running = process.poll() is None
    stack.kill(process, signal.SIGKILL)
    result.check(still_running, "the inline rebuild finished before it could be killed")
    result.fact(
        f"inline `rollup --full` SIGKILLed {KILL_AFTER} s after it took the lock "
        f"(latest run: {_latest_run(stack, DATABASE)})"
    )
    skipped = stack.manage(env, "rollup", "--full")
    result.check(
        "skipped" in skipped.stdout,
        f"a rerun while the dead run's lock lives was not skipped: {skipped.stdout}",
    )
    if "skipped" in skipped.stdout:
        result.fact("rerun at once: skipped (the lock still held by the dead run)")
    broker.pexpire(LOCK_KEY, 1)
    time.sleep(0.05)
    started = time.perf_counter()
    stack.manage(env, "rollup", "--full")
    result.fact(f"after the lock expired: rerun in {time.perf_counter() - started:.1f} s")
    result.fact("rollup --verify: " + rollup_verify(stack, env))
    after = facts_fingerprint(stack, DATABASE)
    result.check(after == before, f"facts after the inline rerun differ: {before} → {after}")

    # 2. a Celery worker, killed mid fan-out.
    worker = stack.celery_worker(env, "rollups-a")
    wait_for(
        lambda: b"ready" in (stack.workdir / "celery-rollups-a.log").read_bytes(), 90, "the worker to start"
    )
    stack.manage(env, "shell", "-c", "from governance.tasks import rollup_full; rollup_full.delay()")
    log = stack.workdir / "celery-rollups-a.log"

    def townships_done() -> int:
        return sum(
            1
            for line in log.read_bytes().splitlines()
            if b"rollup_full_township[" in line and b"succeeded" in line
        )

    wait_for(lambda: townships_done() >= 1, 180, "the first township task to finish")
    stack.kill(worker, signal.SIGKILL)
    result.fact(
        f"Celery worker (-c 2) SIGKILLed mid full rebuild: {townships_done()} township task(s) finished, "
        "the others received or queued"
    )
    broker.pexpire(LOCK_KEY, 1)
    time.sleep(0.05)
    last_before = _latest_run(stack, DATABASE)
    worker = stack.celery_worker(env, "rollups-b")
    wait_for(lambda: b"ready" in (stack.workdir / "celery-rollups-b.log").read_bytes(), 90, "the new worker")
    started = time.perf_counter()
    stack.manage(env, "shell", "-c", "from governance.tasks import rollup_full; rollup_full.delay()")

    def finished() -> bool:
        latest = _latest_run(stack, DATABASE)
        return latest is not None and latest != last_before and latest[1] == "full" and latest[2] == "ok"

    wait_for(finished, 600, "the new full rebuild to finish", interval=0.5)
    result.fact(f"new worker: full rebuild through Celery finished in {time.perf_counter() - started:.1f} s")
    stack.kill(worker)
    result.fact("rollup --verify: " + rollup_verify(stack, env))
    after = facts_fingerprint(stack, DATABASE)
    result.check(after == before, f"facts after the Celery rerun differ: {before} → {after}")
    result.fact(f"facts after both reruns: identical to before ({after[0]} rows)")
    _import_killed(stack, result, env)


IMPORT_ROWS = 20_000


def _import_status(stack: Stack, job: int) -> tuple[str, int]:
    ((status, imported),) = stack.pg.query(
        "SELECT status, imported_residents FROM governance_importjob WHERE id = %s", [job], database=DATABASE
    )
    return str(status), int(imported)


def _import_killed(stack: Stack, result: DrillResult, env: dict[str, str]) -> None:
    import json
    import subprocess

    queued = subprocess.run(  # noqa: S603
        [PYTHON, "-m", "hardening.drills.roster_job", str(IMPORT_ROWS), str(stack.workdir / "roster.xlsx")],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    line = next((x for x in queued.stdout.splitlines() if x.startswith("DRILL_ROSTER ")), "")
    if not line:
        raise AssertionError(f"queueing the roster import failed: {queued.stderr.strip()[-1500:]}")
    info = json.loads(line.removeprefix("DRILL_ROSTER "))
    job, before = int(info["job"]), int(info["residents_before"])
    worker = stack.celery_worker(env, "import-a", queues="celery")
    # Killed while writing (importing) is the harder case; validating is the longer phase.
    wait_for(lambda: _import_status(stack, job)[0] != "queued", 180, "the import to start", interval=0.05)
    with contextlib.suppress(AssertionError):
        wait_for(
            lambda: _import_status(stack, job)[0] != "validating", 180, "the import to write", interval=0.05
        )
    time.sleep(0.3)
    status_at_kill = _import_status(stack, job)[0]
    stack.kill(worker, signal.SIGKILL)
    result.check(
        status_at_kill in ("validating", "importing"),
        f"the import finished before the kill: {status_at_kill}",
    )
    ((residents_after_kill,),) = stack.pg.query("SELECT COUNT(*) FROM governance_resident", database=DATABASE)
    result.fact(
        f"roster import of {IMPORT_ROWS} rows: worker SIGKILLed while {status_at_kill}; "
        f"residents written by the dead run: {int(residents_after_kill) - before}"
    )
    result.check(int(residents_after_kill) == before, "the killed import left residents behind")
    # The job counts as stale after STALE_AFTER (15 minutes): move its claim back instead of waiting.
    stack.pg.query(
        "UPDATE governance_importjob SET started_at = started_at - interval '1 hour' "
        "WHERE id = %s RETURNING id",
        [job],
        database=DATABASE,
    )
    worker = stack.celery_worker(env, "import-b", queues="celery")
    started = time.perf_counter()
    stack.manage(
        env, "shell", "-c", f"from governance.tasks import roster_import; roster_import.delay({job})"
    )
    wait_for(
        lambda: _import_status(stack, job)[0] in ("succeeded", "failed", "rejected"),
        600,
        "the re-sent import to finish",
        interval=1.0,
    )
    stack.kill(worker)
    status, imported = _import_status(stack, job)
    ((residents,),) = stack.pg.query("SELECT COUNT(*) FROM governance_resident", database=DATABASE)
    ((duplicates,),) = stack.pg.query(
        "SELECT COUNT(*) FROM (SELECT id_number_hash FROM governance_resident GROUP BY id_number_hash "
        "HAVING COUNT(*) > 1) d",
        database=DATABASE,
    )
    result.check(
        status == "succeeded" and imported == IMPORT_ROWS and int(residents) - before == IMPORT_ROWS,
        f"re-sent import: {status}, {imported} imported, {int(residents) - before} new residents",
    )
    result.check(int(duplicates) == 0, f"{duplicates} ID numbers held by two residents")
    result.fact(
        f"re-sent after the job went stale: {status} in {time.perf_counter() - started:.1f} s, "
        f"{int(residents) - before} new residents = {IMPORT_ROWS} rows, no ID number twice"
    )

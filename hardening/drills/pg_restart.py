"""Drill "pg-restart": PostgreSQL crashes and comes back in the middle of a redemption-day load.

gunicorn (4 workers, persistent connections as deployed) serves the till's API on a private database;
THREADS till threads POST redemptions (bench_till's store, one item of a random funded household, a fresh
idempotency key each) for DURATION seconds. After OUTAGE_AT seconds PostgreSQL is stopped with
`pg_ctl -m immediate` (a crash: no checkpoint, crash recovery on start) and started again OUTAGE seconds
later. Expected:
- while it is down every request fails cleanly: 503 with {"code": "database_unavailable", "detail": <Chinese>}
  (no 500, no dropped connection, no hang beyond gunicorn's timeout);
- after it is back, every request that was not acknowledged is retried with the same key and body and is
  acknowledged once (a replay answers the first result);
- every acknowledged redemption is in the database with its household and total, there is exactly one
  redemption per key, no half-written receipt or idempotency placeholder, and the ledger check passes.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from typing import Any

from hardening.drills.core import DrillResult, has_chinese, new_database, redemption_body, till_world
from hardening.drills.infra import ROOT, Stack, http, ledger_check, redemptions_whole

DATABASE = "drill_pg_restart"
THREADS = 8
DURATION = 16.0
OUTAGE_AT = 5.0
OUTAGE = 4.0


def run(stack: Stack, result: DrillResult) -> None:
    if "common.db_errors.DatabaseUnavailableMiddleware" not in (ROOT / "config" / "settings.py").read_text():
        result.fact(
            "NOTE: config/settings.py does not list common.db_errors.DatabaseUnavailableMiddleware; "
            "hardening/drills/settings.py adds it for this run"
        )
    new_database(stack, DATABASE)
    world = till_world(stack, DATABASE)
    env = stack.env(DATABASE)
    process, port = stack.gunicorn(env, workers=4)
    headers = {"Authorization": f"Token {world['till_token']}"}
    households = (int(world["till_household_first"]), int(world["till_household_last"]))
    items = (int(world["till_item_first"]), int(world["till_item_last"]))

    outcomes: Counter[str] = Counter()
    acknowledged: dict[str, dict[str, Any]] = {}
    pending: dict[str, dict[str, Any]] = {}
    bad: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    down = threading.Event()

    def till(n: int) -> None:
        rng = random.Random(n)  # noqa: S311 - test traffic
        counter = 0
        while not stop.is_set():
            counter += 1
            key = f"pgr-{n}-{counter}"
            body = redemption_body(world, rng.randint(*households), rng.randint(*items), key)
            try:
                status, answer = http("POST", port, "/api/v1/points/redemptions/", body, headers, timeout=70)
            except OSError as error:
                with lock:
                    outcomes["connection error"] += 1
                    pending[key] = body
                    bad.append(f"{key}: connection error {error}")
                continue
            with lock:
                if status == 201:
                    outcomes["201"] += 1
                    acknowledged[key] = {"body": body, "answer": answer}
                elif (
                    status == 503
                    and isinstance(answer, dict)
                    and answer.get("code") == "database_unavailable"
                ):
                    outcomes["503 database_unavailable"] += 1
                    pending[key] = body
                    if not has_chinese(answer.get("detail")):
                        bad.append(f"{key}: 503 without a Chinese message: {answer}")
                else:
                    outcomes[str(status)] += 1
                    pending[key] = body
                    bad.append(f"{key}: HTTP {status} {str(answer)[:200]}")
            if down.is_set():
                time.sleep(0.05)  # a till whose request failed waits a moment before the next customer

    threads = [threading.Thread(target=till, args=(n,), daemon=True) for n in range(THREADS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(OUTAGE_AT)
    acknowledged_before = len(acknowledged)
    stack.pg.stop("immediate")
    down.set()
    crash_at = time.perf_counter()
    time.sleep(OUTAGE)
    stack.pg.start()
    down.clear()
    back_after = time.perf_counter() - crash_at
    time.sleep(max(0.0, DURATION - (time.perf_counter() - started)))
    stop.set()
    for thread in threads:
        thread.join(timeout=90)
    result.fact(
        f"{THREADS} tills for {time.perf_counter() - started:.1f} s, PostgreSQL down (immediate stop) after "
        f"{OUTAGE_AT:.0f} s for {back_after:.1f} s: "
        + ", ".join(f"{k}: {v}" for k, v in sorted(outcomes.items()))
    )
    result.fact(f"{acknowledged_before} acknowledged before the crash, {len(acknowledged)} in all")
    result.check(
        outcomes["503 database_unavailable"] > 0, "no request saw the outage (503): drill too short?"
    )
    result.check(not bad, f"{len(bad)} requests did not fail cleanly, e.g. {bad[:3]}")

    # The tills retry what was not acknowledged, with the same key and body.
    retried: Counter[str] = Counter()
    for key, body in sorted(pending.items()):
        status, answer = http("POST", port, "/api/v1/points/redemptions/", body, headers)
        retried[str(status)] += 1
        if status == 201:
            acknowledged[key] = {"body": body, "answer": answer}
        else:
            result.check(False, f"retry of {key} answered {status}: {str(answer)[:200]}")
    result.fact(f"retried {len(pending)} unacknowledged with the same key: {dict(retried)}")
    stack.kill(process)

    rows = {
        key: (rid, household, total)
        for key, rid, household, total in stack.pg.query(
            """SELECT i.key, r.id, r.household_id, r.total_points
               FROM common_idempotencyrecord i
               JOIN points_redemption r ON r.id = (i.response->>'redemption_id')::bigint
               WHERE i.scope = 'points.redemption' AND i.key LIKE 'pgr-%%'""",
            database=DATABASE,
        )
    }
    ((redemptions,),) = stack.pg.query(
        "SELECT COUNT(*) FROM points_redemption WHERE store_id = %s",
        [int(world["till_store_id"])],
        database=DATABASE,
    )
    missing = [
        key
        for key, ack in acknowledged.items()
        if rows.get(key) != (ack["answer"]["id"], ack["body"]["household"], ack["answer"]["total_points"])
    ]
    result.check(
        not missing, f"{len(missing)} acknowledged redemptions missing or different, e.g. {missing[:3]}"
    )
    result.check(
        redemptions == len(acknowledged),
        f"{redemptions} redemptions in the store for {len(acknowledged)} acknowledged keys "
        "(exactly one each)",
    )
    result.fact(
        f"{redemptions} redemptions in the database = {len(acknowledged)} acknowledged keys, all present"
    )
    redemptions_whole(stack, DATABASE)
    result.fact("no half-written redemption; " + ledger_check(stack, env))

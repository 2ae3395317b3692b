"""A redemption day (issue 9 "Load"): TILLS concurrent tills, HOUSEHOLDS households, REDEMPTIONS
redemptions against scarce stock and scarce points, through gunicorn on a private PostgreSQL.

    python -m hardening.load.redemption_day [--tills 50] [--households 5000] [--redemptions 20000]
                                            [--points 3] [--stock 450] [--workers 4] [--keep]

The world is the drills' till (hardening/drills/fixtures.py: bench_till's store of 20 one-point items, an
open day): every household holds --points points and every item --stock units, so both run out — by
default 15,000 points and 9,000 units for 20,000 attempts of 1–2 units. Each till thread takes the next
attempt (a random household, a random item, quantity 1 or 2, a fresh idempotency key), POSTs it and records
the status and latency. Refusals are expected (409 `out_of_stock`, 409/400 for too few points); any 5xx or
dropped connection is a failure.

Afterwards, from the database: the ledger check (manage.py points_verify: postings sum to zero per
transaction and in all, balances equal postings, no negative balance or stock, stock equals movements),
redemptions in the store = requests answered 201, units taken from stock = units on the 201 receipts,
points spent by each household ≤ what it held (zero overdraft). Prints throughput, p50/p90/p99 and one
verdict line; exits 1 when anything did not hold.
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import sys
import threading
import time
from collections import Counter

from hardening.drills.core import new_database, redemption_body, till_world
from hardening.drills.infra import DrillFailure, http, ledger_check, private_stack

DATABASE = "load_redemption_day"
PATH = "/api/v1/points/redemptions/"


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hardening.load.redemption_day", description=__doc__)
    parser.add_argument("--tills", type=int, default=50)
    parser.add_argument("--households", type=int, default=5000)
    parser.add_argument("--redemptions", type=int, default=20000)
    parser.add_argument("--points", type=int, default=3, help="points each household holds")
    parser.add_argument("--stock", type=int, default=450, help="units of each of the 20 items")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--keep", action="store_true")
    options = parser.parse_args(argv)

    failures: list[str] = []
    with private_stack(keep=options.keep) as stack:
        print(
            f"redemption day: private PostgreSQL :{stack.pg.port}, work directory {stack.workdir}", flush=True
        )
        new_database(stack, DATABASE)
        world = till_world(stack, DATABASE, options.households, options.points, options.stock)
        env = stack.env(DATABASE)
        _process, port = stack.gunicorn(env, workers=options.workers)
        headers = {"Authorization": f"Token {world['till_token']}"}
        households = (int(world["till_household_first"]), int(world["till_household_last"]))
        items = (int(world["till_item_first"]), int(world["till_item_last"]))
        item_count = items[1] - items[0] + 1

        attempts = itertools.count()
        lock = threading.Lock()
        statuses: Counter[str] = Counter()
        latencies: list[float] = []
        units_acknowledged = 0
        acknowledged = 0
        errors: list[str] = []

        def till(n: int) -> None:
            nonlocal units_acknowledged, acknowledged
            rng = random.Random(n)  # noqa: S311 - test traffic
            while True:
                attempt = next(attempts)
                if attempt >= options.redemptions:
                    return
                quantity = rng.choice((1, 2))
                body = redemption_body(
                    world, rng.randint(*households), rng.randint(*items), f"day-{attempt}", quantity
                )
                started = time.perf_counter()
                try:
                    status, answer = http("POST", port, PATH, body, headers, timeout=120)
                except OSError as error:
                    with lock:
                        statuses["connection error"] += 1
                        errors.append(str(error))
                    continue
                elapsed = time.perf_counter() - started
                code = answer.get("code", "") if isinstance(answer, dict) else ""
                with lock:
                    latencies.append(elapsed)
                    statuses[f"{status} {code}".strip()] += 1
                    if status == 201:
                        acknowledged += 1
                        units_acknowledged += quantity
                    elif status >= 500:
                        errors.append(f"{status} {str(answer)[:200]}")

        started = time.perf_counter()
        threads = [threading.Thread(target=till, args=(n,)) for n in range(options.tills)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - started
        stack.close()

        p50, p90, p99 = (_percentile(latencies, f) * 1000 for f in (0.5, 0.9, 0.99))
        mean = statistics.fmean(latencies) * 1000 if latencies else 0.0
        print(
            f"{options.redemptions} attempts by {options.tills} tills in {seconds:.1f} s: "
            f"{options.redemptions / seconds:.0f} req/s; latency p50 {p50:.0f} ms, p90 {p90:.0f} ms, "
            f"p99 {p99:.0f} ms, mean {mean:.0f} ms",
            flush=True,
        )
        print("answers: " + ", ".join(f"{k}: {v}" for k, v in statuses.most_common()), flush=True)
        if errors:
            failures.append(f"{len(errors)} 5xx answers or dropped connections, e.g. {errors[:3]}")

        store = int(world["till_store_id"])
        ((redemptions, units, overdrawn, negative_stock, spent_max),) = stack.pg.query(
            """
            SELECT
              (SELECT COUNT(*) FROM points_redemption WHERE store_id = %(store)s),
              (SELECT COALESCE(SUM(l.quantity), 0) FROM points_redemptionline l
                 JOIN points_redemption r ON r.id = l.redemption_id WHERE r.store_id = %(store)s),
              (SELECT COUNT(*) FROM points_account WHERE kind = 'household' AND balance < 0),
              (SELECT COUNT(*) FROM points_item WHERE store_id = %(store)s AND on_hand < 0),
              (SELECT COALESCE(MAX(spent), 0) FROM (SELECT SUM(total_points) AS spent FROM points_redemption
                 WHERE store_id = %(store)s GROUP BY household_id) s)
            """,
            {"store": store},
            database=DATABASE,
        )
        ((on_hand,),) = stack.pg.query(
            "SELECT SUM(on_hand) FROM points_item WHERE store_id = %s", [store], database=DATABASE
        )
        taken = options.stock * item_count - int(on_hand)
        print(
            f"database: {redemptions} redemptions ({acknowledged} answered 201), {units} units on receipts "
            f"({units_acknowledged} acknowledged), {taken} taken from stock, {int(on_hand)} left; "
            f"households overdrawn {overdrawn}, items below zero {negative_stock}, most points spent by one "
            f"household {spent_max} (held {options.points})",
            flush=True,
        )
        for condition, text in (
            (redemptions == acknowledged, "redemptions in the database ≠ requests answered 201"),
            (
                units == units_acknowledged == taken,
                "units on receipts, acknowledged and taken from stock differ",
            ),
            (overdrawn == 0, "a household balance below zero"),
            (negative_stock == 0, "an item's stock below zero"),
            (int(spent_max) <= options.points, "a household spent more points than it held"),
        ):
            if not condition:
                failures.append(text)
        try:
            print(ledger_check(stack, env), flush=True)
        except DrillFailure as error:
            failures.append(str(error))

    verdict = "PASSED" if not failures else "FAILED: " + "; ".join(failures)
    print(f"redemption day: {verdict}", flush=True)
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())

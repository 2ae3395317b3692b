"""Drill "duplicates": a browser that double-submits, retries after a timeout, or replays an offline queue
gets exactly one effect.

The till's API path is the one the pages' offline queue uses (an idempotency key per form, sent again on
retry; tests/grids/test_filing_browser.py drives the real browser for offline filing). Through gunicorn:
1. double submit: KEYS keys, each POSTed by COPIES threads at the same instant (a barrier) — every answer
   is 201 with the same receipt, and one redemption exists per key;
2. retry after a timeout: the client sends a POST and hangs up before the answer (the server still
   commits), then sends it again with the same key — the second answer is the first receipt;
3. offline replay: the whole set of requests is sent again later, in another order — all replays;
4. the same key with another body is refused: 409 `idempotency_key_reused`, with a Chinese message.
Then: redemptions in the store = distinct keys, every answered receipt is in the database, the household
balances moved exactly once per key (the ledger check), no idempotency placeholder left.
"""

from __future__ import annotations

import json
import random
import socket
import threading
import time
from typing import Any

from hardening.drills.core import DrillResult, has_chinese, new_database, redemption_body, till_world
from hardening.drills.infra import Stack, http, ledger_check, redemptions_whole, wait_for

DATABASE = "drill_duplicates"
KEYS = 30
COPIES = 6
HANGUPS = 10
PATH = "/api/v1/points/redemptions/"


def _post_and_hang_up(port: int, body: dict[str, Any], token: str) -> None:
    """Send the request and close the socket without reading the answer (a client that timed out)."""
    payload = json.dumps(body).encode()
    request = (
        f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Authorization: Token {token}\r\nContent-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
    ).encode() + payload
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)


def run(stack: Stack, result: DrillResult) -> None:
    new_database(stack, DATABASE)
    world = till_world(stack, DATABASE, 300)
    env = stack.env(DATABASE)
    process, port = stack.gunicorn(env, workers=4)
    token = world["till_token"]
    headers = {"Authorization": f"Token {token}"}
    rng = random.Random(9)  # noqa: S311 - test traffic
    households = (int(world["till_household_first"]), int(world["till_household_last"]))
    items = (int(world["till_item_first"]), int(world["till_item_last"]))
    bodies = {
        f"dup-{n}": redemption_body(world, rng.randint(*households), rng.randint(*items), f"dup-{n}")
        for n in range(KEYS)
    }

    # 1. double (sextuple) submit at the same instant.
    answers: dict[str, list[tuple[int, Any]]] = {key: [] for key in bodies}
    lock = threading.Lock()
    started = time.perf_counter()
    for key, body in bodies.items():
        barrier = threading.Barrier(COPIES)

        def submit(body: dict[str, Any] = body, key: str = key, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            answer = http("POST", port, PATH, body, headers)
            with lock:
                answers[key].append(answer)

        threads = [threading.Thread(target=submit) for _ in range(COPIES)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    receipts: dict[str, int] = {}
    for key, got in answers.items():
        statuses = sorted(status for status, _body in got)
        ids = {body.get("id") for status, body in got if status == 201 and isinstance(body, dict)}
        result.check(statuses == [201] * COPIES and len(ids) == 1, f"{key}: {statuses}, receipts {ids}")
        if len(ids) == 1:
            receipts[key] = int(ids.pop() or 0)
    result.fact(
        f"double submit: {KEYS} keys × {COPIES} simultaneous POSTs → {len(receipts)} keys with one receipt "
        f"each ({time.perf_counter() - started:.1f} s)"
    )

    # 2. hang up before the answer, then retry.
    hung = {
        f"hang-{n}": redemption_body(world, rng.randint(*households), rng.randint(*items), f"hang-{n}")
        for n in range(HANGUPS)
    }
    for body in hung.values():
        _post_and_hang_up(port, body, token)

    def committed() -> bool:
        ((n,),) = stack.pg.query(
            "SELECT COUNT(*) FROM common_idempotencyrecord WHERE key LIKE 'hang-%%' AND status_code = 201",
            database=DATABASE,
        )
        return int(n) == HANGUPS

    wait_for(committed, 30, "the hung-up requests to commit")
    replayed = 0
    for key, body in hung.items():
        status, answer = http("POST", port, PATH, body, headers)
        result.check(status == 201, f"retry of {key} after hanging up: {status} {answer}")
        if status == 201:
            receipts[key] = answer["id"]
            replayed += 1
    result.fact(
        f"retry after a client timeout: {HANGUPS} requests hung up, retried → {replayed} answered 201"
    )
    bodies.update(hung)

    # 3. the offline queue replays everything later, in another order.
    order = list(bodies)
    rng.shuffle(order)
    same = 0
    for key in order:
        status, answer = http("POST", port, PATH, bodies[key], headers)
        if status == 201 and answer.get("id") == receipts.get(key):
            same += 1
    result.check(same == len(bodies), f"offline replay: {same} of {len(bodies)} answered the first receipt")
    result.fact(f"offline replay of {len(bodies)} requests: {same} answered with the first receipt")

    # 4. the same key, another body.
    other = dict(
        bodies["dup-0"],
        household=households[0] if bodies["dup-0"]["household"] != households[0] else households[1],
    )
    status, answer = http("POST", port, PATH, other, headers)
    result.check(
        status == 409
        and answer.get("code") == "idempotency_key_reused"
        and has_chinese(answer.get("detail")),
        f"same key, another body: {status} {answer}",
    )
    result.fact(
        f"same key with another body: {status} {answer.get('code') if isinstance(answer, dict) else answer}"
    )
    stack.kill(process)

    ((count,),) = stack.pg.query(
        "SELECT COUNT(*) FROM points_redemption WHERE store_id = %s",
        [int(world["till_store_id"])],
        database=DATABASE,
    )
    present = {
        int(rid)
        for (rid,) in stack.pg.query(
            "SELECT id FROM points_redemption WHERE id = ANY(%s)",
            [list(receipts.values())],
            database=DATABASE,
        )
    }
    result.check(count == len(bodies), f"{count} redemptions for {len(bodies)} keys")
    result.check(present == set(receipts.values()), "an answered receipt is missing from the database")
    result.fact(
        f"{count} redemptions for {len(bodies)} distinct keys "
        f"({KEYS * COPIES + 2 * HANGUPS + len(bodies) + 1} POSTs)"
    )
    redemptions_whole(stack, DATABASE)
    result.fact("no half-written redemption; " + ledger_check(stack, env))

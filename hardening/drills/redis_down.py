"""Drill "redis-down": the broker (and cache) dies; pages and the API keep working, queued work is not lost.

gunicorn serves the till's world on a private database with REDIS_URL on the private Redis, which is
SIGKILLed. While it is down:
- /healthz answers 503 naming the broker (database ok, a Chinese detail);
- the API answers: GET /api/v1/me/ 200, POST redemptions 201 (each checked in the database afterwards);
- a page answers 200 for a signed-in user (the session is in PostgreSQL);
- work queued on commit: an export too large for the request (EXPORT_ROWS households, so it goes to
  Celery through transaction.on_commit) is asked for. The request must not fail, and the job must not be
  lost: after Redis is back and a worker runs, the job must reach "done" (delivered, or re-queued by a
  sweep), within RECOVERY_WAIT seconds.
Then Redis is started again: /healthz 200.
"""

from __future__ import annotations

import re
import time
from http.client import HTTPConnection
from typing import Any

from hardening.drills.core import DrillResult, has_chinese, new_database, redemption_body, till_world
from hardening.drills.infra import Stack, http, ledger_check, redemptions_whole, wait_for

DATABASE = "drill_redis_down"
EXPORT_HOUSEHOLDS = 2_500
WRITES = 20
RECOVERY_WAIT = 150.0  # beat's resend runs every minute


def _session_login(port: int, username: str, password: str) -> str:
    """Sign in through the login form; returns the Cookie header of the session."""
    conn = HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/login/")
    response = conn.getresponse()
    page = response.read().decode()
    csrf_cookie = re.search(r"csrftoken=([^;]+)", response.getheader("Set-Cookie") or "")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if not csrf_cookie or not token:
        raise AssertionError(f"login page without a CSRF token (HTTP {response.status})")
    body = f"username={username}&password={password}&csrfmiddlewaretoken={token.group(1)}"
    conn.request(
        "POST",
        "/login/",
        body=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={csrf_cookie.group(1)}",
            "Referer": f"http://127.0.0.1:{port}/login/",
        },
    )
    response = conn.getresponse()
    response.read()
    session = re.search(r"sessionid=([^;]+)", response.getheader("Set-Cookie") or "")
    conn.close()
    if response.status != 302 or not session:
        raise AssertionError(f"login failed: HTTP {response.status}")
    return f"sessionid={session.group(1)}; csrftoken={csrf_cookie.group(1)}"


def run(stack: Stack, result: DrillResult) -> None:
    new_database(stack, DATABASE)
    world = till_world(stack, DATABASE, EXPORT_HOUSEHOLDS, 100_000)  # one posting must fit in an int
    static_root = stack.workdir / "static"
    env = stack.env(DATABASE, redis_db=5, DRILLS_STATIC_ROOT=str(static_root))
    if not static_root.exists():
        started = time.perf_counter()
        stack.manage(env, "collectstatic", "--noinput", "-v0")
        result.fact(f"collectstatic for the pages: {time.perf_counter() - started:.1f} s")
    process, port = stack.gunicorn(env, workers=3)
    headers = {"Authorization": f"Token {world['till_token']}"}
    cookie = _session_login(port, world["till_user"], "xiangzhi-demo")
    status, _page = http("GET", port, "/", headers={"Cookie": cookie, "Accept": "text/html"})
    result.check(status == 200, f"the landing page before the outage: {status}")

    stack.redis.stop()
    result.fact("Redis SIGKILLed")
    status, health = http("GET", port, "/healthz")
    result.check(
        status == 503
        and isinstance(health, dict)
        and health.get("failing") == ["broker"]
        and health["database"]["ok"]
        and has_chinese(health.get("detail")),
        f"/healthz with Redis down: {status} {health}",
    )
    result.fact(f"/healthz: {status} failing={health.get('failing') if isinstance(health, dict) else health}")

    me_status, me = http("GET", port, "/api/v1/me/", headers=headers)
    result.check(me_status == 200, f"GET /api/v1/me/ with Redis down: {me_status} {me}")
    acknowledged: dict[str, int] = {}
    statuses: dict[int, int] = {}
    household = int(world["till_household_first"])
    item = int(world["till_item_first"])
    for n in range(WRITES):
        key = f"redis-down-{n}"
        status, answer = http(
            "POST",
            port,
            "/api/v1/points/redemptions/",
            redemption_body(world, household + n, item, key),
            headers,
        )
        statuses[status] = statuses.get(status, 0) + 1
        if status == 201:
            acknowledged[key] = int(answer["id"])
    result.check(len(acknowledged) == WRITES, f"redemptions with Redis down: {statuses}")
    status, _page = http("GET", port, "/", headers={"Cookie": cookie, "Accept": "text/html"})
    result.check(status == 200, f"the landing page with Redis down: {status}")
    result.fact(
        f"with Redis down: GET /api/v1/me/ {me_status}, {WRITES} redemptions → {statuses}, "
        f"landing page {status}"
    )

    started = time.perf_counter()
    status, job = http(
        "POST",
        port,
        "/api/v1/governance/exports/",
        {"kind": "households", "filters": {}, "idempotency_key": "redis-down-export"},
        headers,
        timeout=60,
    )
    export_seconds = time.perf_counter() - started
    job_id: Any = job.get("id") if isinstance(job, dict) else None
    if job_id is None:
        rows = stack.pg.query(
            "SELECT id, status FROM governance_exportjob ORDER BY id DESC LIMIT 1", database=DATABASE
        )
        job_id = rows[0][0] if rows else None
    result.check(
        status in (200, 201, 202), f"export asked for with Redis down: HTTP {status} {str(job)[:200]}"
    )
    result.fact(
        f"export (on-commit Celery task) asked for with Redis down: HTTP {status} in "
        f"{export_seconds:.1f} s, job {job_id}"
    )

    stack.redis.start()
    wait_for(lambda: http("GET", port, "/healthz")[0] == 200, 30, "/healthz to recover")
    result.fact("Redis back: /healthz 200")
    # With beat (-B): the task messages kept while the broker was down are re-sent by its schedule.
    worker = stack.celery_worker(env, "redis-down", beat=True)
    # The web processes must recover too: Celery's result-backend client in a gunicorn worker gives up
    # after 20 reconnection attempts ("The Celery application must be restarted").
    after_statuses: dict[int, int] = {}
    after_jobs: list[int] = []
    for n in range(3):
        status, later = http(
            "POST",
            port,
            "/api/v1/governance/exports/",
            {"kind": "households", "filters": {}, "idempotency_key": f"redis-back-export-{n}"},
            headers,
            timeout=60,
        )
        after_statuses[status] = after_statuses.get(status, 0) + 1
        if status == 201 and isinstance(later, dict):
            after_jobs.append(int(later["id"]))
    result.check(after_statuses == {201: 3}, f"exports asked for after Redis returned: {after_statuses}")

    def after_done() -> bool:
        rows = stack.pg.query(
            "SELECT COUNT(*) FROM governance_exportjob WHERE id = ANY(%s) AND status = 'done'",
            [after_jobs],
            database=DATABASE,
        )
        return bool(after_jobs) and int(rows[0][0]) == len(after_jobs)

    try:
        wait_for(after_done, RECOVERY_WAIT, "the exports asked for after the outage", interval=1.0)
        result.fact(f"3 exports asked for after Redis returned: {after_statuses}, all done")
    except AssertionError:
        result.check(False, f"exports asked for after Redis returned were not done: {after_statuses}")
    delivered = False
    if job_id is not None:
        try:
            wait_for(
                lambda: (
                    stack.pg.query(
                        "SELECT status FROM governance_exportjob WHERE id = %s", [job_id], database=DATABASE
                    )[0][0]
                    == "done"
                ),
                RECOVERY_WAIT,
                "the export queued during the outage to be done",
                interval=1.0,
            )
            delivered = True
        except AssertionError:
            delivered = False
    final = (
        stack.pg.query("SELECT status FROM governance_exportjob WHERE id = %s", [job_id], database=DATABASE)
        if job_id
        else []
    )
    result.check(
        delivered,
        f"the export queued while Redis was down was not delivered within {RECOVERY_WAIT:.0f} s of Redis "
        f"returning (job {job_id}: {final})",
    )
    result.fact(
        f"export job {job_id} after Redis returned and a worker ran: {final[0][0] if final else 'none'}"
    )
    stack.kill(worker)
    stack.kill(process)

    present = {
        int(rid)
        for (rid,) in stack.pg.query(
            "SELECT id FROM points_redemption WHERE id = ANY(%s)",
            [list(acknowledged.values())],
            database=DATABASE,
        )
    }
    result.check(present == set(acknowledged.values()), "an acknowledged redemption is missing")
    redemptions_whole(stack, DATABASE)
    result.fact(f"{len(present)} acknowledged redemptions present; " + ledger_check(stack, env))

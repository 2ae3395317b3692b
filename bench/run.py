#!/usr/bin/env python3
"""Benchmark the application against gunicorn on PostgreSQL and compare it with floors of the same run.

`make bench` runs this through scripts/services.py, which provides DATABASE_URL and REDIS_URL. The run:

1. prepares a dedicated database, the DATABASE_URL's name plus "_bench" (xiangzhi -> xiangzhi_bench;
   plus "_<scale>" for a seed scale other than default): created when missing, migrated, seeded with the
   demo county and completed with bench/fixtures.py's filing account (under a PostgreSQL advisory lock,
   so concurrent runs do not migrate it twice); it never touches the app's or the test suite's database;
2. starts gunicorn (sync workers, DEBUG=0, SECURE_HTTPS=0, CONN_MAX_AGE=600, photos stored in a
   temporary MEDIA_ROOT) with bench.settings on a free port of 127.0.0.1, and logs in the users the
   scenarios act as: an API token through POST /api/v1/auth/token/ and a session through /login/;
3. warms every target up, then measures floors and scenarios with wrk, round after round (the order
   interleaved so that drift on a shared machine hits all of them alike), and keeps each target's
   median run; any answer outside 2xx fails the run. Next to wrk's latency (which includes the
   queueing of the connections for the workers) every answer carries the server's own time and query
   count (bench/middleware.py), whose percentiles the run reports too. Each round ends with a latency
   phase: the scenarios with a latency requirement once more over a single connection (one request
   at a time), whose server-side p99 is what the requirement is checked against;
4. prints the table, keeps the raw results in bench/results/ and rewrites docs/benchmarks.md.

gunicorn is stopped at the end, on errors and on Ctrl-C (and, should this process be killed, by the
kernel's parent-death signal).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import fixtures, report  # noqa: E402
from bench.scenarios import BENCH_DIR, FLOORS, SCENARIOS, FloorName, Scenario  # noqa: E402

RESULTS_DIR = BENCH_DIR / "results"
DOCS_PATH = ROOT / "docs" / "benchmarks.md"
REPORT_LUA = BENCH_DIR / "wrk_report.lua"
BENCH_USER = "county_admin"  # a demo log-in created by seed_demo (governance/demo.py)
BENCH_SECRET_KEY = "bench-only-secret-key-not-for-production-0123456789abcdef"  # noqa: S105
WRK_MISSING = "wrk is not installed: apt-get install wrk"
# The latency phase: one request at a time (see measure()).
LATENCY_CONNECTIONS = 1


class BenchError(Exception):
    """A failure explained in one sentence; main() prints it and exits 1."""


# --- Arguments -------------------------------------------------------------------------------------------


def seconds(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+)\s*([sm]?)\s*", text)
    if not match or int(match.group(1)) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration such as 10, 10s or 1m")
    return int(match.group(1)) * (60 if match.group(2) == "m" else 1)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/run.py",
        description="Benchmark the scenarios of bench/scenarios.py against floors measured in the same run.",
    )
    parser.add_argument("--duration", type=seconds, help="seconds per measured run (default 10; quick 1)")
    parser.add_argument("--repeat", type=int, help="measured runs per target, the median is kept (default 3)")
    parser.add_argument("--warmup", type=seconds, help="seconds of warm-up per target (default 3; quick 1)")
    parser.add_argument("--connections", type=int, help="wrk connections (default 32; quick 8)")
    parser.add_argument("--threads", type=int, help="wrk threads (default 2)")
    parser.add_argument("--workers", type=int, help="gunicorn sync workers (default 5; quick 2)")
    parser.add_argument("--conn-max-age", type=int, default=600, help="CONN_MAX_AGE for gunicorn (600)")
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="run only this scenario (repeatable; floors always run)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: small defaults, docs/benchmarks.md is not written"
    )
    parser.add_argument("--no-write-docs", action="store_true", help="do not rewrite docs/benchmarks.md")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help="where raw JSON results go")
    parser.add_argument(
        "--seed-scale",
        help="seed_demo --scale for the benchmark database (default: default; quick: skeleton)",
    )
    parser.add_argument(
        "--db-name",
        help="benchmark database name (default: DATABASE_URL's name + _bench, + _<scale> unless 'default')",
    )
    parser.add_argument("--fresh", action="store_true", help="drop and recreate the benchmark database first")
    args = parser.parse_args(argv)

    quick = args.quick
    defaults: dict[str, object] = {
        "duration": 1 if quick else 10,
        "repeat": 1 if quick else 3,
        "warmup": 1 if quick else 3,
    }
    defaults |= {"connections": 8 if quick else 32, "threads": 2, "workers": 2 if quick else 5}
    # The smoke test needs the demo log-ins only; a full run benchmarks on a populated county.
    defaults["seed_scale"] = "skeleton" if quick else "default"
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.repeat < 1 or args.connections < 1 or args.threads < 1 or args.workers < 1:
        parser.error("--repeat, --connections, --threads and --workers must be at least 1")
    args.threads = min(args.threads, args.connections)  # wrk refuses more threads than connections
    args.write_docs = not (quick or args.no_write_docs)
    known = {s.name for s in SCENARIOS}
    unknown = sorted(set(args.only or []) - known)
    if unknown:
        parser.error(f"unknown scenario {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    return args


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


# --- Database ---------------------------------------------------------------------------------------------


def bench_database_url(database_url: str, db_name: str | None, scale: str = "default") -> tuple[str, str]:
    """The DATABASE_URL with its database name replaced by the benchmark's own.

    seed_demo leaves a county it finds populated as it is, so every seed scale gets its own database:
    a quick run's skeleton never stands in for a full run's county.
    """
    parts = urlsplit(database_url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise BenchError(
            f"the benchmarks need PostgreSQL, and DATABASE_URL is {parts.scheme or 'not a URL'}: "
            "run them through `make bench`."
        )
    app_name = parts.path.lstrip("/")
    name = db_name or f"{app_name or 'xiangzhi'}_bench" + ("" if scale == "default" else f"_{scale}")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", name):
        raise BenchError(f"{name!r} is not a plain PostgreSQL database name (letters, digits, underscore).")
    if name == app_name:
        raise BenchError(f"the benchmark database must not be DATABASE_URL's own database {app_name!r}.")
    return urlunsplit(parts._replace(path=f"/{name}")), name


def _admin_connection(database_url: str) -> Any:
    import psycopg2

    parts = urlsplit(database_url)
    try:
        return psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    except psycopg2.OperationalError:
        return psycopg2.connect(database_url)  # no access to the maintenance database: try the app's


def prepare_database(
    database_url: str, name: str, env: dict[str, str], fresh: bool, scale: str
) -> dict[str, str]:
    """Create the benchmark database when missing, migrate it, seed the demo county and add the filing
    account (bench/fixtures.py); returns the ids bench/fixtures.py prints."""
    import psycopg2

    try:
        conn = _admin_connection(database_url)
    except psycopg2.OperationalError as exc:
        raise BenchError(f"PostgreSQL at DATABASE_URL does not answer: {str(exc).strip()}") from exc
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            # Session lock: a concurrent run (make test's smoke test, another developer) waits here.
            cur.execute("SELECT pg_advisory_lock(hashtext(%s))", [f"xiangzhi-bench:{name}"])
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            exists = cur.fetchone() is not None
            if exists and fresh:
                log(f"dropping database {name} (--fresh)")
                try:
                    cur.execute(f'DROP DATABASE "{name}"')
                except psycopg2.errors.ObjectInUse as exc:
                    raise BenchError(f"database {name} is in use by another run; try again later.") from exc
                exists = False
            if not exists:
                log(f"creating database {name}")
                cur.execute(f'CREATE DATABASE "{name}"')
        started = time.monotonic()
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "seed_demo", *seed_scale_arguments(env, scale), "--quiet-logins")
        ids = bench_fixtures(env)
        vacuum(database_url)
        log(f"database {name} migrated, seeded and vacuumed ({time.monotonic() - started:.1f} s)")
        return ids
    finally:
        conn.close()


def vacuum(database_url: str) -> None:
    """VACUUM ANALYZE the benchmark database, as autovacuum would soon after a bulk load: statistics for
    the planner, and the visibility map that lets index-only scans skip the table. Seconds after the
    county's first seed, nothing to do on later runs."""
    import psycopg2

    conn = psycopg2.connect(database_url)
    conn.autocommit = True  # VACUUM refuses to run inside a transaction
    try:
        with conn.cursor() as cur:
            cur.execute("VACUUM (ANALYZE)")
    finally:
        conn.close()


def bench_fixtures(env: dict[str, str]) -> dict[str, str]:
    """Run bench/fixtures.py in the benchmark's environment; the ids it prints."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.fixtures"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH_FIXTURES ")), None)
    if done.returncode != 0 or line is None:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-20:])
        raise BenchError(f"bench/fixtures.py failed on the benchmark database:\n{tail}")
    ids: dict[str, str] = json.loads(line.removeprefix("BENCH_FIXTURES "))
    return ids


def seed_scale_arguments(env: dict[str, str], scale: str) -> list[str]:
    """["--scale", scale] when this checkout's seed_demo has scales (it gained them in issue 3)."""
    done = subprocess.run(
        [sys.executable, "manage.py", "seed_demo", "--help"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if "--scale" in done.stdout:
        return ["--scale", scale]
    log(f"this seed_demo has no --scale; seeding its only size instead of {scale!r}")
    return []


def manage(env: dict[str, str], *command: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,  # seeding the county at full scale takes minutes
        check=False,
    )
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-20:])
        raise BenchError(
            f"`manage.py {' '.join(command)}` failed on the benchmark database "
            f"(a stale schema? rerun with --fresh):\n{tail}"
        )
    return done.stdout


# --- gunicorn ---------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    """In the child before exec: the kernel sends SIGTERM when this process dies (Linux PR_SET_PDEATHSIG)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None).prctl(1, signal.SIGTERM)


def _log_tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@contextlib.contextmanager
def gunicorn(env: dict[str, str], workers: int, log_path: Path, threads: int = 0) -> Iterator[str]:
    """Serve bench.settings on a free port of 127.0.0.1; yield the base URL; always stop it. `threads`:
    gthread workers with that many threads each (idle keep-alive connections do not hold a worker, as in
    the deployed stack), keeping an idle connection 75 s as a phone between two taps needs; 0: sync
    workers, the benchmarks' default."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        *(
            ["--worker-class", "gthread", "--threads", str(threads), "--keep-alive", "75"]
            if threads
            else ["--worker-class", "sync"]
        ),
        "--chdir",
        str(ROOT),
        "--no-control-socket",  # gunicorn's default control socket path is shared by every instance
        "--timeout",
        "30",
        "--graceful-timeout",
        "5",
        "--log-level",
        "warning",
    ]
    base_url = f"http://127.0.0.1:{port}"
    kind = f"gthread workers × {threads} threads" if threads else "sync workers"
    log(f"starting gunicorn ({workers} {kind}) on {base_url}; its log: {log_path}")
    with log_path.open("ab") as log_file:
        proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: Ctrl-C reaches us, and we stop it in order
            preexec_fn=_die_with_parent,  # no threads in this process
        )
    try:
        wait_until_ready(proc, base_url + FLOORS["json"].path, log_path)
        yield base_url
    finally:
        stop(proc)
        log("gunicorn stopped")


def wait_until_ready(proc: subprocess.Popen[bytes], url: str, log_path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise BenchError(f"gunicorn exited with {proc.returncode} on start:\n{_log_tail(log_path)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 (our own http URL)
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise BenchError(f"gunicorn did not answer {url} within {timeout:.0f} s:\n{_log_tail(log_path)}")
        time.sleep(0.2)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the master (it stops its workers), then SIGKILL to whatever is left of its group."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            log("gunicorn did not stop within 15 s; killing it")
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # the group is gunicorn's own (start_new_session)
    proc.wait()


# --- HTTP set-up calls ------------------------------------------------------------------------------------


def http_json(url: str, data: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> Any:
    body = json.dumps(data).encode() if data is not None else None
    request = urllib.request.Request(  # noqa: S310 (our own http URL)
        url, data=body, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            return json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        raise BenchError(f"{url} answered {exc.code}: {exc.read()[:300].decode(errors='replace')}") from exc


def session_login(base_url: str, username: str, password: str) -> str:
    """Log in on /login/ like a browser (CSRF cookie and token, then the form); the session cookie."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"{base_url}/login/", timeout=10) as answer:
        page = answer.read().decode(errors="replace")
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if found is None:
        raise BenchError(f"{base_url}/login/ has no CSRF token in its form")
    body = urlencode({"username": username, "password": password, "csrfmiddlewaretoken": found.group(1)})
    request = urllib.request.Request(  # noqa: S310 (our own http URL)
        f"{base_url}/login/", data=body.encode(), headers={"Referer": f"{base_url}/login/"}
    )
    with opener.open(request, timeout=30):
        pass
    session = next((cookie.value for cookie in jar if cookie.name == "sessionid"), None)
    if not session:
        raise BenchError(f"logging in {username} on /login/ gave no session (wrong demo password?)")
    return session


def run_context(base_url: str, users: list[str], shared: dict[str, str]) -> dict[str, dict[str, str]]:
    """What each user's scenarios are formatted with: {user: {token, session, user_id, **shared}}."""
    password = os.environ.get("DEMO_PASSWORD", "xiangzhi-demo")
    contexts: dict[str, dict[str, str]] = {}
    for username in dict.fromkeys([BENCH_USER, *users]):
        token = http_json(f"{base_url}/api/v1/auth/token/", {"username": username, "password": password})[
            "token"
        ]
        me = http_json(f"{base_url}/api/v1/me/", headers={"Authorization": f"Token {token}"})
        session = session_login(base_url, username, password)
        contexts[username] = {**shared, "token": token, "session": session, "user_id": str(me["id"])}
    return contexts


# --- wrk --------------------------------------------------------------------------------------------------


def wrk_binary() -> str:
    wrk = shutil.which("wrk")
    if not wrk:
        raise BenchError(WRK_MISSING)
    return wrk


def run_wrk(
    target: Scenario,
    base_url: str,
    context: dict[str, str],
    duration: int,
    args: argparse.Namespace,
    script_dir: Path,
    *,
    warmup: bool = False,
    connections: int | None = None,
) -> dict[str, Any]:
    script = script_dir / f"{target.name}.lua"
    if not script.exists():
        script.write_text(
            target.lua_source() + "\n" + REPORT_LUA.read_text(encoding="utf-8"), encoding="utf-8"
        )
    conns = connections or args.connections
    threads = min(args.threads, conns)
    command = [wrk_binary(), "-t", str(threads), "-c", str(conns), "-d", f"{duration}s"]
    command += ["--timeout", "10s", "-s", str(script)]
    for header in target.header_lines(context):
        command += ["-H", header]
    command.append(base_url + target.url_path(context))
    if target.lua_args:
        command += ["--", *target.script_args(context)]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=duration + 60, check=False, cwd=BENCH_DIR
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise BenchError(
            f"wrk failed on {target.name} (exit {done.returncode}):\n{(done.stdout + done.stderr).strip()}"
        )
    result: dict[str, Any] = json.loads(line.removeprefix("BENCH_JSON "))
    if result["non2xx"]:
        raise BenchError(
            f"{target.name}: {result['non2xx']} of {result['requests']} answers were not 2xx "
            f"(by status: {result['non2xx_by_status']}); the numbers would not mean anything."
        )
    # A warm-up may end before a cold worker's first page (imports, template compilation) is done.
    if result["requests"] == 0 and not warmup:
        raise BenchError(f"{target.name}: wrk completed no request at all (errors: {result['errors']}).")
    return result


def drain(base_url: str) -> None:
    """Wait until the workers have served what wrk left queued when it stopped.

    wrk stops after its duration with requests in flight; gunicorn's sync workers still serve them, so a
    slow target (filing with a photo) would eat into the next target's first seconds. One answer from
    the JSON floor, which queues behind them, means they are done.
    """
    with (
        contextlib.suppress(urllib.error.URLError, OSError),
        urllib.request.urlopen(base_url + FLOORS["json"].path, timeout=120),  # noqa: S310
    ):
        pass


# --- The run ----------------------------------------------------------------------------------------------


def socket_errors(result: dict[str, Any]) -> int:
    errors = result["errors"]
    return int(errors["connect"] + errors["read"] + errors["write"] + errors["timeout"])


def summarise(targets: list[Scenario], runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per target from its median run (by req/s; with an even --repeat the lower middle one).

    ratio is the median run's req/s over its floor's median run's; round_ratios divides the two runs of
    each round, which sat next to each other in time: their spread shows how noisy the machine was.
    """
    rows: list[dict[str, Any]] = []
    for target in targets:
        measured = [r for r in runs if r["target"] == target.name and r["phase"] == "measure"]
        ordered = sorted(measured, key=lambda r: r["result"]["requests_per_s"])
        median = ordered[(len(ordered) - 1) // 2]["result"]
        rows.append(
            {
                "name": target.name,
                "path": target.path,
                "kind": "floor" if target.floor is None else "scenario",
                "floor": target.floor,
                "description": target.description,
                "requests_per_s": median["requests_per_s"],
                "p50_ms": median["latency_ms"]["p50"],
                "p99_ms": median["latency_ms"]["p99"],
                "server_p50_ms": median.get("server_ms", {}).get("p50"),
                "server_p99_ms": median.get("server_ms", {}).get("p99"),
                "db_p50_ms": median.get("db_ms", {}).get("p50"),
                "queries": median.get("queries", {}).get("p50"),
                "queries_max": max(
                    (r["result"].get("queries", {}).get("max", 0) for r in measured), default=0
                ),
                "runs_requests_per_s": [r["result"]["requests_per_s"] for r in measured],
                "requests": sum(r["result"]["requests"] for r in measured),
                "socket_errors": sum(socket_errors(r["result"]) for r in measured),
                "non2xx": sum(r["result"]["non2xx"] for r in measured),
                "ratio": None,
                "round_ratios": [],
                "requirement": target.requirement,
                "met": None,
                **_latency_fields(runs, target.name),
            }
        )
    by_name = {row["name"]: row for row in rows}
    by_round = {
        (r["target"], r["round"]): r["result"]["requests_per_s"] for r in runs if r["phase"] == "measure"
    }
    for target, row in zip(targets, rows, strict=True):
        # A scenario against its floor; floor-select against floor-json (the cost of one round trip).
        compare: FloorName | None = target.floor or ("json" if target is FLOORS["select"] else None)
        floor = FLOORS[compare].name if compare else None
        row["compared_with"] = floor
        if floor:
            row["ratio"] = row["requests_per_s"] / by_name[floor]["requests_per_s"]
            rounds = sorted(n for name, n in by_round if name == target.name)
            row["round_ratios"] = [by_round[target.name, n] / by_round[floor, n] for n in rounds]
        if target.requirement:
            checks = []
            if target.min_ratio is not None and row["ratio"] is not None:
                checks.append(row["ratio"] >= target.min_ratio)
            if target.max_server_p99_ms is not None and row["latency_server_p99_ms"] is not None:
                checks.append(row["latency_server_p99_ms"] < target.max_server_p99_ms)
            row["met"] = all(checks) if checks else None
    return rows


def _latency_fields(runs: list[dict[str, Any]], name: str) -> dict[str, Any]:
    """The one-connection runs of a target: the median run by the server's p99 (None without any)."""
    measured = [r["result"] for r in runs if r["target"] == name and r["phase"] == "latency"]
    if not measured:
        return {
            "latency_requests_per_s": None,
            "latency_p50_ms": None,
            "latency_p99_ms": None,
            "latency_server_p50_ms": None,
            "latency_server_p99_ms": None,
            "latency_runs_server_p99_ms": [],
        }
    ordered = sorted(measured, key=lambda r: r["server_ms"]["p99"])
    median = ordered[(len(ordered) - 1) // 2]
    return {
        "latency_requests_per_s": median["requests_per_s"],
        "latency_p50_ms": median["latency_ms"]["p50"],
        "latency_p99_ms": median["latency_ms"]["p99"],
        "latency_server_p50_ms": median["server_ms"]["p50"],
        "latency_server_p99_ms": median["server_ms"]["p99"],
        "latency_runs_server_p99_ms": [r["server_ms"]["p99"] for r in measured],
    }


def bench_env(database_url: str, redis_url: str, conn_max_age: int, media_root: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        DEBUG="0",
        SECURE_HTTPS="0",
        SECRET_KEY=BENCH_SECRET_KEY,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        CONN_MAX_AGE=str(conn_max_age),
        LOG_LEVEL="WARNING",
        # The filing scenario stores a photo per request: in a directory removed after the run.
        MEDIA_ROOT=media_root,
    )
    return env


def measure(
    args: argparse.Namespace,
    base_url: str,
    targets: list[Scenario],
    runs: list[dict[str, Any]],
    shared: dict[str, str],
) -> None:
    with tempfile.TemporaryDirectory(prefix="xiangzhi-bench-") as scripts:
        script_dir = Path(scripts)
        photo = script_dir / "phone-photo.jpg"
        fixtures.phone_photo(photo)
        contexts = run_context(base_url, [t.user for t in targets], {**shared, "photo": str(photo)})
        for target in targets:
            log(f"warming up {target.name} ({args.warmup} s)")
            result = run_wrk(
                target, base_url, contexts[target.user], args.warmup, args, script_dir, warmup=True
            )
            runs.append({"target": target.name, "phase": "warmup", "round": 0, "result": result})
            drain(base_url)
        for round_number in range(1, args.repeat + 1):
            for target in targets:
                result = run_wrk(target, base_url, contexts[target.user], args.duration, args, script_dir)
                drain(base_url)
                runs.append(
                    {"target": target.name, "phase": "measure", "round": round_number, "result": result}
                )
                log_run(f"round {round_number}/{args.repeat} {target.name}", result)
            # The latency a user sees from one request, without 31 others queueing in front of it or
            # competing for the cores: one connection, for the scenarios with a latency requirement.
            for target in targets:
                if target.max_server_p99_ms is None:
                    continue
                result = run_wrk(
                    target,
                    base_url,
                    contexts[target.user],
                    args.duration,
                    args,
                    script_dir,
                    connections=LATENCY_CONNECTIONS,
                )
                drain(base_url)
                runs.append(
                    {"target": target.name, "phase": "latency", "round": round_number, "result": result}
                )
                log_run(f"round {round_number}/{args.repeat} {target.name} (one connection)", result)


def log_run(what: str, result: dict[str, Any]) -> None:
    server = result.get("server_ms", {})
    log(
        f"{what}: {result['requests_per_s']:.0f} req/s, "
        f"p50 {result['latency_ms']['p50']:.1f} ms, p99 {result['latency_ms']['p99']:.1f} ms; "
        f"server p50 {server.get('p50', 0):.1f} ms, p99 {server.get('p99', 0):.1f} ms"
    )


def _raise_exit(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through the finally blocks that stop gunicorn


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_exit)
    signal.signal(signal.SIGHUP, _raise_exit)
    started = datetime.now().astimezone()
    stamp = started.strftime("%Y%m%d-%H%M%S")
    args.results_dir.mkdir(parents=True, exist_ok=True)
    results_path = args.results_dir / f"bench-{stamp}-{os.getpid()}.json"
    targets = [FLOORS["json"], FLOORS["select"]]
    targets += [s for s in SCENARIOS if not args.only or s.name in args.only]
    runs: list[dict[str, Any]] = []
    media_root = ""
    record: dict[str, Any] = {"ok": False, "error": None, "started": started.isoformat(timespec="seconds")}
    try:
        wrk_binary()
        database_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
        if not database_url or not redis_url:
            raise BenchError("DATABASE_URL and REDIS_URL must be set: run the benchmarks with `make bench`.")
        url, db_name = bench_database_url(database_url, args.db_name, args.seed_scale)
        media_root = tempfile.mkdtemp(prefix="xiangzhi-bench-media-")
        env = bench_env(url, redis_url, args.conn_max_age, media_root)
        shared = prepare_database(url, db_name, env, args.fresh, args.seed_scale)
        meta = report.machine(url, redis_url)
        meta |= {"database": db_name, "seed_scale": args.seed_scale, "started": record["started"]}
        load = float(meta["load_average_start"].split()[0]) if meta["load_average_start"] != "unknown" else 0
        if load > (os.cpu_count() or 1) / 2:
            log(
                f"the machine is busy (load average {load:.1f} on {os.cpu_count()} CPUs): "
                "expect noisy numbers"
            )
        settings = {
            key: getattr(args, key)
            for key in ("duration", "repeat", "warmup", "connections", "threads", "workers", "conn_max_age")
        }
        settings["quick"] = args.quick
        record |= {"meta": meta, "settings": settings, "runs": runs}
        with gunicorn(
            env, args.workers, args.results_dir / f"gunicorn-{stamp}-{os.getpid()}.log"
        ) as base_url:
            measure(args, base_url, targets, runs, shared)
        meta["load_average_end"] = report.load_average()
        rows = summarise(targets, runs)
        record |= {"ok": True, "summary": rows}
    except BenchError as exc:
        record["error"] = str(exc)
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        record["error"] = "interrupted"
        print("bench: interrupted; gunicorn stopped.", file=sys.stderr)
        return 130
    finally:
        if "meta" in record:  # a run that got as far as gunicorn; earlier failures leave no file
            results_path.write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        if media_root:
            shutil.rmtree(media_root, ignore_errors=True)
    print(report.table(rows))
    print(f"\nraw results: {results_path}")
    if args.write_docs:
        kept = report.kept_notes(DOCS_PATH.read_text(encoding="utf-8") if DOCS_PATH.exists() else "")
        DOCS_PATH.write_text(report.markdown(meta, settings, rows) + kept, encoding="utf-8")
        print(f"wrote {DOCS_PATH.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

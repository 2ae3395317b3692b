"""The drills' private stack: a throw-away PostgreSQL cluster and Redis server on free ports, gunicorn and
Celery workers on them, manage.py runs, a small HTTP client and the invariant checks.

Nothing here touches the machine's PostgreSQL (5432) or Redis (6379): every drill starts, stops, restarts
and kills only what `Stack` started, by process id.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

import psycopg2

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "xiangzhi-demo")
# The suite's fixed environment (Makefile TEST_ENV): no TLS on loopback, a key that is not production's.
BASE_ENV = {
    "DEBUG": "0",
    "SECURE_HTTPS": "0",
    "SECRET_KEY": "test-only-secret-key-for-the-suite-0123456789abcdef",
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "DJANGO_SETTINGS_MODULE": "hardening.drills.settings",
    "AXES_ENABLED": "0",
}


class DrillFailure(AssertionError):
    """An invariant or an expectation of a drill did not hold."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(predicate: Any, timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if predicate():
                return
        time.sleep(interval)
    raise DrillFailure(f"timed out after {timeout:.0f} s waiting for {what}")


def _pg_bin(name: str) -> str:
    for candidate in sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True):
        return candidate
    found = shutil.which(name)
    if not found:
        raise DrillFailure(f"PostgreSQL's {name} is not installed")
    return found


def _as_postgres(argv: list[str]) -> list[str]:
    # initdb and pg_ctl refuse to run as root (machine-notes.md "Services").
    if os.geteuid() != 0:
        return argv
    return ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(shlex.quote(a) for a in argv)]


class PrivatePostgres:
    """A PostgreSQL cluster in a temporary directory on a free port. fsync and full-page writes are off (the
    drills crash the server process, never the machine, so the kernel keeps every written page), but
    synchronous_commit stays on, as it must in production: with it off a crash loses the last commits the
    API already acknowledged (the pg-restart drill lost 2 of 392 that way in its first run)."""

    def __init__(self, workdir: Path) -> None:
        self.dir = workdir / "pg"
        self.sock = workdir / "pgsock"
        self.log = workdir / "pg.log"
        self.port = free_port()

    def init(self) -> None:
        for path in (self.dir, self.sock):
            path.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.dir.parent, "postgres")
            for path in (self.dir, self.sock):
                shutil.chown(path, "postgres")
        self.dir.chmod(0o700)
        subprocess.run(  # noqa: S603
            _as_postgres(
                [
                    _pg_bin("initdb"),
                    "-D",
                    str(self.dir),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ]
            ),
            check=True,
            capture_output=True,
        )
        self.start()

    def _ctl(self, *args: str) -> None:
        subprocess.run(  # noqa: S603
            _as_postgres([_pg_bin("pg_ctl"), "-D", str(self.dir), *args]),
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories={self.sock} "
            "-c fsync=off -c full_page_writes=off -c max_connections=200"
        )
        self._ctl("-l", str(self.log), "-w", "-t", "60", "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; mode "immediate" is a crash (no checkpoint, recovery on the next start)."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self._ctl("-m", mode, "-w", "stop")

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres") -> Any:
        conn = psycopg2.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=database, connect_timeout=5
        )
        conn.autocommit = True
        return conn

    def execute(self, sql: str, database: str = "postgres") -> None:
        conn = self.connect(database)
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql)
        finally:
            conn.close()

    def query(self, sql: str, params: Any = None, database: str = "postgres") -> list[tuple[Any, ...]]:
        conn = self.connect(database)
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql, params)
                return list(cursor.fetchall())
        finally:
            conn.close()

    def database_exists(self, name: str) -> bool:
        return bool(self.query("SELECT 1 FROM pg_database WHERE datname = %s", [name]))


class PrivateRedis:
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.pidfile = workdir / "redis.pid"
        self.log = workdir / "redis.log"

    def start(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        subprocess.run(  # noqa: S603
            [
                binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "yes",
                "--pidfile",
                str(self.pidfile),
                "--logfile",
                str(self.log),
            ],
            check=True,
            capture_output=True,
        )
        wait_for(self.ping, 10, "the private Redis to answer")

    def ping(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")

    def stop(self) -> None:
        """Kill the server (SIGKILL: a broker that dies, not one that shuts down politely)."""
        with contextlib.suppress(FileNotFoundError, ProcessLookupError, ValueError):
            pid = int(self.pidfile.read_text().strip())
            os.kill(pid, signal.SIGKILL)
            wait_for(lambda: not _alive(pid), 10, "Redis to die")
        with contextlib.suppress(FileNotFoundError):
            self.pidfile.unlink()

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie child still answers kill(0): reap it when it is ours.
    with contextlib.suppress(ChildProcessError):
        done, _status = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    return True


@dataclass
class Stack:
    """One drill run's private services and working directory."""

    workdir: Path
    pg: PrivatePostgres
    redis: PrivateRedis
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def env(self, database: str, redis_db: int = 0, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(BASE_ENV)
        env.update(
            DATABASE_URL=self.pg.url(database),
            REDIS_URL=self.redis.url(redis_db),
            MEDIA_ROOT=str(self.workdir / f"media-{database}"),
            PYTHONPATH=str(ROOT),
        )
        env.update(extra)
        return env

    def manage(
        self, env: dict[str, str], *args: str, timeout: float = 1800, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(  # noqa: S603
            [PYTHON, str(ROOT / "manage.py"), *args],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise DrillFailure(
                f"manage.py {' '.join(args)} exited {result.returncode}: "
                + (result.stderr.strip() or result.stdout.strip())[-1500:]
            )
        return result

    def spawn(self, argv: list[str], env: dict[str, str], log_name: str) -> subprocess.Popen[bytes]:
        log = (self.workdir / log_name).open("ab")
        process = subprocess.Popen(  # noqa: S603
            argv,
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    def gunicorn(
        self, env: dict[str, str], workers: int = 3, threads: int = 1
    ) -> tuple[subprocess.Popen[bytes], int]:
        port = free_port()
        process = self.spawn(
            [
                PYTHON,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--threads",
                str(threads),
                "--timeout",
                "60",
                "--graceful-timeout",
                "5",
            ],
            env,
            f"gunicorn-{port}.log",
        )
        wait_for(lambda: http("GET", port, "/healthz")[0] in (200, 503), 60, "gunicorn to answer")
        return process, port

    def celery_worker(
        self,
        env: dict[str, str],
        name: str,
        queues: str = "celery,rollups",
        concurrency: int = 2,
        beat: bool = False,
    ) -> subprocess.Popen[bytes]:
        return self.spawn(
            [
                PYTHON,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                queues,
                "-c",
                str(concurrency),
                "-n",
                f"{name}@drills",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "--loglevel=INFO",
                *(["-B", f"--schedule={self.workdir / f'beat-{name}'}"] if beat else []),
            ],
            env,
            f"celery-{name}.log",
        )

    def kill(self, process: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 20) -> None:
        """Signal the process group we started (gunicorn's or Celery's workers die with their master)."""
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)

    def close(self) -> None:
        for process in reversed(self.processes):
            self.kill(process)
        self.processes.clear()


@contextlib.contextmanager
def private_stack(keep: bool = False) -> Iterator[Stack]:
    """Start a private PostgreSQL and Redis (free ports, a temporary directory); stop them after."""
    workdir = Path(tempfile.mkdtemp(prefix="xiangzhi-drills-"))
    pg = PrivatePostgres(workdir)
    redis = PrivateRedis(workdir)
    stack = Stack(workdir=workdir, pg=pg, redis=redis)
    try:
        pg.init()
        redis.start()
        yield stack
    finally:
        stack.close()
        redis.stop()
        pg.stop("immediate")
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)


# --- HTTP ----------------------------------------------------------------------------------------------


def http(
    method: str,
    port: int,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> tuple[int, Any]:
    """(status, parsed JSON or text). Raises OSError when the connection fails."""
    conn = HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        payload = None
        all_headers = {"Accept": "application/json", **(headers or {})}
        if body is not None:
            payload = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        conn.request(method, path, body=payload, headers=all_headers)
        response = conn.getresponse()
        raw = response.read()
        text = raw.decode("utf-8", "replace")
        if response.getheader("Content-Type", "").startswith("application/json"):
            return response.status, json.loads(text)
        return response.status, text
    finally:
        conn.close()


def api_token(port: int, username: str, password: str = DEMO_PASSWORD) -> str:
    status, body = http("POST", port, "/api/v1/auth/token/", {"username": username, "password": password})
    if status != 200:
        raise DrillFailure(f"token for {username}: HTTP {status} {body}")
    return str(body["token"])


# --- Invariants ----------------------------------------------------------------------------------------


def ledger_check(stack: Stack, env: dict[str, str]) -> str:
    """The project's ledger verification (manage.py points_verify); DrillFailure naming the differences."""
    result = stack.manage(env, "points_verify", check=False)
    if result.returncode != 0:
        raise DrillFailure("ledger check failed: " + (result.stderr.strip() or result.stdout.strip())[-1500:])
    return result.stdout.strip()


def rollup_verify(stack: Stack, env: dict[str, str]) -> str:
    result = stack.manage(env, "rollup", "--verify", check=False)
    if result.returncode != 0:
        raise DrillFailure("rollup --verify found differences: " + result.stdout.strip()[-1500:])
    return result.stdout.strip()


_REDEMPTION_SQL = """
SELECT
  (SELECT COUNT(*) FROM points_redemption r
    WHERE NOT EXISTS (SELECT 1 FROM points_redemptionline l WHERE l.redemption_id = r.id)),
  (SELECT COUNT(*) FROM points_redemption r WHERE r.total_points <>
    (SELECT COALESCE(SUM(l.quantity * l.unit_points), 0) FROM points_redemptionline l
     WHERE l.redemption_id = r.id)),
  (SELECT COUNT(*) FROM common_idempotencyrecord WHERE status_code = 0)
"""


def redemptions_whole(stack: Stack, database: str) -> None:
    """No half-written redemption: every receipt has lines summing to its total, and no idempotency
    placeholder was left behind (it commits with the write or not at all)."""
    ((without_lines, wrong_total, placeholders),) = stack.pg.query(_REDEMPTION_SQL, database=database)
    if without_lines or wrong_total or placeholders:
        raise DrillFailure(
            f"half-written redemptions: {without_lines} without lines, {wrong_total} whose lines do not sum "
            f"to the total, {placeholders} idempotency placeholders left"
        )

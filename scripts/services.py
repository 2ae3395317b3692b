#!/usr/bin/env python3
"""Find or start PostgreSQL and Redis for the test suite and benchmarks, run a command, stop what we started.

Order for each service: the URL from the environment (DATABASE_URL / REDIS_URL) when set; else the
standard port on 127.0.0.1 when something listens there; else a throw-away server started from locally
installed binaries (initdb/pg_ctl, redis-server) in a temporary directory, stopped afterwards.
When none is possible it fails with one sentence naming the missing piece.

Usage: scripts/services.py [--fresh] -- COMMAND [ARGS...]
  --fresh   ignore DATABASE_URL/REDIS_URL and the standard ports: always start throw-away servers
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

PG_DEFAULT_PORT = 5432
REDIS_DEFAULT_PORT = 6379
DB_NAME = "xiangzhi"


def listening(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fail(sentence: str) -> None:
    print(f"services: {sentence}", file=sys.stderr)
    raise SystemExit(2)


def pg_bin(name: str) -> str | None:
    """Debian keeps initdb/pg_ctl out of PATH, under /usr/lib/postgresql/<version>/bin."""
    pattern = os.environ.get("PG_BIN_GLOB", "/usr/lib/postgresql/*/bin")
    for candidate in sorted(glob.glob(f"{pattern}/{name}"), reverse=True):
        return candidate
    return shutil.which(name)


def as_postgres(argv: list[str]) -> list[str]:
    # initdb and pg_ctl refuse to run as root; drop to the postgres user when we are root.
    if os.geteuid() != 0:
        return argv
    return ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(_quote(a) for a in argv)]


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)


def ensure_database(port: int) -> None:
    """Create the application database when missing (the suite's test_ database is pytest-django's)."""
    import psycopg2

    conn = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME])
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{DB_NAME}"')
    finally:
        conn.close()


@contextlib.contextmanager
def postgres(fresh: bool = False) -> Iterator[str]:
    if os.environ.get("DATABASE_URL") and not fresh:
        yield os.environ["DATABASE_URL"]
        return
    if listening(PG_DEFAULT_PORT) and not fresh:
        ensure_database(PG_DEFAULT_PORT)
        yield f"postgres://postgres@127.0.0.1:{PG_DEFAULT_PORT}/{DB_NAME}"
        return
    initdb, pg_ctl = pg_bin("initdb"), pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        fail(
            "PostgreSQL is needed: DATABASE_URL is not set, nothing listens on 127.0.0.1:5432, "
            "and no initdb/pg_ctl is installed (apt-get install postgresql)."
        )
        return
    root = tempfile.mkdtemp(prefix="xiangzhi-pg-")
    data, sock, log = f"{root}/data", f"{root}/sock", f"{root}/pg.log"
    os.makedirs(sock)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        shutil.chown(sock, "postgres", "postgres")
    port = free_port()
    print(f"services: starting a throw-away PostgreSQL on 127.0.0.1:{port} ({root})", file=sys.stderr)
    subprocess.run(
        as_postgres([initdb, "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"]),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    options = f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={sock} -c fsync=off"
    subprocess.run(
        as_postgres([pg_ctl, "-D", data, "-l", log, "-w", "-o", options, "start"]),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    try:
        ensure_database(port)
        yield f"postgres://postgres@127.0.0.1:{port}/{DB_NAME}"
    finally:
        subprocess.run(
            as_postgres([pg_ctl, "-D", data, "-m", "fast", "-w", "stop"]),
            check=False,
            stdout=subprocess.DEVNULL,
        )
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def redis(fresh: bool = False) -> Iterator[str]:
    if os.environ.get("REDIS_URL") and not fresh:
        yield os.environ["REDIS_URL"]
        return
    if listening(REDIS_DEFAULT_PORT) and not fresh:
        yield f"redis://127.0.0.1:{REDIS_DEFAULT_PORT}/0"
        return
    server = shutil.which("redis-server")
    if not server:
        fail(
            "Redis is needed: REDIS_URL is not set, nothing listens on 127.0.0.1:6379, "
            "and no redis-server is installed (apt-get install redis-server)."
        )
        return
    root = tempfile.mkdtemp(prefix="xiangzhi-redis-")
    port = free_port()
    print(f"services: starting a throw-away Redis on 127.0.0.1:{port} ({root})", file=sys.stderr)
    proc = subprocess.Popen(
        [
            server,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            root,
            "--logfile",
            f"{root}/redis.log",
        ],
    )
    deadline = time.monotonic() + 10
    while not listening(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            fail(f"redis-server did not start on 127.0.0.1:{port} (see {root}/redis.log).")
        time.sleep(0.05)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str]) -> int:
    if "--" not in argv:
        print(__doc__, file=sys.stderr)
        return 2
    command = argv[argv.index("--") + 1 :]
    fresh = "--fresh" in argv[: argv.index("--")]
    with postgres(fresh) as database_url, redis(fresh) as redis_url:
        env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=redis_url)
        print(f"services: DATABASE_URL={database_url} REDIS_URL={redis_url}", file=sys.stderr)
        return subprocess.call(command, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

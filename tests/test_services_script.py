"""scripts/services.py: throw-away PostgreSQL and Redis when none runs, one clear sentence when none can."""

import json
import os
import socket
import subprocess
import sys
from urllib.parse import urlparse

from tests.conftest import ROOT

PROBE = """
import json, os, psycopg2, redis
db = psycopg2.connect(os.environ["DATABASE_URL"])
cur = db.cursor(); cur.execute("SHOW server_version_num"); version = cur.fetchone()[0]; db.close()
r = redis.Redis.from_url(os.environ["REDIS_URL"]); pong = r.ping(); r.close()
urls = {"db": os.environ["DATABASE_URL"], "redis": os.environ["REDIS_URL"]}
print(json.dumps({**urls, "pg": version, "pong": pong}))
"""


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_fresh_starts_throwaway_servers_and_stops_them():
    result = subprocess.run(
        [sys.executable, "scripts/services.py", "--fresh", "--", sys.executable, "-c", PROBE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    db, cache = urlparse(probe["db"]), urlparse(probe["redis"])
    assert (db.hostname, cache.hostname) == ("127.0.0.1", "127.0.0.1")
    assert db.port not in (5432, None)
    assert cache.port not in (6379, None)
    assert db.path == "/xiangzhi"
    assert int(probe["pg"]) >= 150000
    assert probe["pong"] is True
    assert "starting a throw-away PostgreSQL" in result.stderr
    assert "starting a throw-away Redis" in result.stderr
    # Stopped afterwards.
    assert not port_open(db.port)
    assert not port_open(cache.port)


def test_no_postgres_anywhere_fails_with_one_sentence():
    env = dict(os.environ, PATH="/nonexistent", PG_BIN_GLOB="/nonexistent")
    result = subprocess.run(
        [sys.executable, "scripts/services.py", "--fresh", "--", "true"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "services: PostgreSQL is needed: DATABASE_URL is not set, nothing listens on 127.0.0.1:5432, "
        "and no initdb/pg_ctl is installed (apt-get install postgresql)."
    )

"""Every migration is reversible: migrate everything to zero and forward again on a scratch database."""

import os
import subprocess
import sys
from urllib.parse import urlparse, urlunparse

import psycopg2
import pytest

from tests.conftest import ROOT

APPS = ["governance", "grids", "points", "canteens", "industry", "common"]


@pytest.fixture
def scratch_database_url():
    url = urlparse(os.environ["DATABASE_URL"])
    name = f"{url.path.lstrip('/')}_migrations_scratch"
    admin = psycopg2.connect(
        host=url.hostname,
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        dbname="postgres",
    )
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunparse(url._replace(path=f"/{name}"))
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def manage(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DATABASE_URL=database_url)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_all_migrations_apply_reverse_and_apply_again(scratch_database_url):
    forward = manage(scratch_database_url, "migrate", "--noinput", "-v0")
    assert forward.returncode == 0, forward.stderr
    # governance holds the user model every other app points at: undo it last.
    back = manage(scratch_database_url, "migrate", "governance", "zero", "--noinput", "-v0")
    assert back.returncode == 0, back.stderr
    again = manage(scratch_database_url, "migrate", "--noinput", "-v0")
    assert again.returncode == 0, again.stderr
    plan = manage(scratch_database_url, "migrate", "--plan")
    assert "No planned migration operations." in plan.stdout

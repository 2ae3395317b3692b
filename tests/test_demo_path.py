"""The `make demo` path: SQLite, no Redis, eager Celery; migrate and seed_demo work and the shell serves."""

import json
import subprocess
import sys

from tests.conftest import ROOT, merged_env, run_python

SERVE_IN_PROCESS = """
import django, json
django.setup()
from django.test import Client
client = Client()
health = client.get("/healthz")
logged_in = client.login(username="grid_leader", password="demo-pass-for-test")
home = client.get("/")
print(json.dumps({"health": health.status_code, "broker": health.json()["broker"]["kind"],
                  "db": health.json()["database"]["kind"], "logged_in": logged_in, "home": home.status_code,
                  "greeting": "王秀英，您好" in home.content.decode()}))
"""


def test_demo_runs_on_sqlite_without_services(tmp_path):
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path}/demo.sqlite3",
        "REDIS_URL": None,
        "DEBUG": "0",
        "SECURE_HTTPS": "0",
        "SECRET_KEY": "demo-only-secret-key-not-for-production-0123456789",
        "ALLOWED_HOSTS": "testserver",
        "DEMO_PASSWORD": "demo-pass-for-test",
    }
    migrate = run_python(
        "from django.core.management import execute_from_command_line as m; "
        "m(['manage.py', 'migrate', '--noinput', '-v0'])",
        env,
    )
    assert migrate.returncode == 0, migrate.stderr
    seed = subprocess.run(
        [sys.executable, "manage.py", "seed_demo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env=merged_env(env),
    )
    assert seed.returncode == 0, seed.stderr
    assert "演示账号（密码均为 demo-pass-for-test）：" in seed.stdout
    for username in ("county_admin", "township_admin", "village_secretary", "grid_leader", "canteen_manager"):
        assert username in seed.stdout
    served = run_python(SERVE_IN_PROCESS, env)
    assert served.returncode == 0, served.stderr
    assert json.loads(served.stdout.strip().splitlines()[-1]) == {
        "health": 200,
        "broker": "eager",
        "db": "sqlite",
        "logged_in": True,
        "home": 200,
        "greeting": True,
    }

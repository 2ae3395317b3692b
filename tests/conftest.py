"""Shared fixtures. The suite runs against real PostgreSQL and Redis (make test provides them)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, override_settings

from governance.demo import DEMO_LOGINS, seed_demo_county
from governance.models import Region

ROOT = Path(__file__).resolve().parent.parent

# One Chromium for the whole suite, whichever folder a browser test sits in.
pytest_plugins = ["tests.browser_fixtures"]


@pytest.fixture(scope="session", autouse=True)
def _plain_static_storage():
    """Serve static files from the finders in tests: the manifest storage needs collectstatic's output,
    which the live server (it serves through the finders) cannot see."""
    with override_settings(
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    ):
        yield


@pytest.fixture(scope="session", autouse=True)
def _media_outside_the_checkout(tmp_path_factory):
    """Uploaded files (case photos, exports) go to a throw-away folder, never into the checkout's media/."""
    with override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("media"))):
        yield


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing():
    """PBKDF2's deliberate slowness is for production; the suite hashes thousands of demo passwords."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture
def demo_county(db) -> dict[str, Region]:
    return seed_demo_county(password="xiangzhi-demo")


@pytest.fixture
def demo_password() -> str:
    return "xiangzhi-demo"


@pytest.fixture
def demo_usernames() -> list[str]:
    return [login.username for login in DEMO_LOGINS]


@pytest.fixture
def county_admin_client(demo_county) -> Client:
    client = Client()
    assert client.login(username="county_admin", password="xiangzhi-demo")
    return client


def merged_env(overrides: dict[str, str | None]) -> dict[str, str]:
    """This process's environment with `overrides` applied (None removes a variable)."""
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings")
    # Set for Playwright in this process only (tests/browser_fixtures.py); a child process runs real code.
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def database_url(name: str | None = None) -> str:
    """A postgres:// URL of the database this test writes to (or of database `name` on its server), for a
    child process: a Celery worker, a bench script, a drill."""
    from django.db import connection

    db = connection.settings_dict
    credentials = f"{db['USER']}:{db['PASSWORD']}" if db.get("PASSWORD") else db["USER"]
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name or db['NAME']}"


def run_script(
    args: list[str], env_overrides: dict[str, str | None] | None = None, *, timeout: int = 300
) -> subprocess.CompletedProcess[str]:
    """Run `python <args>` (a bench script, `-m` a module) from the checkout in a fresh interpreter with
    this environment and `env_overrides`, its output captured; the caller asserts on its exit status."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=merged_env(env_overrides or {}),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_python(code: str, env_overrides: dict[str, str | None]) -> subprocess.CompletedProcess[str]:
    """Run a snippet in a fresh interpreter with the given environment.

    Settings are read once per process, so testing what the environment does needs a new process.
    """
    env = merged_env(env_overrides)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

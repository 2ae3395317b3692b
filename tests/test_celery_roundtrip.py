"""A task goes through the real Redis broker to a real Celery worker process and back (not eager)."""

import os
import subprocess
import sys
import time
import uuid

import pytest
from django.conf import settings

from common.tasks import ping
from config.celery import app
from tests.conftest import ROOT


@pytest.fixture
def celery_worker_process():
    queue = f"test-{uuid.uuid4().hex[:12]}"
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "--concurrency",
            "1",
            "-Q",
            queue,
            "-n",
            f"{queue}@%h",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield queue
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.mark.celery_worker
def test_task_round_trip_through_redis_and_a_worker(celery_worker_process):
    assert settings.REDIS_URL.startswith("redis://")
    assert app.conf.task_always_eager is False
    assert app.conf.broker_url == settings.REDIS_URL
    started = time.monotonic()
    result = ping.apply_async(args=("谷城",), queue=celery_worker_process)
    assert result.get(timeout=60) == {"pong": "谷城"}
    assert result.successful()
    # The worker's hostname proves another process ran it.
    assert app.AsyncResult(result.id).state == "SUCCESS"
    assert time.monotonic() - started < 60


def test_without_redis_tasks_run_eagerly_in_process():
    from tests.conftest import run_python

    code = (
        "import django; django.setup()\n"
        "from common.tasks import ping\n"
        "r = ping.delay('演示')\n"
        "print(type(r).__name__, r.get())\n"
    )
    result = run_python(code, {"REDIS_URL": None})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "EagerResult {'pong': '演示'}"

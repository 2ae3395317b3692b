"""The roster import through the real broker: `roster_import.delay` (queued on commit by the service)
goes to Redis, a real Celery worker process picks it up and imports into the test database."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from django.conf import settings

from config.celery import app
from governance.models import ImportJob, ImportMode, ImportStatus, Resident, User
from governance.services import roster as roster_services
from tests.conftest import ROOT, database_url
from tests.governance.roster_factories import fake_id, row, upload

# Its worker takes tasks from the default queue, which every such test shares: run in make test's serial
# pass (two at once, on the two xdist workers, took each other's tasks into the wrong test database).
pytestmark = [pytest.mark.celery_worker, pytest.mark.serial, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(settings, tmp_path):
    """A worker on the default queue of the suite's Redis database, reading this test database."""
    assert app.conf.task_always_eager is False
    settings.MEDIA_ROOT = tmp_path / "media"
    app.control.purge()
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=database_url(),
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
    )
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo"]
    command += ["--without-gossip", "--without-mingle", "--loglevel", "WARNING"]
    proc = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_delay_goes_through_redis_to_a_worker(demo_county, worker):
    assert settings.REDIS_URL.startswith("redis://")
    secretary = User.objects.get(username="village_secretary")
    job = roster_services.roster_import_create(
        actor=secretary,
        upload=upload(
            [
                row("H1", "王大明", fake_id("19700305", 11)),
                row("H1", "李秀兰", fake_id("19720310", 22), "配偶"),
            ]
        ),
        mode=ImportMode.ALL_OR_NOTHING,
        idempotency_key="worker",
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.is_finished:
            break
        assert worker.poll() is None, worker.stdout.read() if worker.stdout else ""
        time.sleep(0.5)
    assert (job.status, job.imported_residents, job.imported_households) == (ImportStatus.SUCCEEDED, 2, 1)
    assert sorted(Resident.objects.values_list("name", flat=True)) == ["李秀兰", "王大明"]
    assert ImportJob.objects.count() == 1

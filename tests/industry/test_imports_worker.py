"""The sales import through the real broker: the service queues industry.sales_import on commit, Redis
carries it, a real Celery worker process imports into this test database; a second delivery of the same
task changes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db.models import Sum

from config.celery import app
from industry.models import SalesImportJob, SalesImportStatus, SalesRecord
from industry.services import imports as services
from industry.tasks import sales_import
from tests.conftest import ROOT, database_url
from tests.industry.factories import industry_world
from tests.industry.factories_imports import key, sale, upload

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
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
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


def _wait(job: SalesImportJob, worker: subprocess.Popen[str]) -> SalesImportJob:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if services.job_is_finished(job):
            return job
        assert worker.poll() is None, worker.stdout.read() if worker.stdout else ""
        time.sleep(0.5)
    pytest.fail(f"the worker did not finish job {job.pk}: {job.status}")


def test_a_worker_imports_a_small_sheet_once(demo_county, worker):
    assert settings.REDIS_URL.startswith("redis://")
    world = industry_world(demo_county)
    job = services.sales_import_create(
        actor=world.chengguan_admin,
        idempotency_key=key(),
        upload=upload([sale(), sale(amount="20", channel="线上", platform="抖音")]),
        event=world.chengguan_event,
    )
    job = _wait(job, worker)
    assert (job.status, job.imported_rows, job.amount_fen) == (SalesImportStatus.DONE, 2, 12_050)
    records = SalesRecord.objects.filter(import_job=job)
    assert records.aggregate(s=Sum("amount_fen"))["s"] == 12_050
    # The broker delivers the task again (e.g. after a lost ack): the job is claimed already, no write.
    result = sales_import.delay(job.pk)
    assert result.get(timeout=60) == {"job": job.pk, "status": "done", "imported_rows": 2}
    assert records.count() == 2

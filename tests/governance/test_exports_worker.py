"""An export through the real broker: the service queues `export_run` on commit, it goes to Redis, and a
real Celery worker process makes the file as the requester, in the test database and media folder."""

# ruff: noqa: F811  (the people_world fixture is imported, then named as a test argument)

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from django.conf import settings

from config.celery import app
from governance.models import AuditAction, AuditEvent, ExportJob, ExportKind, ExportStatus
from governance.services import exports as export_services
from tests.conftest import ROOT, database_url
from tests.governance.export_factories import job_file_rows
from tests.governance.people_factories import people_world  # noqa: F401 (a fixture)

# Its worker takes tasks from the default queue, which every such test shares: run in make test's serial
# pass (two at once, on the two xdist workers, took each other's tasks into the wrong test database).
pytestmark = [pytest.mark.celery_worker, pytest.mark.serial, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(settings, tmp_path):
    """A worker on the default queue of the suite's Redis database, reading this test database and
    writing into this test's media folder."""
    assert app.conf.task_always_eager is False
    settings.MEDIA_ROOT = tmp_path / "media"
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=database_url(),
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
    )
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    app.control.purge()
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


def test_a_queued_export_is_made_by_a_worker(people_world, worker, monkeypatch):
    assert settings.REDIS_URL.startswith("redis://")
    monkeypatch.setattr(export_services, "SYNC_MAX_ROWS", 0)  # this small list goes to Celery too
    job = export_services.export_job_create(
        actor=people_world.users["township_admin"],
        kind=ExportKind.RESIDENTS,
        filters={"tag": "left_behind_elderly"},
        idempotency_key="worker",
    )
    assert job.status == ExportStatus.QUEUED
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.is_finished:
            break
        assert worker.poll() is None, worker.stdout.read() if worker.stdout else ""
        time.sleep(0.5)
    assert (job.status, job.rows_done, job.rows_total, job.failure_message) == ("done", 2, 2, "")
    rows = job_file_rows(job)
    assert [row[0] for row in rows] == ["姓名", "张德明", "李桂兰"]
    assert rows[2][4:9] == [
        people_world.residents["李桂兰"].id_number_masked,
        "139****2222",
        "配偶",
        "在籍",
        "留守老人",
    ]
    entry = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert (entry.actor_id, entry.detail, entry.region_path) == (
        people_world.users["township_admin"].pk,
        "导出居民名单2行（个人信息已遮挡）",
        people_world.regions["城关镇"].path,
    )
    assert ExportJob.objects.count() == 1

"""Celery beat schedules the incremental pass; a real worker on the real Redis broker runs it against
the test database (not eager): the facts appear, exact, and the run is recorded."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
import uuid

import pytest
from django.conf import settings
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from governance.models import RollupKind, RollupRun, RollupStatus
from tests.conftest import ROOT, database_url
from tests.rollups import factories as f

# Shares the rollup lock, progress keys and the rollups queue in Redis: run in make test's serial pass.
pytestmark = pytest.mark.serial


def _env() -> dict[str, str]:
    """This process's environment, pointed at the test database the test writes to."""
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings")
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env["DATABASE_URL"] = database_url()
    return env


def _start(args: list[str], log) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", *args, "--loglevel", "INFO"],
        cwd=ROOT,
        env=_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_beat_schedules_the_incremental_pass_and_a_worker_runs_it(tmp_path):
    assert settings.REDIS_URL.startswith("redis://")
    world = f.world_make()
    f.case_write(world, grid="G2", at=f.at_of(20, 9))
    f.case_write(world, grid="G2", at=f.at_of(120, 9))
    f.posting_write(world, household=world.households[2], kind="award", amount=30, at=f.at_of(5, 9))
    f.meal_write(world, site=0, resident=world.residents[0], day=dt.date(2026, 1, 9), slot="lunch")

    queue = f"test-rollups-{uuid.uuid4().hex[:10]}"
    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(
        name=f"rollups-incremental-{queue}",
        task="governance.rollup_incremental",
        interval=every_second,
        queue=queue,
    )
    log = (tmp_path / "celery.log").open("w")
    worker = _start(
        [
            "worker",
            "--pool",
            "solo",
            "-Q",
            queue,
            "-n",
            f"{queue}@%h",
            "--without-gossip",
            "--without-mingle",
        ],
        log,
    )
    beat = _start(
        [
            "beat",
            "-S",
            "django_celery_beat.schedulers:DatabaseScheduler",
            "--max-interval",
            "1",
            "--pidfile",
            str(tmp_path / "beat.pid"),
        ],
        log,
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if RollupRun.objects.filter(kind=RollupKind.INCREMENTAL, status=RollupStatus.OK).exists():
                break
            time.sleep(0.5)
    finally:
        _stop(beat)
        _stop(worker)
        log.close()
    output = (tmp_path / "celery.log").read_text()
    assert RollupRun.objects.filter(kind=RollupKind.INCREMENTAL, status=RollupStatus.OK).exists(), output[
        -3000:
    ]
    assert "governance.rollup_incremental" in output
    assert f.stored_facts() == world.expected.fact_rows()
    assert f.stored_members() == world.expected.member_rows()

"""The rollup tasks run in process (eagerly): the full rebuild's group of township tasks, its progress,
its watermarks and its lock; the incremental and nightly tasks under the lock."""

from __future__ import annotations

import datetime as dt

import pytest
from celery.app.routes import Router, prepare

from config.celery import app
from governance import tasks
from governance.models import RollupKind, RollupRun, RollupStatus, RollupWatermark, User
from governance.roles import Role
from governance.rollups import lock, selectors
from tests.rollups import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.serial]


@pytest.fixture
def eager():
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture
def world() -> f.World:
    w = f.world_make()
    f.case_write(w, grid="G2", at=f.at_of(20, 9))
    f.case_write(w, grid="G2", at=f.at_of(120, 9))
    f.posting_write(w, household=w.households[2], kind="award", amount=30, at=f.at_of(5, 9))
    f.attendance_write(w, day=dt.date(2026, 5, 5), residents=w.residents[:3])
    f.tourism_write(w, subject="T2", month=dt.date(2026, 2, 1), visits=10, income_fen=100)
    return w


def test_full_rebuild_fans_out_per_township_and_reports_progress(world, eager):
    outcome = tasks.rollup_full.apply().get()
    assert outcome["status"] == "started"
    assert outcome["townships"] == 3  # T1, T2 and the records above any township
    assert f.stored_facts() == world.expected.fact_rows()
    assert f.stored_members() == world.expected.member_rows()
    run = RollupRun.objects.get(pk=outcome["run"])
    assert (run.kind, run.status, run.detail["townships"]) == (RollupKind.FULL, RollupStatus.OK, 3)
    assert lock.holder() is None
    assert RollupWatermark.objects.get(feed="grids.cases").position == max(
        c.pk for c in __import__("grids.models", fromlist=["Case"]).Case.objects.all()
    )
    admin = User.objects.create(username="county")
    from governance.models import RoleAssignment

    RoleAssignment.objects.create(user=admin, role=Role.COUNTY_ADMIN, region=world.county)
    status = selectors.rollup_status(user=admin)
    assert (status.progress.done, status.progress.total, status.progress.running) == (3, 3, False)
    assert status.progress.percent == 100
    assert status.last_run_status == RollupStatus.OK


def test_incremental_and_nightly_tasks_run_under_the_lock(world, eager):
    first = tasks.rollup_incremental.apply().get()
    assert first["status"] == RollupStatus.OK
    assert f.stored_facts() == world.expected.fact_rows()
    token = lock.acquire()
    try:
        assert tasks.rollup_incremental.apply().get()["status"] == RollupStatus.SKIPPED
        assert tasks.rollup_nightly.apply().get()["status"] == RollupStatus.SKIPPED
    finally:
        lock.release(token)
    assert tasks.rollup_nightly.apply().get()["status"] == RollupStatus.OK
    assert f.stored_facts() == world.expected.fact_rows()


# The routing the settings carry (docs/rollups.md, "Deployment").
ROUTES = {"governance.rollup_*": {"queue": tasks.ROLLUP_QUEUE}}


def test_rollup_tasks_route_to_their_own_queue_with_time_limits():
    router = Router(prepare(ROUTES), app.amqp.queues, True, app=app)
    for task in (
        tasks.rollup_incremental,
        tasks.rollup_nightly,
        tasks.rollup_full,
        tasks.rollup_full_township,
        tasks.rollup_full_finish,
    ):
        assert router.route({}, task.name)["queue"].name == "rollups"
        assert task.soft_time_limit < task.time_limit
    assert router.route({}, "governance.export_run")["queue"].name != "rollups"

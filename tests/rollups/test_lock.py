"""Runs never overlap: the Redis lock with an owner token, and two passes started together."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest

from governance.models import RollupKind, RollupRun, RollupStatus
from governance.rollups import engine, lock, runs

# Shares the rollup lock, progress keys and the rollups queue in Redis: run in make test's serial pass.
pytestmark = pytest.mark.serial


@pytest.fixture(autouse=True)
def _free_lock():
    token = lock.holder()
    if token:
        lock.release(token)
    yield
    token = lock.holder()
    if token:
        lock.release(token)


def test_only_the_owner_extends_or_releases_and_an_abandoned_lock_expires():
    first = lock.acquire(ttl_ms=300)
    assert first is not None
    assert lock.acquire(ttl_ms=300) is None
    assert lock.extend(first, 300)
    assert not lock.release("someone-else")
    assert lock.holder() == first
    # The owner dies without releasing: the lock expires by itself, and the next run takes it.
    time.sleep(0.5)
    second = lock.acquire(ttl_ms=5_000)
    assert second is not None
    assert not lock.release(first)  # the dead owner's late release does not free the new owner's lock
    assert not lock.extend(first, 5_000)
    assert lock.holder() == second
    assert lock.release(second)
    assert lock.holder() is None


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_passes_one_runs_one_skips(monkeypatch):
    started, release = threading.Event(), threading.Event()

    def slow_pass(*, metric=None):
        started.set()
        assert release.wait(10)
        return engine.PassResult(kind=RollupKind.INCREMENTAL)

    monkeypatch.setattr(engine, "incremental_pass", slow_pass)
    outcomes: list[dict] = []

    def run() -> None:
        try:
            outcomes.append(runs.incremental())
        finally:
            from django.db import connection

            connection.close()

    first = threading.Thread(target=run)
    first.start()
    assert started.wait(10)
    second = runs.incremental()
    release.set()
    first.join(10)
    assert second["status"] == RollupStatus.SKIPPED
    assert [o["status"] for o in outcomes] == [RollupStatus.OK]
    assert sorted(RollupRun.objects.values_list("status", flat=True)) == [
        RollupStatus.OK,
        RollupStatus.SKIPPED,
    ]
    assert lock.holder() is None


def test_the_lock_is_extended_while_a_long_pass_runs():
    with lock.held(ttl_ms=300) as token:
        assert token is not None
        time.sleep(0.8)  # well past the ttl: the keeper thread pushed it out
        assert lock.holder() == token
    assert lock.holder() is None


@pytest.mark.django_db
def test_a_run_killed_before_its_end_is_closed_as_failed_by_the_next_locked_run():
    now = dt.datetime.now(tz=dt.UTC)
    killed = RollupRun.objects.create(kind=RollupKind.FULL, started_at=now - dt.timedelta(minutes=3))
    verifying = RollupRun.objects.create(kind=RollupKind.VERIFY, started_at=now - dt.timedelta(minutes=1))
    old_verify = RollupRun.objects.create(kind=RollupKind.VERIFY, started_at=now - dt.timedelta(hours=7))

    outcome = runs.incremental()

    assert outcome["status"] == RollupStatus.OK
    killed.refresh_from_db()
    assert (killed.status, killed.detail) == (
        RollupStatus.FAILED,
        {"error": "abandoned: the run ended without recording its end (process killed?)"},
    )
    assert killed.finished_at is not None
    # A verify runs beside the locked passes: a recent one is left running.
    verifying.refresh_from_db()
    assert verifying.status == RollupStatus.RUNNING
    # The next verify closes one that has been "running" for longer than any verify takes.
    engine.run_start(RollupKind.VERIFY)
    old_verify.refresh_from_db()
    verifying.refresh_from_db()
    assert (old_verify.status, verifying.status) == (RollupStatus.FAILED, RollupStatus.RUNNING)

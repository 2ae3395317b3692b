"""The rollup passes as they are run by the tasks and the command: under the lock, written down as a
RollupRun. A pass that finds the lock taken records itself as skipped and does nothing."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import connection

from governance.models import RollupKind, RollupStatus
from governance.rollups import engine, lock

log = logging.getLogger(__name__)


UNSUPPORTED = "unsupported"


def _locked(kind: str, work: Any) -> dict[str, Any]:
    if connection.vendor != "postgresql":
        # The engine's SQL is PostgreSQL's; the embedded SQLite demo keeps no facts.
        log.warning("rollup %s not run: the rollups need PostgreSQL", kind)
        return {"status": UNSUPPORTED}
    with lock.held() as token:
        if token is None:
            run = engine.run_skipped(kind)
            log.info("rollup %s skipped: another run holds the lock", kind)
            return {"status": RollupStatus.SKIPPED, "run": run.pk}
        run = engine.run_start(kind)
        try:
            result: engine.PassResult = work()
        except BaseException as error:
            engine.run_finish(run, status=RollupStatus.FAILED, detail={"error": repr(error)[:500]})
            raise
        engine.run_finish(run, status=RollupStatus.OK, detail=result.detail())
        return {"status": RollupStatus.OK, "run": run.pk, **result.detail()}


def incremental(*, metric: str | None = None) -> dict[str, Any]:
    """The incremental pass (every few minutes)."""
    return _locked(RollupKind.INCREMENTAL, lambda: engine.incremental_pass(metric=metric))


def window(*, since: dt.date | None = None, metric: str | None = None) -> dict[str, Any]:
    """The nightly recompute of the last ROLLUP_NIGHTLY_DAYS days (or of the days from `since`)."""
    return _locked(RollupKind.NIGHTLY, lambda: engine.window_pass(since=since, metric=metric))


def full_inline(*, metric: str | None = None) -> dict[str, Any]:
    """The full rebuild in this process (the command; the task fans out instead)."""
    return _locked(RollupKind.FULL, lambda: engine.full_rebuild(metric=metric))

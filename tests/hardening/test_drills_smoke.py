"""The quickest fault drill in the suite: "duplicates" (double submit, retry after a hang-up, offline replay,
same key with another body) end to end on its own private PostgreSQL and Redis (free ports, so it fights
no other test over the machine's servers), through gunicorn. The template database is copied from the
suite's migrated test database instead of migrating again (DRILLS_TEMPLATE_FROM), which keeps it well
under a minute. The full set is `make drills` (docs/reliability.md)."""

from __future__ import annotations

import time

import pytest

from hardening.drills.__main__ import run_drills, summary
from tests.conftest import database_url


@pytest.mark.usefixtures("django_db_setup")
def test_duplicates_drill_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRILLS_TEMPLATE_FROM", database_url())
    started = time.perf_counter()
    results = run_drills(["duplicates"])
    elapsed = time.perf_counter() - started
    assert [(r.name, r.ok, r.failures) for r in results] == [("duplicates", True, [])], summary(results)
    facts = results[0].facts
    assert "double submit: 30 keys × 6 simultaneous POSTs → 30 keys with one receipt each" in facts[0]
    assert facts[1] == "retry after a client timeout: 10 requests hung up, retried → 10 answered 201"
    assert facts[2] == "offline replay of 40 requests: 40 answered with the first receipt"
    assert facts[3] == "same key with another body: 409 idempotency_key_reused"
    assert facts[4] == "40 redemptions for 40 distinct keys (241 POSTs)"
    assert elapsed < 90, f"the smoke drill took {elapsed:.0f} s"

"""python manage.py rollup: the passes, and --verify's exit status and report."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from governance.models import MetricFact, RollupKind, RollupRun, RollupStatus
from governance.rollups import lock
from tests.rollups import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.serial]


@pytest.fixture
def world() -> f.World:
    w = f.world_make()
    f.case_write(w, grid="G1", at=f.at_of(30, 9))
    f.case_write(w, grid="G3", at=f.at_of(31, 9))
    f.meal_write(w, site=1, resident=w.residents[5], day=dt.date(2026, 2, 1), slot="dinner")
    return w


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("rollup", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_verify_is_quiet_and_zero_when_exact_and_names_a_tampered_fact(world):
    out, _err = run()
    assert "grids.cases:" in out
    assert "done in" in out
    out, _err = run("--verify")
    assert out.startswith("exact: ")
    assert out.count("\n") == 1
    grid = world.grids["G1"]
    fact = MetricFact.objects.get(metric="grids.cases_filed", grid_id=grid.pk)
    MetricFact.objects.filter(metric="grids.cases_filed", grid_id=grid.pk).update(value=7)
    with pytest.raises(SystemExit) as exit_status:
        run("--verify")
    assert exit_status.value.code == 1
    out = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("rollup", "--verify", stdout=out, stderr=io.StringIO())
    assert out.getvalue().splitlines() == [
        f"grids.cases_filed {fact.day} county={world.county.pk} township={world.townships['T1'].pk} "
        f"village={world.villages['V1'].pk} grid={grid.pk}: fact 7 vs source 1"
    ]
    verify_runs = RollupRun.objects.filter(kind=RollupKind.VERIFY).order_by("started_at", "id")
    assert [r.status for r in verify_runs] == [
        RollupStatus.OK,
        RollupStatus.DIFFERENT,
        RollupStatus.DIFFERENT,
    ]
    assert verify_runs.last().detail["differences"] == 1
    # --since after the tampered day does not look at it; --since DATE recomputes from that day.
    out, _err = run("--verify", "--since", "2026-03-01")
    assert out.startswith("exact: ")
    run("--since", str(fact.day))
    out, _err = run("--verify")
    assert out.startswith("exact: ")


def test_full_rebuild_and_metric_filter(world):
    out, _err = run("--full")
    assert "canteens.meals:" in out
    out, _err = run("--metric", "canteens.beneficiaries")
    assert "canteens.beneficiaries:" in out
    assert "grids.cases" not in out
    out, _err = run("--verify", "--metric", "grids.cases_filed")
    assert out.startswith("exact: ")
    with pytest.raises(CommandError):
        run("--metric", "grids.nothing")
    with pytest.raises(CommandError):
        run("--full", "--since", "2026-01-01")


def test_a_second_run_while_one_holds_the_lock_skips(world):
    token = lock.acquire()
    try:
        out, _err = run()
    finally:
        lock.release(token)
    assert out.strip() == "skipped: another rollup run holds the lock"
    assert RollupRun.objects.get().status == RollupStatus.SKIPPED

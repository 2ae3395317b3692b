"""bench/dashboard.py runs (--quick, in its own process as it is run by hand) against this test database on
the small demo county (seed_demo's "test" scale, facts not built: the bench builds them itself). Not a timed
test: it checks that every target answers 200 and every figure is printed, not how fast anything is."""

from __future__ import annotations

import re

import pytest
from django.db import connection

from governance.demo import seed_demo_county
from governance.models import MetricFact
from tests.conftest import database_url, run_script

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.bench]

TARGETS = [
    "floor · /api/v1/me/",
    "overview · county_admin",
    "overview · county_admin → 城关镇",
    "overview · township_admin (城关镇)",
    "overview · village_secretary (新华村)",
    "module grids · county_admin",
    "module points · county_admin",
    "module canteens · county_admin",
    "module industry · county_admin",
    "summary API · 谷城县",
    "summary API · 城关镇",
]


def test_quick_run_answers_200_everywhere_and_prints_every_figure():
    seed_demo_county(password="xiangzhi-demo", scale="test")
    assert not MetricFact.objects.exists()
    done = run_script(["bench/dashboard.py", "--quick"], {"DATABASE_URL": database_url(), "DEBUG": "0"})
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert all(line.startswith("[dashboard-bench] ") for line in out.splitlines()), out
    assert f"database {connection.settings_dict['NAME']}, DEBUG=False" in out
    # The facts table was empty: the bench built it before measuring.
    assert "full rebuild of the rollup facts (the facts table is empty)" in out
    assert MetricFact.objects.exists()
    assert re.search(r"year shown \d{4}; twins of the own-region pages use \d{4}", out), out
    assert "1 warm-up and 2 timed requests per target, round-robin" in out
    ms = r"\d+\.\d"
    for name in TARGETS:
        twin = "" if name.startswith("floor") else r" \(\d+ at [^)]+\)"
        line = rf"\[dashboard-bench\] {re.escape(name)} +200 +{ms} +{ms} +{ms} +{ms} +{ms} +\d+{twin}$"
        assert re.search(line, out, re.MULTILINE), (name, out)
    # The default period's shape (a month by day) and a quarter's, for the year's busiest month.
    for name in (
        r"overview · county_admin, month \d{4}-\d{2}",
        r"overview · township_admin, month \d{4}-\d{2}",
        r"module points · county_admin, \d{4} Q[1-4]",
    ):
        twin = r" \(\d+ at the same period of \d{4}\)"
        line = rf"\[dashboard-bench\] {name} +200 +{ms} +{ms} +{ms} +{ms} +{ms} +\d+{twin}$"
        assert re.search(line, out, re.MULTILINE), (name, out)
    assert "/api/v1/dashboard/summary/?region=420625000000&year=" in out
    assert "quick run: no verdict" in out
    assert "dashboard-bench: PASS" not in out
    assert "dashboard-bench: FAIL" not in out

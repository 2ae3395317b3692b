"""bench/rollups.py runs (--quick) on a tiny world and leaves the database as it found it. Not a timed
test: it checks that every figure is printed, not how fast anything is."""

from __future__ import annotations

import re

import pytest

from bench import rollups as bench
from governance.models import MetricFact
from points.models import Posting
from tests.rollups import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.bench]


def test_quick_run_prints_every_figure_and_rolls_back(capsys):
    w = f.world_make()
    for i, household in enumerate(w.households):
        f.posting_write(w, household=household, kind="award", amount=5 + i, at=f.at_of(10 + i, 9))
    f.case_write(w, grid="G1", at=f.at_of(3, 9))
    postings, facts = Posting.objects.count(), MetricFact.objects.count()
    assert bench.main(["--quick", "--rows", "400"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"floor \(hand-written GROUP BY over every source's rows\): \d+\.\d{3} s", out)
    seconds = r"\d+\.\d{3} s"
    assert re.search(rf"full rebuild into empty facts \(\d+ rows written\): {seconds} → ratio \d+\.\d\d", out)
    assert "full rebuild township by township (3 steps in one process" in out
    day = r"\d{4}-\d\d-\d\d"
    assert re.search(rf"incremental pass, history \(16 postings before, 400 new on {day}\): {seconds}", out)
    # The doubling copies the 416 postings there are by then (the world's and the first new day's).
    assert re.search(
        rf"incremental pass, history x2 \(832 postings before, 400 new on {day}\): {seconds}", out
    )
    # Each source's time is printed, the add-only one's too.
    assert re.search(rf"points\.households_awarded +\d+ keys +\d+ rows +{seconds}", out)
    assert "quick run: no verdict" in out
    assert (Posting.objects.count(), MetricFact.objects.count()) == (postings, facts)

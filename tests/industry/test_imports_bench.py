"""bench/industry_import.py works: a 2,000-row run on its own PostgreSQL databases (DATABASE_URL's name +
"_salesbench_tpl" / "_salesbench", never pytest-django's test database) imports every row and prints its
floors and ratio. Not a timed test: how fast is the benchmark's business, not the suite's."""

from __future__ import annotations

import os
import re

import pytest

from tests.conftest import run_script

pytestmark = pytest.mark.bench


def test_a_small_run_imports_every_row_and_prints_its_ratio_to_the_floor():
    assert os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")), (
        "the benchmark needs PostgreSQL: run the suite with `make test`"
    )
    # The first run on a machine also builds the template database (migrate + seed, about a minute).
    done = run_script(["bench/industry_import.py", "--rows", "2000"])
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert re.search(r"^  rows in the file\s+2,000$", out, re.MULTILINE), out
    assert re.search(r"^  import \(upload→finished\)\s+[\d.]+ s\s+[\d,]+ rows/s$", out, re.MULTILINE), out
    assert re.search(r"^  floor: openpyxl raw read\s+[\d.]+ s", out, re.MULTILINE), out
    assert re.search(r"^  floor: bare COPY \+ FK checks\s+[\d.]+ s", out, re.MULTILINE), out
    assert re.search(r"^  ratio import / floor\s+\d+\.\d\d ×$", out, re.MULTILINE), out
    assert re.search(
        r"^  status done: imported 2,000 rows, [\d,]+\.\d\d yuan, 0 rejected rows$", out, re.MULTILINE
    )

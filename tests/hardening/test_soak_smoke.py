"""The mixed soak's harness works (hardening/soak.py --quick): every kind of user of the mix is served by
gunicorn on PostgreSQL and Redis at once, every answer 2xx, and the memory of every process is read at
the start and the end. Not a timed test: the full 10-minute soak is `make soak` (docs/reliability.md)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hardening.soak import MIX
from tests.conftest import run_script

pytestmark = pytest.mark.bench


def test_quick_soak_serves_the_whole_mix_and_reads_every_process_memory(tmp_path: Path) -> None:
    assert os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
    done = run_script(["-m", "hardening.soak", "--quick", "--results-dir", str(tmp_path)])
    assert done.returncode == 0, done.stdout + done.stderr
    (record_file,) = tmp_path.glob("soak-*.json")
    record = json.loads(record_file.read_text(encoding="utf-8"))
    assert set(record["soak"]) == {name for name, _connections in MIX}
    for name, result in record["soak"].items():
        assert result["requests"] > 0, name
        assert result["non2xx"] == 0, (name, result["non2xx_by_status"])
    for moment in ("start", "end"):
        labels = set(record["rss_kib"][moment])
        assert {"gunicorn master", "gunicorn worker 1", "gunicorn worker 2"} <= labels, labels
        assert any(label.startswith("postgres backend") for label in labels), labels
        assert all(rss > 0 for rss, _private in record["rss_kib"][moment].values())

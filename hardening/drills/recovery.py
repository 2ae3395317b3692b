"""Drill "recovery": back up the demo county, destroy the database, restore it, prove nothing changed.

1. seed the demo county (seed_demo --scale SCALE) into a private database, `rollup --full`, put an
   uploaded file in its MEDIA_ROOT;
2. record the county dashboard (GET /api/v1/dashboard/summary/?year=2022 as county_admin, through
   gunicorn) and run the ledger check (points_verify);
3. `manage.py backup --to DIR`; DROP DATABASE … WITH (FORCE) and delete MEDIA_ROOT;
4. `manage.py restore DIR` (the database is missing, so it is created and no --yes is needed);
5. `rollup --verify` and the ledger check pass, the dashboard answers byte-for-byte the same figures, the
   uploaded file is back with the same bytes, and restoring over the now non-empty database without
   --yes is refused.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from pathlib import Path
from typing import Any

from hardening.drills.core import DrillResult, new_database
from hardening.drills.infra import Stack, api_token, http, ledger_check, rollup_verify

DATABASE = "drill_recovery"
YEAR = 2022


def _figures(stack: Stack, env: dict[str, str]) -> dict[str, Any]:
    process, port = stack.gunicorn(env, workers=2)
    try:
        token = api_token(port, "county_admin")
        status, body = http(
            "GET",
            port,
            f"/api/v1/dashboard/summary/?year={YEAR}",
            headers={"Authorization": f"Token {token}"},
        )
        if status != 200:
            raise AssertionError(f"dashboard summary answered {status}: {body}")
        assert isinstance(body, dict)
        return body
    finally:
        stack.kill(process)


def run(stack: Stack, result: DrillResult, *, scale: str = "default") -> None:
    timings: dict[str, float] = {}

    def timed(name: str, started: float) -> None:
        timings[name] = time.perf_counter() - started

    new_database(stack, DATABASE)
    env = stack.env(DATABASE)
    media = Path(env["MEDIA_ROOT"])

    started = time.perf_counter()
    stack.manage(env, "seed_demo", "--scale", scale, "--quiet-logins")
    timed("seed", started)
    started = time.perf_counter()
    stack.manage(env, "rollup", "--full")
    timed("rollup --full", started)
    upload = media / "grids" / "drill" / "photo.jpg"
    upload.parent.mkdir(parents=True, exist_ok=True)
    upload.write_bytes(hashlib.sha256(b"drill").digest() * 4096)
    upload_digest = hashlib.sha256(upload.read_bytes()).hexdigest()

    before = _figures(stack, env)
    result.fact(
        f"dashboard {YEAR} before: "
        + ", ".join(f"{k}={v}" for k, v in list(before.items())[:8] if not isinstance(v, dict))
    )
    result.fact("ledger before: " + ledger_check(stack, env))

    backup_dir = stack.workdir / "backup-recovery"
    started = time.perf_counter()
    stack.manage(env, "backup", "--to", str(backup_dir))
    timed("backup", started)
    dump_bytes = (backup_dir / "database.dump").stat().st_size

    stack.pg.execute(f'DROP DATABASE "{DATABASE}" WITH (FORCE)')
    shutil.rmtree(media)
    result.check(not stack.pg.database_exists(DATABASE), "the database survived DROP DATABASE")

    started = time.perf_counter()
    stack.manage(env, "restore", str(backup_dir))
    timed("restore", started)

    started = time.perf_counter()
    result.fact("rollup --verify after: " + rollup_verify(stack, env))
    timed("rollup --verify", started)
    result.fact("ledger after: " + ledger_check(stack, env))
    after = _figures(stack, env)
    differing = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    result.check(not differing, f"dashboard figures differ after restore: {differing}")
    if not differing:
        result.fact(f"dashboard {YEAR}: all {len(before)} fields identical after restore")
    result.check(
        upload.is_file() and hashlib.sha256(upload.read_bytes()).hexdigest() == upload_digest,
        "the uploaded file did not come back with the same bytes",
    )

    refused = stack.manage(env, "restore", str(backup_dir), check=False)
    result.check(
        refused.returncode != 0 and "--yes" in refused.stderr,
        f"restore over a non-empty database without --yes was not refused: {refused.returncode}",
    )
    result.fact("restore without --yes over the restored database: refused")
    result.fact(
        f"dump {dump_bytes / 1e6:.1f} MB; "
        + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.items())
    )

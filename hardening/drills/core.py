"""What every drill shares: its result record, the migrated template database and the till's world."""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass, field
from typing import Any

from hardening.drills.infra import PYTHON, ROOT, DrillFailure, Stack

TEMPLATE_DB = "drill_template"


@dataclass
class DrillResult:
    name: str
    ok: bool = False
    seconds: float = 0.0
    facts: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def fact(self, text: str) -> None:
        self.facts.append(text)
        print(f"  [{self.name}] {text}", flush=True)

    def check(self, condition: bool, failure: str) -> None:
        """Record a failed expectation without stopping the drill (the summary lists them all)."""
        if not condition:
            self.failures.append(failure)
            print(f"  [{self.name}] FAIL {failure}", flush=True)


def template_database(stack: Stack) -> str:
    """The migrated, empty template every drill's database is copied from: `migrate` once per run, or,
    when DRILLS_TEMPLATE_FROM names a migrated database (postgres://...; the smoke test passes the
    suite's test database), a copy of it (pg_dump | pg_restore: seconds instead of a minute)."""
    if not stack.pg.database_exists(TEMPLATE_DB):
        started = time.perf_counter()
        stack.pg.execute(f'CREATE DATABASE "{TEMPLATE_DB}"')
        source = os.environ.get("DRILLS_TEMPLATE_FROM", "")
        if source:
            dump = stack.workdir / "template.dump"
            subprocess.run(  # noqa: S603
                # The client tools from PATH, as manage.py backup uses them.
                ["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", source],  # noqa: S607
                check=True,
                capture_output=True,
            )
            subprocess.run(  # noqa: S603
                [  # noqa: S607
                    "pg_restore",
                    "--no-owner",
                    "--no-privileges",
                    "--exit-on-error",
                    f"--dbname={stack.pg.url(TEMPLATE_DB)}",
                    str(dump),
                ],
                check=True,
                capture_output=True,
            )
            how = "copied the template database from DRILLS_TEMPLATE_FROM"
        else:
            stack.manage(stack.env(TEMPLATE_DB), "migrate", "--noinput", "-v0")
            how = "migrated the template database"
        print(f"  [setup] {how} in {time.perf_counter() - started:.1f} s", flush=True)
    return TEMPLATE_DB


def new_database(stack: Stack, name: str) -> str:
    template = template_database(stack)
    stack.pg.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    stack.pg.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return name


def till_world(stack: Stack, database: str, *sizes: int) -> dict[str, Any]:
    """bench_till's store, items, open day, funded households and token in `database` (fixtures.py)."""
    result = subprocess.run(  # noqa: S603
        [PYTHON, "-m", "hardening.drills.fixtures", "till", *(str(s) for s in sizes)],
        env=stack.env(database),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    for line in result.stdout.splitlines():
        if line.startswith("DRILL_FIXTURES "):
            world: dict[str, Any] = json.loads(line.removeprefix("DRILL_FIXTURES "))
            return world
    raise DrillFailure(f"till fixtures failed ({result.returncode}): {result.stderr.strip()[-1500:]}")


def redemption_body(
    world: dict[str, Any], household: int, item: int, key: str, quantity: int = 1
) -> dict[str, Any]:
    return {
        "store": int(world["till_store_id"]),
        "day": int(world["till_day_id"]),
        "household": household,
        "lines": [{"item": item, "quantity": quantity}],
        "idempotency_key": key,
    }


def has_chinese(text: Any) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in str(text))

"""`python -m hardening.drills [DRILL ...] [--scale S] [--keep]` (`make drills DRILLS_ARGS=...`).

Runs the named drills (default: all, in the order below) on a private PostgreSQL and Redis started for
the run on free ports, prints each drill's facts and a summary, and exits 1 when any drill failed.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from hardening.drills import duplicates, pg_restart, recovery, redis_down, worker_kill
from hardening.drills.core import DrillResult
from hardening.drills.infra import Stack, private_stack

DRILLS: dict[str, Callable[..., None]] = {
    "recovery": recovery.run,
    "pg-restart": pg_restart.run,
    "redis-down": redis_down.run,
    "worker-kill": worker_kill.run,
    "duplicates": duplicates.run,
}


def run_drills(names: list[str], *, scale: str = "default", keep: bool = False) -> list[DrillResult]:
    results: list[DrillResult] = []
    with private_stack(keep=keep) as stack:
        print(
            f"drills: private PostgreSQL on 127.0.0.1:{stack.pg.port}, "
            f"Redis on 127.0.0.1:{stack.redis.port}, work directory {stack.workdir}",
            flush=True,
        )
        for name in names:
            results.append(_run_one(stack, name, scale=scale))
    return results


def _run_one(stack: Stack, name: str, **options: Any) -> DrillResult:
    result = DrillResult(name)
    print(f"== {name}", flush=True)
    started = time.perf_counter()
    try:
        DRILLS[name](stack, result, **({"scale": options["scale"]} if name == "recovery" else {}))
    except Exception as error:  # a drill that crashes is a failed drill, the others still run
        result.failures.append(f"{type(error).__name__}: {error}")
        traceback.print_exc()
    finally:
        stack.close()
    result.seconds = time.perf_counter() - started
    result.ok = not result.failures
    return result


def summary(results: list[DrillResult]) -> str:
    lines = ["", "drill            result  seconds"]
    for r in results:
        lines.append(f"{r.name:<16} {'ok' if r.ok else 'FAILED':<7} {r.seconds:7.1f}")
        lines.extend(f"    - {f}" for f in r.failures)
    failed = [r.name for r in results if not r.ok]
    lines.append(
        f"drills: {len(results) - len(failed)} of {len(results)} passed"
        + (f"; FAILED: {', '.join(failed)}" if failed else "")
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hardening.drills", description=__doc__)
    parser.add_argument(
        "drills", nargs="*", metavar="DRILL", help=f"which drills (default all): {', '.join(DRILLS)}"
    )
    parser.add_argument("--scale", default="default", help="seed_demo scale for the recovery drill")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, backups)")
    options = parser.parse_args(argv)
    names = options.drills or list(DRILLS)
    unknown = [n for n in names if n not in DRILLS]
    if unknown:
        parser.error(f"unknown drill(s) {', '.join(unknown)}; known: {', '.join(DRILLS)}")
    results = run_drills(names, scale=options.scale, keep=options.keep)
    print(summary(results), flush=True)
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())

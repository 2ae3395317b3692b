"""What a benchmark run reports: the machine and versions, the table, docs/benchmarks.md."""

from __future__ import annotations

import os
import platform
import subprocess
import textwrap
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError:
        return ""


def load_average() -> str:
    return " ".join(_read("/proc/loadavg").split()[:3]) or "unknown"


def _command(*argv: str) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return (done.stdout or done.stderr).strip().splitlines()[0] if (done.stdout or done.stderr) else "unknown"


def _cpu_model() -> str:
    for line in _read("/proc/cpuinfo").splitlines():
        if line.lower().startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory() -> str:
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return "unknown"


def _postgresql_version(database_url: str) -> str:
    import psycopg2

    try:
        conn = psycopg2.connect(database_url)
    except psycopg2.Error:
        return "unknown"
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW server_version")
            return str(cur.fetchone()[0])
    finally:
        conn.close()


def _redis_version(redis_url: str) -> str:
    import redis

    try:
        client = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=2)
        try:
            return str(client.info("server")["redis_version"])
        finally:
            client.close()
    except redis.RedisError:
        return "unknown"


def machine(database_url: str, redis_url: str) -> dict[str, Any]:
    import django

    return {
        "uname": _command("uname", "-a"),
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory": _memory(),
        "load_average_start": load_average(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "gunicorn": metadata.version("gunicorn"),
        "postgresql": _postgresql_version(database_url),
        "redis": _redis_version(redis_url),
        "wrk": _command("wrk", "-v"),
    }


def _ratio(row: dict[str, Any]) -> str:
    return "—" if row["ratio"] is None else f"{row['ratio']:.2f}"


def _spread(row: dict[str, Any]) -> str:
    ratios = row["round_ratios"]
    return f"{min(ratios):.2f}–{max(ratios):.2f}" if len(ratios) > 1 else "—"


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _queries(row: dict[str, Any]) -> str:
    """The median answer's query count, and the most any answer needed when that differs."""
    median, most = row.get("queries"), row.get("queries_max")
    if median is None:
        return "—"
    return f"{median}" if not most or most == median else f"{median} (≤{most})"


def _met(row: dict[str, Any]) -> str:
    if not row.get("requirement"):
        return "—"
    verdict = {True: "met", False: "MISSED", None: "?"}[row.get("met")]
    return f"{verdict}: {row['requirement']}"


def _columns(header: list[str], body: list[list[str]]) -> list[str]:
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip() for line in [header, *body]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def latency_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows measured in the one-connection latency phase too."""
    return [row for row in rows if row.get("latency_server_p99_ms") is not None]


def table(rows: list[dict[str, Any]]) -> str:
    header = [
        "target",
        "compared with",
        "req/s",
        "p50 ms",
        "p99 ms",
        "ratio",
        "per round",
        "server p50",
        "server p99",
        "queries",
        "requirement",
        "runs (req/s)",
    ]
    body = [
        [
            row["name"],
            row["compared_with"] or "—",
            f"{row['requests_per_s']:.0f}",
            f"{row['p50_ms']:.1f}",
            f"{row['p99_ms']:.1f}",
            _ratio(row),
            _spread(row),
            _ms(row.get("server_p50_ms")),
            _ms(row.get("server_p99_ms")),
            _queries(row),
            _met(row),
            " / ".join(f"{r:.0f}" for r in row["runs_requests_per_s"]),
        ]
        for row in rows
    ]
    lines = _columns(header, body)
    timed = latency_rows(rows)
    if timed:
        lines += ["", "one connection (latency phase):"]
        lines += _columns(
            ["target", "req/s", "p50 ms", "p99 ms", "server p50", "server p99", "runs (server p99)"],
            [
                [
                    row["name"],
                    f"{row['latency_requests_per_s']:.0f}",
                    f"{row['latency_p50_ms']:.1f}",
                    f"{row['latency_p99_ms']:.1f}",
                    f"{row['latency_server_p50_ms']:.1f}",
                    f"{row['latency_server_p99_ms']:.1f}",
                    " / ".join(f"{r:.0f}" for r in row["latency_runs_server_p99_ms"]),
                ]
                for row in timed
            ],
        )
    errors = [row for row in rows if row["socket_errors"]]
    for row in errors:
        lines.append(
            f"note: {row['name']} had {row['socket_errors']} socket errors (connect/read/write/timeout)"
        )
    return "\n".join(lines)


# docs/benchmarks.md is rewritten by every full run; what follows this line in it is written by hand
# (analysis, figures of earlier runs) and carried over to the new file unchanged.
NOTES_MARKER = "<!-- Hand-written notes below: bench/run.py keeps them when it rewrites this file. -->"


def kept_notes(old_docs: str) -> str:
    """The hand-written notes of the current docs/benchmarks.md (the marker line and what follows it),
    to append to the rewritten file; "" when it has none."""
    at = old_docs.find(NOTES_MARKER)
    return "\n" + old_docs[at:] if at >= 0 else ""


def markdown(meta: dict[str, Any], settings: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    started = datetime.fromisoformat(meta["started"])
    floors = [row for row in rows if row["kind"] == "floor"]
    scenarios = [row for row in rows if row["kind"] == "scenario"]

    def line(row: dict[str, Any]) -> str:
        runs = " / ".join(f"{r:,.0f}" for r in row["runs_requests_per_s"])
        return (
            f"| {row['name']} | `{row['path']}` | {row['compared_with'] or '—'} "
            f"| {row['requests_per_s']:,.0f} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} "
            f"| {_ratio(row)} | {_spread(row)} | {_ms(row.get('server_p50_ms'))} "
            f"| {_ms(row.get('server_p99_ms'))} | {_queries(row)} | {runs} |"
        )

    def verdict(row: dict[str, Any]) -> str:
        figure = []
        if row.get("ratio") is not None and "ratio" in row["requirement"]:
            figure.append(f"ratio {row['ratio']:.2f}")
        if row.get("latency_server_p99_ms") is not None:
            figure.append(f"server p99 {row['latency_server_p99_ms']:.1f} ms")
        return f"| {row['name']} | {row['requirement']} | {', '.join(figure)} | {_met(row).split(':')[0]} |"

    def timed_line(row: dict[str, Any]) -> str:
        runs = " / ".join(f"{r:.0f}" for r in row["latency_runs_server_p99_ms"])
        return (
            f"| {row['name']} | {row['latency_requests_per_s']:,.0f} | {row['latency_p50_ms']:.1f} "
            f"| {row['latency_p99_ms']:.1f} | {row['latency_server_p50_ms']:.1f} "
            f"| {row['latency_server_p99_ms']:.1f} | {runs} |"
        )

    timed = latency_rows(rows)
    latency = (
        "\n### One connection (latency phase)\n\n"
        "The scenarios with a latency requirement, requested once more over a single connection, one "
        "request at a time,\nin every round; the row is the round with the median server p99.\n\n"
        "| target | req/s | p50 ms | p99 ms | server p50 ms | server p99 ms | runs (server p99 ms) |\n"
        "|---|---:|---:|---:|---:|---:|---|\n" + "\n".join(timed_line(row) for row in timed) + "\n"
        if timed
        else ""
    )

    head = (
        "| target | path | compared with | req/s | p50 ms | p99 ms | ratio to floor | ratio per round "
        "| server p50 ms | server p99 ms | SQL queries | runs (req/s) |\n"
        "|---|---|---|---:|---:|---:|---:|---|---:|---:|---:|---|"
    )
    required = [row for row in rows if row.get("requirement")]
    requirements = (
        "\n### Requirements\n\n| target | requirement | measured | this run |\n|---|---|---|---|\n"
        + "\n".join(verdict(row) for row in required)
        + "\n"
        if required
        else ""
    )
    described = "\n".join(f"- **{row['name']}**: {row['description']}." for row in rows if row["description"])
    errors = "".join(
        f"\nNote: {row['name']} saw {row['socket_errors']} socket errors (connect/read/write/timeout) "
        "in its measured runs.\n"
        for row in rows
        if row["socket_errors"]
    )
    workers, connections, threads = settings["workers"], settings["connections"], settings["threads"]
    warmup, repeat, duration = settings["warmup"], settings["repeat"], settings["duration"]
    setup = textwrap.fill(
        " ".join(
            [
                f"Set-up: gunicorn with {workers} sync workers on 127.0.0.1, `DEBUG=0`,",
                f"`SECURE_HTTPS=0`, `CONN_MAX_AGE={settings['conn_max_age']}`, settings `bench.settings`",
                "(the production settings plus the floor views and the Server-Timing middleware),",
                f"database `{meta['database']}`",
                f"(migrated; demo county seeded at scale `{meta.get('seed_scale', 'default')}`).",
                f"wrk with {threads} threads and {connections} connections;",
                f"every target warmed up for {warmup} s, then measured {repeat} × {duration} s in",
                "interleaved rounds (floors and scenarios side by side in time); the table shows each",
                "target's median run. Every answer was checked to be 2xx. The load average at the start",
                "shows what else ran on the machine; the one at the end is mostly the benchmark's own.",
            ]
        ),
        width=105,
        break_on_hyphens=False,
    )
    percentiles = textwrap.fill(
        f"p50/p99 are wrk's latency percentiles of the median run, with {connections} connections queueing "
        f"for {workers} workers; p99 is the figure that reacts first to a slow query. **server p50/p99** "
        "are the percentiles of the time each answer spent inside Django (from the first middleware in to "
        "the response out: view, queries, template), read from the Server-Timing header bench.settings "
        "adds (bench/middleware.py): what one request costs without the queue in front of the workers. "
        "**SQL queries** is the median answer's query count (the most any answer needed in brackets).",
        width=105,
        break_on_hyphens=False,
    )
    return f"""# Benchmarks

Generated by `make bench` (bench/run.py) on {started:%Y-%m-%d %H:%M %Z}. Do not edit by hand: run it again.
Every number below comes from that one run; absolute figures depend on the machine and on whatever else
ran on it, the ratios are what to compare between runs and machines.

## Machine

| | |
|---|---|
| date | {meta["started"]} |
| `uname -a` | `{meta["uname"]}` |
| CPUs (`nproc`) | {meta["cpus"]} × {meta["cpu_model"]} |
| memory | {meta["memory"]} |
| load average (start → end) | {meta["load_average_start"]} → {meta.get("load_average_end", "?")} |
| Python | {meta["python"]} |
| Django | {meta["django"]} |
| gunicorn | {meta["gunicorn"]} |
| PostgreSQL | {meta["postgresql"]} |
| Redis | {meta["redis"]} |
| wrk | {meta["wrk"]} |

{setup}

## Results

### Floors

{head}
{chr(10).join(line(row) for row in floors)}

### Scenarios

{head}
{chr(10).join(line(row) for row in scenarios)}
{errors}
{described}
{latency}{requirements}
## How to read the ratios

A **floor** is what the bare stack does on this machine in this very run: `floor-json` is a plain Django
`JsonResponse` behind the full middleware stack, `floor-select` adds one indexed `SELECT` (a user's
primary key) over the persistent database connection. Neither exists outside `bench.settings`.

**ratio to floor** = the scenario's req/s ÷ its floor's req/s, both from the same run. 1.00 means the
scenario costs no more than the floor; 0.50 means it serves half as many requests per second, i.e. its own
work costs as much again as the whole floor. Compare ratios, not raw req/s, across runs and machines: the
floor absorbs the machine's speed and its load. A ratio that drops between two commits is a regression
in the scenario's own code or queries. The floor-select row's ratio is floor-select ÷ floor-json: what one
database round trip costs relative to the bare stack. **ratio per round** is the range of the same division
done round by round (each scenario run next to its floor's run in time): a wide range means a noisy machine,
and a change of ratio smaller than that range is noise.

{percentiles}

## How to run

```
make bench                                   # the full run (~10 minutes); rewrites this file
make bench BENCH_ARGS="--seed-scale county"  # on the county-scale demo (~300,000 cases; seeds it first)
make bench BENCH_ARGS="--duration 20 --repeat 5"
make bench BENCH_ARGS="--only api-me"        # floors plus one scenario
make bench BENCH_ARGS="--quick"              # seconds; does not rewrite this file
make bench BENCH_ARGS="--fresh"              # drop and recreate the benchmark database first
```

`make bench` needs wrk (`apt-get install wrk`); scripts/services.py provides PostgreSQL and Redis.
Each seed scale has its own database (`xiangzhi_bench`, `xiangzhi_bench_county`, …), seeded once and
kept; the filing scenario adds its cases to a separate region tree (bench/fixtures.py), never to the
demo county's queues or assessment. The raw results of every run (all rounds, warm-ups, errors) are
kept as JSON in `bench/results/` (git-ignored), next to gunicorn's log. A new scenario is one entry in
`SCENARIOS` in `bench/scenarios.py`; `tests/test_bench_smoke.py` runs the harness with `--quick` inside
`make test` (deselect it with `-m "not bench"`). A benchmark is never a timed unit test: the smoke test
checks that the harness works, not how fast anything is. Notes written by hand go below the marker line
at the end of this file: a new run keeps them.
"""

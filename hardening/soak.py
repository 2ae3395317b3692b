"""The mixed soak (issue 9, Load): the realistic mix of a working day at once against gunicorn on PostgreSQL
and Redis — grid leaders filing cases with a photo, village secretaries and township admins triaging their
queues, tills redeeming, canteens checking in, county staff reading the dashboard — at the highest rate
this machine holds with the mix's p99 under 300 ms, for 10 minutes, with the memory (RSS) of every
process at the start and the end.

    make soak                          # probe the rate, then soak 10 minutes (docs/reliability.md)
    make soak SOAK_ARGS="--quick"      # a few seconds per step: does the harness work

How: the benchmark harness (bench/run.py) prepares the database (the default demo county, the bench
log-ins and fixtures of bench/fixtures.py, its rollups built), serves bench.settings with gunicorn, and
each kind of user is one wrk process with its own connections and Lua script (bench/lua/), all started
together. The mix is a share of the total rate per kind (MIX below); each wrk connection waits a random
think time (exponential, wrk's `delay()` hook) between its requests so that the kinds arrive at their
shares of a target rate instead of as fast as the server answers. The probe raises the target rate step by
step (20 s each) until the p99 of any kind's answers passes 300 ms; the soak runs at the last rate that
held. Every answer must be 2xx (the Lua scripts count the others). Processes measured: gunicorn's master
and workers, the PostgreSQL backends serving the benchmark database, redis-server.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import fixtures  # noqa: E402
from bench import run as harness  # noqa: E402
from bench.scenarios import BENCH_DIR, SCENARIOS, Scenario  # noqa: E402

P99_LIMIT_MS = 300.0
RESULTS = BENCH_DIR / "results"

DASHBOARD = Scenario(
    "dashboard-overview",
    "/dashboard/",
    floor="select",
    headers={"Cookie": "sessionid={session}"},
    user="county_admin",
    description="the county dashboard's overview for this month (county_admin, session)",
)
# The mix: (scenario, share of the requests). A working day's traffic: canteens checking elders in at
# lunch and tills on a redemption day are most of it; grid leaders file, villages and townships triage,
# county staff glance at the dashboard.
MIX: list[tuple[str, float]] = [
    ("canteens-checkin", 0.30),
    ("points-redeem", 0.30),
    ("grids-file", 0.10),
    ("grids-queue-village", 0.15),
    ("grids-queue-township", 0.10),
    ("dashboard-overview", 0.05),
]
CONNECTIONS = 2  # per kind: its requests overlap a little, as users do
RATES = (5, 10, 15, 20, 30, 40, 50, 60, 80, 100)  # target requests per second, all kinds together


def _scenario(name: str) -> Scenario:
    if name == DASHBOARD.name:
        return DASHBOARD
    return next(s for s in SCENARIOS if s.name == name)


def _memory_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, RssAnon) of a process in KiB. RssAnon is its private memory: a PostgreSQL backend's VmRSS
    also counts the shared buffers it has touched, which grows as it reads more tables without any leak."""
    values = {"VmRSS:": 0, "RssAnon:": 0}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                key = line.split(" ", 1)[0].split("\t", 1)[0]
                if key in values:
                    values[key] = int(line.split()[1])
    except OSError:
        pass
    return values["VmRSS:"], values["RssAnon:"]


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as raw:
            return raw.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def processes(port: str, db_name: str) -> dict[str, int]:
    """{label: pid} of gunicorn's master and workers on `port`, the PostgreSQL backends of `db_name` and
    redis-server."""
    found: dict[str, int] = {}
    workers = 0
    backends = 0
    for entry in sorted(os.listdir("/proc"), key=lambda x: (len(x), x)):
        if not entry.isdigit():
            continue
        pid = int(entry)
        line = _cmdline(pid)
        if "gunicorn" in line and f"127.0.0.1:{port}" in line:
            parent = _ppid(pid)
            if "gunicorn" in _cmdline(parent) and f"127.0.0.1:{port}" in _cmdline(parent):
                workers += 1
                found[f"gunicorn worker {workers}"] = pid
            else:
                found["gunicorn master"] = pid
        elif line.startswith("postgres:") and f" {db_name} " in f"{line} ":
            backends += 1
            found[f"postgres backend {backends}"] = pid
        elif line.startswith("redis-server") and ":6379" in line:
            found["redis-server"] = pid
    return found


def _ppid(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def think_ms(share: float, rate: float) -> float:
    """The mean pause of each of a kind's connections between requests for the kind to send `share` of
    `rate` requests per second (the answer's own time makes the rate a little lower: it is measured)."""
    return 1000.0 * CONNECTIONS / (share * rate)


def run_mix(
    base_url: str,
    contexts: dict[str, dict[str, str]],
    rate: float,
    duration: int,
    script_dir: Path,
) -> dict[str, dict[str, Any]]:
    """All the mix's wrk processes at once, paced to `rate` requests per second in all; their results."""
    running: dict[str, subprocess.Popen[str]] = {}
    for name, share in MIX:
        target = _scenario(name)
        script = script_dir / f"{target.name}-{rate:g}.lua"
        pace = (
            f"\nlocal think_ms = {think_ms(share, rate):.1f}\n"
            "function delay() return math.floor(-math.log(1 - math.random()) * think_ms) end\n"
        )
        script.write_text(
            target.lua_source() + "\n" + harness.REPORT_LUA.read_text(encoding="utf-8") + pace,
            encoding="utf-8",
        )
        connections = CONNECTIONS
        context = contexts[target.user]
        command = [harness.wrk_binary(), "-t", "1", "-c", str(connections), "-d", f"{duration}s"]
        # wrk counts a connection as timed out from its last request, think time included: long enough.
        command += ["--timeout", "120s", "-s", str(script)]
        for header in target.header_lines(context):
            command += ["-H", header]
        command.append(base_url + target.url_path(context))
        if target.lua_args:
            command += ["--", *target.script_args(context)]
        running[name] = subprocess.Popen(  # noqa: S603 (our own wrk command)
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=BENCH_DIR
        )
    results: dict[str, dict[str, Any]] = {}
    for name, proc in running.items():
        out, _err = proc.communicate(timeout=duration + 120)
        line = next((x for x in out.splitlines() if x.startswith("BENCH_JSON ")), None)
        if proc.returncode != 0 or line is None:
            raise harness.BenchError(f"wrk failed on {name} (exit {proc.returncode}):\n{out.strip()}")
        results[name] = json.loads(line.removeprefix("BENCH_JSON "))
    harness.drain(base_url)
    return results


def _natural(label: str) -> tuple[str, int]:
    head, _, tail = label.rpartition(" ")
    return (head, int(tail)) if tail.isdigit() else (label, 0)


def worst_p99(results: dict[str, dict[str, Any]]) -> float:
    return max(r["latency_ms"]["p99"] for r in results.values())


def summary_lines(results: dict[str, dict[str, Any]]) -> list[str]:
    lines = []
    for name, r in results.items():
        server = r.get("server_ms", {})
        lines.append(
            f"  {name:22} {r['requests_per_s']:7.1f} req/s  p50 {r['latency_ms']['p50']:7.1f} ms  "
            f"p99 {r['latency_ms']['p99']:7.1f} ms  server p99 {server.get('p99', 0):7.1f} ms  "
            f"non-2xx {r['non2xx']}  errors {sum(r['errors'].values()) if r.get('errors') else 0}"
        )
    total = sum(r["requests_per_s"] for r in results.values())
    lines.append(f"  {'all':22} {total:7.1f} req/s, worst p99 {worst_p99(results):.1f} ms")
    return lines


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m hardening.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=600, help="seconds of the soak (600)")
    parser.add_argument("--probe-seconds", type=int, default=20, help="seconds per probe step (20)")
    parser.add_argument("--rate", type=float, help="skip the probe: soak at this many requests per second")
    parser.add_argument("--workers", type=int, default=5, help="gunicorn workers (5)")
    parser.add_argument(
        "--threads",
        type=int,
        default=4,
        help="threads per gunicorn worker (gthread, as deployed; 4): a user thinking between requests "
        "keeps a connection open, which would hold a sync worker",
    )
    parser.add_argument(
        "--quick", action="store_true", help="the skeleton county, 2 s steps, a 3 s soak: the harness works"
    )
    parser.add_argument("--db-name", help="its database (default: DATABASE_URL's name + _soak)")
    parser.add_argument("--results-dir", type=Path, default=RESULTS, help="where the JSON record goes")
    args = parser.parse_args(argv)
    args.scale = "default"
    if args.quick:
        args.duration, args.probe_seconds, args.scale = 3, 2, "skeleton"
        args.rate = args.rate or 60.0  # short think times: every kind answers within the 3 s
        args.workers = 2
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    database_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not database_url or not redis_url:
        print("soak: DATABASE_URL and REDIS_URL must be set: run it with `make soak`.", file=sys.stderr)
        return 2
    args.results_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    settings = {key: str(value) if isinstance(value, Path) else value for key, value in vars(args).items()}
    record: dict[str, Any] = {"started": stamp, "settings": settings | {"p99_limit_ms": P99_LIMIT_MS}}
    media_root = tempfile.mkdtemp(prefix="xiangzhi-soak-media-")
    try:
        # Its own database, never the benchmarks': `make test` runs the bench smoke beside the soak smoke,
        # and its fixtures (check-ins, tills, log-ins) must not change under the soak's feet.
        base = urlsplit(database_url).path.lstrip("/") or "xiangzhi"
        default_name = f"{base}_soak" + ("" if args.scale == "default" else f"_{args.scale}")
        url, db_name = harness.bench_database_url(database_url, args.db_name or default_name, args.scale)
        env = harness.bench_env(url, redis_url, 600, media_root)
        shared = harness.prepare_database(url, db_name, env, False, args.scale)
        if not (ROOT / "staticfiles" / "staticfiles.json").exists():
            harness.manage(env, "collectstatic", "--noinput", "-v", "0")  # the pages' manifest (DEBUG off)
        if not args.quick:
            # The dashboard reads the rollup facts. (Not in the smoke run: the rollup lock is global.)
            harness.manage(env, "rollup", "--full")
        record["load_average_start"] = harness.report.load_average()
        log_path = args.results_dir / f"soak-gunicorn-{stamp}.log"
        with (
            harness.gunicorn(env, args.workers, log_path, threads=args.threads) as base_url,
            tempfile.TemporaryDirectory() as tmp,
        ):
            script_dir = Path(tmp)
            photo = script_dir / "phone-photo.jpg"
            fixtures.phone_photo(photo)
            users = [_scenario(name).user for name, _ in MIX]
            contexts = harness.run_context(base_url, users, {**shared, "photo": str(photo)})
            harness.log("warming up the mix")
            run_mix(base_url, contexts, RATES[0], args.probe_seconds, script_dir)
            rate = float(args.rate or 0)
            probes: list[dict[str, Any]] = []
            if not rate:
                for candidate in RATES:
                    results = run_mix(base_url, contexts, candidate, args.probe_seconds, script_dir)
                    p99 = worst_p99(results)
                    probes.append({"rate": candidate, "worst_p99_ms": p99, "results": results})
                    harness.log(f"probe at {candidate} req/s: worst p99 {p99:.1f} ms")
                    for line in summary_lines(results):
                        harness.log(line)
                    if p99 >= P99_LIMIT_MS:
                        break
                    rate = candidate
                if not rate:
                    rate = RATES[0]
                    harness.log(f"even {rate} req/s passes 300 ms: soaking at it")
            record["probes"] = probes
            port = base_url.rsplit(":", 1)[1]
            before = {label: _memory_kib(pid) for label, pid in processes(port, db_name).items()}
            harness.log(f"soak: {args.duration} s at a target of {rate:g} req/s")
            results = run_mix(base_url, contexts, rate, args.duration, script_dir)
            after = {label: _memory_kib(pid) for label, pid in processes(port, db_name).items()}
        record |= {"rate": rate, "soak": results, "rss_kib": {"start": before, "end": after}}
        record["load_average_end"] = harness.report.load_average()
    except harness.BenchError as exc:
        print(f"soak: {exc}", file=sys.stderr)
        return 1
    finally:
        (args.results_dir / f"soak-{stamp}.json").write_text(
            json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        shutil.rmtree(media_root, ignore_errors=True)
    print(
        f"soak at a target of {rate:g} req/s for {args.duration} s (worst p99 {worst_p99(results):.1f} ms):"
    )
    print("\n".join(summary_lines(results)))
    print("memory (MiB)         RSS start    end  change | private start    end  change")
    for label in sorted(set(before) | set(after), key=_natural):
        rss0, anon0 = (x / 1024 for x in before.get(label, (0, 0)))
        rss1, anon1 = (x / 1024 for x in after.get(label, (0, 0)))
        print(
            f"  {label:20} {rss0:9.1f} {rss1:6.1f} {rss1 - rss0:+7.1f} | "
            f"{anon0:13.1f} {anon1:6.1f} {anon1 - anon0:+7.1f}"
        )
    print(f"raw results: {args.results_dir / f'soak-{stamp}.json'}")
    failures = [f"not 2xx in {name}" for name, r in results.items() if r["non2xx"]]
    failures += [f"socket errors in {name}" for name, r in results.items() if sum(r["errors"].values())]
    worst = worst_p99(results)
    total = sum(r["requests_per_s"] for r in results.values())
    if worst >= P99_LIMIT_MS and not args.quick:
        failures.append(f"p99 {worst:.1f} ms at the lowest rate")
    summary = f"{total:.1f} req/s for {args.duration} s, worst p99 {worst:.1f} ms"
    print(
        f"soak: {'PASS' if not failures else 'FAIL'} — {summary}"
        + (f"; {'; '.join(failures)}" if failures else "")
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""The county dashboard's answer times (issue 8: "the dashboard page and the summary API answer in under
200 ms (p95, warm) at county scale, in a constant number of SQL queries"). Run separately, never in the
suite (tests/dashboard/test_bench_smoke.py runs --quick on a tiny world):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/xiangzhi .venv/bin/python bench/dashboard.py

It works on DATABASE_URL's own database, seeded first (`manage.py seed_demo`, or `--scale county` for the
figure issue 8 asks for) with its rollup facts built: when the facts table is empty it runs
governance.rollups.engine.full_rebuild() itself first (`--rebuild`: always). Settings come from the
environment (DEBUG off, as in production); without collectstatic's manifest the pages are served with
the plain static storage (the manifest lookup is a dict lookup either way).

In this process, with django.test.Client force-logged-in as the demo users (county_admin, township_admin,
village_secretary), each target gets --warmup untimed requests and then --requests timed ones (default
40), interleaved round-robin across the targets so that all of them see the same machine load. A request's
time is the wall time around client.get (the whole Django stack: middleware, session, view, template).
The targets, all for the year that holds the most rollup facts (--year to choose another):

  - floor: GET /api/v1/me/ with county_admin's session: the cheapest logged-in JSON answer, measured in
    the same run; every target's median is also given as a multiple of the floor's;
  - /dashboard/ (the overview) as county_admin (the county), township_admin and village_secretary (their
    own region, the page they land on), and as county_admin drilled down to township_admin's township;
  - /dashboard/<module>/ for every module page (grids, points, canteens, industry) as county_admin;
  - GET /api/v1/dashboard/summary/?region=<code>&year=<year> as county_admin, for the county and for
    township_admin's township (session authentication, as the pages' scripts call it);
  - the default period's shape: the overview for the year's busiest month (by day) as county_admin and
    township_admin, and the points page for that month's quarter (whole months, distinct counts not a
    calendar year's) as county_admin.

Per target it prints the status (every answer must be 200, or the run exits 2), the median, p95 (nearest
rank) and max in ms, the ratio median / floor median, and the number of SQL queries of one more request
(CaptureQueriesContext; "SQL ms" is their summed time, the database's share) beside the count of the
target's twin, a request that must take as many: the same page for another region of the same level, the
one with the fewest children, where the target names its region; else the same page for the year with
the fewest facts (other data, the same code path).
Then a verdict per target (p95 < --target-ms, default 200, and the query count equal to its twin's) and
`dashboard-bench: PASS …` or `dashboard-bench: FAIL …`; exit status 1 when a target is missed. --quick
(2 requests each, no verdict) only checks that everything runs and answers 200.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
import unicodedata
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET_MS = 200.0
DEMO_USERS = ("county_admin", "township_admin", "village_secretary")


def _columns(text: str) -> int:
    """How many terminal columns `text` takes (a Chinese character takes two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _columns(text))


def log(message: str) -> None:
    print(f"[dashboard-bench] {message}", flush=True)


@dataclass
class Target:
    name: str
    user: str
    url: str
    twin: str = ""  # a URL for the same user that must take as many queries ("" for the floor)
    twin_label: str = ""
    times: list[float] = field(default_factory=list)
    statuses: set[int] = field(default_factory=set)
    queries: int = 0
    sql_ms: float = 0.0  # the database's share of the counted request (its queries' times)
    twin_queries: int = 0

    @property
    def is_floor(self) -> bool:
        return not self.twin

    def median_ms(self) -> float:
        return statistics.median(self.times) * 1000

    def p95_ms(self) -> float:
        ordered = sorted(self.times)
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)] * 1000

    def max_ms(self) -> float:
        return max(self.times) * 1000


def _setup() -> None:
    import django
    from django.conf import settings

    if not settings.configured:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        django.setup()


def _static_storage() -> str:
    """The manifest storage answers 500 without collectstatic's staticfiles.json: serve the static URLs
    from the plain storage then. Returns which one the run uses."""
    from django.conf import settings
    from django.test.utils import override_settings

    backend = settings.STORAGES["staticfiles"]["BACKEND"]
    if "Manifest" not in backend or (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
        return backend
    plain = "django.contrib.staticfiles.storage.StaticFilesStorage"
    override_settings(STORAGES={**settings.STORAGES, "staticfiles": {"BACKEND": plain}}).enable()
    return f"{plain} (no collectstatic manifest at {settings.STATIC_ROOT})"


def facts_ready(rebuild: bool) -> int:
    """The facts built (a full rebuild when there are none, or when asked); returns their row count."""
    from governance.models import MetricFact
    from governance.rollups import engine

    count = MetricFact.objects.count()
    if rebuild or not count:
        log(f"full rebuild of the rollup facts ({'--rebuild' if rebuild else 'the facts table is empty'})")
        started = time.perf_counter()
        engine.full_rebuild(progress=False)
        count = MetricFact.objects.count()
        log(f"full rebuild: {count} fact rows in {time.perf_counter() - started:.1f} s")
    return count


def years_of_facts() -> dict[int, int]:
    """Fact rows per year."""
    from django.db.models import Count
    from django.db.models.functions import ExtractYear

    from governance.models import MetricFact

    rows = MetricFact.objects.annotate(y=ExtractYear("day")).values("y").annotate(n=Count("*")).order_by()
    return {int(r["y"]): int(r["n"]) for r in rows}


def busiest_month(year: int) -> int:
    """The month of `year` with the most fact rows (1 when it has none): the month-period targets' month."""
    from django.db.models import Count
    from django.db.models.functions import ExtractMonth

    from governance.models import MetricFact

    row = (
        MetricFact.objects.filter(day__year=year)
        .annotate(m=ExtractMonth("day"))
        .values("m")
        .annotate(n=Count("*"))
        .order_by("-n", "m")
        .first()
    )
    return int(row["m"]) if row else 1


def _region_of(username: str) -> Any:
    from governance.models import RoleAssignment

    found = RoleAssignment.objects.filter(user__username=username).select_related("region").first()
    if found is None:
        raise SystemExit(f"no user {username!r} with a role: seed the demo county first (seed_demo)")
    return found.region


def _param(region: Any) -> str:
    from governance.selectors import dashboard as selectors

    return selectors.region_param(region.pk, region.code)


def _peer(region: Any) -> Any:
    """Another region of the same level, the one with the fewest children (the first by code at a tie),
    or None when the region is the only one of its level."""
    from django.db.models import Count

    from governance.models import Region

    return (
        Region.objects.filter(level=region.level)
        .exclude(pk=region.pk)
        .annotate(n=Count("children"))
        .order_by("n", "code", "pk")
        .first()
    )


def targets_make(year: int, other_year: int, month: int) -> list[Target]:
    from governance.selectors import dashboard as selectors

    county = _region_of("county_admin")
    township = _region_of("township_admin")
    village = _region_of("village_secretary")
    year_q = {"period": "year", "year": str(year)}
    other_q = {"period": "year", "year": str(other_year)}
    other_label = f"year {other_year}"

    def page(path: str, region: Any = None) -> tuple[str, str, str]:
        """(url, twin url, twin label): the region named → its peer, else another year."""
        if region is None:
            return f"{path}?{urlencode(year_q)}", f"{path}?{urlencode(other_q)}", other_label
        url = f"{path}?{urlencode({**year_q, 'region': _param(region)})}"
        peer = _peer(region)
        if peer is None:
            return url, f"{path}?{urlencode({**other_q, 'region': _param(region)})}", other_label
        return url, f"{path}?{urlencode({**year_q, 'region': _param(peer)})}", f"{peer.name}"

    def api(region: Any) -> tuple[str, str, str]:
        path = "/api/v1/dashboard/summary/"
        url = f"{path}?{urlencode({'region': region.code, 'year': year})}"
        peer = _peer(region)
        if peer is None or not peer.code:
            return url, f"{path}?{urlencode({'region': region.code, 'year': other_year})}", other_label
        return url, f"{path}?{urlencode({'region': peer.code, 'year': year})}", f"{peer.name}"

    found = [Target("floor · /api/v1/me/", "county_admin", "/api/v1/me/")]
    found.append(Target("overview · county_admin", "county_admin", *page("/dashboard/")))
    found.append(
        Target(
            f"overview · county_admin → {township.name}",
            "county_admin",
            *page("/dashboard/", township),
        )
    )
    found.append(
        Target(f"overview · township_admin ({township.name})", "township_admin", *page("/dashboard/"))
    )
    found.append(
        Target(f"overview · village_secretary ({village.name})", "village_secretary", *page("/dashboard/"))
    )
    for slug in selectors.MODULE_SLUGS:
        found.append(Target(f"module {slug} · county_admin", "county_admin", *page(f"/dashboard/{slug}/")))
    # The default period is a month, its trend by day; a quarter is whole months but its distinct counts
    # are not a calendar year's. Twins: the same month or quarter of the other year.
    quarter = (month - 1) // 3 + 1
    month_q = {"period": "month", "month": f"{year}-{month:02d}"}
    other_month_q = {"period": "month", "month": f"{other_year}-{month:02d}"}
    quarter_q = {"period": "quarter", "year": str(year), "quarter": str(quarter)}
    other_quarter_q = {"period": "quarter", "year": str(other_year), "quarter": str(quarter)}
    month_label, quarter_label = f"month {year}-{month:02d}", f"{year} Q{quarter}"
    for page_name, user, period, path, query, other in (
        ("overview", "county_admin", month_label, "/dashboard/", month_q, other_month_q),
        ("overview", "township_admin", month_label, "/dashboard/", month_q, other_month_q),
        ("module points", "county_admin", quarter_label, "/dashboard/points/", quarter_q, other_quarter_q),
    ):
        url, twin = f"{path}?{urlencode(query)}", f"{path}?{urlencode(other)}"
        found.append(
            Target(f"{page_name} · {user}, {period}", user, url, twin, f"the same period of {other_year}")
        )
    found.append(Target(f"summary API · {county.name}", "county_admin", *api(county)))
    found.append(Target(f"summary API · {township.name}", "county_admin", *api(township)))
    return found


def _clients() -> dict[str, Any]:
    from django.conf import settings
    from django.test import Client

    from governance.models import User

    hosts = list(settings.ALLOWED_HOSTS)
    extra: dict[str, Any] = {}
    if hosts and "*" not in hosts and "testserver" not in hosts:
        extra["HTTP_HOST"] = hosts[0].lstrip(".")
    clients = {}
    for username in DEMO_USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise SystemExit(f"no user {username!r}: seed the demo county first (manage.py seed_demo)")
        # A view's exception answers 500 (and is reported as such) instead of raising in this process.
        client = Client(raise_request_exception=False, **extra)
        client.force_login(user)
        clients[username] = client
    return clients


def _get(client: Any, url: str) -> tuple[int, float]:
    from django.conf import settings

    secure = bool(getattr(settings, "SECURE_SSL_REDIRECT", False))
    started = time.perf_counter()
    response = client.get(url, secure=secure)
    seconds = time.perf_counter() - started
    return response.status_code, seconds


def _queries(client: Any, url: str) -> tuple[int, int, float]:
    """(status, queries, their time in ms) of one request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        status, _seconds = _get(client, url)
    sql_ms = sum(float(q["time"]) for q in captured.captured_queries) * 1000
    return status, len(captured.captured_queries), sql_ms


def measure(targets: list[Target], clients: dict[str, Any], warmup: int, requests: int) -> None:
    for _round in range(warmup):
        for target in targets:
            status, _seconds = _get(clients[target.user], target.url)
            target.statuses.add(status)
    for _round in range(requests):
        for target in targets:
            status, seconds = _get(clients[target.user], target.url)
            target.statuses.add(status)
            target.times.append(seconds)
    for target in targets:
        status, target.queries, target.sql_ms = _queries(clients[target.user], target.url)
        target.statuses.add(status)
        if target.twin:
            _get(clients[target.user], target.twin)  # warm, as the target is
            status, target.twin_queries, _sql_ms = _queries(clients[target.user], target.twin)
            target.statuses.add(status)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=40, help="timed requests per target (40)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests per target first (3)")
    parser.add_argument("--year", type=int, default=None, help="the year shown (default: the most facts)")
    parser.add_argument("--target-ms", type=float, default=TARGET_MS, help="the p95 target in ms (200)")
    parser.add_argument("--rebuild", action="store_true", help="run a full rollup rebuild first, always")
    parser.add_argument("--quick", action="store_true", help="2 requests each, no verdict (smoke test)")
    args = parser.parse_args(argv)
    if args.quick:
        args.requests, args.warmup = 2, 1
    if args.requests < 1:
        parser.error("--requests must be at least 1")

    # Whitenoise's note that collectstatic has not run: the run says which static storage it uses.
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    _setup()
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit("bench/dashboard.py needs PostgreSQL: set DATABASE_URL=postgres://...")
    storage = _static_storage()
    log(
        f"database {connection.settings_dict['NAME']}, DEBUG={settings.DEBUG}, "
        f"CONN_MAX_AGE={connection.settings_dict.get('CONN_MAX_AGE')}, static storage {storage}"
    )
    if settings.DEBUG:
        log("DEBUG is on: every query is also logged in memory; the timings are not production's")
    facts = facts_ready(args.rebuild)
    years = years_of_facts()
    from django.utils import timezone

    today = timezone.localdate()
    year = args.year or (max(years, key=lambda y: (years[y], y)) if years else today.year)
    others = {y: n for y, n in years.items() if y != year}
    other_year = min(others, key=lambda y: (others[y], -y)) if others else year - 1
    log(f"{facts} fact rows; per year: {', '.join(f'{y}: {n}' for y, n in sorted(years.items())) or 'none'}")
    log(
        f"year shown {year}; twins of the own-region pages use {other_year} "
        f"({years.get(other_year, 0)} facts)"
    )
    log(f"{args.warmup} warm-up and {args.requests} timed requests per target, round-robin")
    log(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    month = busiest_month(year)
    targets = targets_make(year, other_year, month)
    clients = _clients()
    try:
        measure(targets, clients, args.warmup, args.requests)
    finally:
        for client in clients.values():
            client.logout()  # the sessions force_login stored
    log(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return report(targets, args)


def report(targets: list[Target], args: argparse.Namespace) -> int:
    floor = targets[0]
    floor_median = floor.median_ms() or 1e-9
    width = max(_columns(t.name) for t in targets)
    log(f"{_pad('target', width)}  status  median ms     p95 ms     max ms  ×floor  SQL ms  queries (twin)")
    for t in targets:
        status = ",".join(str(s) for s in sorted(t.statuses))
        twin = "" if t.is_floor else f" ({t.twin_queries} at {t.twin_label})"
        log(
            f"{_pad(t.name, width)}  {status:>6}  {t.median_ms():9.1f}  {t.p95_ms():9.1f}  "
            f"{t.max_ms():9.1f}  {t.median_ms() / floor_median:6.1f}  {t.sql_ms:6.1f}  {t.queries}{twin}"
        )
        log(f"{'':<{width}}    {t.url}")
    bad = [t for t in targets if t.statuses != {200}]
    if bad:
        for t in bad:
            log(f"NOT 200: {t.name} answered {sorted(t.statuses)} ({t.url}; twin {t.twin})")
        log(f"dashboard-bench: FAIL {len(bad)} target(s) did not answer 200")
        return 2
    if args.quick:
        log("quick run: no verdict")
        return 0
    missed = []
    for t in targets:
        if t.is_floor:
            continue
        fast = t.p95_ms() < args.target_ms
        constant = t.queries == t.twin_queries
        verdict = "met" if fast and constant else "MISSED"
        log(
            f"verdict {t.name}: {verdict} — p95 {t.p95_ms():.1f} ms "
            f"{'<' if fast else '≥'} {args.target_ms:.0f} ms; {t.queries} queries "
            f"{'=' if constant else '≠'} {t.twin_queries} at {t.twin_label}"
        )
        if not (fast and constant):
            missed.append(t.name)
    checked = len(targets) - 1
    worst = max((t for t in targets if not t.is_floor), key=lambda t: t.p95_ms())
    if missed:
        log(
            f"dashboard-bench: FAIL {len(missed)} of {checked} targets missed p95 < {args.target_ms:.0f} ms "
            f"or a constant query count: {'; '.join(missed)}"
        )
        return 1
    log(
        f"dashboard-bench: PASS {checked} of {checked} targets p95 < {args.target_ms:.0f} ms in a constant "
        f"number of queries (slowest p95 {worst.p95_ms():.1f} ms: {worst.name}; floor median "
        f"{floor.median_ms():.1f} ms)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

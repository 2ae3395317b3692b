"""The benchmark registry: the floors and the scenarios compared with them.

A later issue adds its scenario with one entry in SCENARIOS, e.g.

    Scenario("points-ledger", "/api/v1/points/ledger/?village={village_id}", floor="select",
             headers={"Authorization": "Token {token}"}),

`path`, header values and `lua_args` are formatted with the run's context for the scenario's `user` (a
demo log-in, county_admin unless said otherwise, or one of bench/fixtures.py's bench_* log-ins):
{token} (the user's API token, obtained through POST /api/v1/auth/token/), {session} (a session cookie
from logging in on /login/, for the HTML pages), {user_id} (the user's primary key), and the ids
bench/fixtures.py prints ({filing_grid_id}, {filing_category_id}, {photo}: the phone photo's path).
A scenario that needs more than a fixed request (a POST body, rotating ids) names a Lua file in
bench/lua/ that defines wrk's `init`/`request`/`response` hooks (`lua_args` reach `init(args)`);
run.py appends bench/wrk_report.lua, which counts non-2xx answers, reads the server's own time of every
answer (bench/middleware.py's Server-Timing header) and prints the results as JSON. The reporting
script wraps `setup` and `response`, so a scenario's Lua may define them too; it must not define `done`.

A scenario may state the issue's requirement it is measured against: `min_ratio` (its req/s over its
floor's, both at full load) and `max_server_p99_ms` (the server's own 99th percentile of the scenario
requested over one connection, one request at a time: the time the page takes, not the time it waits
behind 31 others for 5 workers on the machine's cores; run.py measures every such scenario once more
that way in each round). The report shows whether the run met it; nothing fails on it (a benchmark is
not a test).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

BENCH_DIR = Path(__file__).resolve().parent

FloorName = Literal["json", "select"]


@dataclass(frozen=True)
class Scenario:
    name: str
    path: str
    floor: FloorName | None  # the floor whose req/s this scenario is divided by; None for a floor itself
    headers: dict[str, str] = field(default_factory=dict)
    lua: str | None = None  # a file under bench/, prepended to wrk_report.lua
    description: str = ""
    user: str = "county_admin"  # whose token, session and id the context holds
    lua_args: tuple[str, ...] = ()  # passed to the Lua init(args), formatted with the context
    min_ratio: float | None = None  # the requirement on req/s ÷ floor req/s, if any
    max_server_p99_ms: float | None = None  # the requirement on the server's own p99, if any

    def url_path(self, context: dict[str, str]) -> str:
        return self.path.format(**context)

    def header_lines(self, context: dict[str, str]) -> list[str]:
        return [f"{key}: {value.format(**context)}" for key, value in self.headers.items()]

    def script_args(self, context: dict[str, str]) -> list[str]:
        return [arg.format(**context) for arg in self.lua_args]

    @property
    def requirement(self) -> str:
        """The requirement in words ("" when the scenario has none)."""
        parts = []
        if self.min_ratio is not None:
            parts.append(f"ratio ≥ {self.min_ratio:.2f}")
        if self.max_server_p99_ms is not None:
            parts.append(f"server p99 < {self.max_server_p99_ms:.0f} ms, one connection")
        return ", ".join(parts)

    def lua_source(self) -> str:
        return (BENCH_DIR / self.lua).read_text(encoding="utf-8") if self.lua else ""


FLOORS: dict[FloorName, Scenario] = {
    "json": Scenario(
        "floor-json",
        "/bench/floor/json",
        floor=None,
        description="plain Django JsonResponse through the full middleware stack",
    ),
    "select": Scenario(
        "floor-select",
        "/bench/floor/select?pk={user_id}",
        floor=None,
        description="the same plus one SELECT on the users table's primary key",
    ),
}

SCENARIOS: list[Scenario] = [
    Scenario(
        "healthz",
        "/healthz",
        floor="select",
        description="readiness: SELECT 1 on PostgreSQL and a Redis PING on a new connection",
    ),
    Scenario(
        "api-me",
        "/api/v1/me/",
        floor="select",
        headers={"Authorization": "Token {token}"},
        description="DRF, token authentication, the user's role assignments with their regions",
    ),
    Scenario(
        "grids-assessment",
        "/api/v1/grids/assessment/",
        floor="select",
        headers={"Authorization": "Token {token}"},
        description=(
            "the county's assessment for this year so far (county_admin): the per-grid counters kept by "
            "triggers (grids 0005) plus the open cases past their deadline, summed into villages by "
            "PostgreSQL, and the village heat map"
        ),
        max_server_p99_ms=200,
    ),
    Scenario(
        "grids-file",
        "/api/v1/grids/cases/",
        floor="json",
        headers={"Authorization": "Token {token}"},
        lua="lua/grids_file.lua",
        lua_args=("{filing_category_id}", "{filing_grid_id}", "{photo}"),
        user="bench_grid_leader",
        description=(
            "filing a case through the API as a grid leader (token): multipart with one 1600 × 1200 JPEG "
            "(~230 kB, as the phone sends it), a fresh idempotency key per request; the photo is checked, "
            "re-encoded and stored, the case, its timeline entry, the audit row and the village "
            "secretary's notification written in one transaction"
        ),
        min_ratio=1 / 3,
    ),
    Scenario(
        "grids-queue-village",
        "/grids/queue/",
        floor="select",
        headers={"Cookie": "sessionid={session}"},
        user="village_secretary",
        description=(
            "the triage queue page of 新华村's Party secretary (session log-in): the counts of every tab, "
            "the 待受理 tab's first page, the filter form"
        ),
        max_server_p99_ms=200,
    ),
    Scenario(
        "grids-queue-township",
        "/grids/queue/",
        floor="select",
        headers={"Cookie": "sessionid={session}"},
        user="township_admin",
        description=(
            "the triage queue page of 城关镇's admin: the same over the township's and its villages' queues"
        ),
        max_server_p99_ms=200,
    ),
    Scenario(
        "points-redeem",
        "/api/v1/points/redemptions/",
        floor="select",
        headers={"Authorization": "Token {token}"},
        lua="lua/points_redeem.lua",
        lua_args=(
            "{till_store_id}",
            "{till_day_id}",
            "{till_item_first}",
            "{till_item_last}",
            "{till_household_first}",
            "{till_household_last}",
        ),
        user="bench_till",
        description=(
            "a redemption at the till through the API (township admin, token): a random household of 2,000 "
            "and one of 20 items, a fresh idempotency key per request; the idempotency record, the item and "
            "account row locks, the balanced ledger transaction (household → store sink), the receipt and "
            "its line, the stock movement and the audit row in one transaction"
        ),
        min_ratio=0.5,
        max_server_p99_ms=100,
    ),
    Scenario(
        "canteens-checkin",
        "/api/v1/canteens/meals/",
        floor="select",
        headers={"Authorization": "Token {token}"},
        lua="lua/canteens_checkin.lua",
        lua_args=(
            "{checkin_site_id}",
            "{checkin_elders_file}",
            "{checkin_elders}",
            "{checkin_base_epoch}",
            "{checkin_counter_file}",
        ),
        user="bench_canteen",
        description=(
            "a meal check-in at the canteen counter through the API (canteen manager, token): one of 3,000 "
            "enrolled elders, each request a new elder × slot × day and a fresh idempotency key; the "
            "idempotency record, the enrolment and price rule look-up, the four-way split, the donation "
            "fund row lock and its movement, the meal and the audit row in one transaction"
        ),
        min_ratio=0.5,
    ),
    Scenario(
        "grids-assessment-page",
        "/grids/assessment/",
        floor="select",
        headers={"Cookie": "sessionid={session}"},
        description=(
            "the county's assessment page for this year so far (county_admin): the API's report plus the "
            "filter options and the rendered table and heat map"
        ),
        max_server_p99_ms=200,
    ),
]

"""The benchmark registry: the floors and the scenarios compared with them.

A later issue adds its scenario with one entry in SCENARIOS, e.g.

    Scenario("points-ledger", "/api/v1/points/ledger/?village={village_id}", floor="select",
             headers={"Authorization": "Token {token}"}),

`path` and header values are formatted with the run's context: {token} (county_admin's API token,
obtained through POST /api/v1/auth/token/) and {user_id} (county_admin's primary key). A scenario that
needs more than a fixed request (a POST body, rotating ids) names a Lua file in bench/lua/ that defines
wrk's `init`/`request`/`response` hooks; run.py appends bench/wrk_report.lua, which counts non-2xx answers
and prints the results as JSON. The reporting script wraps `setup` and `response`, so a scenario's Lua
may define them too; it must not define `done`.
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

    def url_path(self, context: dict[str, str]) -> str:
        return self.path.format(**context)

    def header_lines(self, context: dict[str, str]) -> list[str]:
        return [f"{key}: {value.format(**context)}" for key, value in self.headers.items()]

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
            "the county's assessment for this year so far (county_admin): one GROUP BY grid with conditional "
            "aggregates over every case filed this year, rolled up to townships, and the village heat map"
        ),
    ),
]

"""The demo county's grid work: accounts for every grid leader, handling units and routing, and a year of
residents' feedback cases across every state — some overdue, some re-handled, some escalated, some
mediated — with their full timelines, so every page and chart has something to show.

Like the county builder (governance/demo.py) this writes in bulk (COPY on PostgreSQL) rather than through
the services: a year of county-scale cases is ~300,000 cases and ~2.5 million timeline entries. The rows
it writes are the ones the services would write for the same history (the same states, deadlines from
the working-day calendar, on-time flags, counts); tests/grids/test_demo_cases.py checks the invariants.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext

from governance.audit import audit_record
from governance.demo import _Ids, _Writer
from governance.models import AuditAction, Region, RegionKind, RegionLevel, Resident, RoleAssignment, User
from governance.roles import Role
from grids import demo_texts as texts
from grids.calendar import WorkCalendar, local_date
from grids.defaults import grids_defaults_install
from grids.models import (
    Case,
    CaseCategory,
    CaseEvent,
    CaseStatus,
    CaseSupervision,
    CaseTimeLimit,
    GridLeader,
    HandlingLevel,
    HandlingUnit,
    MediationAgreement,
    MediationSession,
    Privacy,
    RoutingRule,
    Satisfaction,
    SupervisionKind,
    Urgency,
    WarningLevel,
)

# Cases per grid over the demo year, by scale (county: ~300,000 in all, the benchmark's year).
CASES_PER_GRID: dict[str, tuple[int, int]] = {"test": (4, 6), "default": (3, 5), "county": (75, 95)}
# Open cases the demo grid leader's grid (新华村第一网格) always has, so the phone home has work on it.
DEMO_GRID_OPEN_CASES = 4
DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)
S = CaseStatus

# gettext remembered for the build in progress: a county-scale build asks for the same dozen notes
# millions of times, and each lookup goes through the active language's thread-local. _CaseBuilder.build
# empties it before and after, so a build never reuses the strings of another language.
_translated: dict[str, str] = {}


def _(message: str) -> str:
    found = _translated.get(message)
    if found is None:
        found = _translated[message] = gettext(message)
    return found


BULK_MODELS = (
    User,
    RoleAssignment,
    HandlingUnit,
    Case,
    CaseEvent,
    CaseSupervision,
    MediationSession,
    MediationAgreement,
)


@dataclass(slots=True)
class _GridRow:
    id: int
    path: str
    name: str
    village_id: int
    village_name: str
    township_id: int
    reporter_id: int
    code: str = ""
    residents: list[tuple[int, str]] = field(default_factory=list)


@dataclass(slots=True)
class _Step:
    kind: str
    to: str
    at: dt.datetime
    actor: int | None
    note: str = ""
    is_public: bool = True
    data: dict[str, Any] = field(default_factory=dict)


def seed_demo_cases(
    *,
    county: Region,
    users: dict[str, User],
    scale: str,
    say: Callable[[str], None],
    use_copy: bool,
    now: dt.datetime | None = None,
) -> int:
    """Build the grid work of the demo county once (nothing when it has cases already); returns the number
    of cases written."""
    grids_defaults_install()
    if Case.objects.filter(grid__path__startswith=county.path).exists():
        return 0
    builder = _CaseBuilder(
        county=county, users=users, scale=scale, say=say, use_copy=use_copy, now=now or timezone.now()
    )
    return builder.build()


class _CaseBuilder:
    def __init__(
        self,
        *,
        county: Region,
        users: dict[str, User],
        scale: str,
        say: Callable[[str], None],
        use_copy: bool,
        now: dt.datetime,
    ) -> None:
        self.county = county
        self.users = users
        self.scale = scale
        self.say = say
        self.writer = _Writer(use_copy=use_copy)
        self.now = now
        self.rng = random.Random(f"xiangzhi-cases-{scale}")  # noqa: S311 - demo data, not security
        self.year_ago = now - dt.timedelta(days=365)
        self._pending_leader_links: list[tuple[int, int]] = []
        self._agreed: set[int] = set()
        self._deadlines: dict[tuple[dt.date, int], dt.datetime] = {}
        self.calendar = WorkCalendar.for_span(
            timezone.localdate(self.year_ago) - dt.timedelta(days=7),
            timezone.localdate(now) + dt.timedelta(days=90),
        )

    # -- orchestration ---------------------------------------------------------------------------------

    def build(self) -> int:
        _translated.clear()
        try:
            return self._build()
        finally:
            _translated.clear()

    def _build(self) -> int:
        if connection.vendor == "postgresql":
            tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in BULK_MODELS)
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {tables} IN SHARE ROW EXCLUSIVE MODE")
        self.ids = _Ids(BULK_MODELS)
        self._load_categories()
        grids = self._load_grids()
        self._staff_and_units(grids)
        self.writer.flush()
        demo_grid = self._demo_grid_id()
        demo_village = next((g.village_id for g in grids if g.id == demo_grid), None)
        written = 0
        for grid in grids:
            low, high = CASES_PER_GRID[self.scale]
            count = self.rng.randint(low, high)
            for index in range(count):
                hold = ""
                if grid.id == demo_grid and index >= count - DEMO_GRID_OPEN_CASES:
                    hold = "handling"
                elif grid.village_id == demo_village and index >= count - 2:
                    hold = "queue"
                self._case(grid, hold=hold)
                written += 1
        self.writer.flush()
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), list(BULK_MODELS)):
                cursor.execute(sql)
            if connection.vendor == "postgresql":
                # Statistics for the planner now, not when autovacuum gets round to the new rows: the
                # first assessment and queue pages after a seed are planned on the real table sizes.
                analysed = [Case, CaseEvent, CaseSupervision, MediationSession, MediationAgreement]
                cursor.execute(
                    "ANALYZE " + ", ".join(connection.ops.quote_name(m._meta.db_table) for m in analysed)
                )
        counts = self.writer.counts
        audit_record(
            actor=None,
            action=AuditAction.IMPORT,
            obj=self.county,
            region_path=self.county.path,
            changes={label: [0, n] for label, n in sorted(counts.items())},
            detail=_("演示数据：一年的群众诉求（%(scale)s 规模），共 %(cases)d 件。")
            % {"scale": self.scale, "cases": written},
        )
        self.say(
            _("民情诉求：%(cases)d 件，办理记录 %(events)d 条。")
            % {"cases": written, "events": counts["grids.caseevent"]}
        )
        return written

    # -- what exists already ---------------------------------------------------------------------------

    def _load_categories(self) -> None:
        subs = list(
            CaseCategory.objects.filter(parent__isnull=False, is_active=True)
            .select_related("parent")
            .order_by("duty", "sort_order")
        )
        self.categories = subs
        # Feedback is mostly livelihood and coordination; disputes are fewer but take longest.
        duty_weight = {
            "livelihood_service": 30,
            "governance_coordination": 25,
            "public_sentiment": 18,
            "dispute_mediation": 15,
            "policy_outreach": 12,
        }
        self.category_weights = [duty_weight.get(c.duty, 10) / 5 for c in subs]
        limits: dict[tuple[int, str], tuple[int, int]] = {}
        for row in CaseTimeLimit.objects.all():
            limits[(row.category_id, row.urgency)] = (row.sign_days, row.resolve_days)
        self.limits = limits

    def _limit(self, category: CaseCategory, urgency: str) -> tuple[int, int]:
        found = self.limits.get((category.pk, urgency))
        if found is None and category.parent_id is not None:
            found = self.limits.get((category.parent_id, urgency))
        return found or (1, 10)

    def _load_grids(self) -> list[_GridRow]:
        rows = list(
            Region.objects.filter(path__startswith=self.county.path, level=RegionLevel.GRID)
            .order_by("path")
            .values_list("id", "path", "name", "parent_id", "parent__name", "parent__parent_id", "code")
        )
        grids = {r[0]: _GridRow(r[0], r[1], r[2], r[3], r[4], r[5] or 0, 0, r[6]) for r in rows}
        # Up to 30 residents per grid to file for (the first households of the grid are enough).
        for resident_id, name, grid_id in (
            Resident.objects.filter(household__grid__path__startswith=self.county.path)
            .order_by("household__grid_id", "id")
            .values_list("id", "name", "household__grid_id")
            .iterator(chunk_size=20_000)
        ):
            grid = grids.get(grid_id)
            if grid is not None and len(grid.residents) < 30:
                grid.residents.append((resident_id, name))
        self.leaders = dict(
            GridLeader.objects.filter(grid_id__in=grids.keys(), ended_on=None).values_list(
                "grid_id", "user_id"
            )
        )
        self.leader_resident_names = dict(
            GridLeader.objects.filter(grid_id__in=grids.keys(), ended_on=None).values_list(
                "grid_id", "resident__name"
            )
        )
        return list(grids.values())

    def _demo_grid_id(self) -> int | None:
        return (
            GridLeader.objects.filter(user=self.users.get("grid_leader"), ended_on=None)
            .values_list("grid_id", flat=True)
            .first()
        )

    # -- accounts and units ----------------------------------------------------------------------------

    def _user(self, username: str, full_name: str, role: str, region_id: int) -> int:
        """A duty account (named after the region's statistical code, so reruns name it the same)."""
        existing = User.objects.filter(username=username).values_list("id", flat=True).first()
        if existing is not None:
            return existing
        user_id = self.ids(User)
        self.writer.add(
            User,
            {
                "id": user_id,
                "username": username,
                "full_name": full_name,
                # Demo staff accounts cannot log in until an admin sets a password.
                "password": self.unusable_password,
                "is_active": True,
                "is_staff": False,
                "is_superuser": False,
                "first_name": "",
                "last_name": "",
                "email": "",
                "date_joined": self.now,
                "last_login": None,
            },
        )
        self.writer.add(
            RoleAssignment,
            {"id": self.ids(RoleAssignment), "user_id": user_id, "role": role, "region_id": region_id},
        )
        return user_id

    def _staff_and_units(self, grids: list[_GridRow]) -> None:
        self.unusable_password = make_password(None)
        demo = self.users
        villages: dict[int, str] = {}
        townships: set[int] = set()
        for grid in grids:
            villages[grid.village_id] = grid.village_name
            townships.add(grid.township_id)
        regions = {
            r.pk: r
            for r in Region.objects.filter(pk__in=[*villages, *townships]).only("id", "name", "kind", "code")
        }
        demo_village = (
            RoleAssignment.objects.filter(user=demo.get("village_secretary"))
            .values_list("region_id", flat=True)
            .first()
        )
        demo_township = (
            RoleAssignment.objects.filter(user=demo.get("township_admin"))
            .values_list("region_id", flat=True)
            .first()
        )

        # Every grid leader gets an account (the demo one has its own log-in already).
        for grid in grids:
            user_id = self.leaders.get(grid.id)
            if user_id is None:
                name = self.leader_resident_names.get(grid.id, "")
                user_id = self._user(f"wg{grid.code or grid.id}", name, Role.GRID_LEADER, grid.id)
                self._pending_leader_links.append((grid.id, user_id))
            grid.reporter_id = user_id

        self.village_staff: dict[int, int] = {}
        self.village_unit: dict[int, int] = {}
        self.township_staff: dict[int, int] = {}
        self.township_unit: dict[int, int] = {}
        memberships: list[tuple[int, int]] = []
        for village_id, name in villages.items():
            if village_id == demo_village and demo.get("village_secretary") is not None:
                staff = demo["village_secretary"].pk
            else:
                staff = self._user(
                    f"cun{regions[village_id].code or village_id}",
                    _("%(v)s值班员") % {"v": name},
                    Role.VILLAGE_SECRETARY,
                    village_id,
                )
            self.village_staff[village_id] = staff
            committee = (
                _("居民委员会") if regions[village_id].kind == RegionKind.COMMUNITY else _("村民委员会")
            )
            unit = self._unit(f"{name}{committee}", village_id)
            self.village_unit[village_id] = unit
            memberships.append((unit, staff))
        for township_id in townships:
            name = regions[township_id].name
            if township_id == demo_township and demo.get("township_admin") is not None:
                staff = demo["township_admin"].pk
            else:
                staff = self._user(
                    f"zhen{regions[township_id].code or township_id}",
                    _("%(t)s值班员") % {"t": name},
                    Role.TOWNSHIP_ADMIN,
                    township_id,
                )
            self.township_staff[township_id] = staff
            unit = self._unit(_("%(t)s综治中心") % {"t": name}, township_id)
            self.township_unit[township_id] = unit
            memberships.append((unit, staff))
        self.county_staff = demo["county_admin"].pk if demo.get("county_admin") is not None else None
        self.county_unit_for: dict[str, int] = {}
        county_units: list[int] = []
        for unit_name, codes in texts.COUNTY_UNITS:
            unit = self._unit(unit_name, self.county.pk)
            county_units.append(unit)
            if self.county_staff is not None:
                memberships.append((unit, self.county_staff))
            for code in codes:
                self.county_unit_for[code] = unit
        self.county_fallback_unit = county_units[0]
        self.writer.flush()
        for grid_id, user_id in self._pending_leader_links:
            GridLeader.objects.filter(grid_id=grid_id, ended_on=None, user__isnull=True).update(
                user_id=user_id
            )
        through = HandlingUnit.members.through
        through.objects.bulk_create(
            [through(handlingunit_id=unit, user_id=user) for unit, user in memberships], ignore_conflicts=True
        )
        # Routing: county departments take their categories county-wide; everything else stays with
        # the village or township committee that holds the case (no rule needed).
        by_code = {c.code: c for c in self.categories}
        RoutingRule.objects.bulk_create(
            [
                RoutingRule(category=by_code[code], region=self.county, unit_id=unit)
                for code, unit in self.county_unit_for.items()
                if code in by_code
            ],
            ignore_conflicts=True,
        )

    def _unit(self, name: str, region_id: int) -> int:
        existing = (
            HandlingUnit.objects.filter(region_id=region_id, name=name).values_list("id", flat=True).first()
        )
        if existing is not None:
            return existing
        unit_id = self.ids(HandlingUnit)
        self.writer.add(HandlingUnit, {"id": unit_id, "name": name, "region_id": region_id, "phone": ""})
        return unit_id

    # -- one case --------------------------------------------------------------------------------------

    def _when(self, recent: bool) -> dt.datetime:
        """A filing time in the demo year, more of them recent, in office-ish hours."""
        days_ago = self.rng.uniform(0.5, 6) if recent else 365 * (1 - self.rng.random() ** 0.8)
        moment = timezone.localtime(self.now - dt.timedelta(days=days_ago))
        return moment.replace(
            hour=self.rng.randint(8, 19), minute=self.rng.randint(0, 59), second=0, microsecond=0
        )

    def _text(self, category: CaseCategory, grid: _GridRow) -> str:
        options = texts.DESCRIPTIONS.get(category.code) or texts.DUTY_FALLBACK.get(
            category.duty, ("{place}",)
        )
        surname = grid.residents[0][1][0] if grid.residents else "王"
        if len(grid.residents) > 1:
            surname = self.rng.choice(grid.residents)[1][0]
        return self.rng.choice(options).format(place=self.rng.choice(texts.PLACES), surname=surname)

    def _deadline(self, at: dt.datetime, days: int) -> dt.datetime:
        """calendar.add_working_days(at, days), which depends only on the local date of `at`: remembered
        per (date, days), as ~600,000 assignments at county scale fall on ~365 dates."""
        key = (local_date(at), days)
        found = self._deadlines.get(key)
        if found is None:
            found = self._deadlines[key] = self.calendar.add_working_days(at, days)
        return found

    def _later(self, at: dt.datetime, low_hours: float, high_hours: float) -> dt.datetime:
        return at + dt.timedelta(hours=self.rng.uniform(low_hours, high_hours))

    def _case(self, grid: _GridRow, *, hold: str) -> None:
        """One case. `hold` keeps a recent case open for the demo log-ins: "handling" (the grid leader's
        phone home shows it with its deadline) or "queue" (the village secretary's triage queue)."""
        rng = self.rng
        category = rng.choices(self.categories, weights=self.category_weights)[0]
        urgency = rng.choices([Urgency.NORMAL, Urgency.URGENT, Urgency.CRITICAL], weights=[82, 15, 3])[0]
        privacy = rng.choices([Privacy.PUBLIC, Privacy.ANONYMOUS, Privacy.CONFIDENTIAL], weights=[80, 12, 8])[
            0
        ]
        filed_at = self._when(bool(hold))
        resident = rng.choice(grid.residents)[0] if grid.residents and rng.random() < 0.85 else None
        case_id = self.ids(Case)
        row: dict[str, Any] = {
            "id": case_id,
            "number": f"MQ{timezone.localtime(filed_at):%Y%m%d}{case_id:06d}",
            "category_id": category.pk,
            "description": self._text(category, grid),
            "urgency": urgency,
            "privacy": privacy,
            "grid_id": grid.id,
            "latitude": None,
            "longitude": None,
            "location_source": "grid",
            "address": "",
            "resident_id": resident,
            "reporter_id": grid.reporter_id,
            "idempotency_key": f"demo-{case_id}",
            "status": S.SUBMITTED,
            "level": HandlingLevel.VILLAGE,
            "handling_region_id": grid.village_id,
            "assigned_unit_id": None,
            "assigned_user_id": None,
            "filed_at": filed_at,
            "warning": WarningLevel.NONE,
            "result": "",
            "satisfaction": "",
            "rehandle_count": 0,
            "transfer_count": 0,
            "escalation_count": 0,
            "me_too_count": rng.choice([0, 0, 0, 0, 1, 2, 3]),
            "duplicate_of_id": None,
            "routed_elsewhere_to": "",
        }
        steps = self._history(row, grid, category, hold)
        previous = ""
        for step in steps:
            self.writer.add(
                CaseEvent,
                {
                    "id": self.ids(CaseEvent),
                    "case_id": case_id,
                    "kind": step.kind,
                    "from_status": previous,
                    "to_status": step.to,
                    "actor_id": step.actor,
                    "at": step.at,
                    "note": step.note,
                    "is_public": step.is_public,
                    # JSON text: COPY and SQLite take it as it is (most entries carry none).
                    "data": json.dumps(step.data, ensure_ascii=False) if step.data else "{}",
                },
            )
            if step.to:
                previous = step.to
        self._warn(row)
        self.writer.add(Case, row)

    def _history(self, row: dict[str, Any], grid: _GridRow, category: CaseCategory, hold: str) -> list[_Step]:
        """Walk the case through the workflow from its filing time, stopping at `now`; sets the row's
        fields as the services would and returns its timeline."""
        rng = self.rng
        now = self.now
        steps: list[_Step] = []
        reporter = row["reporter_id"]
        village_staff = self.village_staff[grid.village_id]

        def step(kind: str, to: str, at: dt.datetime, actor: int | None, note: str = "", **kw: Any) -> bool:
            if at > now:
                return False
            steps.append(_Step(kind, to, at, actor, note, kw.pop("is_public", True), kw.pop("data", {})))
            if to:
                row["status"] = to
            return True

        at = row["filed_at"]
        step("file", S.SUBMITTED, at, reporter, _("网格长上报"))
        roll = rng.random()
        at = self._later(at, 0.3, 20)
        forced_open = hold == "handling"
        if hold == "queue" and roll < 0.5:
            return steps  # waits to be accepted
        if roll < 0.015 and not hold:
            step("withdraw", S.WITHDRAWN, at, reporter, _("群众表示问题已自行解决，申请撤回。"))
            return steps
        if roll < 0.035 and not hold:
            if step("not_responsible", S.NOT_RESPONSIBLE, at, village_staff, _("已告知群众向县信访局反映。")):
                row["routed_elsewhere_to"] = _("县信访局")
                row["closed_at"] = at
            return steps
        if not step("accept", S.ACCEPTED, at, village_staff):
            return steps
        row["accepted_at"] = at
        if hold == "queue":
            return steps  # accepted, waits to be assigned
        staff: int | None = village_staff
        unit = self.village_unit[grid.village_id]
        # Some cases the village cannot settle go up to the township (and a few on to the county).
        if rng.random() < 0.06:
            at = self._later(at, 1, 30)
            if not self._escalate(
                row, steps, step, at, village_staff, HandlingLevel.TOWNSHIP, grid.township_id
            ):
                return steps
            staff, unit = self.township_staff[grid.township_id], self.township_unit[grid.township_id]
            at = self._later(at, 0.5, 8)
            if not step("accept", S.ACCEPTED, at, staff):
                return steps
            if rng.random() < 0.25:
                at = self._later(at, 1, 24)
                if not self._escalate(row, steps, step, at, staff, HandlingLevel.COUNTY, self.county.pk):
                    return steps
                staff = self.county_staff
                unit = self.county_unit_for.get(category.code, self.county_fallback_unit)
                at = self._later(at, 0.5, 8)
                if not step("accept", S.ACCEPTED, at, staff):
                    return steps
        for round_index in range(3):
            outcome = self._handle_round(
                row, steps, step, category, staff, unit, at, round_index, forced_open
            )
            if outcome is None:
                return steps
            at, satisfied = outcome
            if satisfied:
                break
        else:
            # Re-handled three times: the case escalates one level by itself (the workflow's rule).
            at = self._later(at, 0.1, 1)
            target_level, target_region = (
                (HandlingLevel.TOWNSHIP, grid.township_id)
                if row["level"] == HandlingLevel.VILLAGE
                else (HandlingLevel.COUNTY, self.county.pk)
            )
            self._escalate(row, steps, step, at, None, target_level, target_region, automatic=True)
            return steps
        at = self._later(at, 2, 120)
        if step("archive", S.CLOSED, at, staff):
            row["closed_at"] = at
        return steps

    def _escalate(
        self,
        row: dict[str, Any],
        steps: list[_Step],
        step: Callable[..., bool],
        at: dt.datetime,
        actor: int | None,
        level: str,
        region_id: int,
        *,
        automatic: bool = False,
    ) -> bool:
        note = (
            _("发回重办已达三次，自动提级。") if automatic else _("本级协调解决确有困难，提请上级协调办理。")
        )
        if not step("escalate", S.SUBMITTED, at, actor, note, data={"to_level": level}):
            return False
        row["level"] = level
        row["handling_region_id"] = region_id
        row["escalation_count"] += 1
        row["assigned_unit_id"] = None
        row["assigned_user_id"] = None
        row["sign_deadline"] = None
        row["resolve_deadline"] = None
        return True

    def _handle_round(
        self,
        row: dict[str, Any],
        steps: list[_Step],
        step: Callable[..., bool],
        category: CaseCategory,
        staff: int | None,
        unit: int,
        at: dt.datetime,
        round_index: int,
        forced_open: bool,
    ) -> tuple[dt.datetime, bool] | None:
        """Assign → sign → (start) → resolve → follow up. None when `now` comes first; else the time of
        the follow-up and whether the resident was satisfied."""
        rng = self.rng
        at = self._later(at, 0.2, 6)
        if not step("assign", S.ASSIGNED, at, staff, data={"unit_id": unit}):
            return None
        sign_days, resolve_days = self._limit(category, row["urgency"])
        row["assigned_unit_id"] = unit
        row["assigned_user_id"] = staff
        row["assigned_at"] = at
        row["sign_deadline"] = self._deadline(at, sign_days)
        row["resolve_deadline"] = self._deadline(at, resolve_days)
        row["signed_on_time"] = None
        row["resolved_on_time"] = None
        if rng.random() < 0.05 and not forced_open:
            # The unit sends it back (wrong unit, missing facts) and the level assigns it again.
            at = self._later(at, 0.5, 12)
            if not step("return", S.RETURNED, at, staff, _("经核实，该问题需由其他单位办理，请重新派单。")):
                return None
            row["transfer_count"] += 1
            at = self._later(at, 0.5, 12)
            if not step("assign", S.ASSIGNED, at, staff, data={"unit_id": unit}):
                return None
            row["assigned_at"] = at
            row["sign_deadline"] = self._deadline(at, sign_days)
            row["resolve_deadline"] = self._deadline(at, resolve_days)
        window = (row["sign_deadline"] - at).total_seconds() / 3600
        late_sign = rng.random() < 0.07
        at = (
            self._later(at, 0.1, max(0.2, window * 0.8))
            if not late_sign
            else self._later(at, window + 2, window + 40)
        )
        if forced_open and round_index == 0 and rng.random() < 0.5:
            return None  # the demo grid leader's open cases: some wait to be signed for
        if not step("sign_for", S.SIGNED, at, staff):
            return None
        row["signed_at"] = at
        row["signed_on_time"] = at <= row["sign_deadline"]
        row["transfer_count"] = 0
        at = self._later(at, 0.5, 24)
        if not step("start", S.IN_PROGRESS, at, staff, _("已安排人员到现场核实处置。")):
            return None
        if category.is_mediable and rng.random() < 0.4:
            mediated_at = self._mediate(row, steps, category, staff, at)
            if mediated_at is None:
                return None
            at = mediated_at
        span = (row["resolve_deadline"] - at).total_seconds() / 3600
        late = rng.random() < 0.1
        at = self._later(at, 2, max(3.0, span * 0.9)) if not late else self._later(at, span + 4, span + 200)
        if forced_open:
            return None
        result = rng.choice(texts.RESULTS.get(category.duty, texts.RESULTS["livelihood_service"]))
        if not step("resolve", S.RESOLVED, at, staff, result):
            return None
        row["resolved_at"] = at
        row["resolved_on_time"] = at <= row["resolve_deadline"]
        row["result"] = result
        at = self._later(at, 4, 96)
        unhappy = rng.random() < (0.07 if round_index == 0 else 0.35)
        if unhappy:
            if not step(
                "follow_up",
                S.REOPENED,
                at,
                row["reporter_id"],
                rng.choice(texts.UNSATISFIED_NOTES),
                data={"satisfaction": Satisfaction.UNSATISFIED},
            ):
                return None
            row["satisfaction"] = Satisfaction.UNSATISFIED
            row["followed_up_at"] = at
            row["rehandle_count"] += 1
            return at, False
        satisfaction = Satisfaction.SATISFIED if rng.random() < 0.86 else Satisfaction.BASICALLY
        if not step(
            "follow_up",
            S.FOLLOWED_UP,
            at,
            row["reporter_id"],
            rng.choice(texts.FOLLOW_UP_NOTES),
            data={"satisfaction": satisfaction},
        ):
            return None
        row["satisfaction"] = satisfaction
        row["followed_up_at"] = at
        return at, True

    def _mediate(
        self,
        row: dict[str, Any],
        steps: list[_Step],
        category: CaseCategory,
        staff: int | None,
        at: dt.datetime,
    ) -> dt.datetime | None:
        rng = self.rng
        mediator = staff or row["reporter_id"]
        for _session in range(rng.randint(1, 2)):
            at = self._later(at, 12, 96)
            if at > self.now:
                return None
            session_id = self.ids(MediationSession)
            self.writer.add(
                MediationSession,
                {
                    "id": session_id,
                    "case_id": row["id"],
                    "mediator_id": mediator,
                    "held_at": at,
                    "place": rng.choice(texts.MEDIATION_PLACES),
                    "participants": _("双方当事人、网格长、乡贤说事评理团成员"),
                    "summary": rng.choice(texts.MEDIATION_SUMMARIES),
                    "idempotency_key": f"demo-{session_id}",
                },
            )
            steps.append(_Step("mediation_session", "", at, mediator, _("乡贤说事评理团调解"), False))
        if row["id"] in self._agreed:
            return at  # one agreement per case: a re-handled dispute only gets new sessions
        at = self._later(at, 2, 48)
        if at > self.now:
            return None
        self._agreed.add(row["id"])
        self.writer.add(
            MediationAgreement,
            {
                "id": self.ids(MediationAgreement),
                "case_id": row["id"],
                "mediator_id": mediator,
                "parties": _("双方当事人"),
                "terms": rng.choice(texts.AGREEMENT_TERMS),
                "signed_on": timezone.localdate(at),
            },
        )
        steps.append(_Step("mediation_agreement", "", at, mediator, _("签订调解协议"), False))
        return at

    def _warn(self, row: dict[str, Any]) -> None:
        """Yellow or red for open cases whose clock runs, with the supervision the deadline task raises."""
        if row["status"] not in (S.ASSIGNED, S.SIGNED, S.IN_PROGRESS):
            return
        deadline = row["sign_deadline"] if row["status"] == S.ASSIGNED else row["resolve_deadline"]
        if deadline is None:
            return
        if self.now > deadline:
            level, kind = WarningLevel.RED, SupervisionKind.RED
        elif deadline - self.now < dt.timedelta(days=1):
            level, kind = WarningLevel.YELLOW, SupervisionKind.YELLOW
        else:
            return
        row["warning"] = level
        self.writer.add(
            CaseSupervision,
            {
                "id": self.ids(CaseSupervision),
                "case_id": row["id"],
                "kind": kind,
                "deadline": deadline,
                "raised_at": min(self.now, deadline) if kind == SupervisionKind.RED else self.now,
                "raised_by_id": None,
                "note": "",
            },
        )

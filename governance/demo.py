"""The demo county: Gucheng (谷城县) with its towns, villages, grids, people and Party organisations.

`seed_demo_county()` always makes sure of the region skeleton the tests use and the five demo log-ins.
With a `scale` other than "skeleton" it then builds the whole county (demo_data.py has the word lists
and the figures from gucheng.md): 10 townships, 270 villages and communities, 3,551 grids each with its
elected grid leader (the 2024 term, and the 2021 term before it), households and residents with valid
(fake) ID numbers, the Party organisation tree with members and the membership pipeline, the sages'
groups, the "七个一百" talent registry and the five Shennong heroes gatherings with their 45 role models.

Scales: "test" (a few villages, for the test suite), "default" (about 10 households per grid, under a
minute on SQLite) and "county" (about 100 households per grid, the real county's size: ~355,000
households and ~900,000 residents, for PostgreSQL).

The bulk build bypasses the per-row services for speed — the only place that may — and so keeps their
invariants itself: materialized paths, encrypted ID numbers and phones with their look-up hashes and
masks (governance.pii), one current grid leader per grid, membership steps in pipeline order with
increasing dates and two sponsors who were full members before the candidate stage. It writes rows
with explicit primary keys (so that paths, heads of household and sponsors are known before the
insert) in large batches — COPY on PostgreSQL, a prepared INSERT with executemany elsewhere — and one
audit entry for the run.

Deterministic (seeded random generators, fixed reference date) and idempotent: a county that already
has households or Party organisations is left alone, only the demo passwords are reset.
"""

from __future__ import annotations

import bisect
import datetime as dt
import io
import itertools
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from governance import demo_data as data
from governance import pii
from governance.audit import audit_record
from governance.models import (
    AuditAction,
    Household,
    HouseholdTag,
    HouseholdTagKind,
    LeadershipPosition,
    MemberCategory,
    MembershipStage,
    MembershipStep,
    MemberTransfer,
    PartyLeadership,
    PartyMember,
    PartyOrganisation,
    PartyOrgKind,
    Region,
    RegionCode,
    RegionKind,
    RegionLevel,
    RelationToHead,
    Resident,
    ResidentStatus,
    ResidentTag,
    ResidentTagKind,
    RoleModel,
    RoleModelSelection,
    SagesGroup,
    SagesMember,
    SagesMemberKind,
    ShennongGathering,
    Talent,
    TalentCategory,
    TalentTraining,
    User,
)
from governance.roles import Role
from governance.services import regions as region_services
from governance.services import roles as role_services
from grids.models import GridLeader

COUNTY = (data.COUNTY_NAME, data.COUNTY_CODE)
# Real township names of Gucheng with their statistical codes (towns 1xx, the 乡 2xx).
TOWNSHIPS: list[tuple[str, RegionKind, str]] = [
    (name, RegionKind(kind), code) for name, kind, code, _c, _v in data.TOWNSHIP_LAYOUT
]
# (township, village, kind, code). 花圃村, 堰河村 and 民营社区 are real; 新华村 is made up.
VILLAGES: list[tuple[str, str, RegionKind, str]] = [
    ("城关镇", "新华村", RegionKind.VILLAGE, "420625100201"),
    ("紫金镇", "花圃村", RegionKind.VILLAGE, "420625107203"),
    ("五山镇", "堰河村", RegionKind.VILLAGE, "420625104210"),
    ("石花镇", "民营社区", RegionKind.COMMUNITY, "420625101002"),
]
GRIDS: list[tuple[str, str, str]] = [("新华村", "第一网格", "420625100201001")]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    full_name: str
    role: Role
    region_name: str
    what: str


DEMO_LOGINS: tuple[DemoLogin, ...] = (
    DemoLogin("county_admin", "李华", Role.COUNTY_ADMIN, "谷城县", "县委组织部：全县数据、配置与看板"),
    DemoLogin("township_admin", "陈静", Role.TOWNSHIP_ADMIN, "城关镇", "城关镇：审核积分、兑换日与库存"),
    DemoLogin(
        "village_secretary", "刘强", Role.VILLAGE_SECRETARY, "新华村", "新华村党支部书记：受理派单与审核"
    ),
    DemoLogin("grid_leader", "王秀英", Role.GRID_LEADER, "第一网格", "新华村第一网格网格长：手机上报民情"),
    DemoLogin("canteen_manager", "赵敏", Role.CANTEEN_MANAGER, "民营社区", "石花镇民营社区爱心食堂管理员"),
)


@dataclass(frozen=True)
class Scale:
    """How much of the county to build."""

    name: str
    households_per_grid: tuple[int, int]  # inclusive range, drawn per grid
    minying_households_per_grid: tuple[int, int]
    grids_per_village: int | None  # None: the real allocation, TOTAL_GRIDS in all
    all_villages: bool  # False: per township its first community and village, the named ones, Yanhe's 8
    talents_per_category: int
    county_committee_size: int
    township_committee_size: int
    chain_branch_size: int


SKELETON = "skeleton"
SCALES: dict[str, Scale] = {
    "test": Scale("test", (4, 4), (4, 4), 2, False, 3, 3, 2, 2),
    "default": Scale("default", (7, 13), (90, 110), None, True, 100, 11, 7, 8),
    "county": Scale("county", (85, 115), (90, 110), None, True, 100, 11, 7, 20),
}
SCALE_NAMES = (SKELETON, *SCALES)

COUNT_LABELS = {
    "townships": gettext_lazy("乡镇"),
    "villages": gettext_lazy("村（社区）"),
    "grids": gettext_lazy("网格"),
    "grid_leaders": gettext_lazy("在任百户网格长"),
    "households": gettext_lazy("户"),
    "residents": gettext_lazy("居民"),
    "party_organisations": gettext_lazy("党组织"),
    "party_members": gettext_lazy("党员（含预备党员）"),
    "pipeline": gettext_lazy("入党申请人、积极分子、发展对象"),
    "sages_members": gettext_lazy("乡贤说事评理团成员"),
    "talents": gettext_lazy("“七个一百”乡土人才"),
    "gatherings": gettext_lazy("神农英雄会"),
    "role_models": gettext_lazy("先进典型"),
    "points_stores": gettext_lazy("积分超市"),
    "points_items": gettext_lazy("积分超市兑换商品"),
}


def _region(parent: Region | None, name: str, kind: RegionKind, code: str) -> Region:
    existing = Region.objects.filter(parent=parent, name=name).first()
    return existing or region_services.region_create(parent=parent, name=name, kind=kind, code=code)


def _seed_skeleton(password: str) -> tuple[dict[str, Region], dict[str, User]]:
    regions: dict[str, Region] = {}
    county = _region(None, COUNTY[0], RegionKind.COUNTY, COUNTY[1])
    regions[county.name] = county
    for name, kind, code in TOWNSHIPS:
        regions[name] = _region(county, name, kind, code)
    for township, name, kind, code in VILLAGES:
        regions[name] = _region(regions[township], name, kind, code)
    for village, name, code in GRIDS:
        regions[name] = _region(regions[village], name, RegionKind.GRID, code)

    users: dict[str, User] = {}
    for login in DEMO_LOGINS:
        user = User.objects.filter(username=login.username).first()
        if user is None:
            user = role_services.user_create(
                username=login.username, password=password, full_name=login.full_name
            )
        else:
            # Re-seeding resets the demo password so DEMO_PASSWORD always works.
            user.set_password(password)
            user.full_name = login.full_name
            user.save(update_fields=["password", "full_name"])
        if login.role == Role.COUNTY_ADMIN:
            # The county organisation department configures schedules and rules in /admin/.
            User.objects.filter(pk=user.pk).update(is_staff=True, is_superuser=True)
        role_services.role_assign(user=user, role=login.role, region=regions[login.region_name])
        users[login.username] = user
    return regions, users


def demo_county_populated(county: Region | None = None) -> bool:
    """Whether the county has people or Party organisations already (then the bulk build is skipped)."""
    county = county or Region.objects.filter(parent=None, name=COUNTY[0]).first()
    if county is None:
        return False
    return (
        Household.objects.filter(grid__path__startswith=county.path).exists()
        or PartyOrganisation.objects.filter(region__path__startswith=county.path).exists()
    )


@transaction.atomic
def seed_demo_county(
    *,
    password: str | None = None,
    scale: str = SKELETON,
    progress: Callable[[str], None] | None = None,
    use_copy: bool | None = None,
) -> dict[str, Region]:
    """Create (or complete) the demo county and its log-ins; return the skeleton's regions by name.

        `scale` "skeleton" (the default, what the test fixture uses) makes only the 16 skeleton regions
        and the five log-ins; "test", "default" and "county" build the whole county at that size unless it
        is populated already. `use_copy` forces (True) or avoids (False) COPY; by default PostgreSQL uses it
    and other databases run a prepared INSERT with executemany.
    """
    if scale not in SCALE_NAMES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALE_NAMES)}")
    password = password or settings.DEMO_PASSWORD
    say = progress or (lambda _message: None)
    regions, users = _seed_skeleton(password)
    if scale == SKELETON:
        return regions
    county = regions[COUNTY[0]]
    if demo_county_populated(county):
        say(_("演示县已有数据，不再重复生成；只重置了演示账号的密码。"))
        return regions
    if use_copy is None:
        use_copy = connection.vendor == "postgresql"
    _CountyBuilder(SCALES[scale], county=county, users=users, say=say, use_copy=use_copy).build()
    # The grids module's year of cases sits on the county just built (imported here: grids.demo builds on
    # this module's writer).
    from grids.demo import seed_demo_cases

    seed_demo_cases(county=county, users=users, scale=scale, say=say, use_copy=use_copy)
    from points.demo import seed_demo_points  # the points year sits on the grid leaders and staff just made

    seed_demo_points(county=county, users=users, scale=scale, say=say, use_copy=use_copy)
    from canteens.demo import seed_demo_canteens  # the livelihood sites' year sits on the people and log-ins

    seed_demo_canteens(county=county, users=users, scale=scale, say=say, use_copy=use_copy)
    from industry.demo import seed_demo_industry  # the chains and expos sit on the villages and people

    seed_demo_industry(county=county, users=users, scale=scale, say=say, use_copy=use_copy)
    return regions


def demo_county_counts() -> dict[str, int]:
    """The headline figures of the county as stored (keys of COUNT_LABELS); empty without a county."""
    county = Region.objects.filter(parent=None, name=COUNTY[0]).first()
    if county is None:
        return {}
    from points.demo import points_demo_counts  # points builds on this module

    under = county.path
    regions = Region.objects.filter(path__startswith=under)
    members = PartyMember.objects.filter(resident__household__grid__path__startswith=under)
    in_party = [MembershipStage.PROBATIONARY, MembershipStage.FULL]
    role_models = RoleModel.objects.filter(resident__household__grid__path__startswith=under)
    return {
        "townships": regions.filter(level=RegionLevel.TOWNSHIP).count(),
        "villages": regions.filter(level=RegionLevel.VILLAGE).count(),
        "grids": regions.filter(level=RegionLevel.GRID).count(),
        "grid_leaders": GridLeader.objects.filter(grid__path__startswith=under, ended_on=None).count(),
        "households": Household.objects.filter(grid__path__startswith=under).count(),
        "residents": Resident.objects.filter(household__grid__path__startswith=under).count(),
        "party_organisations": PartyOrganisation.objects.filter(region__path__startswith=under).count(),
        "party_members": members.filter(stage__in=in_party).count(),
        "pipeline": members.exclude(stage__in=in_party).count(),
        "sages_members": SagesMember.objects.filter(group__village__path__startswith=under).count(),
        "talents": Talent.objects.filter(resident__household__grid__path__startswith=under).count(),
        "gatherings": ShennongGathering.objects.filter(role_models__in=role_models).distinct().count(),
        "role_models": role_models.count(),
        **points_demo_counts(under),
    }


# --- Writing rows in bulk --------------------------------------------------------------------------------

# Every table the bulk build inserts into with explicit primary keys.
BULK_MODELS: tuple[type[models.Model], ...] = (
    Region,
    RegionCode,
    PartyOrganisation,
    PartyOrganisation.villages.through,
    Household,
    HouseholdTag,
    Resident,
    ResidentTag,
    PartyMember,
    MembershipStep,
    MemberTransfer,
    PartyLeadership,
    SagesGroup,
    SagesMember,
    Talent,
    TalentTraining,
    RoleModel,
    ShennongGathering,
    RoleModelSelection,
    GridLeader,
)
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    if isinstance(value, dt.date):  # datetimes too
        return value.isoformat()
    return str(value)


class _Writer:
    """Buffers rows ({attname: value}, primary key included) and writes them in large batches: COPY on
    PostgreSQL, otherwise one prepared INSERT run with executemany (Django's bulk_create spends more
    time preparing each field than the database spends storing it). Columns a row leaves out take the
    field's default; auto_now fields the time of the run."""

    def __init__(self, *, use_copy: bool, batch_size: int = 20_000) -> None:
        self.use_copy = use_copy
        self.batch_size = batch_size
        self.buffers: dict[type[models.Model], list[dict[str, Any]]] = {}
        self.counts: Counter[str] = Counter()
        self.now = timezone.now()

    def add(self, model: type[models.Model], row: dict[str, Any]) -> None:
        buffer = self.buffers.setdefault(model, [])
        buffer.append(row)
        if len(buffer) >= self.batch_size:
            self.flush(model)

    def flush(self, model: type[models.Model] | None = None) -> None:
        for target in [model] if model is not None else list(self.buffers):
            rows = self.buffers.get(target)
            if not rows:
                continue
            self.buffers[target] = []
            self.counts[target._meta.label_lower] += len(rows)
            if self.use_copy:
                self._copy(target, rows)
            else:
                self._insert(target, rows)

    def _columns(self, model: type[models.Model]) -> list[tuple[str, str, Any, Callable[[Any], Any] | None]]:
        """(attname, column, default, adapter for the driver) of every concrete field."""
        ops = connection.ops
        adapters: dict[str, Callable[[Any], Any]] = {
            "DateTimeField": ops.adapt_datetimefield_value,
            "DateField": ops.adapt_datefield_value,
        }
        plan = []
        for f in model._meta.concrete_fields:
            adapt = adapters.get(f.get_internal_type())
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                # Rows never carry these: adapt the one value once, not on every row.
                default: Any = adapt(self.now) if adapt and not self.use_copy else self.now
                adapt = None
            elif f.has_default():
                default = f.get_default()
            elif f.null:
                default = None
            else:
                default = KeyError  # the row must carry it
            plan.append((f.attname, f.column, default, adapt))
        return plan

    @staticmethod
    def _values(
        model: type[models.Model], row: dict[str, Any], plan: list[tuple[str, str, Any, Any]]
    ) -> list[Any]:
        values = []
        for attname, _column, default, _adapt in plan:
            value = row.get(attname, default)
            if value is KeyError:
                raise KeyError(f"{model._meta.label}.{attname}")
            values.append(value)
        return values

    def _insert(self, model: type[models.Model], rows: list[dict[str, Any]]) -> None:
        plan = self._columns(model)
        adapted = [(i, adapt) for i, (_a, _c, _d, adapt) in enumerate(plan) if adapt is not None]
        params = []
        for row in rows:
            values = self._values(model, row, plan)
            for i, adapt in adapted:
                if values[i] is not None:
                    values[i] = adapt(values[i])
            params.append(values)
        quote = connection.ops.quote_name
        columns = ", ".join(quote(column) for _a, column, _d, _f in plan)
        placeholders = ", ".join(["%s"] * len(plan))
        # Table and column names come from the models' metadata, quoted; the values travel as parameters.
        sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({placeholders})"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)

    def _copy(self, model: type[models.Model], rows: list[dict[str, Any]]) -> None:
        plan = self._columns(model)
        out = io.StringIO()
        for row in rows:
            out.write("\t".join(_copy_text(value) for value in self._values(model, row, plan)))
            out.write("\n")
        out.seek(0)
        quote = connection.ops.quote_name
        columns = ", ".join(quote(column) for _a, column, _d, _f in plan)
        sql = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
        with connection.cursor() as cursor:
            raw = cursor.cursor
            if hasattr(raw, "copy_expert"):  # psycopg2
                raw.copy_expert(sql, out)
            else:  # psycopg 3
                with raw.copy(sql) as copy:
                    copy.write(out.getvalue())


class _Ids:
    """Explicit primary keys, continuing after the largest one in each table."""

    def __init__(self, tables: Iterable[type[models.Model]]) -> None:
        self.next = {m: (m._default_manager.aggregate(n=Max("pk"))["n"] or 0) + 1 for m in tables}

    def __call__(self, model: type[models.Model]) -> int:
        value = self.next[model]
        self.next[model] = value + 1
        return value


# --- The county in memory while it is built --------------------------------------------------------------


@dataclass(eq=False, slots=True)
class _Grid:
    id: int
    name: str
    code: str
    path: str
    index: int
    village: _Village
    persons: list[_Person] = field(default_factory=list)


@dataclass(eq=False, slots=True)
class _Village:
    id: int
    name: str
    kind: str
    code: str
    path: str
    township: _Township
    grids: list[_Grid] = field(default_factory=list)
    branch_id: int = 0
    general_branch: bool = False
    persons: list[_Person] = field(default_factory=list)
    secretary: _Member | None = None


@dataclass(eq=False, slots=True)
class _Township:
    id: int
    name: str
    kind: str
    code: str
    path: str
    villages: list[_Village] = field(default_factory=list)
    committee_id: int = 0
    committee_path: str = ""


@dataclass(eq=False, slots=True)
class _Person:
    id: int
    grid: _Grid
    name: str
    gender: str
    birth: dt.date
    age: int
    relation: str
    status: str
    tags: list[str]
    member: _Member | None = None
    pinned: str = ""  # "grid_leader" or "secretary": the people behind two demo log-ins


@dataclass(eq=False, slots=True)
class _Member:
    id: int
    person: _Person
    org_id: int
    category: str
    stage: str
    steps: list[tuple[str, dt.date]]
    sponsors: tuple[int, int] | None = None

    def date_of(self, stage: str) -> dt.date | None:
        for step, on in self.steps:
            if step == stage:
                return on
        return None


@dataclass(frozen=True, slots=True)
class _Spec:
    """One person of a household plan, before names and ID numbers."""

    relation: str
    gender: str
    age: int
    away: bool = False
    # Whose surname: "head", "own", "father" (the head's children), "child_father" (grandchildren).
    surname_of: str = "head"
    name: str = ""  # a fixed full name (the demo log-ins' people)
    pinned: str = ""


def _rng(seed: str) -> random.Random:
    """A generator seeded from a string: the same demo data on every run (not for secrets)."""
    return random.Random(seed)  # noqa: S311


def _age(birth: dt.date, on: dt.date = data.AS_OF) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _day_between(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randint(0, max(0, (end - start).days)))


def _largest_remainder(total: int, weights: Sequence[float]) -> list[int]:
    """Split `total` into integers proportional to `weights`, summing exactly to `total`."""
    whole = sum(weights)
    raw = [total * w / whole for w in weights]
    shares = [int(r) for r in raw]
    by_remainder = sorted(range(len(raw)), key=lambda i: (shares[i] - raw[i], i))
    for i in by_remainder[: total - sum(shares)]:
        shares[i] += 1
    return shares


M, F = "M", "F"
# Full members every village branch has at least (villages of the test scale are tiny).
MIN_BRANCH_MEMBERS = 7
REL = RelationToHead
# Household shapes of a Hubei village and their shares: many old people on their own, young families,
# a few three-generation households; ~2.5 registered residents per household on average.
HOUSEHOLD_KINDS = (
    ("elder_alone", 15),
    ("elder_couple", 24),
    ("single", 10),
    ("couple", 11),
    ("couple_child", 16),
    ("young_family", 15),
    ("three_gen", 9),
)


class _CountyBuilder:
    def __init__(
        self,
        scale: Scale,
        *,
        county: Region,
        users: dict[str, User],
        say: Callable[[str], None],
        use_copy: bool,
    ) -> None:
        self.scale = scale
        self.county = county
        self.users = users
        self.say = say
        self.use_copy = use_copy
        self.started = time.monotonic()
        self.writer = _Writer(use_copy=use_copy)
        self.townships: list[_Township] = []
        self.villages_by_name: dict[str, _Village] = {}
        self.chain_branches: dict[str, list[tuple[int, str]]] = {}  # township -> [(org id, chain)]
        self.county_committee_id = 0
        self.county_committee_path = ""
        self.joint_committee_id = 0
        self.role_model_picks: list[tuple[_Person, str, str]] = []
        self._id_seq: dict[tuple[dt.date, str], int] = {}
        self._id_slots = list(range(499))
        _rng("xiangzhi-demo:id-slots").shuffle(self._id_slots)
        self._phones = 0
        self._surnames = [s for s, _w in data.SURNAMES]
        self._surname_weights = list(itertools.accumulate(w for _s, w in data.SURNAMES))

    # -- orchestration --------------------------------------------------------------------------------

    def build(self) -> None:
        if connection.vendor == "postgresql":
            # Explicit keys continue after the largest existing one: keep other writers out until commit.
            tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in BULK_MODELS)
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {tables} IN SHARE ROW EXCLUSIVE MODE")
        self.ids = _Ids(BULK_MODELS)
        self._build_regions()
        self._build_party_tree()
        self.writer.flush()
        grid_total = sum(len(v.grids) for t in self.townships for v in t.villages)
        village_total = sum(len(t.villages) for t in self.townships)
        self.say(
            _("区划：%(t)d 个乡镇，%(v)d 个村（社区），%(g)d 个网格。")
            % {"t": len(self.townships), "v": village_total, "g": grid_total}
        )
        for township in self.townships:
            self._build_township(township)
        self._build_role_models()
        self.writer.flush()
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), list(BULK_MODELS)):
                cursor.execute(sql)
        counts = self.writer.counts
        audit_record(
            actor=None,
            action=AuditAction.IMPORT,
            obj=self.county,
            region_path=self.county.path,
            changes={label: [0, n] for label, n in sorted(counts.items())},
            detail=_("演示数据：谷城县（%(scale)s 规模）批量生成，共 %(rows)d 行。")
            % {"scale": self.scale.name, "rows": sum(counts.values())},
        )
        self.say(_("写入完成，用时 %(s).1f 秒。") % {"s": time.monotonic() - self.started})

    # -- regions --------------------------------------------------------------------------------------

    def _layout(self) -> list[tuple[tuple[str, str, str], list[tuple[str, str, str, bool]]]]:
        """Per township (name, kind, code) its villages as (name, kind, code, in this scale's sample).

        Names come from one generator for every scale, so the test county's villages are the same as
        the full county's."""
        rng = _rng("xiangzhi-demo:names")
        used = set(data.PINNED_VILLAGES.values())
        communities = list(data.COMMUNITY_NAMES)
        rng.shuffle(communities)
        places = list(data.VILLAGE_PLACE_NAMES)
        rng.shuffle(places)

        def next_community() -> str:
            while True:
                name = communities.pop() + "社区"
                if name not in used:
                    used.add(name)
                    return name

        def next_village() -> str:
            while True:
                if places and rng.random() < 0.5:
                    name = places.pop() + "村"
                else:
                    name = (
                        rng.choice(data.VILLAGE_FAMILY_NAMES)
                        + rng.choice(data.VILLAGE_FAMILY_SUFFIXES)
                        + "村"
                    )
                if name not in used:
                    used.add(name)
                    return name

        layout = []
        for tname, tkind, tcode, n_communities, n_villages in data.TOWNSHIP_LAYOUT:
            villages = []
            for kind, count, first_number in (("community", n_communities, 1), ("village", n_villages, 200)):
                for index in range(count):
                    pinned = data.PINNED_VILLAGES.get((tname, kind, index))
                    if pinned:
                        name = pinned
                    elif kind == "community" and index == 0 and tname != "城关镇":
                        name = f"{tname[:2]}街社区"  # the town seat
                        used.add(name)
                    else:
                        name = next_community() if kind == "community" else next_village()
                    in_sample = (
                        self.scale.all_villages
                        or index == 0
                        or pinned is not None
                        or (tname == "五山镇" and kind == "village" and index in data.YANHE_NEIGHBOURS)
                    )
                    code = f"{tcode[:9]}{first_number + index:03d}"
                    villages.append((name, kind, code, in_sample))
            layout.append(((tname, tkind, tcode), villages))
        return layout

    def _grid_counts(self, villages: list[tuple[str, str]]) -> list[int]:
        """Grids per village (name, kind): TOTAL_GRIDS in all, 民营社区 with MINYING_GRIDS."""
        if self.scale.grids_per_village is not None:
            return [self.scale.grids_per_village] * len(villages)
        rng = _rng("xiangzhi-demo:grids")
        weights = []
        for name, kind in villages:
            if kind == "community":
                weights.append(rng.uniform(0.9, 1.5))
            else:
                weights.append(rng.uniform(0.55, 1.45))
            if name == data.MINYING:
                weights[-1] = 0.0
        minying = [i for i, (name, _k) in enumerate(villages) if name == data.MINYING]
        free = [i for i in range(len(villages)) if i not in minying]
        shares = _largest_remainder(
            data.TOTAL_GRIDS - data.MINYING_GRIDS * len(minying), [weights[i] for i in free]
        )
        counts = [0] * len(villages)
        for i, share in zip(free, shares, strict=True):
            counts[i] = share
        for i in minying:
            counts[i] = data.MINYING_GRIDS
        return counts

    def _build_regions(self) -> None:
        existing = {
            (r.parent_id, r.name): r for r in Region.objects.filter(path__startswith=self.county.path)
        }
        has_code = set(
            RegionCode.objects.filter(region__path__startswith=self.county.path).values_list(
                "region_id", flat=True
            )
        )
        rng = _rng("xiangzhi-demo:regions")
        layout = self._layout()
        sample = [(name, kind) for _t, villages in layout for name, kind, _c, keep in villages if keep]
        grid_counts = dict(zip(sample, self._grid_counts(sample), strict=True))

        def place(
            parent: Region | _Township | _Village | None,
            level: str,
            kind: str,
            name: str,
            code: str,
            valid_from: dt.date | None,
        ) -> tuple[int, str]:
            parent_id = parent.id if parent is not None else None
            parent_path = parent.path if parent is not None else ""
            found = existing.get((parent_id, name))
            if found is not None:
                if found.valid_from is None and valid_from is not None:
                    Region.objects.filter(pk=found.pk).update(valid_from=valid_from)
                region_id, path = found.pk, found.path
            else:
                region_id = self.ids(Region)
                path = f"{parent_path}{region_id}/"
                self.writer.add(
                    Region,
                    {
                        "id": region_id,
                        "parent_id": parent_id,
                        "level": level,
                        "kind": kind,
                        "name": name,
                        "code": code,
                        "path": path,
                        "valid_from": valid_from,
                    },
                )
            if region_id not in has_code:
                self.writer.add(
                    RegionCode,
                    {
                        "id": self.ids(RegionCode),
                        "region_id": region_id,
                        "code": code,
                        # The statistical division codes as first published for the county (2009).
                        "valid_from": max(valid_from or data.CODES_PUBLISHED, data.CODES_PUBLISHED),
                    },
                )
            return region_id, path

        place(None, RegionLevel.COUNTY, RegionKind.COUNTY, COUNTY[0], COUNTY[1], None)
        for (tname, tkind, tcode), villages in layout:
            tid, tpath = place(
                self.county,
                RegionLevel.TOWNSHIP,
                tkind,
                tname,
                tcode,
                None,  # a real town: its establishment date is not invented here
            )
            township = _Township(tid, tname, tkind, tcode, tpath)
            self.townships.append(township)
            for vname, vkind, vcode, keep in villages:
                if not keep:
                    continue
                vid, vpath = place(
                    township,
                    RegionLevel.VILLAGE,
                    vkind,
                    vname,
                    vcode,
                    dt.date(rng.randint(2002, 2005), rng.randint(1, 12), rng.randint(1, 28)),
                )
                village = _Village(vid, vname, vkind, vcode, vpath, township)
                township.villages.append(village)
                self.villages_by_name[vname] = village
                established = dt.date(2021, rng.randint(3, 9), rng.randint(1, 28))
                for index in range(grid_counts[(vname, vkind)]):
                    gname = data.grid_name(index + 1)
                    gcode = f"{vcode}{index + 1:03d}"
                    gid, gpath = place(village, RegionLevel.GRID, RegionKind.GRID, gname, gcode, established)
                    village.grids.append(_Grid(gid, gname, gcode, gpath, index, village))

    # -- the Party organisation tree ------------------------------------------------------------------

    def _org(
        self,
        *,
        parent_path: str,
        parent_id: int | None,
        kind: str,
        name: str,
        region_id: int,
        established_on: dt.date | None,
    ) -> tuple[int, str]:
        org_id = self.ids(PartyOrganisation)
        path = f"{parent_path}{org_id}/"
        self.writer.add(
            PartyOrganisation,
            {
                "id": org_id,
                "parent_id": parent_id,
                "kind": kind,
                "name": name,
                "region_id": region_id,
                "path": path,
                "established_on": established_on,
            },
        )
        return org_id, path

    def _build_party_tree(self) -> None:
        rng = _rng("xiangzhi-demo:party-tree")
        self.county_committee_id, self.county_committee_path = self._org(
            parent_path="",
            parent_id=None,
            kind=PartyOrgKind.COUNTY_COMMITTEE,
            name="中共谷城县委",
            region_id=self.county.pk,
            established_on=None,  # real organisations: no invented founding dates
        )
        chains = dict(data.INDUSTRY_CHAINS)
        for township in self.townships:
            township.committee_id, township.committee_path = self._org(
                parent_path=self.county_committee_path,
                parent_id=self.county_committee_id,
                kind=PartyOrgKind.TOWNSHIP_COMMITTEE,
                name=f"中共{township.name}委员会",
                region_id=township.id,
                established_on=None,
            )
            for village in township.villages:
                # Communities and big villages have a general branch with branches under it in life;
                # here the general branch is the village's organisation.
                village.general_branch = village.kind == "community" or len(village.grids) >= 16
                kind = (
                    PartyOrgKind.VILLAGE_GENERAL_BRANCH
                    if village.general_branch
                    else PartyOrgKind.VILLAGE_BRANCH
                )
                village.branch_id, _path = self._org(
                    parent_path=township.committee_path,
                    parent_id=township.committee_id,
                    kind=kind,
                    name=f"中共{village.name}{'总支部' if village.general_branch else '支部'}委员会",
                    region_id=village.id,
                    established_on=dt.date(rng.randint(1952, 2005), rng.randint(1, 12), rng.randint(1, 28)),
                )
            for chain, based_in in data.INDUSTRY_CHAINS:
                if based_in != township.name or chain not in chains:
                    continue
                org_id, _path = self._org(
                    parent_path=township.committee_path,
                    parent_id=township.committee_id,
                    kind=PartyOrgKind.CHAIN_BRANCH,
                    name=f"{township.name}{chain}产业链党支部",
                    region_id=township.id,
                    established_on=dt.date(2021, rng.randint(3, 10), rng.randint(1, 28)),
                )
                self.chain_branches.setdefault(township.name, []).append((org_id, chain))
            if township.name == "五山镇":
                yanhe = self.villages_by_name[data.YANHE]
                self.joint_committee_id, _path = self._org(
                    parent_path=township.committee_path,
                    parent_id=township.committee_id,
                    kind=PartyOrgKind.JOINT_COMMITTEE,
                    name=data.YANHE_JOINT_COMMITTEE,
                    region_id=yanhe.id,
                    established_on=dt.date(2019, 6, 18),
                )
                through = PartyOrganisation.villages.through
                for village in self._joint_villages(township):
                    self.writer.add(
                        through,
                        {
                            "id": self.ids(through),
                            "partyorganisation_id": self.joint_committee_id,
                            "region_id": village.id,
                        },
                    )

    def _joint_villages(self, wushan: _Township) -> list[_Village]:
        """堰河村 and its seven neighbours (by their place among 五山镇's villages)."""
        by_code = {v.code: v for v in wushan.villages}
        codes = [f"{wushan.code[:9]}{200 + i:03d}" for i in (10, *data.YANHE_NEIGHBOURS)]
        return [by_code[c] for c in codes if c in by_code]

    # -- people ---------------------------------------------------------------------------------------

    def _surname(self, rng: random.Random) -> str:
        return rng.choices(self._surnames, cum_weights=self._surname_weights)[0]

    def _given_name(self, rng: random.Random, gender: str, birth_year: int) -> str:
        era = "old" if birth_year < 1962 else "middle" if birth_year < 1988 else "young"
        chars = data.GIVEN_NAME_CHARS[(era, gender)]
        if rng.random() < 0.22:
            return rng.choice(chars)
        return rng.choice(chars) + rng.choice(chars)

    def _id_number(self, birth: dt.date, gender: str) -> tuple[str, dt.date]:
        """A unique valid ID number: 420625, the birth date, a sequence (odd for men), the check char.

        The sequence is a counter per birth date and gender; a full day moves the birth to the next."""
        while True:
            n = self._id_seq.get((birth, gender), 0)
            if n < len(self._id_slots):
                self._id_seq[(birth, gender)] = n + 1
                slot = self._id_slots[(n + birth.toordinal() * 7919) % len(self._id_slots)]
                sequence = 2 * slot + 1 if gender == M else 2 * slot + 2
                first17 = f"{data.ID_PREFIX}{birth:%Y%m%d}{sequence:03d}"
                return first17 + pii.id_number_check_char(first17), birth
            birth += dt.timedelta(days=1)

    def _phone(self, rng: random.Random) -> str:
        # A bijection of a counter on 10^8 keeps every phone distinct while looking random.
        self._phones += 1
        last8 = (self._phones * 48271 + 19260817) % 100_000_000
        return f"{rng.choice(data.PHONE_PREFIXES)}{last8:08d}"

    def _plan(self, rng: random.Random) -> tuple[str, list[_Spec]]:
        kind = rng.choices([k for k, _w in HOUSEHOLD_KINDS], weights=[w for _k, w in HOUSEHOLD_KINDS])[0]

        def away(age: int) -> bool:
            if 20 <= age <= 45:
                return rng.random() < 0.42
            if 18 <= age <= 59:
                return rng.random() < 0.22
            return False

        head_gender, spouse_gender = (F, M) if rng.random() < 0.1 else (M, F)
        if kind == "elder_alone":
            return kind, [_Spec(REL.SELF, F if rng.random() < 0.62 else M, rng.randint(65, 93))]
        if kind == "elder_couple":
            age = rng.randint(62, 88)
            return kind, [
                _Spec(REL.SELF, head_gender, age),
                _Spec(REL.SPOUSE, spouse_gender, max(58, age + rng.randint(-5, 3)), surname_of="own"),
            ]
        if kind == "single":
            age = rng.randint(24, 60)
            return kind, [_Spec(REL.SELF, M if rng.random() < 0.7 else F, age, away(age))]
        if kind == "couple":
            age = rng.randint(38, 62)
            spouse_age = age + rng.randint(-5, 3)
            return kind, [
                _Spec(REL.SELF, head_gender, age, away(age)),
                _Spec(REL.SPOUSE, spouse_gender, spouse_age, away(spouse_age), surname_of="own"),
            ]
        if kind == "couple_child":
            age = rng.randint(40, 62)
            spouse_age = age + rng.randint(-5, 3)
            child_age = max(14, age - rng.randint(22, 30))
            return kind, [
                _Spec(REL.SELF, head_gender, age, away(age)),
                _Spec(REL.SPOUSE, spouse_gender, spouse_age, away(spouse_age), surname_of="own"),
                _Spec(REL.CHILD, rng.choice((M, F)), child_age, away(child_age), surname_of="father"),
            ]
        if kind == "young_family":
            age = rng.randint(26, 45)
            spouse_age = age + rng.randint(-5, 3)
            head_away = away(age)
            spouse_away = rng.random() < (0.3 if head_away else 0.1)
            people = [
                _Spec(REL.SELF, head_gender, age, head_away),
                _Spec(REL.SPOUSE, spouse_gender, spouse_age, spouse_away, surname_of="own"),
            ]
            for _n in range(1 if rng.random() < 0.55 else 2):
                people.append(
                    _Spec(
                        REL.CHILD, rng.choice((M, F)), rng.randint(0, min(18, age - 22)), surname_of="father"
                    )
                )
            if rng.random() < 0.35:
                # The head's father shares the head's surname; the mother keeps her own.
                parent_gender = rng.choice((M, F))
                people.append(
                    _Spec(
                        REL.PARENT,
                        parent_gender,
                        min(95, age + rng.randint(24, 32)),
                        surname_of="head" if parent_gender == M else "own",
                    )
                )
            return kind, people
        # three generations: the old couple, their child with spouse, one or two grandchildren
        age = rng.randint(50, 72)
        child_age = max(22, age - rng.randint(22, 30))
        child_gender = M if rng.random() < 0.75 else F
        child_away = away(child_age)
        in_law_away = rng.random() < (0.45 if child_away else 0.15)
        people = [
            _Spec(REL.SELF, head_gender, age),
            _Spec(REL.SPOUSE, spouse_gender, age + rng.randint(-5, 3), surname_of="own"),
            _Spec(REL.CHILD, child_gender, child_age, child_away, surname_of="father"),
            _Spec(
                REL.CHILD_IN_LAW,
                F if child_gender == M else M,
                max(20, child_age + rng.randint(-4, 3)),
                in_law_away,
                surname_of="own",
            ),
        ]
        for _n in range(1 if rng.random() < 0.6 else 2):
            people.append(
                _Spec(
                    REL.GRANDCHILD,
                    rng.choice((M, F)),
                    rng.randint(0, min(16, child_age - 20)),
                    surname_of="child_father",
                )
            )
        return kind, people

    def _pinned_plan(self, village: _Village, grid: _Grid, number: int) -> tuple[str, list[_Spec]] | None:
        """The households of the people behind the demo log-ins, in 新华村."""
        if village.name != data.XINHUA or number != 0:
            return None
        if grid.index == 0:  # 王秀英, grid leader of 第一网格
            name, gender, age = data.GRID_LEADER_DEMO
            return "couple_child", [
                _Spec(REL.SELF, M, age + 3),
                _Spec(REL.SPOUSE, gender, age, surname_of="own", name=name, pinned="grid_leader"),
                _Spec(REL.CHILD, M, 24, True, surname_of="father"),
            ]
        if grid.index == 1:  # 刘强, secretary of 新华村's Party branch
            name, gender, age = data.VILLAGE_SECRETARY_DEMO
            return "young_family", [
                _Spec(REL.SELF, gender, age, name=name, pinned="secretary"),
                _Spec(REL.SPOUSE, F, age - 2, surname_of="own"),
                _Spec(REL.CHILD, F, 15, surname_of="father"),
                _Spec(REL.PARENT, F, 72, surname_of="own"),
            ]
        return None

    def _households(self, rng: random.Random, township: _Township, village: _Village, grid: _Grid) -> None:
        low, high = (
            self.scale.minying_households_per_grid
            if village.name == data.MINYING
            else self.scale.households_per_grid
        )
        for number in range(rng.randint(low, high)):
            pinned = self._pinned_plan(village, grid, number)
            kind, specs = pinned or self._plan(rng)
            # Every grid's first household has someone of working age at home who can lead the grid.
            if number == 0 and pinned is None:
                while not any(25 <= s.age <= 65 and not s.away for s in specs):
                    kind, specs = self._plan(rng)
            self._household(rng, township, village, grid, number, kind, specs)

    def _household(
        self,
        rng: random.Random,
        township: _Township,
        village: _Village,
        grid: _Grid,
        number: int,
        kind: str,
        specs: list[_Spec],
    ) -> None:
        writer, ids = self.writer, self.ids
        household_id = ids(Household)
        head_surname = self._surname(rng)
        own = [self._surname(rng) for _s in specs]
        head, spouse = specs[0], (specs[1] if len(specs) > 1 and specs[1].relation == REL.SPOUSE else None)
        father_surname = head_surname if head.gender == M or spouse is None else own[1]
        child_index = next((i for i, s in enumerate(specs) if s.relation == REL.CHILD), None)
        in_law_index = next((i for i, s in enumerate(specs) if s.relation == REL.CHILD_IN_LAW), None)
        if child_index is not None and specs[child_index].gender == F and in_law_index is not None:
            grandchild_surname = own[in_law_index]
        else:
            grandchild_surname = father_surname
        people: list[_Person] = []
        for index, spec in enumerate(specs):
            surname = {
                "head": head_surname,
                "own": own[index],
                "father": father_surname,
                "child_father": grandchild_surname,
            }[spec.surname_of]
            birth = data.AS_OF - dt.timedelta(days=spec.age * 365 + spec.age // 4 + rng.randint(1, 364))
            name = spec.name or surname + self._given_name(rng, spec.gender, birth.year)
            id_number, birth = self._id_number(birth, spec.gender)
            age = _age(birth)
            status = ResidentStatus.AWAY if spec.away else ResidentStatus.RESIDENT
            phone = ""
            if (18 <= age <= 70 and rng.random() < 0.93) or (age > 70 and rng.random() < 0.45):
                phone = self._phone(rng)
            person = _Person(
                ids(Resident),
                grid,
                name,
                spec.gender,
                birth,
                age,
                spec.relation,
                status,
                [],
                pinned=spec.pinned,
            )
            people.append(person)
            writer.add(
                Resident,
                {
                    "id": person.id,
                    "household_id": household_id,
                    "name": name,
                    "gender": spec.gender,
                    "birth_date": birth,
                    **pii.id_number_columns(id_number),
                    **pii.phone_columns(phone),
                    "relation_to_head": spec.relation,
                    "status": status,
                },
            )
        household_tags = self._tag(rng, kind, people)
        if village.kind == "community":
            # Grids take the streets in turn; a street's later grids continue its house numbers.
            lap, street_index = divmod(grid.index, len(data.COMMUNITY_STREETS))
            street = data.COMMUNITY_STREETS[street_index]
            house = lap * 300 + number * 2 + 1
            address = f"{data.COUNTY_NAME}{township.name}{village.name}{street}{house}号"
        else:
            address = f"{data.COUNTY_NAME}{township.name}{village.name}{grid.index + 1}组{number + 1}号"
        writer.add(
            Household,
            {
                "id": household_id,
                "grid_id": grid.id,
                "number": f"{grid.code}{number + 1:04d}",
                "head_id": people[0].id,
                "address": address,
                "is_active": True,
            },
        )
        for tag in household_tags:
            writer.add(HouseholdTag, {"id": ids(HouseholdTag), "household_id": household_id, "tag": tag})
        grid.persons.extend(people)

    def _tag(self, rng: random.Random, kind: str, people: list[_Person]) -> list[str]:
        """Resident tags (set on the people) and the household's tags (returned)."""
        household_tags: list[str] = []
        working_at_home = any(18 <= p.age <= 59 and p.status == ResidentStatus.RESIDENT for p in people)
        # Old people living on their own mostly have their children working away; in bigger households
        # they are left behind when nobody of working age is at home.
        elderly_only = kind in ("elder_alone", "elder_couple")
        left_behind = rng.random() < 0.7 if elderly_only else not working_at_home
        low_income = rng.random() < (0.15 if kind == "elder_alone" else 0.04)
        if low_income:
            household_tags.append(HouseholdTagKind.LOW_INCOME)
        elif rng.random() < 0.06:
            household_tags.append(HouseholdTagKind.POVERTY_ALLEVIATED)
        if kind == "elder_alone" and not low_income and people[0].age >= 70 and rng.random() < 0.12:
            household_tags.append(HouseholdTagKind.FIVE_GUARANTEES)
        if rng.random() < 0.01:
            household_tags.append(HouseholdTagKind.MILITARY_FAMILY)
        if rng.random() < 0.07:
            household_tags.append(HouseholdTagKind.CIVILISED)
        by_relation: dict[str, list[_Person]] = {}
        for p in people:
            by_relation.setdefault(p.relation, []).append(p)
        for p in people:
            at_home = p.status == ResidentStatus.RESIDENT
            if p.age >= 60 and at_home and left_behind:
                p.tags.append(ResidentTagKind.LEFT_BEHIND_ELDERLY)
            partner = self._partner(p, by_relation)
            if (
                p.gender == F
                and 20 <= p.age <= 59
                and at_home
                and partner is not None
                and partner.status == ResidentStatus.AWAY
            ):
                p.tags.append(ResidentTagKind.LEFT_BEHIND_WOMAN)
            if p.age < 16 and at_home:
                parents = self._parents(p, by_relation)
                if parents and all(q.status == ResidentStatus.AWAY for q in parents):
                    p.tags.append(ResidentTagKind.LEFT_BEHIND_CHILD)
            if low_income:
                p.tags.append(ResidentTagKind.LOW_INCOME)
            if rng.random() < (0.045 if p.age >= 65 else 0.015):
                p.tags.append(ResidentTagKind.DISABILITY)
            if p.gender == M and 30 <= p.age <= 85 and rng.random() < 0.03:
                p.tags.append(ResidentTagKind.VETERAN)
            if 25 <= p.age <= 50 and at_home and rng.random() < 0.05:
                p.tags.append(ResidentTagKind.RETURNED_MIGRANT)
            if p.age >= 60 and rng.random() < 0.012:
                p.tags.append(ResidentTagKind.RETIRED_CADRE)
        return household_tags

    @staticmethod
    def _partner(p: _Person, by_relation: dict[str, list[_Person]]) -> _Person | None:
        pairs: dict[str, str] = {
            REL.SELF: REL.SPOUSE,
            REL.SPOUSE: REL.SELF,
            REL.CHILD: REL.CHILD_IN_LAW,
            REL.CHILD_IN_LAW: REL.CHILD,
        }
        other = pairs.get(p.relation)
        if other is None or other not in by_relation:
            return None
        return by_relation[other][0]

    @staticmethod
    def _parents(p: _Person, by_relation: dict[str, list[_Person]]) -> list[_Person]:
        if p.relation == REL.CHILD:
            return by_relation.get(REL.SELF, []) + by_relation.get(REL.SPOUSE, [])
        if p.relation == REL.GRANDCHILD:
            return by_relation.get(REL.CHILD, [])[:1] + by_relation.get(REL.CHILD_IN_LAW, [])
        return []

    def _write_resident_tags(self, persons: Iterable[_Person]) -> None:
        for p in persons:
            for tag in p.tags:
                self.writer.add(ResidentTag, {"id": self.ids(ResidentTag), "resident_id": p.id, "tag": tag})

    # -- one township ---------------------------------------------------------------------------------

    def _build_township(self, township: _Township) -> None:
        rng = _rng(f"xiangzhi-demo:{township.code}")
        for village in township.villages:
            for grid in village.grids:
                self._households(rng, township, village, grid)
                village.persons.extend(grid.persons)
            self._members(rng, village)
        self._ensure_pipeline(rng, township)
        members = [p.member for v in township.villages for p in v.persons if p.member is not None]
        self._sponsors(rng, township, members)
        if township.name == "城关镇":
            self._committee(
                rng,
                township,
                self.county_committee_id,
                self.scale.county_committee_size,
                dt.date(2026, 9, 24),
                reserve=True,
            )
        self._committee(
            rng,
            township,
            township.committee_id,
            self.scale.township_committee_size,
            dt.date(2026, 9, rng.randint(1, 20)),
            reserve=True,
        )
        for org_id, _chain in self.chain_branches.get(township.name, []):
            self._committee(
                rng,
                township,
                org_id,
                self.scale.chain_branch_size,
                dt.date(2026, 5, rng.randint(1, 28)),
                reserve=False,
            )
        for village in township.villages:
            self._village_leadership(rng, village)
        if township.name == "五山镇":
            self._joint_leadership(township)
        for village in township.villages:
            self._sages(rng, village)
            for grid in village.grids:
                self._grid_leader(rng, grid)
        self._talents(rng, township)
        self._pick_role_models(rng, township)
        for village in township.villages:
            self._write_resident_tags(village.persons)
            self._write_members(rng, village)
            village.persons = []
            for grid in village.grids:
                grid.persons = []
        self.writer.flush()
        self.say(
            _("%(township)s：%(villages)d 个村（社区）已生成，累计 %(households)d 户、%(residents)d 人。")
            % {
                "township": township.name,
                "villages": len(township.villages),
                "households": self.writer.counts["governance.household"],
                "residents": self.writer.counts["governance.resident"],
            }
        )

    # -- Party members and the pipeline ---------------------------------------------------------------

    def _new_member(
        self, person: _Person, org_id: int, stage: str, steps: list[tuple[str, dt.date]]
    ) -> _Member:
        member = _Member(self.ids(PartyMember), person, org_id, MemberCategory.REGULAR, stage, steps)
        person.member = member
        if stage in (MembershipStage.PROBATIONARY, MembershipStage.FULL):
            person.tags.append(ResidentTagKind.PARTY_MEMBER)
        member.category = self._category(person, member)
        return member

    @staticmethod
    def _category(person: _Person, member: _Member) -> str:
        admitted = member.date_of(MembershipStage.PROBATIONARY)
        if member.stage not in (MembershipStage.PROBATIONARY, MembershipStage.FULL) or admitted is None:
            return MemberCategory.REGULAR
        if person.age >= 70:
            return MemberCategory.VETERAN
        if ResidentTagKind.RETIRED_CADRE in person.tags:
            return MemberCategory.RETIRED_CADRE
        if person.status == ResidentStatus.AWAY:
            return MemberCategory.MIGRANT
        if admitted.year >= 2019 and _age(person.birth, admitted) <= 40:
            return MemberCategory.YOUNG_FARMER
        if ResidentTagKind.RETURNED_MIGRANT in person.tags:
            return MemberCategory.RETURNED_MIGRANT
        return MemberCategory.REGULAR

    @staticmethod
    def _steps_back(rng: random.Random, stage: str, on: dt.date) -> list[tuple[str, dt.date]]:
        """The pipeline up to `stage` reached on `on`: each step a plausible while after the one before."""
        gaps = {  # days from the step before
            MembershipStage.ACTIVIST: (30, 180),
            MembershipStage.CANDIDATE: (365, 540),
            MembershipStage.PROBATIONARY: (90, 240),
        }
        order = list(MembershipStage)
        steps = [(stage, on)]
        for index in range(order.index(MembershipStage(stage)), 0, -1):
            low, high = gaps[order[index]]
            on = on - dt.timedelta(days=rng.randint(low, high))
            steps.append((order[index - 1].value, on))
        return steps[::-1]

    def _full_steps(self, rng: random.Random, admitted: dt.date) -> list[tuple[str, dt.date]]:
        # The probationary period is one year (Party Constitution, art. 7).
        return [
            *self._steps_back(rng, MembershipStage.PROBATIONARY, admitted),
            (MembershipStage.FULL.value, _add_years(admitted, 1)),
        ]

    def _members(self, rng: random.Random, village: _Village) -> None:
        latest_full_admission = _add_years(data.AS_OF, -1) - dt.timedelta(days=7)
        pipeline_odds = (
            (MembershipStage.PROBATIONARY, 0.007),
            (MembershipStage.CANDIDATE, 0.007),
            (MembershipStage.ACTIVIST, 0.01),
            (MembershipStage.APPLICANT, 0.012),
        )
        full_members = 0
        for person in village.persons:
            if person.age < 19:
                continue
            band = (
                0.01 if person.age < 25 else 0.035 if person.age < 35 else 0.05 if person.age < 50 else 0.07
            )
            if person.age >= 65:
                band = 0.09
            odds = band * (1.0 if person.gender == M else 0.45)
            draw = rng.random()
            if person.pinned or draw < odds:
                admitted = self._admission_date(rng, person, latest_full_admission)
                if admitted is None:
                    continue
                self._new_member(
                    person, village.branch_id, MembershipStage.FULL, self._full_steps(rng, admitted)
                )
                full_members += 1
                continue
            if not 19 <= person.age <= 40:
                continue
            draw = rng.random()
            for stage, chance in pipeline_odds:
                if draw < chance:
                    self._pipeline_member(rng, person, village.branch_id, stage)
                    break
                draw -= chance
        # A branch needs members for its committee and the township's (and the county's) committees
        # draw on the branches: promote working-age people at home where a village has too few.
        needed = MIN_BRANCH_MEMBERS - full_members
        if needed > 0:
            spare = [
                p
                for p in village.persons
                if p.member is None and 30 <= p.age <= 65 and p.status == ResidentStatus.RESIDENT
            ]
            spare.sort(key=lambda p: (p.gender != M, p.id))
            for person in spare[:needed]:
                admitted = self._admission_date(rng, person, latest_full_admission)
                if admitted is not None:
                    self._new_member(
                        person, village.branch_id, MembershipStage.FULL, self._full_steps(rng, admitted)
                    )

    def _admission_date(self, rng: random.Random, person: _Person, latest: dt.date) -> dt.date | None:
        """When a full member was admitted (became probationary): recently for many young people,
        otherwise at 22–38; never so early that the application would precede the 18th birthday."""
        earliest = _add_years(person.birth, 18) + dt.timedelta(days=3 * 365)
        if earliest > latest:
            return None
        if person.age <= 40 and rng.random() < 0.6:
            start = max(earliest, dt.date(2019, 1, 1))
            end = min(latest, dt.date(2025, 10, 20))
            if start <= end:
                return _day_between(rng, start, end)
        start = max(earliest, _add_years(person.birth, 22))
        end = min(latest, _add_years(person.birth, 38))
        return _day_between(rng, start, end) if start <= end else _day_between(rng, earliest, latest)

    def _pipeline_member(self, rng: random.Random, person: _Person, org_id: int, stage: str) -> bool:
        windows = {
            MembershipStage.PROBATIONARY: (360, 14),
            MembershipStage.CANDIDATE: (240, 7),
            MembershipStage.ACTIVIST: (500, 7),
            MembershipStage.APPLICANT: (300, 1),
        }
        back_far, back_near = windows[MembershipStage(stage)]
        on = data.AS_OF - dt.timedelta(days=rng.randint(back_near, back_far))
        steps = self._steps_back(rng, stage, on)
        if steps[0][1] < _add_years(person.birth, 18):
            return False
        self._new_member(person, org_id, stage, steps)
        return True

    def _ensure_pipeline(self, rng: random.Random, township: _Township) -> None:
        """At least one person at each stage of the pipeline in every township."""
        stages = {p.member.stage for v in township.villages for p in v.persons if p.member is not None}
        for stage in (
            MembershipStage.APPLICANT,
            MembershipStage.ACTIVIST,
            MembershipStage.CANDIDATE,
            MembershipStage.PROBATIONARY,
        ):
            if stage in stages:
                continue
            for village in township.villages:
                candidates = [p for p in village.persons if p.member is None and 23 <= p.age <= 40]
                if candidates and self._pipeline_member(
                    rng, rng.choice(candidates), village.branch_id, stage
                ):
                    break

    def _sponsors(self, rng: random.Random, township: _Township, members: list[_Member]) -> None:
        """Two full members of the same organisation (else of the township) who were full members before
        the candidate stage sponsor everyone from the candidate stage on. Only the very first members
        of a branch, admitted before anyone recorded, have none."""

        def pool(of: Iterable[_Member]) -> tuple[list[dt.date], list[_Member]]:
            dated = sorted(
                (full_on, m.id, m)
                for m in of
                if m.stage == MembershipStage.FULL
                and (full_on := m.date_of(MembershipStage.FULL)) is not None
            )
            return [d for d, _i, _m in dated], [m for _d, _i, m in dated]

        township_pool = pool(members)
        by_org: dict[int, list[_Member]] = {}
        for m in members:
            by_org.setdefault(m.org_id, []).append(m)
        org_pools = {org_id: pool(group) for org_id, group in by_org.items()}
        for m in members:
            candidate_on = m.date_of(MembershipStage.CANDIDATE)
            if candidate_on is None:
                continue
            for dates, full in (org_pools[m.org_id], township_pool):
                eligible = [s for s in full[: bisect.bisect_left(dates, candidate_on)] if s is not m]
                if len(eligible) >= 2:
                    first, second = rng.sample(eligible, 2)
                    m.sponsors = (first.id, second.id)
                    break

    def _committee(
        self,
        rng: random.Random,
        township: _Township,
        org_id: int,
        size: int,
        term_start: dt.date,
        *,
        reserve: bool,
    ) -> None:
        """Members of the township moved into `org_id` (a county or township committee or an industry-chain
        branch); with `reserve` they all lead it (书记, 副书记, 委员), otherwise the first leads as 书记
        and two more sit as 委员. Every village keeps enough full members for its own committee."""
        kept = Counter(
            p.member.org_id
            for v in township.villages
            for p in v.persons
            if p.member is not None and p.member.stage == MembershipStage.FULL
        )
        keep = {v.branch_id: 5 if v.general_branch else 3 for v in township.villages}
        movable = [
            p.member
            for v in township.villages
            for p in v.persons
            if p.member is not None
            and p.member.stage == MembershipStage.FULL
            and p.member.org_id == v.branch_id
            and not p.pinned
        ]
        rng.shuffle(movable)
        # Cadres of working age who live here first; anyone else only where a small county runs short.
        candidates = sorted(
            movable,
            key=lambda m: not (30 <= m.person.age <= 58 and m.person.status == ResidentStatus.RESIDENT),
        )
        chosen: list[_Member] = []
        for m in candidates:
            if len(chosen) == size:
                break
            if kept[m.org_id] <= keep[m.org_id]:
                continue
            kept[m.org_id] -= 1
            m.org_id = org_id
            chosen.append(m)
        if not chosen:
            return
        if reserve:
            deputies = 2 if size >= 7 else 1 if size >= 2 else 0
            positions = [LeadershipPosition.SECRETARY] + [LeadershipPosition.DEPUTY_SECRETARY] * deputies
        else:
            positions = [LeadershipPosition.SECRETARY]
        positions += [LeadershipPosition.COMMITTEE_MEMBER] * (len(chosen) - len(positions))
        limit = len(chosen) if reserve else min(3, len(chosen))
        for m, position in list(zip(chosen, positions, strict=False))[:limit]:
            self._leadership(org_id, m, position, term_start)

    def _leadership(
        self,
        org_id: int,
        member: _Member,
        position: str,
        term_start: dt.date,
        term_end: dt.date | None = None,
    ) -> None:
        self.writer.add(
            PartyLeadership,
            {
                "id": self.ids(PartyLeadership),
                "organisation_id": org_id,
                "member_id": member.id,
                "position": position,
                "term_start": term_start,
                # Village and township bodies serve five years (since the 2018 revision).
                "term_end": term_end or _add_years(term_start, 5),
            },
        )

    def _village_leadership(self, rng: random.Random, village: _Village) -> None:
        """The 2026 committee (书记, for a general branch also a 副书记, and 委员) and the previous
        secretary, 2021–2026."""
        full = [
            p.member
            for p in village.persons
            if p.member is not None
            and p.member.stage == MembershipStage.FULL
            and p.member.org_id == village.branch_id
        ]
        able = [m for m in full if 25 <= m.person.age <= 68 and m.person.status == ResidentStatus.RESIDENT]
        pool = able if len(able) >= 3 else full
        pool = sorted(pool, key=lambda m: m.id)
        rng.shuffle(pool)
        if village.name == data.XINHUA:
            pool.sort(key=lambda m: m.person.pinned != "secretary")
        if not pool:
            return
        term_start = dt.date(2026, rng.randint(3, 5), rng.randint(1, 28))
        positions = [LeadershipPosition.SECRETARY]
        if village.general_branch:
            positions += [LeadershipPosition.DEPUTY_SECRETARY] + [LeadershipPosition.COMMITTEE_MEMBER] * 3
        else:
            positions += [LeadershipPosition.COMMITTEE_MEMBER] * 2
        for member, position in zip(pool, positions, strict=False):
            self._leadership(village.branch_id, member, position, term_start)
        village.secretary = pool[0]
        # Most secretaries were re-elected; the rest took over from someone else in the branch.
        previous = pool[0] if rng.random() < 0.6 or len(pool) <= len(positions) else pool[len(positions)]
        self._leadership(
            village.branch_id,
            previous,
            LeadershipPosition.SECRETARY,
            dt.date(2021, rng.randint(1, 3), rng.randint(1, 28)),
            term_start,
        )

    def _joint_leadership(self, wushan: _Township) -> None:
        """堰河村's secretary leads the joint committee; its villages' secretaries sit on it."""
        villages = self._joint_villages(wushan)
        secretaries = [v.secretary for v in villages if v.secretary is not None]
        term_start = dt.date(2026, 5, 28)
        for index, member in enumerate(secretaries):
            position = (
                LeadershipPosition.SECRETARY
                if index == 0
                else LeadershipPosition.DEPUTY_SECRETARY
                if index == 1
                else LeadershipPosition.COMMITTEE_MEMBER
            )
            self._leadership(self.joint_committee_id, member, position, term_start)

    def _write_members(self, rng: random.Random, village: _Village) -> None:
        writer, ids = self.writer, self.ids
        members = [p.member for p in village.persons if p.member is not None]
        for m in members:
            writer.add(
                PartyMember,
                {
                    "id": m.id,
                    "resident_id": m.person.id,
                    "organisation_id": m.org_id,
                    "category": m.category,
                    "stage": m.stage,
                    "sponsor_1_id": m.sponsors[0] if m.sponsors else None,
                    "sponsor_2_id": m.sponsors[1] if m.sponsors else None,
                },
            )
            for stage, on in m.steps:
                writer.add(
                    MembershipStep,
                    {
                        "id": ids(MembershipStep),
                        "member_id": m.id,
                        "stage": stage,
                        "occurred_on": on,
                        "note": data.STEP_NOTES[stage],
                    },
                )
            full_on = m.date_of(MembershipStage.FULL)
            # A few members came from another village's branch (marriage, returning home…).
            if full_on is not None and m.org_id == village.branch_id and rng.random() < 0.015:
                others = [v for v in village.township.villages if v is not village]
                if others and full_on < data.AS_OF:
                    writer.add(
                        MemberTransfer,
                        {
                            "id": ids(MemberTransfer),
                            "member_id": m.id,
                            "from_organisation_id": rng.choice(others).branch_id,
                            "to_organisation_id": m.org_id,
                            "transferred_on": _day_between(rng, full_on, data.AS_OF),
                            "reason": rng.choice(data.TRANSFER_REASONS),
                        },
                    )

    # -- sages, grid leaders, talents, role models ----------------------------------------------------

    def _sages(self, rng: random.Random, village: _Village) -> None:
        group_id = self.ids(SagesGroup)
        established = dt.date(2021, rng.randint(1, 12), rng.randint(1, 28))
        self.writer.add(
            SagesGroup,
            {
                "id": group_id,
                "village_id": village.id,
                "name": f"{village.name}乡贤说事评理团",
                "established_on": established,
            },
        )
        at_home = [p for p in village.persons if p.status == ResidentStatus.RESIDENT and p.age >= 18]

        def kind_of(p: _Person) -> str:
            if p.member is not None and p.member.category == MemberCategory.VETERAN:
                return SagesMemberKind.VETERAN_MEMBER
            if ResidentTagKind.RETIRED_CADRE in p.tags or (
                p.member is not None and p.member.category == MemberCategory.RETIRED_CADRE
            ):
                return SagesMemberKind.RETIRED_CADRE
            return SagesMemberKind.RESPECTED_VILLAGER

        ranked = sorted(
            at_home,
            key=lambda p: (
                kind_of(p) == SagesMemberKind.RESPECTED_VILLAGER,
                p.age < 55,
                rng.random(),
            ),
        )
        for p in ranked[: rng.randint(5, 9)]:
            self.writer.add(
                SagesMember,
                {
                    "id": self.ids(SagesMember),
                    "group_id": group_id,
                    "resident_id": p.id,
                    "kind": kind_of(p),
                    "joined_on": _day_between(rng, established, dt.date(2024, 12, 31)),
                    "is_active": True,
                },
            )

    def _grid_leader(self, rng: random.Random, grid: _Grid) -> None:
        """The grid's leaders: the one elected in 2021 with the village committees (March–May, a three-year
        term) and the one elected in 2024, in office now. Most grids re-elected their leader in 2024 (the
        same resident, a new term: a new row); about one in seventeen elected someone else. The draws of
        `rng` are the ones the current leader always took (the rest of the county stays as it was); the
        2021 election draws from a generator of its own, seeded by the grid's code."""
        able = [p for p in grid.persons if 25 <= p.age <= 65 and p.status == ResidentStatus.RESIDENT]
        if not able:
            able = [p for p in grid.persons if p.age >= 18] or grid.persons
        user_id = None
        if grid.village.name == data.XINHUA and grid.index == 0:
            leader = next(p for p in grid.persons if p.pinned == "grid_leader")
            user_id = self.users["grid_leader"].pk
        else:
            # Many grid leaders are Party members.
            weights = [
                3.0 if p.member is not None and p.member.stage == MembershipStage.FULL else 1.0 for p in able
            ]
            leader = rng.choices(able, weights=weights)[0]
        elected = dt.date(2024, rng.randint(3, 5), rng.randint(1, 28))
        if rng.random() < 0.06 and len(able) > 1:
            before = rng.choice([p for p in able if p is not leader])
            previous_elected = dt.date(2021, rng.randint(3, 5), rng.randint(1, 28))
        else:
            before = leader
            history = _rng(f"grid-leader-2021-{grid.code}")
            previous_elected = dt.date(2021, history.randint(3, 5), history.randint(1, 28))
            if _age(leader.birth, previous_elected) < 18:  # a grid of young people only: its eldest then
                before = max(grid.persons, key=lambda p: p.age)
        self.writer.add(
            GridLeader,
            {
                "id": self.ids(GridLeader),
                "grid_id": grid.id,
                "resident_id": before.id,
                "user_id": None,
                "elected_on": previous_elected,
                "term_end": _add_years(previous_elected, 3),
                "ended_on": elected - dt.timedelta(days=1),
            },
        )
        self.writer.add(
            GridLeader,
            {
                "id": self.ids(GridLeader),
                "grid_id": grid.id,
                "resident_id": leader.id,
                "user_id": user_id,
                "elected_on": elected,
                "term_end": _add_years(elected, 3),
                "ended_on": None,
            },
        )

    def _quota(self, township: _Township, total: int) -> int:
        weights = [len(t.villages) for t in self.townships]
        return _largest_remainder(total, weights)[self.townships.index(township)]

    def _talents(self, rng: random.Random, township: _Township) -> None:
        """ "七个一百": one hundred people per category county-wide, split among townships by size."""
        pool = [
            p
            for v in township.villages
            for p in v.persons
            if 22 <= p.age <= 60 and p.status == ResidentStatus.RESIDENT
        ]
        rng.shuffle(pool)
        for category in TalentCategory:
            wanted = self._quota(township, self.scale.talents_per_category)
            for _n in range(min(wanted, len(pool))):
                person = pool.pop()
                talent_id = self.ids(Talent)
                registered = dt.date(rng.randint(2020, 2024), rng.randint(1, 12), rng.randint(1, 28))
                self.writer.add(
                    Talent,
                    {
                        "id": talent_id,
                        "resident_id": person.id,
                        "category": category.value,
                        "speciality": rng.choice(data.TALENT_SPECIALITIES[category.value]),
                        "registered_on": registered,
                    },
                )
                for title in rng.sample(data.TALENT_TRAININGS[category.value], rng.randint(1, 3)):
                    self.writer.add(
                        TalentTraining,
                        {
                            "id": self.ids(TalentTraining),
                            "talent_id": talent_id,
                            "title": title,
                            "held_on": _day_between(rng, registered, dt.date(2026, 9, 30)),
                            "hours": rng.choice((16, 24, 32, 40, 56)),
                            "organiser": rng.choice(data.TRAINING_ORGANISERS),
                        },
                    )

    def _pick_role_models(self, rng: random.Random, township: _Township) -> None:
        total = len(data.SHENNONG_GATHERINGS) * data.ROLE_MODELS_PER_GATHERING
        wanted = self._quota(township, total)
        preferred = [v for v in township.villages if v.name in data.PREFERRED_ROLE_MODEL_VILLAGES]
        villages = preferred + sorted(
            (v for v in township.villages if v not in preferred), key=lambda v: v.code
        )
        pools = []
        for village in villages:
            pool = [p for p in village.persons if 25 <= p.age <= 75 and p.status == ResidentStatus.RESIDENT]
            rng.shuffle(pool)
            pools.append(pool)
        # One per village in turn, so that the honours spread over the township.
        while wanted and any(pools):
            for pool in pools:
                if wanted and pool:
                    title, deeds = rng.choice(data.ROLE_MODEL_TITLES)
                    person = pool.pop()
                    self.role_model_picks.append((person, title, deeds.format(n=rng.randint(8, 60))))
                    wanted -= 1

    def _build_role_models(self) -> None:
        rng = _rng("xiangzhi-demo:shennong")
        picks = list(self.role_model_picks)
        rng.shuffle(picks)
        for index, (session, held_on, venue, theme) in enumerate(data.SHENNONG_GATHERINGS):
            gathering_id = self.ids(ShennongGathering)
            self.writer.add(
                ShennongGathering,
                {"id": gathering_id, "session": session, "held_on": held_on, "venue": venue, "theme": theme},
            )
            start = index * data.ROLE_MODELS_PER_GATHERING
            for person, title, deeds in picks[start : start + data.ROLE_MODELS_PER_GATHERING]:
                role_model_id = self.ids(RoleModel)
                self.writer.add(
                    RoleModel, {"id": role_model_id, "resident_id": person.id, "title": title, "deeds": deeds}
                )
                village = person.grid.village
                self.writer.add(
                    RoleModelSelection,
                    {
                        "id": self.ids(RoleModelSelection),
                        "gathering_id": gathering_id,
                        "role_model_id": role_model_id,
                        "citation": f"{village.township.name}{village.name}{person.name}：{deeds}"[:200],
                    },
                )

"""The demo county's livelihood sites (民生阵地): 16 love canteens (爱心食堂), 18 love classrooms (爱心讲堂,
most of them held in a canteen after meals), 40 love workshops (爱心作坊) and 28 red service stations
(红色驿站), all opened by the end of 2022, with their records, so every page of canteens/ has something true
to show. Two years of records: the live year (today and the 364 days before) and the archive year
ARCHIVE_YEAR (2022, the year gucheng.md's figures describe: the county entered that year's registers —
meals, class attendance, donations, monthly claims — into the platform), written by the same generator
over each year's window, the archive year sparser. The workshops' and stations' records are the live
year's.

- Canteens (opened 2021–2022, 民营社区's first): meal slots, the county's subsidy tiers
  (canteens.defaults), price rules per tier and slot (and a guest rule) with the four-way split in force
  from the opening, the people enrolled over the canteen's life (the elders, and the adults on 低保 or with
  a disability; 民营社区's canteen, 石花镇, with 1,000+ aged 60+ at the default and county scales; at the
  default scale nearly all of the county's, who mostly eat there a few times a year), a donation fund per
  canteen with each year's donations, each year's meals, the monthly settlements of the past months
  (computed from the meals by canteens.services.settlements' month_figures, the GROUP BY
  settlement_compute runs, and approved) and the yearly budgets.
- Classrooms: volunteer teachers, sessions twice a week with the children of each year's register who
  came (the regulars week after week, the others to one to three sessions), and the teachers' hours.
  Workshops: products, left-behind women employed, orders, monthly wages. Red stations: services offered
  and the service log.

Like points/demo.py this writes in bulk through governance.demo's _Writer (COPY on PostgreSQL) and keeps
the services' invariants itself: every meal is split by canteens.split.meal_split (so the CHECK price =
resident + government + community + donation holds) and each canteen's years are simulated in time
order, day by day, donations of the day before its meals, so the donation fund never goes below zero —
a meal whose donation share the fund cannot cover gets canteens.split.fallback_apply, exactly as the
check-in does, with the shortfall recorded. Every draw and every donation is a FundMovement, so a fund's
balance is the sum of its movements. One person is enrolled at one canteen at most, so the
one-meal-per-slot UNIQUE holds across the county.

Beneficiaries (受益人数, gucheng.md's "30,000+ people benefiting from canteens and classrooms") = distinct
residents with a meal of their own or a class attendance in the year (the live one, or 2022), as
canteens.selectors.reports counts them; workshop workers and the red stations' person-times are reported
apart (canteens_demo_counts). Deterministic per scale (seeded random generator); the live year's dates
follow the day of the run. Nothing at the skeleton scale.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import math
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.color import no_style
from django.db import connection, models
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext

from canteens.defaults import tiers_ensure
from canteens.models import (
    Budget,
    ClaimStatus,
    ClassAttendance,
    ClassSession,
    Donation,
    DonationFund,
    DonationKind,
    DonorKind,
    Enrolment,
    Funder,
    FundingShare,
    FundMovement,
    FundMovementKind,
    GovernmentLevel,
    Meal,
    MealSlot,
    OrderStatus,
    PriceRule,
    ServiceLog,
    ServiceMode,
    Settlement,
    SettlementLine,
    Site,
    SiteKind,
    SiteUserObjectPermission,
    SlotKind,
    StationService,
    VerifyMethod,
    Volunteer,
    VolunteerHours,
    WagePayment,
    WorkshopOrder,
    WorkshopProduct,
    WorkshopWorker,
)
from canteens.split import Share, fallback_apply, meal_split
from governance import demo_data as data
from governance import pii
from governance.audit import audit_record
from governance.demo import _Ids
from governance.models import (
    AuditAction,
    Region,
    RegionLevel,
    Resident,
    ResidentStatus,
    ResidentTag,
    ResidentTagKind,
    User,
)
from points.demo import _FastWriter, _utc_text

_ZONE = ZoneInfo(settings.TIME_ZONE)
CARD_PREFIX = "ST"  # canteens.services.enrolments' prefix of a meal card code

# Sites per township, in the order of data.TOWNSHIP_LAYOUT's names: canteens (16), standalone classrooms
# (4; the other 14 are held in canteens), workshops (40) and red stations (28).
CANTEENS_PER_TOWNSHIP = {"城关镇": 3, "石花镇": 2, "盛康镇": 2, "庙滩镇": 2, "茨河镇": 2}
CLASSROOMS_ELSEWHERE = ("城关镇", "五山镇", "紫金镇", "冷集镇")
CANTEENS_WITHOUT_CLASSROOM = 2  # two canteens host none (see _sites): 16 − 2 + 4 = 18 classrooms
WORKSHOPS_PER_TOWNSHIP = 4
STATIONS_PER_TOWNSHIP = {"南河镇": 2, "赵湾乡": 2}  # the others 3: 8 × 3 + 2 × 2 = 28
DEFAULT_STATIONS = 3
# Villages the demo log-ins and the skeleton name come first in their township.
PREFERRED = (data.MINYING, data.XINHUA, "花圃村", data.YANHE)


# An eating habit: (weight, (breakfast, lunch, dinner) chance per day), or (weight, None) for an elder who
# eats at the canteen only a few times in the year (OCCASIONAL_MEALS meals on days of their own).
Habit = tuple[float, tuple[float, float, float] | None]


@dataclass(frozen=True)
class _Plan:
    minying_share: float  # share of 民营社区's elders enrolled at its canteen
    # Elders enrolled at any other canteen: this share of the elders of its catchment (its village and its
    # part of the township's villages without a canteen), or when 0, a number in `enrolled` (inclusive).
    catchment_share: float
    enrolled: tuple[int, int]
    habits: tuple[Habit, ...]
    minying_habits: tuple[Habit, ...]  # 民营社区's canteen, the county's showcase, has more regulars
    guest_chance: float  # a guest at lunch on a given day
    # Children of the register coming to a classroom over the year: this share of the children of its
    # catchment, or when 0, a number in `roster`; `regulars` of them come week after week (drawn for each
    # session, `per_session` of them), the others come to one to three sessions.
    roster_share: float
    roster: tuple[int, int]
    regulars: float
    per_session: tuple[int, int]
    workers: tuple[int, int]  # per workshop
    logs_per_week: int  # per red station
    # The archive year (ARCHIVE_YEAR, entered from the county's registers): the share of the children aged
    # 4–16 that year on a classroom's register, and how much sparser the canteens' year was than the live
    # one (the chances of the regulars and of a guest are scaled by it; the occasional eaters had one or
    # two meals, ARCHIVE_OCCASIONAL_MEALS).
    archive_roster_share: float = 0
    archive_intensity: float = 0.5


NEARLY_EVERY_DAY = (0.3, 0.8, 0.4)
NOW_AND_THEN = (0.0, 0.04, 0.015)
OCCASIONAL_MEALS = ((1, 0.6), (2, 0.3), (3, 0.1))  # (meals in the year, weight): 1.5 on average
ARCHIVE_OCCASIONAL_MEALS = ((1, 0.8), (2, 0.2))  # the archive year's: 1.2 on average
# The archive year: the county entered its registers of ARCHIVE_YEAR (the year gucheng.md's figures
# describe) into the platform — the meals, the class registers, the donations and the monthly claims —
# besides the live year the platform has run (the 364 days before today and today).
ARCHIVE_YEAR = 2022
# The classrooms' children: from the kindergarten's top class to the end of junior middle school.
CHILD_AGES = (4, 16)
PLANS: dict[str, _Plan] = {
    "test": _Plan(
        minying_share=1.0,
        catchment_share=0,
        enrolled=(4, 8),
        habits=((0.3, (0.2, 0.6, 0.3)), (0.5, (0.0, 0.05, 0.02)), (0.2, None)),
        minying_habits=((0.3, (0.2, 0.6, 0.3)), (0.5, (0.0, 0.05, 0.02)), (0.2, None)),
        guest_chance=0.3,
        roster_share=0,
        roster=(4, 10),
        regulars=0.7,
        per_session=(2, 6),
        workers=(2, 4),
        logs_per_week=2,
        archive_roster_share=0,
    ),
    # Most elders of the county are enrolled and eat at the canteen a few times a year (the Double Ninth
    # banquet, a birthday, a cold day); a few dozen come nearly every day: about 95,000 meals in the year.
    "default": _Plan(
        minying_share=0.85,
        catchment_share=0.96,
        enrolled=(0, 0),
        habits=((0.0015, NEARLY_EVERY_DAY), (0.04, NOW_AND_THEN), (0.9585, None)),
        minying_habits=((0.025, NEARLY_EVERY_DAY), (0.1, NOW_AND_THEN), (0.875, None)),
        guest_chance=0.3,
        roster_share=0.85,
        roster=(0, 0),
        regulars=0.3,
        per_session=(12, 24),
        workers=(12, 18),
        logs_per_week=2,
        archive_roster_share=0.97,
    ),
    "county": _Plan(
        minying_share=0.8,
        catchment_share=0.1,
        enrolled=(0, 0),
        habits=((0.02, NEARLY_EVERY_DAY), (0.1, NOW_AND_THEN), (0.88, None)),
        minying_habits=((0.03, NEARLY_EVERY_DAY), (0.12, NOW_AND_THEN), (0.85, None)),
        guest_chance=0.5,
        roster_share=0.15,
        roster=(0, 0),
        regulars=0.3,
        per_session=(20, 36),
        workers=(20, 30),
        logs_per_week=3,
        archive_roster_share=0.15,
    ),
}

SLOTS: tuple[tuple[str, dt.time, dt.time], ...] = (
    (SlotKind.BREAKFAST, dt.time(7, 0), dt.time(8, 30)),
    (SlotKind.LUNCH, dt.time(11, 0), dt.time(12, 30)),
    (SlotKind.DINNER, dt.time(17, 0), dt.time(18, 30)),
)
SLOT_INDEX: dict[str, int] = {kind: n for n, (kind, _s, _e) in enumerate(SLOTS)}
PRICES: dict[str, int] = {SlotKind.BREAKFAST: 300, SlotKind.LUNCH: 600, SlotKind.DINNER: 500}
# Per tier: what the elder pays per slot (fixed), then the rest by shares in basis points (government,
# community, donation). About 10 yuan a day for three meals at 60–69, less for the older and the poor.
TIER_RULES: dict[str, tuple[tuple[int, int, int], tuple[int, int, int]]] = {
    "age-60-69": ((200, 400, 350), (6000, 4000, 0)),
    "age-70-79": ((150, 300, 250), (6000, 3000, 1000)),
    "age-80-89": ((100, 200, 200), (6000, 2500, 1500)),
    "age-90": ((50, 100, 100), (6000, 2000, 2000)),
    "low-income": ((50, 100, 100), (7000, 1500, 1500)),
    "disability": ((50, 100, 100), (7000, 1500, 1500)),
}
GOVERNMENT_CAP_FEN = 250  # the government's share of a meal is capped; the community carries the rest
TOWNSHIP_FUNDED = ("石花镇",)  # whose canteens' subsidy the township pays (the others: the county)
SHORT_OF_DONATIONS = 2  # the third canteen's donors give less than its meals draw: shortfalls show
VERIFY_WEIGHTS = (
    (VerifyMethod.CARD_QR, 70),
    (VerifyMethod.NAME, 15),
    (VerifyMethod.ID_TAIL, 10),
    (VerifyMethod.STAFF_KNOWN, 5),
)
DELIVERERS = ("社区志愿者", "网格员", "食堂工作人员", "邻居代领")
END_REASONS = ("本人申请退出", "随子女外出居住", "入住养老院")
OPERATORS = (
    "{village}居委会",
    "{village}股份经济合作社",
    "谷城县爱心助老服务中心",
    "谷城县幸福食堂餐饮管理有限公司",
)
ENTERPRISES = (
    "谷城县爱心企业联合会",
    "湖北骆驼蓄电池研究院",
    "谷城县商会",
    "襄阳汽车零部件产业园",
    "谷城县农村商业银行",
    "谷城县供销合作社",
    "谷城县医药连锁有限公司",
    "本地乡贤联谊会",
)
ORGANISATIONS = ("谷城县慈善总会", "谷城县红十字会", "谷城县志愿者协会", "县妇联巾帼志愿服务队")
GOODS = (
    ("大米 500 斤", 150_000),
    ("食用油 20 桶", 120_000),
    ("面粉 300 斤", 60_000),
    ("鸡蛋 50 箱", 75_000),
    ("蔬菜一批", 40_000),
)
PURPOSES = ("老人助餐", "爱心食堂运营", "节日加餐", "高龄老人助餐", "")
SUBJECTS = (
    "作业辅导",
    "书法",
    "绘画",
    "阅读分享",
    "科学小实验",
    "英语兴趣",
    "安全教育",
    "红色故事会",
    "手工",
    "音乐",
)
CRAFTS: tuple[tuple[str, tuple[tuple[str, str, int], ...]], ...] = (
    ("竹编", (("竹编果篮", "个", 350), ("竹编收纳筐", "个", 500))),
    ("布鞋", (("千层底布鞋", "双", 1200),)),
    ("香菇分拣", (("香菇分拣包装", "斤", 40),)),
    ("服装加工", (("童装缝制", "件", 300), ("围裙缝制", "条", 150))),
    ("电子组装", (("电子线束组装", "件", 30),)),
    ("手工艺品", (("中国结", "个", 200), ("十字绣挂件", "幅", 800))),
    ("茶叶分拣", (("茶叶挑拣包装", "斤", 150),)),
    ("假发编织", (("发帘编织", "片", 600),)),
)
CUSTOMERS = (
    "谷城县惠农商贸有限公司",
    "襄阳市新华服饰有限公司",
    "谷城县电商产业园",
    "十堰市山货电商",
    "武汉汉正街商户",
    "谷城县茶叶专业合作社",
)
STATION_SERVICES: tuple[tuple[str, tuple[int, int], tuple[str, ...]], ...] = (
    ("理发", (3, 8), ("为老人义务理发", "上门为行动不便老人理发")),
    ("代缴代办", (3, 10), ("代缴水电费、医保", "代办养老认证")),
    ("健康义诊", (8, 25), ("量血压、测血糖", "乡镇卫生院医生坐诊")),
    ("政策咨询", (2, 8), ("讲解惠民政策", "解答低保、医保政策问题")),
    ("法律咨询", (1, 5), ("律师志愿者解答法律问题",)),
    ("快递代收", (4, 12), ("代收代发快递",)),
    ("文艺活动", (10, 30), ("广场舞、戏曲表演", "党员志愿者组织文艺活动")),
)

BULK_MODELS: tuple[type[models.Model], ...] = (
    Site,
    MealSlot,
    PriceRule,
    FundingShare,
    Enrolment,
    DonationFund,
    Donation,
    FundMovement,
    Meal,
    Settlement,
    SettlementLine,
    Budget,
    Volunteer,
    ClassSession,
    ClassAttendance,
    VolunteerHours,
    WorkshopProduct,
    WorkshopWorker,
    WorkshopOrder,
    WagePayment,
    StationService,
    ServiceLog,
)

_translated: dict[str, str] = {}


def _(message: str) -> str:
    found = _translated.get(message)
    if found is None:
        found = _translated[message] = gettext(message)
    return found


@dataclass(slots=True)
class _Elder:
    """A resident a canteen may enrol: aged 60 and over (from their 60th birthday), or an adult on 低保 or
    with a disability (the tiers of any age: from their 18th)."""

    id: int
    birth: dt.date
    village_id: int
    tags: frozenset[str]
    eligible_from: dt.date


@dataclass(frozen=True, slots=True)
class _Window:
    """A year of records: the archive year (ARCHIVE_YEAR) or the live year (today and the 364 days before).
    Day numbers count from the builder's span_first."""

    first: dt.date
    last: dt.date
    live: bool


@dataclass(slots=True)
class _Canteen:
    id: int
    name: str
    village_id: int
    village_name: str
    township_id: int
    township_name: str
    opened_on: dt.date
    created_by: int
    decided_by: int
    slots: list[str]
    level: str
    fund_id: int = 0
    rules: dict[tuple[str | None, str], tuple[int, dict[str, int]]] = field(default_factory=dict)
    # meals[day index] = [(slot index, elder id, enrolment id, tier code, mode, deliverer name, verify)]
    meals: list[list[tuple[Any, ...]]] = field(default_factory=list)
    months: dict[tuple[int, int], _Month] = field(default_factory=dict)


@dataclass(slots=True)
class _Month:
    """A canteen's month as settlement_compute's GROUP BY sees it: per (slot, tier code) [meals, price,
    resident, government, community, donation], the elders who ate, and [guest meals]."""

    lines: dict[tuple[str, str | None], list[int]] = field(default_factory=dict)
    elders: set[int] = field(default_factory=set)
    totals: list[int] = field(default_factory=lambda: [0])


def seed_demo_canteens(
    *,
    county: Region,
    users: dict[str, User],
    scale: str,
    say: Callable[[str], None],
    use_copy: bool,
    now: dt.datetime | None = None,
) -> int:
    """Build the demo county's livelihood sites and their year once (nothing when the county has a site
    already, nothing at the skeleton scale); returns the number of meals written."""
    if scale not in PLANS:
        return 0
    tiers_ensure()
    if Site.objects.filter(region__path__startswith=county.path).exists():
        return 0
    _translated.clear()
    try:
        builder = _Builder(
            county=county, users=users, scale=scale, use_copy=use_copy, now=now or timezone.now()
        )
        return builder.build(say)
    finally:
        _translated.clear()


class _Builder:
    def __init__(
        self, *, county: Region, users: dict[str, User], scale: str, use_copy: bool, now: dt.datetime
    ) -> None:
        self.county = county
        self.users = users
        self.scale = scale
        self.plan = PLANS[scale]
        self.use_copy = use_copy
        self.writer = _FastWriter(use_copy=use_copy)
        self.now = now.astimezone(dt.UTC)
        self.today = self.now.astimezone(_ZONE).date()
        self.first_day = self.today - dt.timedelta(days=364)
        # The archive year, then the live year; day numbers count from the archive year's first day.
        self.span_first = dt.date(ARCHIVE_YEAR, 1, 1)
        self.windows: list[_Window] = []
        if dt.date(ARCHIVE_YEAR, 12, 31) < self.first_day:
            self.windows.append(_Window(self.span_first, dt.date(ARCHIVE_YEAR, 12, 31), live=False))
        self.windows.append(_Window(self.first_day, self.today, live=True))
        self.span_first = min(self.span_first, self.first_day)
        self.rng = random.Random(f"xiangzhi-canteens-{scale}")  # noqa: S311 - demo data, not security
        self.card_codes: set[str] = set()
        self.stats: dict[str, int] = defaultdict(int)
        # Who records what no named log-in does: the county admin (the skeleton always makes one).
        self.admin_id: int = users["county_admin"].pk

    # -- helpers ---------------------------------------------------------------------------------------

    def _stamp(self, at: dt.datetime) -> Any:
        """A value for an auto_now(_add) column, which the writer passes on unadapted."""
        return at if self.use_copy else _utc_text(at.astimezone(dt.UTC))

    def _time(self, value: dt.time) -> Any:
        """A TimeField value: SQLite's driver has no adapter for times."""
        return value if self.use_copy else value.isoformat()

    def _at(self, day: dt.date, time: dt.time) -> dt.datetime:
        return dt.datetime.combine(day, time, tzinfo=_ZONE).astimezone(dt.UTC)

    def _add(self, model: type[models.Model], row: dict[str, Any]) -> int:
        row["id"] = self.ids(model)
        self.writer.add(model, row)
        return int(row["id"])

    def _card_code(self) -> str:
        while True:
            code = f"{CARD_PREFIX}{self.rng.getrandbits(64):016X}"
            if code not in self.card_codes:
                self.card_codes.add(code)
                return code

    # -- orchestration ---------------------------------------------------------------------------------

    def build(self, say: Callable[[str], None]) -> int:
        self.ids = _Ids(BULK_MODELS)
        self.tiers = {code: tier.pk for code, tier in tiers_ensure().items()}
        # The memo of a meal's draw, as the check-in writes it ("2026-03-02 午餐就餐").
        self.slot_labels = {kind: _("%(slot)s就餐") % {"slot": label} for kind, label in SlotKind.choices}
        self._load()
        self._sites()
        self.writer.flush(Site)
        self._grant_manager()
        for canteen in self.canteens:
            self._canteen_setup(canteen)
        self._enrol()
        for canteen in self.canteens:
            self._canteen_year(canteen)
        self._settlements()
        self._classrooms()
        self._workshops()
        self._stations()
        self.writer.flush()
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), list(BULK_MODELS)):
                cursor.execute(sql)
            if connection.vendor == "postgresql":
                tables = (Meal, FundMovement, Enrolment, ClassAttendance, ServiceLog, Settlement)
                cursor.execute(
                    "ANALYZE " + ", ".join(connection.ops.quote_name(m._meta.db_table) for m in tables)
                )
        counts = self.writer.counts
        audit_record(
            actor=None,
            action=AuditAction.IMPORT,
            obj=self.county,
            region_path=self.county.path,
            changes={label: [0, n] for label, n in sorted(counts.items())},
            detail=_("演示数据：民生阵地一年的运行（%(scale)s 规模），就餐 %(n)d 人次。")
            % {"scale": self.scale, "n": self.stats["meals"]},
        )
        figures = canteens_demo_counts(self.county.path, today=self.today)
        say(
            _(
                "民生阵地：爱心食堂 %(canteens)d 个（登记就餐 %(enrolled)d 人，就餐 %(meals)d 人次），"
                "爱心讲堂 %(classrooms)d 个，爱心作坊 %(workshops)d 个，红色驿站 %(stations)d 个；"
                "食堂和讲堂受益 %(beneficiaries)d 人（就餐老人 %(elders)d 人，听课孩子 %(children)d 人），"
                "作坊务工 %(workers)d 人，驿站服务 %(served)d 人次。"
            )
            % {
                "canteens": figures["canteens"],
                "enrolled": self.stats["enrolled"],
                "meals": self.stats["meals"],
                "classrooms": figures["classrooms"],
                "workshops": figures["workshops"],
                "stations": figures["red_stations"],
                "beneficiaries": figures["beneficiaries"],
                "elders": figures["elders_served"],
                "children": figures["children_taught"],
                "workers": figures["workshop_workers"],
                "served": figures["station_people_served"],
            }
        )
        if not self.windows[0].live:
            archive = canteens_demo_counts(self.county.path, year=ARCHIVE_YEAR)
            say(
                _(
                    "其中 %(year)d 年（录入的当年台账）：爱心食堂 %(canteens)d 个，"
                    "爱心讲堂 %(classrooms)d 个，爱心作坊 %(workshops)d 个，红色驿站 %(stations)d 个；"
                    "就餐 %(meals)d 人次，"
                    "食堂和讲堂受益 %(beneficiaries)d 人（就餐 %(elders)d 人，听课孩子 %(children)d 人）。"
                )
                % {
                    "year": ARCHIVE_YEAR,
                    "canteens": archive["canteens"],
                    "classrooms": archive["classrooms"],
                    "workshops": archive["workshops"],
                    "stations": archive["red_stations"],
                    "meals": self.stats["archive_meals"],
                    "beneficiaries": archive["beneficiaries"],
                    "elders": archive["elders_served"],
                    "children": archive["children_taught"],
                }
            )
        return self.stats["meals"]

    # -- what exists already ---------------------------------------------------------------------------

    def _load(self) -> None:
        under = self.county.path
        self.township_names: dict[int, str] = {}
        for region_id, name in Region.objects.filter(
            path__startswith=under, level=RegionLevel.TOWNSHIP
        ).values_list("id", "name"):
            self.township_names[region_id] = name
        self.villages: dict[int, list[tuple[int, str]]] = defaultdict(list)
        for region_id, name, path in (
            Region.objects.filter(path__startswith=under, level=RegionLevel.VILLAGE)
            .order_by("path")
            .values_list("id", "name", "path")
        ):
            township_id = int(path.strip("/").split("/")[1])
            self.villages[township_id].append((region_id, name))
        self.minying_village = next(
            (v for villages in self.villages.values() for v, name in villages if name == data.MINYING), 0
        )
        for villages in self.villages.values():
            villages.sort(
                key=lambda v: (v[1] not in PREFERRED, PREFERRED.index(v[1]) if v[1] in PREFERRED else 0)
            )
        # Residents living here (not away) by village: elders (60+ today) and the adults on 低保 or with a
        # disability, children aged 4–16 in one of the windows, adults 22–55.
        sixty, eighteen = _years_before(self.today, 60), _years_before(self.today, 18)
        any_age = {ResidentTagKind.LOW_INCOME, ResidentTagKind.DISABILITY}
        tags: dict[int, set[str]] = defaultdict(set)
        for resident_id, tag in ResidentTag.objects.filter(
            resident__household__grid__path__startswith=under,
            tag__in=[
                ResidentTagKind.LOW_INCOME,
                ResidentTagKind.DISABILITY,
                ResidentTagKind.LEFT_BEHIND_WOMAN,
            ],
        ).values_list("resident_id", "tag"):
            tags[resident_id].add(tag)
        self.elders: dict[int, list[_Elder]] = defaultdict(list)
        self.children: dict[int, list[tuple[int, dt.date]]] = defaultdict(list)
        self.women: dict[int, list[tuple[int, bool]]] = defaultdict(list)
        self.adults: dict[int, list[tuple[int, str]]] = defaultdict(list)
        child_young = _years_before(self.today, CHILD_AGES[0])
        child_old = min(_years_before(w.last, CHILD_AGES[1] + 1) for w in self.windows)
        adult_young, adult_old = _years_before(self.today, 22), _years_before(self.today, 56)
        people = (
            Resident.objects.filter(household__grid__path__startswith=under, status=ResidentStatus.RESIDENT)
            .filter(
                Q(birth_date__lte=sixty)
                # (IN a subquery, which PostgreSQL hashes: not a correlated EXISTS, which it runs row by row)
                | Q(
                    birth_date__lte=eighteen,
                    pk__in=ResidentTag.objects.filter(tag__in=any_age).values("resident_id"),
                )
                | Q(birth_date__gt=child_old, birth_date__lte=child_young)
                | Q(birth_date__gt=adult_old, birth_date__lte=adult_young)
            )
            .order_by("id")
            .values_list("id", "name", "birth_date", "gender", "household__grid__path")
        )
        # Read raw (SQLite returns the dates as text: parsed here at C speed, not by the ORM's converters).
        sql, params = people.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        for resident_id, name, birth, gender, path in rows:
            if not isinstance(birth, dt.date):
                birth = dt.date.fromisoformat(birth)
            parts = path.strip("/").split("/")
            if len(parts) < 3:
                continue
            village_id = int(parts[2])
            held = frozenset(tags.get(resident_id, ()))
            if held & any_age and birth <= eighteen:
                self.elders[village_id].append(
                    _Elder(resident_id, birth, village_id, held, _years_after(birth, 18))
                )
            elif birth <= sixty:
                self.elders[village_id].append(
                    _Elder(resident_id, birth, village_id, held, _years_after(birth, 60))
                )
            if child_old < birth <= child_young:
                self.children[village_id].append((resident_id, birth))
            if adult_old < birth <= adult_young:
                self.adults[village_id].append((resident_id, name))
                if gender == "F":
                    self.women[village_id].append(
                        (resident_id, ResidentTagKind.LEFT_BEHIND_WOMAN in tags.get(resident_id, ()))
                    )

    # -- the registry ----------------------------------------------------------------------------------

    def _pick(self, township_id: int, n: int, offset: int) -> list[tuple[int, str]]:
        villages = self.villages.get(township_id, [])
        if not villages:
            return []
        step = max(1, len(villages) // max(n, 1))
        return [villages[(offset + i * step) % len(villages)] for i in range(n)]

    def _site(self, kind: str, name: str, village: tuple[int, str], opened_on: dt.date, **extra: Any) -> int:
        rng = self.rng
        base, number = name, 1
        while (village[0], kind, name) in self.site_names:  # two of a kind in a small village (test scale)
            number += 1
            name = _("%(name)s（%(n)s）") % {"name": base, "n": number}
        self.site_names.add((village[0], kind, name))
        row = {
            "kind": kind,
            "name": name,
            "region_id": village[0],
            "address": _("%(village)s党群服务中心") % {"village": village[1]},
            "operator": rng.choice(OPERATORS).format(village=village[1]),
            "capacity": None,
            "host_id": None,
            "phone_masked": f"1{rng.choice('3589')}{rng.randrange(10)}****{rng.randrange(10_000):04d}",
            "description": "",
            "opened_on": opened_on,
            "is_active": True,
            "created_at": self._stamp(self._at(opened_on, dt.time(9))),
            "updated_at": self._stamp(self._at(opened_on, dt.time(9))),
            **extra,
        }
        return self._add(Site, row)

    def _sites(self) -> None:
        rng = self.rng
        self.site_names: set[tuple[int, str, str]] = set()
        self.canteens: list[_Canteen] = []
        # (site, village, village name, township, opened on)
        self.classrooms: list[tuple[int, int, str, int, dt.date]] = []
        self.workshops: list[tuple[int, int, int, int]] = []  # (site, village, township, craft)
        self.stations: list[tuple[int, int, int]] = []
        manager = self.users.get("canteen_manager")
        township_admin = self.users.get("township_admin")
        townships = [(tid, name) for tid, name in self.township_names.items()]
        order = [name for name, *_rest in data.TOWNSHIP_LAYOUT]
        townships.sort(key=lambda t: order.index(t[1]) if t[1] in order else len(order))
        for township_id, township_name in townships:
            n = CANTEENS_PER_TOWNSHIP.get(township_name, 1)
            for village in self._pick(township_id, n, 0):
                # 民营社区's canteen first (March 2021), the others from April 2021 to May 2022.
                if village[1] == data.MINYING:
                    opened = dt.date(ARCHIVE_YEAR - 1, 3, rng.randint(1, 28))
                else:
                    opened = dt.date(ARCHIVE_YEAR - 1, 4, 1) + dt.timedelta(days=rng.randrange(420))
                name = _("%(village)s爱心食堂") % {"village": village[1]}
                site_id = self._site(
                    SiteKind.CANTEEN,
                    name,
                    village,
                    opened,
                    capacity=rng.choice((40, 60, 80)) if village[1] != data.MINYING else 150,
                    description=_("为辖区 60 岁以上老人提供早、中、晚餐，行动不便的老人可送餐上门。"),
                )
                is_minying = village[1] == data.MINYING and manager is not None
                decider = township_admin.pk if township_admin and township_name == "城关镇" else self.admin_id
                self.canteens.append(
                    _Canteen(
                        id=site_id,
                        name=name,
                        village_id=village[0],
                        village_name=village[1],
                        township_id=township_id,
                        township_name=township_name,
                        opened_on=opened,
                        created_by=manager.pk if is_minying and manager else self.admin_id,
                        decided_by=decider,
                        slots=[],
                        level=GovernmentLevel.TOWNSHIP
                        if township_name in TOWNSHIP_FUNDED
                        else GovernmentLevel.COUNTY,
                    )
                )
        # Every township's first canteen hosts a classroom; the last two second-or-third canteens do not.
        seen: set[int] = set()
        others = []
        for canteen in self.canteens:
            if canteen.township_id in seen:
                others.append(canteen.id)
            seen.add(canteen.township_id)
        without = set(others[len(others) - CANTEENS_WITHOUT_CLASSROOM :])
        hosts = [c for c in self.canteens if c.id not in without]
        for canteen in hosts:
            opened = canteen.opened_on + dt.timedelta(days=rng.randrange(20, 60))
            site_id = self._site(
                SiteKind.CLASSROOM,
                _("%(village)s爱心讲堂") % {"village": canteen.village_name},
                (canteen.village_id, canteen.village_name),
                opened,
                capacity=rng.choice((30, 40, 50)),
                host_id=canteen.id,
                description=_("饭后的食堂变身课堂，志愿者教师为孩子们辅导作业、开展兴趣活动。"),
            )
            self.classrooms.append(
                (site_id, canteen.village_id, canteen.village_name, canteen.township_id, opened)
            )
        for township_id, township_name in townships:
            if township_name in CLASSROOMS_ELSEWHERE:
                taken = {c[1] for c in self.classrooms}
                villages = self.villages.get(township_id, [])
                free = [v for v in villages[1:] if v[0] not in taken] or villages
                if not free:
                    continue
                village = free[len(free) // 2]
                opened = self.span_first - dt.timedelta(days=rng.randrange(60, 500))
                site_id = self._site(
                    SiteKind.CLASSROOM,
                    _("%(village)s爱心讲堂") % {"village": village[1]},
                    village,
                    opened,
                    capacity=rng.choice((30, 40)),
                    address=_("%(village)s小学") % {"village": village[1]},
                    description=_("放学后在村小学开课，志愿者教师辅导留守儿童。"),
                )
                self.classrooms.append((site_id, village[0], village[1], township_id, opened))
        craft_no = 0
        for township_id, _township_name in townships:
            for village in self._pick(township_id, WORKSHOPS_PER_TOWNSHIP, 2):
                craft = craft_no % len(CRAFTS)
                craft_no += 1
                opened = self.span_first - dt.timedelta(days=rng.randrange(-240, 700))
                site_id = self._site(
                    SiteKind.WORKSHOP,
                    _("%(village)s%(craft)s爱心作坊") % {"village": village[1], "craft": CRAFTS[craft][0]},
                    village,
                    opened,
                    capacity=rng.choice((20, 30, 40)),
                    description=_("家门口就业：留守妇女农闲时来做计件活，照顾家庭和挣钱两不误。"),
                )
                self.workshops.append((site_id, village[0], township_id, craft))
        for township_id, township_name in townships:
            n = STATIONS_PER_TOWNSHIP.get(township_name, DEFAULT_STATIONS)
            for village in self._pick(township_id, n, 3):
                opened = self.span_first - dt.timedelta(days=rng.randrange(-240, 900))
                name = _("%(village)s红色驿站") % {"village": village[1]}
                site_id = self._site(
                    SiteKind.RED_STATION,
                    name,
                    village,
                    opened,
                    description=_("党员志愿者为群众提供便民服务。"),
                )
                self.stations.append((site_id, village[0], township_id))

    def _grant_manager(self) -> None:
        """赵敏 (canteen_manager) runs 民营社区's canteen: the object permission manage_site on it."""
        from django.contrib.auth.models import Permission

        manager = self.users.get("canteen_manager")
        minying = next((c for c in self.canteens if c.village_name == data.MINYING), None)
        if manager is None or minying is None:
            return
        permission = Permission.objects.get(content_type__app_label="canteens", codename="manage_site")
        SiteUserObjectPermission.objects.get_or_create(
            user=manager, permission=permission, content_object_id=minying.id
        )

    # -- canteens: slots, rules, fund --------------------------------------------------------------------

    def _canteen_setup(self, canteen: _Canteen) -> None:
        rng = self.rng
        minying = canteen.village_name == data.MINYING
        serves_breakfast = minying or rng.random() < 0.7
        for kind, starts, ends in SLOTS:
            if kind == SlotKind.BREAKFAST and not serves_breakfast:
                continue
            self._add(
                MealSlot,
                {
                    "site_id": canteen.id,
                    "kind": kind,
                    "starts": self._time(starts),
                    "ends": self._time(ends),
                    "is_active": True,
                },
            )
            canteen.slots.append(kind)
        created = self._stamp(self._at(canteen.opened_on, dt.time(10)))
        for kind, _starts, _ends in SLOTS:
            price = PRICES[kind]
            index = SLOT_INDEX[kind]
            for code, (fixed, (gov, community, donation)) in TIER_RULES.items():
                shares = [
                    Share("resident", fixed_fen=fixed[index]),
                    Share("government", share_bp=gov, cap_fen=GOVERNMENT_CAP_FEN),
                ]
                shares.append(Share("community", share_bp=community))
                if donation:
                    shares.append(Share("donation", share_bp=donation))
                rule_id = self._rule(canteen, self.tiers[code], kind, price, shares, created)
                canteen.rules[(code, kind)] = (rule_id, meal_split(price, shares, Funder.COMMUNITY))
            guest = [Share("resident", fixed_fen=price)]
            rule_id = self._rule(canteen, None, kind, price, guest, created)
            canteen.rules[(None, kind)] = (rule_id, meal_split(price, guest, Funder.COMMUNITY))
        canteen.fund_id = self._add(
            DonationFund,
            {
                "site_id": canteen.id,
                "township_id": None,
                "name": _("%(site)s爱心基金") % {"site": canteen.name},
                "balance_fen": 0,  # set when the year is simulated
                "created_at": created,
            },
        )

    def _rule(
        self, canteen: _Canteen, tier_id: int | None, slot: str, price: int, shares: list[Share], created: Any
    ) -> int:
        rule_id = self._add(
            PriceRule,
            {
                "site_id": canteen.id,
                "tier_id": tier_id,
                "slot": slot,
                "effective_from": canteen.opened_on,
                "effective_to": None,
                "price_fen": price,
                "government_level": canteen.level,
                "remainder_funder": Funder.COMMUNITY,
                "donation_fallback": Funder.COMMUNITY,
                "created_by_id": canteen.created_by,
                "created_at": created,
            },
        )
        for share in shares:
            self._add(
                FundingShare,
                {
                    "rule_id": rule_id,
                    "funder": share.funder,
                    "fixed_fen": share.fixed_fen,
                    "share_bp": share.share_bp,
                    "cap_fen": share.cap_fen,
                },
            )
        return rule_id

    # -- enrolment and the meals each elder eats -------------------------------------------------------------

    def _tier(self, elder: _Elder, on: dt.date) -> tuple[str, str]:
        if elder.tags:
            labels = dict(ResidentTagKind.choices)
            if ResidentTagKind.LOW_INCOME in elder.tags:
                return "low-income", str(labels[ResidentTagKind.LOW_INCOME])
            if ResidentTagKind.DISABILITY in elder.tags:
                return "disability", str(labels[ResidentTagKind.DISABILITY])
        age = _age(elder.birth, on)
        code = "age-60-69" if age < 70 else "age-70-79" if age < 80 else "age-80-89" if age < 90 else "age-90"
        return code, _("%(age)s 岁") % {"age": age}

    def _catchments(self, sites: list[tuple[int, int, int]]) -> dict[int, list[int]]:
        """Each site's villages, for sites given as (site, village, township): its own village, then its part
        of the township's villages that have no such site of their own, dealt round the township's sites in
        turn (民营社区's canteen serves its community only)."""
        own = {village_id for _site, village_id, _township in sites}
        by_township: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for site_id, village_id, township_id in sites:
            by_township[township_id].append((site_id, village_id))
        catchments: dict[int, list[int]] = {}
        for township_id, in_township in by_township.items():
            dealers = [s for s, v in in_township if v != self.minying_village] or [in_township[0][0]]
            for site_id, village_id in in_township:
                catchments[site_id] = [village_id]
            free = [v for v, _name in self.villages.get(township_id, []) if v not in own]
            for n, village_id in enumerate(free):
                catchments[dealers[n % len(dealers)]].append(village_id)
        return catchments

    def _enrol(self) -> None:
        """Enrol each canteen's elders over the canteen's life (most at its opening, the others on becoming
        eligible or later), then plan the meals each eats in each window by their habit."""
        rng = self.rng
        plan = self.plan
        taken: set[int] = set()
        verify_cum = list(itertools.accumulate(w for _v, w in VERIFY_WEIGHTS))
        occasional_cum = list(itertools.accumulate(w for _n, w in OCCASIONAL_MEALS))
        archive_cum = list(itertools.accumulate(w for _n, w in ARCHIVE_OCCASIONAL_MEALS))
        days = (self.today - self.span_first).days + 1
        now_local = self.now.astimezone(_ZONE).time()
        catchments = self._catchments([(c.id, c.village_id, c.township_id) for c in self.canteens])
        stamps: dict[dt.date, Any] = {}
        # Per window: its first and last day numbers, and the last day each slot has been served on (the
        # live year's today only once the slot is over).
        windows = []
        for window in self.windows:
            first = (window.first - self.span_first).days
            last = (window.last - self.span_first).days
            slot_last = [
                last - 1 if window.live and ends > now_local else last for _kind, _starts, ends in SLOTS
            ]
            windows.append((window, first, last, slot_last))

        def enrolled_at(day: dt.date) -> Any:
            stamp = stamps.get(day)
            if stamp is None:
                stamp = stamps[day] = self._stamp(self._at(day, dt.time(9, 30)))
            return stamp

        for canteen in self.canteens:
            canteen.meals = [[] for _day in range(days)]
            minying = canteen.village_name == data.MINYING
            habits = plan.minying_habits if minying else plan.habits
            habit_cum = list(itertools.accumulate(w for w, _p in habits))
            own = [e for e in self.elders.get(canteen.village_id, []) if e.id not in taken]
            if minying:
                pool = own
                wanted = max(1, round(len(own) * plan.minying_share))
            else:
                pool = list(own)
                for village_id in catchments[canteen.id][1:]:
                    pool.extend(e for e in self.elders.get(village_id, []) if e.id not in taken)
                if plan.catchment_share:
                    wanted = round(len(pool) * plan.catchment_share)
                else:
                    wanted = rng.randint(*plan.enrolled)
            chosen = rng.sample(pool, wanted) if len(pool) > wanted else list(pool)
            chosen.sort(key=lambda e: e.id)
            lunch_or_dinner = [SLOT_INDEX[k] for k in (SlotKind.LUNCH, SlotKind.DINNER) if k in canteen.slots]
            opened = canteen.opened_on
            for elder in chosen:
                taken.add(elder.id)
                # Most of those eligible when the canteen opened enrolled in its first two months; those
                # becoming eligible later mostly within a quarter of it; the others some time later.
                eligible = max(opened, elder.eligible_from)
                if rng.random() < (0.97 if eligible == opened else 0.75):
                    starts = eligible + dt.timedelta(days=rng.randrange(0, 60 if eligible == opened else 90))
                else:
                    span = max(1, (self.today - eligible).days - 7)
                    starts = eligible + dt.timedelta(days=rng.randrange(span))
                if starts > self.today:
                    continue
                ends = None
                if rng.random() < 0.03 and (self.today - starts).days > 40:
                    ends = starts + dt.timedelta(days=rng.randrange(30, (self.today - starts).days))
                code, basis = self._tier(elder, starts)
                enrolment_id = self._add(
                    Enrolment,
                    {
                        "site_id": canteen.id,
                        "resident_id": elder.id,
                        "tier_id": self.tiers[code],
                        "starts_on": starts,
                        "ends_on": ends,
                        "basis": basis,
                        "card_code": self._card_code(),
                        "end_reason": rng.choice(END_REASONS) if ends else "",
                        "created_by_id": canteen.created_by,
                        "created_at": enrolled_at(starts),
                    },
                )
                self.stats["enrolled"] += 1
                # The elder's habit, how they are served, and the days they eat each slot in each window.
                chances = habits[bisect.bisect_right(habit_cum, rng.random() * habit_cum[-1])][1]
                delivered = rng.random() < 0.04
                mode = ServiceMode.DELIVERY if delivered else ServiceMode.DINE_IN
                deliverer = rng.choice(DELIVERERS) if delivered else ""
                verify = VERIFY_WEIGHTS[bisect.bisect_right(verify_cum, rng.random() * verify_cum[-1])][0]
                enrolled_first = (starts - self.span_first).days
                enrolled_last = (ends - self.span_first).days if ends else days - 1
                for window, window_first, window_last, slot_last in windows:
                    first = max(window_first, enrolled_first)
                    last = min(window_last, enrolled_last)
                    if last < first:
                        continue
                    intensity = 1.0 if window.live else plan.archive_intensity
                    meals: list[tuple[int, int]] = []  # (day, slot index)
                    if chances is None:
                        # A few meals in the year, lunch or dinner, on days of their own.
                        counts, cum = (
                            (OCCASIONAL_MEALS, occasional_cum)
                            if window.live
                            else (ARCHIVE_OCCASIONAL_MEALS, archive_cum)
                        )
                        count = counts[bisect.bisect_right(cum, rng.random() * cum[-1])][0]
                        eaten: set[tuple[int, int]] = set()
                        for _n in range(count):
                            slot_index = lunch_or_dinner[0] if rng.random() < 0.7 else lunch_or_dinner[-1]
                            until = min(last, slot_last[slot_index])
                            if until < first:
                                continue
                            day = rng.randint(first, until)
                            if (day, slot_index) not in eaten:
                                eaten.add((day, slot_index))
                                meals.append((day, slot_index))
                    else:
                        for kind in canteen.slots:
                            slot_index = SLOT_INDEX[kind]
                            chance = chances[slot_index] * intensity
                            if chance <= 0:
                                continue
                            log_miss = math.log(1 - chance) if chance < 1 else None
                            day = first - 1
                            until = min(last, slot_last[slot_index])
                            while True:
                                gap = 0 if log_miss is None else int(math.log(1 - rng.random()) / log_miss)
                                day += gap + 1
                                if day > until:
                                    break
                                meals.append((day, slot_index))
                    for day, slot_index in meals:
                        how = mode
                        if not delivered and rng.random() < 0.05:
                            how = ServiceMode.TAKE_AWAY
                        canteen.meals[day].append(
                            (slot_index, elder.id, enrolment_id, code, how, deliverer, verify)
                        )

    def _canteen_year(self, canteen: _Canteen) -> None:
        """The canteen's years (the archive year, then the live one) in time order: the day's donations,
        then its meals slot by slot. The fund's balance carries from one year to the next."""
        rng = self.rng
        short = self.canteens.index(canteen) == SHORT_OF_DONATIONS
        balance = 0
        fund_id = canteen.fund_id
        writer = self.writer
        stamp = self._stamp
        meal_ids = self.ids
        government = canteen.level
        spent: dict[tuple[int, str], int] = defaultdict(int)
        month: tuple[int, int] | None = None
        for window in self.windows:
            opens = max(window.first, canteen.opened_on)
            if opens > window.last:
                continue
            first = (opens - self.span_first).days
            last = (window.last - self.span_first).days
            # Guests at lunch, now and then (full price, no subsidy); none yet today.
            if SlotKind.LUNCH in canteen.slots:
                chance = self.plan.guest_chance * (1.0 if window.live else self.plan.archive_intensity)
                for day in range(first, last if window.live else last + 1):
                    if rng.random() < chance:
                        canteen.meals[day].append(
                            (
                                SLOT_INDEX[SlotKind.LUNCH],
                                None,
                                None,
                                None,
                                ServiceMode.DINE_IN,
                                "",
                                VerifyMethod.GUEST,
                            )
                        )
            # What the meals will draw from the fund, to size the year's donations.
            demand = sum(
                canteen.rules[(m[3], SLOTS[m[0]][0])][1]["donation"]
                for meals in canteen.meals[first : last + 1]
                for m in meals
            )
            factor = 0.7 if short else rng.uniform(1.05, 1.3)
            donations = self._donation_plan(
                canteen, int(demand * factor), opens, last - first + 1, short=short
            )
            for day in range(first, last + 1):
                date = self.span_first + dt.timedelta(days=day)
                for amount, row in donations.get(day - first, ()):
                    donation_id = self._add(Donation, row)
                    balance += amount
                    self._add(
                        FundMovement,
                        {
                            "fund_id": fund_id,
                            "kind": FundMovementKind.DONATION,
                            "amount_fen": amount,
                            "donation_id": donation_id,
                            "meal_id": None,
                            "memo": _("捐赠入账：%(donor)s") % {"donor": row["donor_name"]},
                            "created_by_id": canteen.created_by,
                            "created_at": row["created_at"],
                        },
                    )
                if (date.year, date.month) != month:
                    month = (date.year, date.month)
                    period = canteen.months.setdefault(month, _Month())
                    lines, eaters, month_totals = period.lines, period.elders, period.totals
                meals = canteen.meals[day]
                if not meals:
                    continue
                meals.sort(key=lambda m: (m[0], m[1] or 0))
                starts = [self._at(date, start) for _k, start, _e in SLOTS]
                seq = [0, 0, 0]
                date_text = date.isoformat()
                date_value = date if self.use_copy else date_text  # as the SQLite adapter would write it
                labels = self.slot_labels
                for slot_index, elder_id, enrolment_id, code, mode, deliverer, verify in meals:
                    kind = SLOTS[slot_index][0]
                    rule_id, parts = canteen.rules[(code, kind)]
                    shortfall = 0
                    if parts["donation"] > balance:
                        parts, shortfall = fallback_apply(parts, balance, Funder.COMMUNITY)
                    at = starts[slot_index] + dt.timedelta(seconds=40 * seq[slot_index])
                    seq[slot_index] += 1
                    meal_id = meal_ids(Meal)
                    created = stamp(at)
                    writer.add(
                        Meal,
                        {
                            "id": meal_id,
                            "site_id": canteen.id,
                            "served_on": date_value,
                            "slot": kind,
                            "resident_id": elder_id,
                            "enrolment_id": enrolment_id,
                            "tier_id": self.tiers[code] if code else None,
                            "is_guest": elder_id is None,
                            "guest_name": "",
                            "verified_by": verify,
                            "mode": mode,
                            "deliverer_id": None,
                            "deliverer_name": deliverer,
                            "rule_id": rule_id,
                            "price_fen": PRICES[kind],
                            "resident_fen": parts["resident"],
                            "government_fen": parts["government"],
                            "government_level": government,
                            "community_fen": parts["community"],
                            "donation_fen": parts["donation"],
                            "donation_shortfall_fen": shortfall,
                            "reverses_id": None,
                            "voided_at": None,
                            "created_by_id": canteen.created_by,
                            "created_at": created,
                        },
                    )
                    self.stats["meals"] += 1
                    self.stats["archive_meals"] += not window.live
                    self.stats["shortfalls"] += shortfall > 0
                    year = date.year
                    spent[(year, Funder.GOVERNMENT)] += parts["government"]
                    spent[(year, Funder.COMMUNITY)] += parts["community"]
                    line = lines.get((kind, code))
                    if line is None:
                        line = lines[(kind, code)] = [0, 0, 0, 0, 0, 0]
                    line[0] += 1
                    line[1] += PRICES[kind]
                    line[2] += parts["resident"]
                    line[3] += parts["government"]
                    line[4] += parts["community"]
                    line[5] += parts["donation"]
                    if elder_id is None:
                        month_totals[0] += 1
                    else:
                        eaters.add(elder_id)
                    if parts["donation"]:
                        balance -= parts["donation"]
                        writer.add(
                            FundMovement,
                            {
                                "id": meal_ids(FundMovement),
                                "fund_id": fund_id,
                                "kind": FundMovementKind.MEAL_DRAW,
                                "amount_fen": -parts["donation"],
                                "donation_id": None,
                                "meal_id": meal_id,
                                "memo": f"{date_text} {labels[kind]}",
                                "created_by_id": canteen.created_by,
                                "created_at": created,
                            },
                        )
                assert balance >= 0
        canteen.meals = []  # free the plan
        with connection.cursor() as cursor:
            writer.flush(DonationFund)
            cursor.execute(
                f"UPDATE {DonationFund._meta.db_table} SET balance_fen = %s WHERE id = %s",  # noqa: S608
                [balance, fund_id],
            )
        self._budgets(canteen, spent)

    def _donation_plan(
        self, canteen: _Canteen, total: int, opens: dt.date, days: int, *, short: bool = False
    ) -> dict[int, list[tuple[int, dict[str, Any]]]]:
        """The year's donations to the canteen's fund (about `total` fen), by day from `opens` (the first
        day of the year's records): a gift on the first day, then two or three a month."""
        rng = self.rng
        plan: dict[int, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
        # At least 1,000 yuan in two or three gifts a month; the canteen short of donations gets what was
        # planned for it (less than its meals draw) in one gift a month.
        total = total if short else max(total, 100_000)
        count = max(4, days // (30 if short else 12))
        opening = total // 5
        weights = [rng.random() + 0.3 for _n in range(count - 1)]
        amounts = [opening] + [max(1000, int((total - opening) * w / sum(weights))) for w in weights]
        when = [0, *sorted(rng.randrange(1, max(2, days - 1)) for _n in range(count - 1))]
        adults = self.adults.get(canteen.village_id, [])
        for number, (day, amount) in enumerate(zip(when, amounts, strict=True), start=1):
            date = opens + dt.timedelta(days=day)
            pick = rng.random()
            goods = ""
            if number == 1:
                donor, donor_kind = rng.choice(ENTERPRISES), DonorKind.ENTERPRISE
            elif pick < 0.4 and adults:
                donor, donor_kind = rng.choice(adults)[1], DonorKind.PERSON
            elif pick < 0.7:
                donor, donor_kind = rng.choice(ENTERPRISES), DonorKind.ENTERPRISE
            elif pick < 0.85:
                donor, donor_kind = rng.choice(ORGANISATIONS), DonorKind.ORGANISATION
            else:
                donor, donor_kind = _("爱心人士"), DonorKind.ANONYMOUS
            kind = DonationKind.MONEY
            if number > 1 and rng.random() < 0.2:
                goods, _value = rng.choice(GOODS)
                kind = DonationKind.GOODS
            amount = round(amount, -2) or 100
            plan[day].append(
                (
                    amount,
                    {
                        "fund_id": canteen.fund_id,
                        "donor_name": donor,
                        "donor_kind": donor_kind,
                        "kind": kind,
                        "amount_fen": amount,
                        "goods_description": goods,
                        "received_on": date,
                        "purpose": rng.choice(PURPOSES),
                        "receipt_number": f"AX{canteen.id:03d}-{date:%Y%m}-{number:03d}",
                        "is_public": donor_kind != DonorKind.ANONYMOUS and rng.random() < 0.9,
                        "created_by_id": canteen.created_by,
                        "created_at": self._stamp(self._at(date, dt.time(6, 30))),
                    },
                )
            )
        return plan

    def _budgets(self, canteen: _Canteen, spent: dict[tuple[int, str], int]) -> None:
        """Each year's budget per funder: the year's spend rate with some room; the second canteen's
        community budget runs short (the report's deficit shows)."""
        rng = self.rng
        for (year, funder), amount in sorted(spent.items()):
            covered = sum(
                1
                for window in self.windows
                for d in range((window.last - window.first).days + 1)
                if (day := window.first + dt.timedelta(days=d)).year == year and day >= canteen.opened_on
            )
            full_year = amount * 365 / max(covered, 1)
            factor = (
                0.8
                if self.canteens.index(canteen) == 1 and funder == Funder.COMMUNITY
                else rng.uniform(1.05, 1.2)
            )
            self._add(
                Budget,
                {
                    "site_id": canteen.id,
                    "year": year,
                    "funder": funder,
                    "amount_fen": max(0, int(round(full_year * factor, -4))),
                    "updated_by_id": self.admin_id,
                    "updated_at": self._stamp(self._at(dt.date(year, 1, 5), dt.time(10))),
                },
            )

    # -- settlements of the past months --------------------------------------------------------------------

    def _settlements(self) -> None:
        """Every past month's claim, approved. The figures are settlement_compute's (canteens.services.
        settlements.month_figures: one GROUP BY slot × tier over the month's meals, the distinct elders,
        the government part split by level), added up while the meals were simulated instead of read back;
        tests/canteens/test_demo_canteens.py holds them to the meal rows. Written as drafts, then approved by
        one UPDATE: the lock trigger of canteens 0002 refuses lines added to an approved settlement."""
        from canteens.services.settlements import claim_number_for

        ids = []
        slot_order = {kind: n for n, (kind, _s, _e) in enumerate(SLOTS)}
        for canteen in self.canteens:
            for (year, month), period in sorted(canteen.months.items()):
                if (year, month) >= (self.today.year, self.today.month) or not period.lines:
                    continue
                total = [sum(line[i] for line in period.lines.values()) for i in range(6)]
                township = total[3] if canteen.level == GovernmentLevel.TOWNSHIP else 0
                next_month = dt.date(year + 1, 1, 1) if month == 12 else dt.date(year, month + 1, 1)
                submitted = self._at(next_month + dt.timedelta(days=2), dt.time(10))
                decided = self._at(next_month + dt.timedelta(days=7), dt.time(15))
                settlement_id = self._add(
                    Settlement,
                    {
                        "site_id": canteen.id,
                        "year": year,
                        "month": month,
                        "status": ClaimStatus.DRAFT,
                        "claim_number": claim_number_for(canteen.id, year, month),
                        "meals": total[0],
                        "elders": len(period.elders),
                        "guest_meals": period.totals[0],
                        "price_fen": total[1],
                        "resident_fen": total[2],
                        "government_county_fen": total[3] - township,
                        "government_township_fen": township,
                        "community_fen": total[4],
                        "donation_fen": total[5],
                        "computed_at": submitted,
                        "submitted_by_id": canteen.created_by,
                        "submitted_at": submitted,
                        "decided_by_id": canteen.decided_by,
                        "decided_at": decided,
                        "return_reason": "",
                    },
                )
                ids.append(settlement_id)
                for (slot, code), line in sorted(
                    period.lines.items(), key=lambda item: (slot_order[item[0][0]], item[0][1] is None)
                ):
                    self._add(
                        SettlementLine,
                        {
                            "settlement_id": settlement_id,
                            "slot": slot,
                            "tier_id": self.tiers[code] if code else None,
                            "meals": line[0],
                            "price_fen": line[1],
                            "resident_fen": line[2],
                            "government_fen": line[3],
                            "community_fen": line[4],
                            "donation_fen": line[5],
                        },
                    )
            canteen.months = {}
        self.writer.flush(Settlement)
        self.writer.flush(SettlementLine)
        if ids:
            Settlement.objects.filter(pk__in=ids).update(status=ClaimStatus.APPROVED)

    # -- classrooms ------------------------------------------------------------------------------------------

    def _session_days(self, window: _Window, opened: dt.date) -> list[dt.date]:
        """A classroom's days in the window from its opening (in the live year up to yesterday): Tuesday and
        Thursday after school, Monday, Wednesday and Friday mornings in the summer holidays (July, August),
        none over the Spring Festival."""
        days = []
        first = max(window.first, opened)
        last = window.last - dt.timedelta(days=1) if window.live else window.last
        for day in range((last - first).days + 1):
            date = first + dt.timedelta(days=day)
            if date.month == 2 and 5 <= date.day <= 25:
                continue
            if date.weekday() in ((0, 2, 4) if date.month in (7, 8) else (1, 3)):
                days.append(date)
        return days

    def _classrooms(self) -> None:
        rng = self.rng
        plan = self.plan
        catchments = self._catchments(
            [(site, village, township) for site, village, _n, township, _opened in self.classrooms]
        )
        staff: dict[int, list[int]] = {}
        for site_id, village_id, _village_name, township_id, opened in self.classrooms:
            # Volunteer teachers: residents of the village where there are enough, else from the township.
            adults = list(self.adults.get(village_id, []))
            if len(adults) < 6:
                for other_id, _name in self.villages.get(township_id, []):
                    adults.extend(self.adults.get(other_id, []))
                    if len(adults) >= 12:
                        break
            teachers = staff[site_id] = []
            for resident_id, name in rng.sample(adults, min(len(adults), rng.randint(3, 6))):
                phone = f"1{rng.choice('35789')}{rng.randrange(10**9):09d}"
                teachers.append(
                    self._add(
                        Volunteer,
                        {
                            "region_id": village_id,
                            "resident_id": resident_id,
                            "name": name,
                            "phone_encrypted": pii.encrypt(phone),
                            "phone_masked": pii.mask_phone(phone),
                            "speciality": rng.choice(SUBJECTS),
                            "is_active": True,
                            "created_at": self._stamp(self._at(opened, dt.time(9))),
                        },
                    )
                )
        for window in self.windows:
            # Each window's register: the children aged 4–16 at its end (CHILD_AGES), one classroom each.
            taken: set[int] = set()
            share = plan.roster_share if window.live else plan.archive_roster_share
            youngest = _years_before(window.last, CHILD_AGES[0])
            oldest = _years_before(window.last, CHILD_AGES[1] + 1)

            in_window = {
                v: [c for c, birth in kids if oldest < birth <= youngest] for v, kids in self.children.items()
            }

            for site_id, village_id, _village_name, _township_id, opened in self.classrooms:
                teachers = staff[site_id]
                if not teachers or opened > window.last:
                    continue
                # The village's children first, then the rest of the classroom's catchment.
                own = [c for c in in_window.get(village_id, []) if c not in taken]
                others = [c for v in catchments[site_id][1:] for c in in_window.get(v, []) if c not in taken]
                wanted = round((len(own) + len(others)) * share) if share else rng.randint(*plan.roster)
                roster = own[:wanted]
                roster += rng.sample(others, min(len(others), wanted - len(roster)))
                taken.update(roster)
                rng.shuffle(roster)
                dates = self._session_days(window, opened)
                if not dates:
                    continue
                # The regulars, drawn for each session (some come more often than others), and the
                # children who came to one to three sessions of the year.
                regulars = roster[: max(1, math.ceil(len(roster) * plan.regulars))] if roster else []
                weights = list(itertools.accumulate(rng.random() + 0.2 for _c in regulars))
                visitors: dict[int, set[int]] = defaultdict(set)
                for child in roster[len(regulars) :]:
                    for _n in range(rng.choice((1, 1, 2, 3))):
                        visitors[rng.randrange(len(dates))].add(child)
                for number, date in enumerate(dates):
                    if date.month in (7, 8):
                        starts, ends, hours = dt.time(9, 0), dt.time(11, 0), Decimal("2.0")
                    else:
                        starts, ends, hours = dt.time(16, 30), dt.time(18, 0), Decimal("1.5")
                    subject = rng.choice(SUBJECTS)
                    teacher = rng.choice(teachers)
                    named: set[int] = set(visitors.get(number, ()))
                    if regulars:
                        want = min(len(regulars), rng.randint(*plan.per_session))
                        drawn = 0
                        while drawn < want:
                            child = regulars[bisect.bisect_right(weights, rng.random() * weights[-1])]
                            if child not in named:
                                named.add(child)
                                drawn += 1
                    session_id = self._add(
                        ClassSession,
                        {
                            "site_id": site_id,
                            "held_on": date,
                            "starts": self._time(starts),
                            "ends": self._time(ends),
                            "subject": subject,
                            "teacher_id": teacher,
                            "children_count": len(named) + rng.randint(0, 6),
                            "notes": "",
                            "created_by_id": self.admin_id,
                            "created_at": self._stamp(self._at(date, ends)),
                        },
                    )
                    for child in sorted(named):
                        self._add(ClassAttendance, {"session_id": session_id, "resident_id": child})
                    self._add(
                        VolunteerHours,
                        {
                            "volunteer_id": teacher,
                            "site_id": site_id,
                            "session_id": session_id,
                            "worked_on": date,
                            "hours": hours,
                            "activity": subject,
                            "created_at": self._stamp(self._at(date, ends)),
                        },
                    )

    # -- workshops -----------------------------------------------------------------------------------------

    def _workshops(self) -> None:
        rng = self.rng
        plan = self.plan
        taken: set[int] = set()
        months = _months_between(self.first_day, self.today)
        for site_id, village_id, township_id, craft in self.workshops:
            products = []
            for name, unit, rate in CRAFTS[craft][1]:
                product_id = self._add(
                    WorkshopProduct,
                    {
                        "site_id": site_id,
                        "name": name,
                        "unit": unit,
                        "piece_rate_fen": rate,
                        "is_active": True,
                    },
                )
                products.append((product_id, rate))
            # Left-behind women of the village first, then of the township; other women when there are none.
            pool = [w for w, left_behind in self.women.get(village_id, []) if left_behind and w not in taken]
            wanted = rng.randint(*plan.workers)
            for other_id, _name in self.villages.get(township_id, []):
                if len(pool) >= wanted:
                    break
                pool.extend(
                    w for w, lb in self.women.get(other_id, []) if lb and w not in taken and w not in pool
                )
            if len(pool) < wanted:
                pool.extend(w for w, lb in self.women.get(village_id, []) if not lb and w not in taken)
            for resident_id in pool[:wanted]:
                taken.add(resident_id)
                joined = self.first_day - dt.timedelta(days=rng.randrange(-200, 400))
                left = None
                if rng.random() < 0.08:
                    left = max(joined, self.today - dt.timedelta(days=rng.randrange(20, 120)))
                worker_id = self._add(
                    WorkshopWorker,
                    {"site_id": site_id, "resident_id": resident_id, "joined_on": joined, "left_on": left},
                )
                self.stats["workers"] += 1
                _product, rate = rng.choice(products)
                for year, month in months:
                    start = dt.date(year, month, 1)
                    end = _month_end(year, month)
                    if end >= self.today or joined > end or (left is not None and left < start):
                        continue
                    pieces = max(1, round(rng.uniform(800, 2600) * 100 / rate))
                    paid = end + dt.timedelta(days=10)
                    self._add(
                        WagePayment,
                        {
                            "site_id": site_id,
                            "worker_id": worker_id,
                            "year": year,
                            "month": month,
                            "pieces": pieces,
                            "amount_fen": pieces * rate,
                            "paid_on": paid,
                            "created_by_id": self.admin_id,
                            "created_at": self._stamp(self._at(paid, dt.time(10))),
                        },
                    )
            for year, month in months:
                for _n in range(rng.randint(1, 3)):
                    ordered = dt.date(year, month, rng.randint(1, 28))
                    if ordered >= self.today:
                        continue
                    product_id, rate = rng.choice(products)
                    quantity = rng.randrange(200, 3000, 50)
                    due = ordered + dt.timedelta(days=rng.choice((20, 30, 45)))
                    status, delivered = OrderStatus.OPEN, None
                    if due < self.today:
                        if rng.random() < 0.05:
                            status = OrderStatus.CANCELLED
                        else:
                            status, delivered = (
                                OrderStatus.DELIVERED,
                                due - dt.timedelta(days=rng.randrange(0, 6)),
                            )
                    self._add(
                        WorkshopOrder,
                        {
                            "site_id": site_id,
                            "product_id": product_id,
                            "customer": rng.choice(CUSTOMERS),
                            "quantity": quantity,
                            "amount_fen": quantity * rate * 2,
                            "ordered_on": ordered,
                            "due_on": due,
                            "delivered_on": delivered,
                            "status": status,
                            "created_by_id": self.admin_id,
                            "created_at": self._stamp(self._at(ordered, dt.time(14))),
                        },
                    )

    # -- red stations ----------------------------------------------------------------------------------------

    def _stations(self) -> None:
        rng = self.rng
        plan = self.plan
        for site_id, _village_id, _township_id in self.stations:
            offered = rng.sample(STATION_SERVICES, rng.randint(4, 6))
            services = []
            for name, people, texts in offered:
                service_id = self._add(StationService, {"site_id": site_id, "name": name, "is_active": True})
                services.append((service_id, people, texts))
            for week in range(52):
                monday = self.first_day + dt.timedelta(days=7 * week)
                for _n in range(plan.logs_per_week):
                    date = monday + dt.timedelta(days=rng.randrange(7))
                    if date >= self.today:
                        continue
                    service_id, (low, high), texts = rng.choice(services)
                    served = rng.randint(low, high)
                    self.stats["served"] += served
                    self._add(
                        ServiceLog,
                        {
                            "site_id": site_id,
                            "service_id": service_id,
                            "served_on": date,
                            "people_served": served,
                            "description": rng.choice(texts),
                            "recorded_by_id": self.admin_id,
                            "created_at": self._stamp(self._at(date, dt.time(17))),
                        },
                    )


def canteens_demo_counts(
    under: str, *, today: dt.date | None = None, year: int | None = None
) -> dict[str, int]:
    """The livelihood sites under the region at path `under` by kind (active ones), and the people they
    reached in the demo's live year (`today`, by default today, and the 364 days before). A caller
    comparing with a seed made before midnight passes the seed's day: the year's window moves with the
    date. With `year` (the archive year ARCHIVE_YEAR, say): the sites opened by that year's end and the
    people reached in that calendar year.

    `beneficiaries` is the figure gucheng.md gives as "people benefiting from canteens and classrooms"
    (30,000+), with canteens.selectors.reports.beneficiaries_count's definition: distinct residents who had
    a meal of their own (not a guest's, not a reversal, not voided) at a canteen or attended a class at a
    classroom. The workshops' workers (current, or left within the year) and the people the red stations
    served (the logs' head counts summed: person-times) are reported apart and not added to it."""
    sites = Site.objects.filter(region__path__startswith=under)
    if year is not None:
        since, today = dt.date(year, 1, 1), dt.date(year, 12, 31)
        sites = sites.filter(Q(opened_on__isnull=True) | Q(opened_on__lte=today))
    else:
        today = today or timezone.localdate()
        since = today - dt.timedelta(days=364)
    active = sites.filter(is_active=True)
    by_kind = {kind: active.filter(kind=kind).count() for kind in SiteKind.values}
    eaters = set(
        Meal.objects.filter(
            site__in=sites.filter(kind=SiteKind.CANTEEN),
            served_on__gte=since,
            served_on__lte=today,
            is_guest=False,
            reverses__isnull=True,
            voided_at__isnull=True,
        )
        .order_by()
        .values_list("resident_id", flat=True)
        .distinct()
    )
    pupils = set(
        ClassAttendance.objects.filter(
            session__in=ClassSession.objects.filter(
                site__in=sites.filter(kind=SiteKind.CLASSROOM), held_on__gte=since, held_on__lte=today
            )
        )
        .order_by()
        .values_list("resident_id", flat=True)
        .distinct()
    )
    workers = (
        WorkshopWorker.objects.filter(site__in=sites)
        .filter(Q(left_on__isnull=True) | Q(left_on__gte=since), joined_on__lte=today)
        .values("resident_id")
        .distinct()
        .count()
    )
    served = (
        ServiceLog.objects.filter(site__in=sites, served_on__gte=since, served_on__lte=today).aggregate(
            n=Sum("people_served")
        )["n"]
        or 0
    )
    return {
        "canteens": by_kind[SiteKind.CANTEEN],
        "classrooms": by_kind[SiteKind.CLASSROOM],
        "workshops": by_kind[SiteKind.WORKSHOP],
        "red_stations": by_kind[SiteKind.RED_STATION],
        "elders_served": len(eaters),
        "children_taught": len(pupils),
        "beneficiaries": len(eaters | pupils),
        "workshop_workers": workers,
        "station_people_served": served,
    }


def _age(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _years_after(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # born on 29 February: a year older on 1 March
        return dt.date(day.year + years, 3, 1)


def _month_end(year: int, month: int) -> dt.date:
    first_next = dt.date(year + 1, 1, 1) if month == 12 else dt.date(year, month + 1, 1)
    return first_next - dt.timedelta(days=1)


def _months_between(first: dt.date, last: dt.date) -> list[tuple[int, int]]:
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months

"""The demo county's 百分奖: a points store in every township with daily goods on its shelves, a year of
awards from the county's catalog (reviewed, under public notice, posted; some still under notice or waiting
for review today, a few with objections), a year of monthly redemption days with their receipts, and one
redemption day open today at every store, so the `township_admin` log-in lands on a working till.

Like grids/demo.py this writes in bulk through governance.demo's _Writer (COPY on PostgreSQL) instead of the
services, and so keeps the services' invariants itself. The ledger is exact: each township's history is
simulated in time order in Python (a heap of award postings, restocks, till visits and returns), so
- every transaction's postings sum to zero and ids follow time within every account (statements page by id);
- a household's stored balance is the sum of its postings and never went below zero at any moment (a
  deduction takes at most what the balance holds, the rest waived, exactly as award_post does);
- `pending` is the sum of the household's positive awards still under notice;
- an item's on-hand is the sum of its stock movements and never went below zero (restocks come before
  the day, a basket takes only what is on the shelf).
On PostgreSQL the deferred per-row "transaction balances" trigger is switched off for the load (inside the
seed's transaction, so no other session ever sees it off) and replaced by the set-based ledger_verify() run
at the end, which refuses to let the seed commit on any difference.

Only rules without a required photo are used (the bulk build writes no photo files). Deterministic: the
random generator is seeded per scale; times follow the wall clock of the run (today's redemption day).
"""

from __future__ import annotations

import datetime as dt
import functools
import heapq
import io
import itertools
import math
import operator
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext

from governance.audit import audit_record
from governance.demo import _COPY_ESCAPES, _copy_text, _Ids, _Writer
from governance.models import (
    AuditAction,
    Household,
    Region,
    RegionLevel,
    RoleAssignment,
    User,
)
from governance.roles import Role
from grids.models import GridLeader
from points.defaults import points_defaults_install
from points.ledger import CARD_CODE_LENGTH
from points.models import (
    Account,
    AccountKind,
    Award,
    AwardStatus,
    DayStatus,
    Item,
    LedgerTransaction,
    Objection,
    ObjectionStatus,
    Posting,
    Redemption,
    RedemptionDay,
    RedemptionLine,
    RedemptionReturn,
    Rule,
    StockKind,
    StockMovement,
    Store,
    TransactionKind,
)
from points.services.awards import period_key
from points.services.policy import DEFAULT_NOTICE_DAYS

# Per scale: the share of households taking part in 百分奖 over the demo year, and how many awards each
# of them is proposed (inclusive range). The test county is tiny, so everyone takes part there.
PARTICIPATION: dict[str, tuple[float, tuple[int, int]]] = {
    "test": (1.0, (5, 10)),
    "default": (0.18, (3, 6)),
    "county": (0.07, (4, 9)),
}
# A taking-part household comes to a redemption day with this chance (when it has points to spend).
VISIT_CHANCE = 0.55
REJECT_CHANCE = 0.04
# Objections per award under notice: more at the test scale so its tests always find some.
OBJECTION_CHANCE = {"test": 0.06, "default": 0.012, "county": 0.004}
UPHOLD_CHANCE = 0.3
RETURN_CHANCE = 0.012
OPENS_AT = dt.time(8, 30)
CLOSES_AT = dt.time(11, 45)
BEAT_MINUTES = 15  # points-awards-post-due runs every quarter of an hour (config/celery.py)
_ZONE = ZoneInfo(settings.TIME_ZONE)
_CARD_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # points.ledger's: no 0/O, 1/I/L

# (name, unit, points price, purchase price per unit in fen, how often it is chosen)
ITEMS: tuple[tuple[str, str, int, int, int], ...] = (
    ("食盐（400克）", "袋", 5, 300, 6),
    ("肥皂", "块", 6, 450, 5),
    ("牙膏", "支", 8, 650, 6),
    ("挂面（1千克）", "把", 8, 700, 5),
    ("毛巾", "条", 10, 900, 6),
    ("香醋（500毫升）", "瓶", 10, 750, 4),
    ("酱油（500毫升）", "瓶", 12, 980, 6),
    ("洗洁精（1.5千克）", "瓶", 12, 990, 5),
    ("洗衣粉（1.5千克）", "袋", 15, 1290, 6),
    ("卫生纸（10卷）", "提", 20, 1890, 5),
    ("保温杯", "个", 30, 2800, 2),
    ("大米（10斤）", "袋", 40, 3600, 5),
    ("食用油（5升）", "桶", 60, 5990, 4),
    ("电热水壶", "个", 100, 8900, 1),
)
SUPPLIERS = ("谷城县供销合作社", "城关镇万家福超市", "谷城县新合作商贸有限公司", "谷城县惠民日用品批发部")
DONORS = ("谷城县爱心企业联合会", "本镇在外乡贤", "谷城县商会", "驻村工作队帮扶单位")
ADJUSTMENT_REASONS = ("盘点发现包装破损，报损", "盘点发现受潮，报损", "盘点数量与账面不符，按实盘调整")
RETURN_REASONS = ("包装破损，村民要求退回", "兑换时拿错商品，退回重兑", "村民家中已有，退回换其他商品")
REJECTION_REASONS = (
    "经入户核实，情况与申报不符。",
    "该户本月已由其他网格员申报同一事项，本条不予通过。",
    "申报材料不全，请补充后重新申报。",
)
OBJECTION_REASONS = (
    "这户人家门前的柴火堆一直没清理，不应该加分。",
    "听说这次活动他家并没有人参加，请村里核实。",
    "这户的事迹和实际情况有出入，希望村委会再核实一下。",
    "同组村民反映该户上月与邻居吵架，是否还符合条件？",
)
DISMISS_NOTES = ("经入户走访核实，事迹属实，异议不成立。", "经向同组村民了解，申报情况属实。")
UPHOLD_NOTES = ("经核实，异议反映情况属实，本条积分不予入账。", "经村民代表核实，事迹与实际不符。")
# How often each catalog item is proposed (codes of points/defaults.py; an unknown code weighs 1).
RULE_WEIGHTS: dict[str, float] = {
    "HJ-02": 14,
    "XL-01": 10,
    "XL-02": 8,
    "ZY-03": 6,
    "ZY-04": 4,
    "ZF-01": 3,
    "ZF-02": 3,
    "ZF-03": 5,
    "ZF-04": 5,
    "YF-01": 3,
    "YF-02": 4,
    "XL-03": 2,
    "PX-01": 0.6,
    "PX-02": 0.2,
    "PX-03": 1.5,
    "XL-04": 0.3,
    "ZF-05": 0.8,
    "YF-04": 0.3,
}

BULK_MODELS: tuple[type[models.Model], ...] = (
    Store,
    Item,
    Account,
    LedgerTransaction,
    Posting,
    Award,
    Objection,
    RedemptionDay,
    Redemption,
    RedemptionLine,
    RedemptionReturn,
    StockMovement,
)

_translated: dict[str, str] = {}


def _(message: str) -> str:
    found = _translated.get(message)
    if found is None:
        found = _translated[message] = gettext(message)
    return found


class _FastWriter(_Writer):
    """governance.demo's writer, cheaper per row for this builder's rows, which carry every column: the
    values are picked with one itemgetter (a row missing a column takes the base class's way, defaults
    and all), and on SQLite the datetimes, all aware UTC here, become the text the backend would store
    without Django's per-value time zone lookup. COPY (PostgreSQL) writes the same values as before."""

    def __init__(self, *, use_copy: bool) -> None:
        super().__init__(use_copy=use_copy)
        self._getters: dict[type[models.Model], Callable[[dict[str, Any]], Any]] = {}

    def _columns(self, model: type[models.Model]) -> list[tuple[str, str, Any, Callable[[Any], Any] | None]]:
        plan = super()._columns(model)
        if self.use_copy or connection.vendor != "sqlite":
            return plan
        fast = []
        for attname, column, default, adapt in plan:
            if adapt is not None and adapt == connection.ops.adapt_datetimefield_value:
                adapt = _utc_text
            fast.append((attname, column, default, adapt))
        return fast

    def _values(  # type: ignore[override]
        self, model: type[models.Model], row: dict[str, Any], plan: list[tuple[str, str, Any, Any]]
    ) -> list[Any]:
        getter = self._getters.get(model)
        if getter is None:
            getter = self._getters[model] = operator.itemgetter(*[attname for attname, *_rest in plan])
        try:
            return list(getter(row))
        except KeyError:
            return _Writer._values(model, row, plan)

    def _copy(self, model: type[models.Model], rows: list[dict[str, Any]]) -> None:
        """The base class's COPY, its text made by type lookup instead of a chain of isinstance per value
        (the same text: governance.demo._copy_text stays the fallback for any other type)."""
        plan = self._columns(model)
        out = io.StringIO()
        texts = _COPY_TEXTS
        for row in rows:
            out.write(
                "\t".join(
                    [texts.get(type(value), _copy_text)(value) for value in self._values(model, row, plan)]
                )
            )
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


_COPY_TEXTS: dict[type, Callable[[Any], str]] = {
    int: int.__repr__,
    str: operator.methodcaller("translate", _COPY_ESCAPES),
    type(None): lambda _value: "\\N",
    bool: lambda value: "t" if value else "f",
    dt.datetime: dt.datetime.isoformat,
    dt.date: dt.date.isoformat,
}


def _utc_text(value: dt.datetime) -> str:
    """The text SQLite stores for an aware datetime: naive UTC, as the backend's adapter writes it."""
    if value.tzinfo is not dt.UTC:
        value = value.astimezone(dt.UTC)
    return value.isoformat(" ")[:-6]  # without "+00:00"


@dataclass(frozen=True, slots=True)
class _RuleRow:
    id: int
    points: int
    cap: int  # per household and period (no cap set: one)
    cap_period: str
    text: str


@dataclass(slots=True)
class _Home:
    """A household taking part, while its year is simulated."""

    id: int
    grid_id: int
    village_id: int
    head_id: int | None
    account_id: int = 0
    opened_at: dt.datetime | None = None
    balance: int = 0
    pending: int = 0


@dataclass(slots=True)
class _Shelf:
    id: int
    name: str
    unit: str
    price: int
    cost_fen: int
    weight: int
    on_hand: int = 0
    target: int = 0
    sold: int = 0


@dataclass(slots=True)
class _Day:
    id: int
    date: dt.date
    status: str
    opened_at: dt.datetime | None
    closed_at: dt.datetime | None


@dataclass(slots=True)
class _Township:
    id: int
    name: str
    path: str
    operator: int
    homes: list[_Home] = field(default_factory=list)


def seed_demo_points(
    *,
    county: Region,
    users: dict[str, User],
    scale: str,
    say: Callable[[str], None],
    use_copy: bool,
    now: dt.datetime | None = None,
) -> int:
    """Build the demo county's points year once (nothing when one of its townships has a store already);
    returns the number of ledger transactions written. Nothing at the skeleton scale (tests build their
    own worlds)."""
    if scale not in PARTICIPATION:
        return 0
    points_defaults_install()
    if Store.objects.filter(township__path__startswith=county.path).exists():
        return 0
    builder = _PointsBuilder(
        county=county, users=users, scale=scale, say=say, use_copy=use_copy, now=now or timezone.now()
    )
    _translated.clear()
    try:
        return builder.build()
    finally:
        _translated.clear()


class _PointsBuilder:
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
        self.use_copy = use_copy
        self.writer = _FastWriter(use_copy=use_copy)
        self.now = now.astimezone(dt.UTC)
        self.today = _local_date(self.now)
        self.start = self.now - dt.timedelta(days=365)
        self.stamp_now = self._stamp(self.now)
        self.rng = random.Random(f"xiangzhi-points-{scale}")  # noqa: S311 - demo data, not security
        self.share, self.awards_per_home = PARTICIPATION[scale]
        self.objection_chance = OBJECTION_CHANCE[scale]
        self.card_codes: set[str] = set()
        self.stats = {"awards": 0, "redemptions": 0, "transactions": 0, "notice": 0, "proposed": 0}

    # -- orchestration ---------------------------------------------------------------------------------

    def build(self) -> int:
        postgres = connection.vendor == "postgresql"
        if postgres:
            tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in BULK_MODELS)
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {tables} IN SHARE ROW EXCLUSIVE MODE")
            trigger_off = self._balance_trigger(enabled=False)
        self.ids = _Ids(BULK_MODELS)
        self._load()
        for township in self.townships:
            self._township(township)
        self.writer.flush()
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), list(BULK_MODELS)):
                cursor.execute(sql)
        if postgres:
            if trigger_off:
                self._balance_trigger(enabled=True)
            with connection.cursor() as cursor:
                cursor.execute(
                    "ANALYZE "
                    + ", ".join(
                        connection.ops.quote_name(m._meta.db_table)
                        for m in (Account, LedgerTransaction, Posting, Award, Redemption, StockMovement)
                    )
                )
            self._verify()
        counts = self.writer.counts
        audit_record(
            actor=None,
            action=AuditAction.IMPORT,
            obj=self.county,
            region_path=self.county.path,
            changes={label: [0, n] for label, n in sorted(counts.items())},
            detail=_("演示数据：一年的百分奖积分（%(scale)s 规模），积分交易 %(n)d 笔。")
            % {"scale": self.scale, "n": self.stats["transactions"]},
        )
        self.say(
            _(
                "百分奖积分：积分超市 %(stores)d 个，积分申报 %(awards)d 条（公示中 %(notice)d 条），"
                "兑换 %(redemptions)d 笔，积分交易 %(transactions)d 笔。"
            )
            % {
                "stores": counts["points.store"],
                "awards": self.stats["awards"],
                "notice": self.stats["notice"],
                "redemptions": self.stats["redemptions"],
                "transactions": self.stats["transactions"],
            }
        )
        return self.stats["transactions"]

    def _balance_trigger(self, *, enabled: bool) -> bool:
        """Switch the deferred per-row balance trigger of points 0002 off (for the load) or on again; True
        when it was switched. A role that does not own the table keeps the trigger (slower, as correct)."""
        action = "ENABLE" if enabled else "DISABLE"
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"ALTER TABLE points_posting {action} TRIGGER points_posting_balanced")
        except Exception:  # insufficient privilege: keep the trigger, it only costs time
            return False
        return True

    def _verify(self) -> None:
        """The ledger verification job over what was just written; the seed fails (and rolls back) on any
        difference, so a demo county never starts with a wrong ledger."""
        from points.services.ledger_check import ledger_verify

        check = ledger_verify()
        if not check.is_ok:
            raise RuntimeError(
                "demo points ledger does not verify: " + "; ".join(d["text"] for d in check.differences[:10])
            )

    # -- what exists already ---------------------------------------------------------------------------

    def _load(self) -> None:
        rules = [
            r
            for r in Rule.objects.filter(
                region=self.county, is_active=True, is_evidence_required=False
            ).order_by("code")
        ]
        self.rules = [
            _RuleRow(r.pk, r.points, r.cap_count or 1, r.cap_period, f"{r.code} {r.name}") for r in rules
        ]
        self.rule_cum = list(itertools.accumulate(RULE_WEIGHTS.get(r.code, 1.0) for r in rules))

        demo_ids = {u.pk for u in self.users.values()}

        def prefer_demo(rows: list[tuple[int, int]]) -> dict[int, int]:
            chosen: dict[int, int] = {}
            for region_id, user_id in rows:
                if region_id not in chosen or user_id in demo_ids:
                    chosen[region_id] = user_id
            return chosen

        under = self.county.path
        assignments = RoleAssignment.objects.filter(region__path__startswith=under).order_by(
            "region_id", "id"
        )
        self.reviewers = prefer_demo(
            list(assignments.filter(role=Role.VILLAGE_SECRETARY).values_list("region_id", "user_id"))
        )
        operators = prefer_demo(
            list(assignments.filter(role=Role.TOWNSHIP_ADMIN).values_list("region_id", "user_id"))
        )
        county_admin = self.users.get("county_admin")
        fallback = county_admin.pk if county_admin is not None else None
        self.fallback_user = fallback
        self.leaders = dict(
            GridLeader.objects.filter(grid__path__startswith=under, ended_on=None)
            .exclude(user=None)
            .values_list("grid_id", "user_id")
        )
        self.townships: list[_Township] = []
        by_id: dict[int, _Township] = {}
        for region_id, name, path in (
            Region.objects.filter(path__startswith=under, level=RegionLevel.TOWNSHIP)
            .order_by("path")
            .values_list("id", "name", "path")
        ):
            till_operator = operators.get(region_id, fallback)
            if till_operator is None:
                continue
            township = _Township(region_id, name, path, till_operator)
            self.townships.append(township)
            by_id[region_id] = township
        # Grids → (township, village) from their paths, then the households by grid: no join per household
        # (the county has 355,000; a join to their grids and heads costs a random read each on a cold cache).
        where: dict[int, tuple[_Township, int]] = {}
        for grid_id, grid_path in Region.objects.filter(
            path__startswith=under, level=RegionLevel.GRID
        ).values_list("id", "path"):
            parts = grid_path.strip("/").split("/")
            found = by_id.get(int(parts[1])) if len(parts) >= 4 else None
            if found is not None and grid_id in self.leaders:
                where[grid_id] = (found, int(parts[2]))
        rng = self.rng
        # The bulk-built county has only current residents, so a household's head may be named as the one
        # who did it (the service refuses a deceased or moved-out resident).
        for household_id, grid_id, head_id in (
            Household.objects.filter(grid_id__in=list(where), is_active=True)
            .order_by("id")
            .values_list("id", "grid_id", "head_id")
            .iterator(chunk_size=20_000)
        ):
            # One draw per household whatever happens next, so a township's sample does not depend on
            # the ones before it.
            taking_part = rng.random() < self.share
            if taking_part:
                township, village_id = where[grid_id]
                township.homes.append(_Home(household_id, grid_id, village_id, head_id))

    # -- one township's year ---------------------------------------------------------------------------

    def _township(self, township: _Township) -> None:
        rng = self.rng
        self.heap: list[tuple[dt.datetime, int, str, Any]] = []
        self.seq = 0
        self.tw = township
        self.lines: list[dict[str, Any]] = []
        store_id = self.ids(Store)
        self.store_id = store_id
        self.store_name = _("%(t)s积分超市") % {"t": township.name}
        self.writer.add(
            Store,
            {
                "id": store_id,
                "name": self.store_name,
                "region_id": township.id,
                "township_id": township.id,
                "address": _("%(t)s党群服务中心一楼") % {"t": township.name},
                "is_active": True,
                "created_at": self._stamp(self.start - dt.timedelta(days=10)),
            },
        )
        self.issuance = self.ids(Account)
        self.sink = self.ids(Account)
        self.shelves = [
            _Shelf(self.ids(Item), name, unit, price, cost, weight)
            for name, unit, price, cost, weight in ITEMS
        ]
        self.shelf_by_id = {shelf.id: shelf for shelf in self.shelves}
        self.shelf_cum = list(itertools.accumulate(s.weight for s in self.shelves))
        total_weight = self.shelf_cum[-1]
        # Shelves sized for the visits a day of this township brings (about two items a basket).
        visits = max(4.0, len(township.homes) * VISIT_CHANCE * 0.7)
        for shelf in self.shelves:
            shelf.target = _round_up(visits * 2.2 * shelf.weight / total_weight * 1.6 + 6, 10)

        days = self._days()
        self.days = days
        for home in township.homes:
            self._awards(home)
        for index, day in enumerate(days):
            if day.status == DayStatus.SCHEDULED or day.opened_at is None:
                continue
            # Stock comes in two days before (the first time: the store opening a year ago).
            restock_at = (
                self.start - dt.timedelta(days=3)
                if index == 0
                else _local(day.date - dt.timedelta(days=2), dt.time(15, 0))
            )
            self._push(restock_at, "restock", index)
            end = min(day.closed_at or self.now, self.now) - dt.timedelta(minutes=5)
            span = (end - day.opened_at).total_seconds()
            if span <= 0:
                continue
            # Today's day has run only since it opened: fewer have come so far.
            chance = (
                VISIT_CHANCE
                if day.status == DayStatus.CLOSED
                else VISIT_CHANCE * min(1.0, span / 10800) * 0.3
            )
            for home in township.homes:
                if rng.random() < chance:
                    at = day.opened_at + dt.timedelta(seconds=rng.uniform(60, span))
                    self._push(at, "visit", (home, day))
        self._run()

        for home in township.homes:
            if home.opened_at is None:
                continue
            self._open(home)
            self.writer.add(
                Account,
                {
                    "id": home.account_id,
                    "kind": AccountKind.HOUSEHOLD,
                    "township_id": township.id,
                    "household_id": home.id,
                    "store_id": None,
                    "balance": home.balance,
                    "pending": home.pending,
                    "card_code": self._card_code(),
                    "created_at": self._stamp(home.opened_at),
                    "updated_at": self.stamp_now,
                },
            )
        opened = self._stamp(self.start - dt.timedelta(days=10))
        self.writer.add(
            Account,
            {
                "id": self.issuance,
                "kind": AccountKind.ISSUANCE,
                "township_id": township.id,
                "household_id": None,
                "store_id": None,
                "balance": 0,  # system accounts keep no stored balance (points 0003)
                "pending": 0,
                "card_code": None,
                "created_at": opened,
                "updated_at": opened,
            },
        )
        self.writer.add(
            Account,
            {
                "id": self.sink,
                "kind": AccountKind.STORE_SINK,
                "township_id": township.id,
                "household_id": None,
                "store_id": store_id,
                "balance": 0,
                "pending": 0,
                "card_code": None,
                "created_at": opened,
                "updated_at": opened,
            },
        )
        for order, shelf in enumerate(self.shelves, start=1):
            self.writer.add(
                Item,
                {
                    "id": shelf.id,
                    "store_id": store_id,
                    "name": shelf.name,
                    "unit": shelf.unit,
                    "points_price": shelf.price,
                    "picture": "",
                    "on_hand": shelf.on_hand,
                    "is_active": True,
                    "sort_order": order * 10,
                },
            )
        for line in self.lines:
            self.writer.add(RedemptionLine, line)

    def _days(self) -> list[_Day]:
        """Monthly redemption days over the year (closed), today's (open) and next month's (scheduled).
        Each township has its own day of the month."""
        day_of_month = 5 + (self.tw.id * 7) % 20
        dates: list[dt.date] = []
        year, month = self.today.year, self.today.month
        for back in range(12, -1, -1):
            y, m = year, month - back
            while m < 1:
                y, m = y - 1, m + 12
            on = dt.date(y, m, day_of_month)
            if _local_date(self.start) < on < self.today:
                dates.append(on)
        days: list[_Day] = []
        for on in dates:
            opened = _local(on, OPENS_AT) + dt.timedelta(minutes=self.rng.randint(0, 12))
            closed = _local(on, CLOSES_AT) + dt.timedelta(minutes=self.rng.randint(0, 30))
            days.append(_Day(self.ids(RedemptionDay), on, DayStatus.CLOSED, opened, closed))
        opened_today = min(_local(self.today, OPENS_AT), self.now - dt.timedelta(minutes=20))
        days.append(_Day(self.ids(RedemptionDay), self.today, DayStatus.OPEN, opened_today, None))
        y, m = (year + 1, 1) if month == 12 else (year, month + 1)
        days.append(
            _Day(self.ids(RedemptionDay), dt.date(y, m, day_of_month), DayStatus.SCHEDULED, None, None)
        )
        for day in days:
            self.writer.add(
                RedemptionDay,
                {
                    "id": day.id,
                    "store_id": self.store_id,
                    "date": day.date,
                    "title": _("%(month)s月%(day)s日兑换日") % {"month": day.date.month, "day": day.date.day},
                    "status": day.status,
                    "opened_at": day.opened_at,
                    "closed_at": day.closed_at,
                    "created_by_id": self.tw.operator,
                },
            )
        return days

    # -- awards ----------------------------------------------------------------------------------------

    def _awards(self, home: _Home) -> None:
        """The household's proposals over the year: each reviewed, noticed, objected to and posted as far
        as `now` lets it; postings go on the heap (they depend on the balance at their time)."""
        rng = self.rng
        now = self.now
        counted: dict[tuple[int, str], int] = {}
        low, high = self.awards_per_home
        days_in_year = (self.today - _local_date(self.start)).days
        proposer = self.leaders[home.grid_id]
        reviewer = self.reviewers.get(home.village_id) or self.tw.operator
        for _attempt in range(rng.randint(low, high)):
            rule = rng.choices(self.rules, cum_weights=self.rule_cum)[0]
            occurred = self.today - dt.timedelta(days=rng.randint(0, days_in_year - 1))
            period = _period(rule.cap_period, occurred)
            if counted.get((rule.id, period), 0) >= rule.cap:
                continue  # the service would refuse it: the cap of that period is reached
            proposed_at = _local(occurred, dt.time(9, 0)) + dt.timedelta(hours=rng.uniform(0, 56))
            if proposed_at > now:
                proposed_at = now - dt.timedelta(minutes=rng.uniform(5, 120))
                if _local_date(proposed_at) < occurred:
                    continue
            counted[(rule.id, period)] = counted.get((rule.id, period), 0) + 1
            row: dict[str, Any] = {
                "household_id": home.id,
                "resident_id": home.head_id if rng.random() < 0.7 else None,
                "rule_id": rule.id,
                "points": rule.points,
                "occurred_on": occurred,
                "period": period,
                "note": "",
                "status": AwardStatus.PROPOSED,
                "proposed_by_id": proposer,
                "proposed_at": proposed_at,
                "reviewed_by_id": None,
                "reviewed_at": None,
                "rejection_reason": "",
                "notice_ends_at": None,
                "posted_at": None,
                "transaction_id": None,
                "void_reason": "",
                "batch_key": "",
            }
            self.stats["awards"] += 1
            reviewed_at = proposed_at + dt.timedelta(hours=rng.uniform(2, 72))
            if reviewed_at > now:
                self.stats["proposed"] += 1
                self._award_row(row)
                continue
            row["reviewed_by_id"] = reviewer
            row["reviewed_at"] = reviewed_at
            if rng.random() < REJECT_CHANCE:
                row["status"] = AwardStatus.REJECTED
                row["rejection_reason"] = rng.choice(REJECTION_REASONS)
                counted[(rule.id, period)] -= 1
                self._award_row(row)
                continue
            row["status"] = AwardStatus.NOTICE
            ends = reviewed_at + dt.timedelta(days=DEFAULT_NOTICE_DAYS)
            row["notice_ends_at"] = ends
            if rule.points > 0 and (home.opened_at is None or reviewed_at < home.opened_at):
                home.opened_at = reviewed_at
            objection: dict[str, Any] | None = None
            post_from = ends
            if rng.random() < self.objection_chance:
                filed = reviewed_at + dt.timedelta(hours=rng.uniform(1, DEFAULT_NOTICE_DAYS * 24 - 2))
                if filed <= now:
                    objection = {
                        "reason": rng.choice(OBJECTION_REASONS),
                        "contact_name": "",
                        "contact_phone_encrypted": "",
                        "contact_phone_masked": "",
                        "status": ObjectionStatus.OPEN,
                        "created_at": filed,
                        "client_ip": None,
                        "decided_by_id": None,
                        "decided_at": None,
                        "decision_note": "",
                    }
                    decided = filed + dt.timedelta(hours=rng.uniform(3, 70))
                    if decided <= now:
                        upheld = rng.random() < UPHOLD_CHANCE
                        note = rng.choice(UPHOLD_NOTES if upheld else DISMISS_NOTES)
                        objection.update(
                            status=ObjectionStatus.UPHELD if upheld else ObjectionStatus.DISMISSED,
                            decided_by_id=reviewer,
                            decided_at=decided,
                            decision_note=note,
                        )
                        if upheld:
                            row["status"] = AwardStatus.VOIDED
                            row["void_reason"] = (_("公示异议成立：%(note)s") % {"note": note})[:300]
                            counted[(rule.id, period)] -= 1
                            self._award_row(row, objection)
                            continue
                        post_from = max(ends, decided)
                    else:
                        post_from = now + dt.timedelta(days=1)  # an open objection holds the posting
            posted_at = _next_beat(post_from) + dt.timedelta(seconds=rng.uniform(1, 40))
            if posted_at > now:
                # Still under notice today (or held by an open objection): pending, not spendable.
                if rule.points > 0:
                    home.pending += rule.points
                self.stats["notice"] += 1
                self._award_row(row, objection)
                continue
            if rule.points < 0 and (home.opened_at is None or posted_at < home.opened_at):
                home.opened_at = posted_at
            self._push(posted_at, "post", (home, row, objection, rule))

    def _award_row(self, row: dict[str, Any], objection: dict[str, Any] | None = None) -> None:
        award_id = self.ids(Award)
        row["id"] = award_id
        row["idempotency_key"] = f"demo-{award_id}"
        row["updated_at"] = self.stamp_now
        self.writer.add(Award, row)
        if objection is not None:
            objection["id"] = self.ids(Objection)
            objection["award_id"] = award_id
            self.writer.add(Objection, objection)

    def _post(
        self, at: dt.datetime, home: _Home, row: dict[str, Any], objection: Any, rule: _RuleRow
    ) -> None:
        """award_post at `at`: an award is credited; a deduction takes what the balance holds (the rest
        waived), or is voided when the balance is zero."""
        self._open(home)
        text = rule.text
        if rule.points > 0:
            tx = self._transaction(
                at,
                TransactionKind.AWARD,
                (_("积分奖励：%(rule)s") % {"rule": text})[:200],
                [(self.issuance, -rule.points), (home.account_id, rule.points)],
                None,
            )
            home.balance += rule.points
        else:
            due = -rule.points
            taken = min(due, home.balance)
            if taken == 0:
                row["status"] = AwardStatus.VOIDED
                row["void_reason"] = _("余额为零，扣分 %(n)s 分无可扣除，不透支。") % {"n": due}
                self._award_row(row, objection)
                return
            memo = _("积分扣减：%(rule)s") % {"rule": text}
            if taken < due:
                memo += _("（应扣 %(due)s 分，余额仅 %(taken)s 分，实扣 %(taken)s 分）") % {
                    "due": due,
                    "taken": taken,
                }
            tx = self._transaction(
                at,
                TransactionKind.DEDUCTION,
                memo[:200],
                [(home.account_id, -taken), (self.issuance, taken)],
                None,
            )
            home.balance -= taken
        row["status"] = AwardStatus.POSTED
        row["posted_at"] = at
        row["transaction_id"] = tx
        self._award_row(row, objection)

    # -- the ledger ------------------------------------------------------------------------------------

    def _open(self, home: _Home) -> None:
        if not home.account_id:
            home.account_id = self.ids(Account)

    def _transaction(
        self, at: dt.datetime, kind: str, memo: str, legs: list[tuple[int, int]], actor: int | None
    ) -> int:
        """One balanced transaction at `at` with its postings; the caller moves the household's balance
        (having checked it), system accounts keep none."""
        tx = self.ids(LedgerTransaction)
        stamp = self._stamp(at)
        self.writer.add(
            LedgerTransaction,
            {
                "id": tx,
                "kind": kind,
                "township_id": self.tw.id,
                "memo": memo,
                "reverses_id": None,
                "created_by_id": actor,
                "created_at": stamp,
            },
        )
        assert sum(amount for _account, amount in legs) == 0  # the invariant of every row
        for account, amount in legs:
            self.writer.add(
                Posting,
                {
                    "id": self.ids(Posting),
                    "transaction_id": tx,
                    "account_id": account,
                    "amount": amount,
                    "created_at": stamp,
                },
            )
        self.stats["transactions"] += 1
        return tx

    # -- the heap: everything that moves points or stock, in time order --------------------------------

    def _push(self, at: dt.datetime, kind: str, payload: Any) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (at, self.seq, kind, payload))

    def _run(self) -> None:
        while self.heap:
            at, _seq, kind, payload = heapq.heappop(self.heap)
            if kind == "post":
                self._post(at, *payload)
            elif kind == "visit":
                self._visit(at, *payload)
            elif kind == "restock":
                self._restock(at, payload)
            elif kind == "return":
                self._return(at, *payload)

    def _restock(self, at: dt.datetime, index: int) -> None:
        """Bring every shelf up to its target before a day; targets follow what the last day sold."""
        rng = self.rng
        clerk = self.tw.operator
        for shelf in self.shelves:
            if index > 0:
                shelf.target = max(shelf.target, _round_up(shelf.sold * 1.3 + 5, 10))
            shelf.sold = 0
            if index > 0 and shelf.on_hand >= 3 and rng.random() < 0.01:
                lost = rng.randint(1, 2)
                self._movement(at, shelf, StockKind.ADJUSTMENT, -lost, reason=rng.choice(ADJUSTMENT_REASONS))
            if shelf.on_hand >= shelf.target:
                continue
            quantity = _round_up(shelf.target - shelf.on_hand, 10)
            donated = index > 0 and rng.random() < 0.15
            self._movement(
                at,
                shelf,
                StockKind.DONATION if donated else StockKind.PURCHASE,
                quantity,
                source=rng.choice(DONORS if donated else SUPPLIERS),
                value_fen=quantity * shelf.cost_fen,
                actor=clerk,
            )

    def _movement(
        self,
        at: dt.datetime,
        shelf: _Shelf,
        kind: str,
        quantity: int,
        *,
        source: str = "",
        value_fen: int | None = None,
        reason: str = "",
        redemption: int | None = None,
        actor: int | None = None,
    ) -> None:
        shelf.on_hand += quantity
        assert shelf.on_hand >= 0  # the simulation never lets stock go below zero
        self.writer.add(
            StockMovement,
            {
                "id": self.ids(StockMovement),
                "item_id": shelf.id,
                "kind": kind,
                "quantity": quantity,
                "source": source,
                "value_fen": value_fen,
                "reason": reason,
                "redemption_id": redemption,
                "created_by_id": actor if actor is not None else self.tw.operator,
                "created_at": self._stamp(at),
            },
        )

    def _visit(self, at: dt.datetime, home: _Home, day: _Day) -> None:
        """A household at the till: a basket of what is on the shelf within its balance, spending most of
        it (never more than it holds, never more than is on hand)."""
        rng = self.rng
        if home.balance < 5:
            return
        budget = int(home.balance * rng.uniform(0.5, 1.0))
        basket: dict[int, int] = {}
        by_id = self.shelf_by_id
        for _pick in range(rng.randint(1, 4)):
            shelf = rng.choices(self.shelves, cum_weights=self.shelf_cum)[0]
            taken = basket.get(shelf.id, 0)
            if shelf.price > budget or shelf.on_hand <= taken:
                continue
            basket[shelf.id] = taken + 1
            budget -= shelf.price
        if not basket:
            return
        total = sum(by_id[item_id].price * quantity for item_id, quantity in basket.items())
        assert total <= home.balance
        clerk = self.tw.operator
        tx = self._transaction(
            at,
            TransactionKind.REDEMPTION,
            _("积分兑换：%(store)s") % {"store": self.store_name},
            [(home.account_id, -total), (self.sink, total)],
            clerk,
        )
        home.balance -= total
        redemption = self.ids(Redemption)
        receipt = f"DH{_local_date(at):%Y%m%d}{redemption:06d}"
        self.writer.add(
            Redemption,
            {
                "id": redemption,
                "receipt_number": receipt,
                "store_id": self.store_id,
                "day_id": day.id,
                "household_id": home.id,
                "total_points": total,
                "transaction_id": tx,
                "created_by_id": clerk,
                "created_at": self._stamp(at),
            },
        )
        self.stats["redemptions"] += 1
        for item_id, quantity in sorted(basket.items()):
            shelf = by_id[item_id]
            line = {
                "id": self.ids(RedemptionLine),
                "redemption_id": redemption,
                "item_id": item_id,
                "quantity": quantity,
                "unit_points": shelf.price,
                "returned_quantity": 0,
            }
            self.lines.append(line)
            self._movement(at, shelf, StockKind.REDEMPTION, -quantity, redemption=redemption, actor=clerk)
            shelf.sold += quantity
            if rng.random() < RETURN_CHANCE:
                back = at + dt.timedelta(minutes=rng.uniform(5, 60))
                if back < self.now:
                    self._push(back, "return", (home, line, shelf, receipt))

    def _return(
        self, at: dt.datetime, home: _Home, line: dict[str, Any], shelf: _Shelf, receipt: str
    ) -> None:
        """redemption_return of one unit: points back from the sink, the unit back on the shelf."""
        reason = self.rng.choice(RETURN_REASONS)
        clerk = self.tw.operator
        points = line["unit_points"]
        tx = self._transaction(
            at,
            TransactionKind.REVERSAL,
            _("退货冲正：小票 %(receipt)s，%(item)s × %(n)s")
            % {"receipt": receipt, "item": shelf.name, "n": 1},
            [(self.sink, -points), (home.account_id, points)],
            clerk,
        )
        home.balance += points
        self.writer.add(
            RedemptionReturn,
            {
                "id": self.ids(RedemptionReturn),
                "line_id": line["id"],
                "quantity": 1,
                "reason": reason,
                "transaction_id": tx,
                "created_by_id": clerk,
                "created_at": self._stamp(at),
            },
        )
        self._movement(
            at, shelf, StockKind.RETURN, 1, reason=reason, redemption=line["redemption_id"], actor=clerk
        )
        line["returned_quantity"] += 1

    # -- small things ----------------------------------------------------------------------------------

    def _stamp(self, at: dt.datetime) -> Any:
        """A value for an auto_now(_add) column, which the writer passes on unadapted."""
        return at if self.use_copy else _utc_text(at)

    def _card_code(self) -> str:
        while True:
            code = "".join(self.rng.choices(_CARD_ALPHABET, k=CARD_CODE_LENGTH))
            if code not in self.card_codes:
                self.card_codes.add(code)
                return code


@functools.cache
def _local(on: dt.date, at: dt.time) -> dt.datetime:
    """`at` o'clock local time on `on`, in UTC (the builder's datetimes are all UTC: cheap to write)."""
    return timezone.make_aware(dt.datetime.combine(on, at)).astimezone(dt.UTC)


@functools.cache
def _period(cap_period: str, occurred_on: dt.date) -> str:
    return period_key(cap_period, occurred_on)


def _local_date(at: dt.datetime) -> dt.date:
    return at.astimezone(_ZONE).date()


def _next_beat(at: dt.datetime) -> dt.datetime:
    """The first run of the quarter-hourly posting task at or after `at`."""
    minutes = math.ceil((at.minute * 60 + at.second + at.microsecond / 1e6) / (BEAT_MINUTES * 60))
    return at.replace(minute=0, second=0, microsecond=0) + dt.timedelta(minutes=minutes * BEAT_MINUTES)


def _round_up(value: float, step: int) -> int:
    return max(step, math.ceil(value / step) * step)


def points_demo_counts(under: str) -> dict[str, int]:
    """The points figures of demo_county_counts for the county at path `under`: its stores and their items
    (the same every run; the year's awards and receipts follow the date of the run and are told by the
    seed's progress line instead)."""
    stores = Store.objects.filter(township__path__startswith=under)
    return {
        "points_stores": stores.count(),
        "points_items": Item.objects.filter(store__in=stores).count(),
    }

"""Points reports, each scoped to the acting user and each a fixed number of queries whatever the size of
the county: points issued / deducted / redeemed / expired per village or township and month (from the
ledger's postings), store stock and its value, and redemption-day summaries.

How the ledger is read: only postings on household accounts count (the other leg of every transaction
is a system account). A reversal counts under the kind of the transaction it reverses, with its sign, so
a returned item lowers "redeemed" and a reversed award lowers "issued"; the columns then always satisfy
issued − deducted − redeemed − expired + adjusted = the change of the households' balances.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from governance.access import AnyUser, scope_q
from points import access as points_access
from points.models import (
    AccountKind,
    Item,
    Posting,
    Redemption,
    RedemptionDay,
    RedemptionLine,
    StockKind,
    TransactionKind,
)

LEVELS = ("village", "township")


@dataclass(frozen=True)
class FlowRow:
    region_id: int
    region: str
    township: str
    month: dt.date
    issued: int
    deducted: int
    redeemed: int
    expired: int
    adjusted: int

    @property
    def net(self) -> int:
        """The change of the households' balances the row accounts for."""
        return self.issued - self.deducted - self.redeemed - self.expired + self.adjusted


def fen_to_yuan(fen: int) -> str:
    """Integer fen as yuan with two decimals ("1234.50"), exact (no float)."""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


@dataclass(frozen=True)
class StockRow:
    store: str
    item_id: int
    item: str
    unit: str
    points_price: int
    on_hand: int
    purchased: int
    donated: int
    redeemed: int
    purchase_fen: int
    donation_fen: int

    @property
    def points_value(self) -> int:
        """On hand × points price: the points the stock on the shelf is worth."""
        return self.on_hand * self.points_price

    @property
    def purchase_yuan(self) -> str:
        return fen_to_yuan(self.purchase_fen)

    @property
    def donation_yuan(self) -> str:
        return fen_to_yuan(self.donation_fen)


@dataclass(frozen=True)
class DayRow:
    day_id: int
    store: str
    date: dt.date
    title: str
    status_label: str
    households: int
    receipts: int
    points: int
    items: int
    stock_left: int


def _year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.make_aware(dt.datetime(year, 1, 1))
    return start, timezone.make_aware(dt.datetime(year + 1, 1, 1))


def _month_date(value: dt.date | dt.datetime) -> dt.date:
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value.replace(day=1)


def points_flow_report(*, user: AnyUser, year: int, level: str = "village") -> list[FlowRow]:
    """Per village (or township, `level`) and month of `year`: points issued, deducted, redeemed,
    expired and adjusted on the households' accounts in the user's points scope. One query; rows sorted
    by region then month; regions without postings are left out."""
    if level not in LEVELS:
        level = "village"
    start, end = _year_bounds(year)
    region = (
        "account__household__grid__parent"
        if level == "village"
        else "account__household__grid__parent__parent"
    )
    township = (
        "account__household__grid__parent__parent__name" if level == "village" else f"{region}__parent__name"
    )
    # A returned item is a reversal that names no original (a receipt is returned line by line): it
    # counts against redemptions; any other reversal without an original counts as an adjustment.
    kind = Case(
        When(
            transaction__kind=TransactionKind.REVERSAL,
            transaction__reverses__isnull=False,
            then=F("transaction__reverses__kind"),
        ),
        When(
            transaction__kind=TransactionKind.REVERSAL,
            transaction__redemption_return__isnull=False,
            then=Value(TransactionKind.REDEMPTION.value),
        ),
        When(transaction__kind=TransactionKind.REVERSAL, then=Value(TransactionKind.ADJUSTMENT.value)),
        default=F("transaction__kind"),
        output_field=CharField(),
    )

    def total(k: str, sign: int) -> Coalesce:
        return Coalesce(
            Sum(F("amount") * sign, filter=Q(effective_kind=k)), Value(0), output_field=IntegerField()
        )

    rows = (
        Posting.objects.filter(
            scope_q(user, "account__household__grid__path", points_access.POINTS_SCOPE_ROLES),
            account__kind=AccountKind.HOUSEHOLD,
            created_at__gte=start,
            created_at__lt=end,
        )
        .annotate(effective_kind=kind, month=TruncMonth("created_at"))
        .values(f"{region}_id", f"{region}__name", township, f"{region}__path", "month")
        .annotate(
            issued=total(TransactionKind.AWARD, 1),
            deducted=total(TransactionKind.DEDUCTION, -1),
            redeemed=total(TransactionKind.REDEMPTION, -1),
            expired=total(TransactionKind.EXPIRY, -1),
            adjusted=total(TransactionKind.ADJUSTMENT, 1),
        )
        .order_by(f"{region}__path", "month")
    )
    return [
        FlowRow(
            region_id=r[f"{region}_id"],
            region=r[f"{region}__name"],
            township=r[township] or "",
            month=_month_date(r["month"]),
            issued=r["issued"],
            deducted=r["deducted"],
            redeemed=r["redeemed"],
            expired=r["expired"],
            adjusted=r["adjusted"],
        )
        for r in rows
    ]


def flow_totals(rows: list[FlowRow]) -> dict[str, int]:
    """The column totals of a flow report."""
    keys = ("issued", "deducted", "redeemed", "expired", "adjusted")
    totals = {k: sum(getattr(r, k) for r in rows) for k in keys}
    totals["net"] = sum(r.net for r in rows)
    return totals


def store_stock_report(*, user: AnyUser) -> list[StockRow]:
    """Every item of the stores visible to the user: on hand, its value in points, and from the stock
    ledger the quantities purchased, donated and redeemed (net of returns) with the money value of the
    purchases and donations (fen). One query."""
    stores = points_access.stores_visible(user).values("pk")

    def qty(*kinds: str, sign: int = 1) -> Coalesce:
        return Coalesce(
            Sum(F("movements__quantity") * sign, filter=Q(movements__kind__in=kinds)),
            Value(0),
            output_field=IntegerField(),
        )

    def fen(kind: str) -> Coalesce:
        return Coalesce(
            Sum("movements__value_fen", filter=Q(movements__kind=kind)), Value(0), output_field=IntegerField()
        )

    items = (
        Item.objects.filter(store__in=stores)
        .values(
            "pk",
            "store__name",
            "store__region__path",
            "name",
            "unit",
            "points_price",
            "on_hand",
            "sort_order",
        )
        .annotate(
            purchased=qty(StockKind.PURCHASE),
            donated=qty(StockKind.DONATION),
            redeemed=qty(StockKind.REDEMPTION, StockKind.RETURN, sign=-1),
            purchase_fen=fen(StockKind.PURCHASE),
            donation_fen=fen(StockKind.DONATION),
        )
        .order_by("store__region__path", "store__name", "sort_order", "name")
    )
    return [
        StockRow(
            store=i["store__name"],
            item_id=i["pk"],
            item=i["name"],
            unit=i["unit"],
            points_price=i["points_price"],
            on_hand=i["on_hand"],
            purchased=i["purchased"],
            donated=i["donated"],
            redeemed=i["redeemed"],
            purchase_fen=i["purchase_fen"],
            donation_fen=i["donation_fen"],
        )
        for i in items
    ]


def redemption_day_report(*, user: AnyUser, year: int | None = None) -> list[DayRow]:
    """The redemption days of the stores visible to the user (of `year` when given), newest first, each
    with households served, receipts, points redeemed and items given (both net of returns), and the
    store's stock left now. One query (the sums are correlated subqueries, so joins do not multiply)."""
    days = RedemptionDay.objects.filter(store__in=points_access.stores_visible(user).values("pk"))
    if year is not None:
        days = days.filter(date__year=year)
    redemptions = Redemption.objects.filter(day=OuterRef("pk")).values("day")
    lines = RedemptionLine.objects.filter(redemption__day=OuterRef("pk")).values("redemption__day")
    stock = Item.objects.filter(store=OuterRef("store")).values("store")

    def sub(qs, expression) -> Coalesce:
        return Coalesce(
            Subquery(qs.annotate(v=expression).values("v")[:1], output_field=IntegerField()),
            Value(0),
            output_field=IntegerField(),
        )

    rows = (
        days.select_related("store")
        .annotate(
            households=sub(redemptions, Count("household", distinct=True)),
            receipts=sub(redemptions, Count("pk")),
            points_gross=sub(redemptions, Sum("total_points")),
            points_returned=sub(lines, Sum(F("returned_quantity") * F("unit_points"))),
            items_net=sub(lines, Sum(F("quantity") - F("returned_quantity"))),
            stock_left=sub(stock, Sum("on_hand")),
        )
        .order_by("-date", "store__name")
    )
    return [
        DayRow(
            day_id=d.pk,
            store=d.store.name,
            date=d.date,
            title=d.title,
            status_label=d.get_status_display(),
            households=d.households,
            receipts=d.receipts,
            points=d.points_gross - d.points_returned,
            items=d.items_net,
            stock_left=d.stock_left,
        )
        for d in rows
    ]

"""Reads for the till (兑换收银): the day being run, finding a household, its balance, the items on sale,
receipts and the day's summary. Every read is given the acting user; a day, store or receipt whose till
the user may not run answers 404 (points.access.can_run_till)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from common.errors import NotFound
from governance.models import Household
from points.access import can_run_till, households_visible
from points.models import (
    Account,
    Item,
    Posting,
    Redemption,
    RedemptionDay,
    RedemptionLine,
    RedemptionReturn,
    Store,
)

AnyUser = AbstractBaseUser | AnonymousUser
SEARCH_LIMIT = 20


def day_get_for_till(user: AnyUser, day_id: int | str) -> RedemptionDay:
    """The redemption day with its store (and township) if `user` may run that store's till; else 404."""
    day = RedemptionDay.objects.select_related("store__township", "store__region").filter(pk=day_id).first()
    if day is None or not can_run_till(user, day.store):
        raise NotFound(_("未找到该兑换日，或者它不在您的管辖范围内。"))
    return day


def days_for_till(user: AnyUser) -> QuerySet[RedemptionDay]:
    """The days of the stores whose till `user` may run (township admin's township, or granted stores)."""
    from governance import access
    from points.access import RUN_TILL_CODENAME, TILL_ROLES

    condition = access.scope_q(user, "store__township__path", TILL_ROLES)
    condition |= Q(store_id__in=access.granted_ids(user, Store, RUN_TILL_CODENAME))
    return RedemptionDay.objects.filter(condition).select_related("store").order_by("-date", "store__name")


def store_households(store: Store) -> QuerySet[Household]:
    """The households that redeem at `store`: those under its region (a village store: that village's)."""
    return Household.objects.filter(grid__path__startswith=store.region.path)


def till_households_search(store: Store, query: str) -> list[Household]:
    """Up to 20 current households of the store's region matching `query`: the exact card code (a scanned
    points card), a household number (prefix), or a resident's name (part). Each with .account (or None)."""
    query = (query or "").strip()
    if not query:
        return []
    households = store_households(store).filter(is_active=True)
    # A scanned card may carry a URL ending in the code: the code is its last segment.
    code = query.rstrip("/").rsplit("/", 1)[-1].upper()
    by_card = list(
        households.filter(points_account__card_code=code).select_related("head", "grid__parent")[:1]
    )
    if by_card:
        found = by_card
    else:
        found = list(
            households.filter(Q(number__istartswith=query) | Q(members__name__contains=query))
            .distinct()
            .select_related("head", "grid__parent")
            .order_by("number")[:SEARCH_LIMIT]
        )
    accounts = {a.household_id: a for a in Account.objects.filter(household_id__in=[h.pk for h in found])}
    for household in found:
        household.account = accounts.get(household.pk)  # type: ignore[attr-defined]
    return found


def till_household(store: Store, household_id: int | str) -> tuple[Household, Account | None]:
    """The household (head, grid, village joined) and its account, if it redeems at `store`; else 404."""
    household = store_households(store).select_related("head", "grid__parent").filter(pk=household_id).first()
    if household is None:
        raise NotFound(_("未找到该户，或者它不属于本积分超市。"))
    return household, Account.objects.filter(household_id=household.pk).first()


def till_items(store: Store) -> list[Item]:
    """The items on sale at `store`, in shelf order."""
    return list(Item.objects.filter(store=store, is_active=True).order_by("sort_order", "name"))


def receipt_get(user: AnyUser, redemption_id: int | str) -> Redemption:
    """The receipt with store, day, household and lines (items) if `user` may run its store's till or see
    the household's points (its village, township and the county read receipts; only a till writes)."""
    receipt = (
        Redemption.objects.select_related("store__township", "day", "household__head", "created_by")
        .filter(pk=redemption_id)
        .first()
    )
    if receipt is None or not (
        can_run_till(user, receipt.store) or households_visible(user).filter(pk=receipt.household_id).exists()
    ):
        raise NotFound(_("未找到该小票，或者它不在您的管辖范围内。"))
    return receipt


def receipt_lines(receipt: Redemption) -> list[RedemptionLine]:
    lines = list(receipt.lines.select_related("item").order_by("id"))
    for line in lines:
        line.left = line.quantity - line.returned_quantity  # type: ignore[attr-defined]
        line.amount = line.quantity * line.unit_points  # type: ignore[attr-defined]
    return lines


def receipt_returns(receipt: Redemption) -> list[RedemptionReturn]:
    return list(
        RedemptionReturn.objects.filter(line__redemption=receipt).select_related("line__item").order_by("id")
    )


def day_receipts(day: RedemptionDay, limit: int = 50) -> list[Redemption]:
    return list(day.redemptions.select_related("household__head").order_by("-id")[:limit])


@dataclass(frozen=True)
class DaySummary:
    households: int
    receipts: int
    points_redeemed: int
    points_returned: int
    items_given: int
    stock: list[dict[str, Any]]

    @property
    def points_net(self) -> int:
        return self.points_redeemed - self.points_returned


def day_summary(day: RedemptionDay) -> DaySummary:
    """The day's figures: households served, receipts, points redeemed and given back by returns, items
    given (net of returns) and each item's stock now. A handful of aggregate queries."""
    receipts = Redemption.objects.filter(day=day)
    totals = receipts.aggregate(
        households=Count("household", distinct=True), receipts=Count("id"), points=Sum("total_points")
    )
    lines = RedemptionLine.objects.filter(redemption__day=day)
    given = lines.aggregate(q=Sum("quantity"), r=Sum("returned_quantity"))
    returned_points = RedemptionReturn.objects.filter(line__redemption__day=day).values_list(
        "line__unit_points", "quantity"
    )
    per_item = {
        row["item_id"]: row["given"] - row["back"]
        for row in lines.values("item_id").annotate(given=Sum("quantity"), back=Sum("returned_quantity"))
    }
    stock = [
        {"item": item, "given": per_item.get(item.pk, 0), "on_hand": item.on_hand}
        for item in Item.objects.filter(store_id=day.store_id).order_by("sort_order", "name")
    ]
    return DaySummary(
        households=totals["households"] or 0,
        receipts=totals["receipts"] or 0,
        points_redeemed=totals["points"] or 0,
        points_returned=sum(unit * quantity for unit, quantity in returned_points),
        items_given=(given["q"] or 0) - (given["r"] or 0),
        stock=stock,
    )


def receipt_balances(receipt: Redemption) -> tuple[int, int]:
    """The household's balance right after `receipt` was written, and its balance now (they differ once a
    return or a later award or redemption moved the account). The account's postings are written under its
    row lock, so their ids follow the order in which they changed the balance: what came after this
    receipt's posting is subtracted from the stored balance (one indexed sum over the later postings)."""
    account = Account.objects.filter(household_id=receipt.household_id).first()
    if account is None:
        return 0, 0
    own = Posting.objects.filter(transaction_id=receipt.transaction_id, account=account).values_list(
        "id", flat=True
    )
    posting_id = own.first()
    if posting_id is None:
        return account.balance, account.balance
    later = Posting.objects.filter(account=account, id__gt=posting_id).aggregate(s=Sum("amount"))["s"] or 0
    return account.balance - later, account.balance

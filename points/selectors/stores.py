"""Reads for the store management pages and API (积分超市管理): the stores a user may see with their stock
figures, one store's items, an item's stock ledger with the running on-hand, the store's clerks and its
redemption days. Every read is given the acting user; a store or item the user may not manage answers
404 (points.services.stores.store_can_manage), like one that does not exist.

Stock value in money: each item's on-hand valued at the average cost of its stock-ins that carry a money
value (purchases and donations: sum of their value in fen ÷ sum of their quantities), rounded half up to
the fen. Items that never came in with a value count 0. The figures are exact integers (no float).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, F, Q, QuerySet, Sum, Window
from django.utils import timezone
from django.utils.translation import gettext as _

from common.errors import DomainError, NotFound
from governance import access
from governance.models import Region, RegionLevel, User
from points.access import RUN_TILL_CODENAME, stores_visible
from points.models import (
    DayStatus,
    Item,
    RedemptionDay,
    StockKind,
    StockMovement,
    Store,
    StoreUserObjectPermission,
)
from points.services.stores import STORE_MANAGER_ROLES, fen_display, store_can_manage

AnyUser = AbstractBaseUser | AnonymousUser
LEDGER_LIMIT = 200
REGIONS_LIMIT = 300


def _not_found() -> NotFound:
    return NotFound(_("未找到该积分超市，或者它不在您的管辖范围内。"))


def value_of_stock(on_hand: int, valued_fen: int, valued_quantity: int) -> int:
    """`on_hand` units at the average cost `valued_fen` / `valued_quantity`, rounded half up to the fen;
    0 when nothing came in with a value."""
    if valued_quantity <= 0 or on_hand <= 0:
        return 0
    return (2 * on_hand * valued_fen + valued_quantity) // (2 * valued_quantity)


def _valued_in() -> Q:
    return Q(
        movements__kind__in=[StockKind.PURCHASE, StockKind.DONATION],
        movements__value_fen__isnull=False,
    )


def items_with_value(items: QuerySet[Item]) -> list[Item]:
    """The items, each with .stock_value_fen (money value of its on-hand) and .points_value (on hand ×
    points price). One query."""
    rows: list[Any] = list(
        items.annotate(
            valued_fen=Sum("movements__value_fen", filter=_valued_in()),
            valued_quantity=Sum("movements__quantity", filter=_valued_in()),
        )
    )
    for item in rows:
        item.stock_value_fen = value_of_stock(
            item.on_hand,
            item.valued_fen or 0,
            item.valued_quantity or 0,
        )
        item.points_value = item.on_hand * item.points_price
        item.stock_value_display = fen_display(item.stock_value_fen)
    return rows


@dataclass
class StoreRow:
    store: Store
    can_manage: bool
    item_count: int = 0
    active_item_count: int = 0
    on_hand: int = 0
    stock_value_fen: int = 0
    days: list[RedemptionDay] = field(default_factory=list)

    @property
    def stock_value_display(self) -> str:
        return fen_display(self.stock_value_fen)


def _rows_for(stores: list[Store], user: AnyUser) -> list[StoreRow]:
    ids = [store.pk for store in stores]
    paths = [path for _role, path in access.assignments(user, STORE_MANAGER_ROLES)]
    rows = {
        store.pk: StoreRow(store=store, can_manage=any(store.township.path.startswith(p) for p in paths))
        for store in stores
    }
    for item in items_with_value(Item.objects.filter(store_id__in=ids).order_by()):
        row = rows[item.store_id]
        row.item_count += 1
        row.active_item_count += int(item.is_active)
        row.on_hand += item.on_hand
        row.stock_value_fen += item.stock_value_fen  # type: ignore[attr-defined]
    today = timezone.localdate()
    days = RedemptionDay.objects.filter(store_id__in=ids).filter(
        Q(status=DayStatus.OPEN) | Q(status=DayStatus.SCHEDULED, date__gte=today)
    )
    for day in days.order_by("date", "pk"):
        rows[day.store_id].days.append(day)
    return [rows[pk] for pk in ids]


def store_rows(user: AnyUser) -> list[StoreRow]:
    """The stores visible to `user` (points.access.stores_visible), in region order, each with its item
    count, units on hand, money value of the stock and its open and upcoming redemption days. A fixed
    number of queries."""
    stores = list(
        stores_visible(user)
        .select_related("region", "township")
        .order_by("township__path", "region__path", "name")
    )
    return _rows_for(stores, user)


def stores_managed_or_granted(user: AnyUser) -> QuerySet[Store]:
    """For the API list: the stores `user` manages (township or county admin of their township) and
    those whose till they were granted."""
    if not user.is_authenticated:
        return Store.objects.none()
    condition = access.scope_q(user, "township__path", STORE_MANAGER_ROLES)
    condition |= Q(pk__in=access.granted_ids(user, Store, RUN_TILL_CODENAME))
    return Store.objects.filter(condition)


def store_rows_for_api(user: AnyUser) -> list[StoreRow]:
    stores = list(
        stores_managed_or_granted(user)
        .select_related("region", "township")
        .order_by("township__path", "region__path", "name")
    )
    return _rows_for(stores, user)


def store_get_managed(user: AnyUser, store_id: int | str) -> Store:
    """The store (region and township joined) if `user` may manage it; else NotFound (404)."""
    store = Store.objects.select_related("region", "township").filter(pk=store_id).first()
    if store is None or not store_can_manage(user, store):
        raise _not_found()
    return store


def item_get_managed(user: AnyUser, item_id: int | str) -> Item:
    """The item (store, region, township joined) if `user` may manage its store; else NotFound (404)."""
    item = Item.objects.select_related("store__region", "store__township").filter(pk=item_id).first()
    if item is None or not store_can_manage(user, item.store):
        raise NotFound(_("未找到该商品，或者它不在您的管辖范围内。"))
    return item


def item_get_readable(user: AnyUser, item_id: int | str) -> Item:
    """The item if `user` manages its store or may run its till; else NotFound (404)."""
    from points.access import can_run_till

    item = Item.objects.select_related("store__region", "store__township").filter(pk=item_id).first()
    if item is None or not (store_can_manage(user, item.store) or can_run_till(user, item.store)):
        raise NotFound(_("未找到该商品，或者它不在您的管辖范围内。"))
    return item


def store_items(store: Store) -> list[Item]:
    """All the store's items (on sale or not) in shelf order, with their stock value."""
    return items_with_value(Item.objects.filter(store=store).order_by("sort_order", "name"))


def item_with_value(item: Item) -> Item:
    return items_with_value(Item.objects.filter(pk=item.pk).select_related("store"))[0]


def item_stock_ledger(item: Item, limit: int = LEDGER_LIMIT) -> list[StockMovement]:
    """The item's latest `limit` movements (newest first), each with .on_hand_after: the running sum of
    all its movements up to and including it. One query: SQL computes the window over the whole history
    before ORDER BY … LIMIT, so the figure is exact however long the history."""
    rows: list[Any] = list(
        StockMovement.objects.filter(item=item)
        .annotate(on_hand_after=Window(Sum("quantity"), order_by=F("id").asc()))
        .select_related("created_by", "redemption")
        .order_by("-id")[:limit]
    )
    for movement in rows:
        movement.value_display = fen_display(movement.value_fen)
    return rows


def store_clerks(store: Store) -> list[User]:
    """The users granted this store's till, by username."""
    ids = StoreUserObjectPermission.objects.filter(
        content_object=store, permission__codename=RUN_TILL_CODENAME
    ).values("user_id")
    return list(User.objects.filter(pk__in=ids).order_by("username"))


def clerk_find(store: Store, text: str) -> User:
    """The active user named by `text` (a username, or the mobile number they log in with) who may be
    given this store's till: a user without a region role, or whose roles lie in the store's township.
    DomainError (field "user") otherwise, with a message for the page."""
    text = (text or "").strip()
    if not text:
        raise DomainError("user_required", _("请填写收银员的用户名或手机号。"), field="user")
    user = User.objects.filter(username__iexact=text).first()
    if user is None or not user.is_active:
        raise DomainError("user_missing", _("没有找到该账号，请核对用户名或手机号。"), field="user")
    paths = [path for _role, path in access.assignments(user)]
    township = store.township.path
    if paths and not any(path.startswith(township) or township.startswith(path) for path in paths):
        raise DomainError("user_elsewhere", _("该账号属于其他乡镇，不能在本超市收银。"), field="user")
    return user


def store_days(store: Store, *, past: int = 10) -> tuple[list[RedemptionDay], list[RedemptionDay]]:
    """(open and upcoming days, soonest first; the latest `past` closed or passed days, newest first)."""
    today = timezone.localdate()
    days = RedemptionDay.objects.filter(store=store)
    current = list(
        days.filter(Q(status=DayStatus.OPEN) | Q(status=DayStatus.SCHEDULED, date__gte=today)).order_by(
            "date", "pk"
        )
    )
    earlier: list[Any] = list(
        days.exclude(pk__in=[d.pk for d in current])
        .annotate(receipts=Count("redemptions"))
        .order_by("-date", "-pk")[:past]
    )
    return current, earlier


def regions_for_new_store(user: AnyUser) -> list[Region]:
    """The townships and villages where `user` may open a store (township or county admin there)."""
    if not user.is_authenticated:
        return []
    scope = access.scope_q(user, "path", STORE_MANAGER_ROLES)
    return list(
        Region.objects.filter(scope, level__in=[RegionLevel.TOWNSHIP, RegionLevel.VILLAGE]).order_by("path")[
            :REGIONS_LIMIT
        ]
    )


def day_get_managed(user: AnyUser, day_id: int | str) -> RedemptionDay:
    """The redemption day if `user` may manage its store; else NotFound (404)."""
    day = RedemptionDay.objects.select_related("store__region", "store__township").filter(pk=day_id).first()
    if day is None or not store_can_manage(user, day.store):
        raise NotFound(_("未找到该兑换日，或者它不在您的管辖范围内。"))
    return day

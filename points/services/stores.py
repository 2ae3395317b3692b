"""Points stores (积分超市), their items and the stock ledger; the clerks who may run a store's till.

Every stock change is an append-only StockMovement written in the same transaction as the item's on-hand,
under a row lock on the item, so on-hand always equals the sum of its movements and never goes below zero
(a CHECK on the item refuses it in any case). Stock out for redemptions is written by
points.services.redemptions; here: stock in (purchase or donation, with source and money value in fen)
and adjustments with a reason.

Who manages a store: a township admin of the store's township, or a county admin (store_can_manage).
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from common.errors import Conflict, DomainError, NotFound
from common.images import image_clean
from governance import access
from governance.audit import (
    audit_record,
    audit_replayed,
    changes_with_key,
    diff_fields,
    idempotency_key_clean,
)
from governance.models import AuditAction, Region, RegionLevel, User
from governance.roles import Role
from points.models import Item, StockKind, StockMovement, Store, StoreUserObjectPermission

AnyUser = AbstractBaseUser | AnonymousUser

STORE_MANAGER_ROLES = frozenset({Role.COUNTY_ADMIN, Role.TOWNSHIP_ADMIN})
RUN_TILL = "run_till"
NAME_MAX = 60
UNIT_MAX = 10
SOURCE_MAX = 100
REASON_MAX = 200
PRICE_MAX = 100_000
QUANTITY_MAX = 100_000
VALUE_MAX_FEN = 100_000_000_00  # ¥100 million: beyond it the figure is a typing mistake


def store_can_manage(user: AnyUser, store: Store) -> bool:
    """Whether `user` may change the store, its items and stock, schedule its days and grant its clerks:
    a township admin of the store's township or a county admin."""
    township = store.township if "township" in store._state.fields_cache else None
    path = (
        township.path
        if township is not None
        else Region.objects.values_list("path", flat=True).get(pk=store.township_id)
    )
    return access.covers(user, path, STORE_MANAGER_ROLES)


def _require_manage(user: AnyUser, store: Store) -> None:
    if not store_can_manage(user, store):
        raise NotFound(_("未找到该积分超市，或者它不在您的管辖范围内。"))


def _township_of(region: Region) -> Region:
    if region.level not in (RegionLevel.TOWNSHIP, RegionLevel.VILLAGE):
        raise DomainError("store_region_level", _("积分超市只能设在乡镇或村（社区）。"), field="region")
    # The path is "county/township/…": the township is its second id.
    township_id = int(region.path.strip("/").split("/")[1])
    return Region.objects.get(pk=township_id)


def _text(value: str, *, field: str, maximum: int, required_message: str, too_long: str) -> str:
    value = (value or "").strip()
    if not value:
        raise DomainError(f"{field}_required", required_message, field=field)
    if len(value) > maximum:
        raise DomainError(f"{field}_too_long", too_long, field=field)
    return value


def _positive_int(value: Any, *, field: str, maximum: int, message: str) -> int:
    # A whole number only: 2.5 items or points must not become 2, nor an infinite float a 500.
    if isinstance(value, bool) or (isinstance(value, float | Decimal) and not _is_whole(value)):
        raise DomainError(f"bad_{field}", message, field=field)
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        raise DomainError(f"bad_{field}", message, field=field) from None
    if number < 1 or number > maximum:
        raise DomainError(f"bad_{field}", message, field=field)
    return number


def _is_whole(value: float | Decimal) -> bool:
    """A finite number with nothing after the point (3.0 from an Excel cell is 3)."""
    if isinstance(value, Decimal):
        return value.is_finite() and value == value.to_integral_value()
    return math.isfinite(value) and value.is_integer()


def yuan_to_fen(text: str | Decimal | int | None) -> int | None:
    """The amount in fen for a yuan figure typed as "12.5", "12.50" or "¥1,200"; None for blank.

    DomainError bad_value (field value_yuan) for anything else, a negative figure or more than two
    decimals."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    cleaned = str(text).strip().replace("¥", "").replace("￥", "").replace(",", "").replace("，", "")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise DomainError("bad_value", _("金额格式不对，例如 12.50。"), field="value_yuan") from None
    # Finite and in range before quantize(): NaN, Infinity or 1e30 would raise there instead of refusing.
    if (
        not amount.is_finite()
        or amount < 0
        or amount > Decimal(VALUE_MAX_FEN) / 100
        or amount != amount.quantize(Decimal("0.01"))
    ):
        raise DomainError("bad_value", _("金额格式不对，例如 12.50。"), field="value_yuan")
    return int(amount * 100)


def fen_display(fen: int | None) -> str:
    """¥12.50 for 1250 fen, with thousands separators (¥1,200.00); "" for None."""
    if fen is None:
        return ""
    return f"¥{fen // 100:,}.{fen % 100:02d}"


# --- stores -------------------------------------------------------------------------------------------


def store_create(
    *, actor: AnyUser, idempotency_key: str, region: Region, name: str, address: str = ""
) -> Store:
    """A new store at a township or village under the actor's township/county admin role; returns it.
    Exactly once per (actor, key). DomainError for a blank or duplicate name or a region of another level."""
    key = idempotency_key_clean(idempotency_key, required=True)
    name = _text(
        name,
        field="name",
        maximum=NAME_MAX,
        required_message=_("请填写积分超市名称。"),
        too_long=_("名称最多 60 字。"),
    )
    address = (address or "").strip()[:200]
    with transaction.atomic():
        replayed = audit_replayed(
            actor=actor,
            key=key,
            action=AuditAction.CREATE,
            object_type="points.store",
            lock_namespace="store",
        )
        if replayed is not None:
            return Store.objects.get(pk=replayed.object_id)
        township = _township_of(region)
        if not access.covers(actor, region.path, STORE_MANAGER_ROLES):
            raise NotFound(_("未找到该区域，或者它不在您的管辖范围内。"))
        if Store.objects.filter(region=region, name=name).exists():
            raise DomainError("store_duplicate", _("该区域已有同名积分超市。"), field="name")
        store = Store.objects.create(name=name, region=region, township=township, address=address)
        from points.ledger import store_sink

        store_sink(store)
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=store,
            region_path=region.path,
            changes=changes_with_key({"name": [None, name]}, key),
        )
    return store


def store_update(*, actor: AnyUser, store: Store, name: str, address: str, is_active: bool) -> Store:
    """Rename, move the address, open or close the store; returns it."""
    name = _text(
        name,
        field="name",
        maximum=NAME_MAX,
        required_message=_("请填写积分超市名称。"),
        too_long=_("名称最多 60 字。"),
    )
    with transaction.atomic():
        store = (
            Store.objects.select_for_update(of=("self",), no_key=True)
            .select_related("region", "township")
            .get(pk=store.pk)
        )
        _require_manage(actor, store)
        if Store.objects.filter(region_id=store.region_id, name=name).exclude(pk=store.pk).exists():
            raise DomainError("store_duplicate", _("该区域已有同名积分超市。"), field="name")
        before = {"name": store.name, "address": store.address, "is_active": store.is_active}
        store.name, store.address, store.is_active = name, (address or "").strip()[:200], bool(is_active)
        store.save(update_fields=["name", "address", "is_active"])
        changes = diff_fields(
            before, {"name": store.name, "address": store.address, "is_active": store.is_active}
        )
        if changes:
            audit_record(
                actor=actor,
                action=AuditAction.UPDATE,
                obj=store,
                region_path=store.region.path,
                changes=changes,
            )
    return store


# --- items --------------------------------------------------------------------------------------------


def _picture_file(picture: Any) -> ContentFile[bytes] | None:
    if picture is None:
        return None
    try:
        cleaned = image_clean(picture, max_side=800)
    except DomainError as error:
        raise DomainError(error.code, error.message, field="picture", **error.extra) from error
    return ContentFile(cleaned.content, name=f"{cleaned.sha256[:24]}.jpg")


def item_create(
    *,
    actor: AnyUser,
    idempotency_key: str,
    store: Store,
    name: str,
    unit: str,
    points_price: int,
    picture: Any = None,
    sort_order: int = 0,
) -> Item:
    """A new item on sale at `store`, with no stock (stock comes in through stock_in); returns it.
    The picture is cleaned (common.images.image_clean, a metadata-free JPEG). Exactly once per key."""
    key = idempotency_key_clean(idempotency_key, required=True)
    name = _text(
        name,
        field="name",
        maximum=NAME_MAX,
        required_message=_("请填写商品名称。"),
        too_long=_("名称最多 60 字。"),
    )
    unit = _text(
        unit,
        field="unit",
        maximum=UNIT_MAX,
        required_message=_("请填写单位，例如 袋、瓶。"),
        too_long=_("单位最多 10 字。"),
    )
    price = _positive_int(
        points_price, field="points_price", maximum=PRICE_MAX, message=_("兑换积分须是 1 到 100000 的整数。")
    )
    content = _picture_file(picture)
    with transaction.atomic():
        replayed = audit_replayed(
            actor=actor, key=key, action=AuditAction.CREATE, object_type="points.item", lock_namespace="item"
        )
        if replayed is not None:
            return Item.objects.get(pk=replayed.object_id)
        store = Store.objects.select_related("region", "township").get(pk=store.pk)
        _require_manage(actor, store)
        if Item.objects.filter(store=store, name=name).exists():
            raise DomainError("item_duplicate", _("本超市已有同名商品。"), field="name")
        item = Item(
            store=store, name=name, unit=unit, points_price=price, sort_order=max(0, int(sort_order or 0))
        )
        if content is not None:
            item.picture.save(content.name or "item.jpg", content, save=False)
        item.save()
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=item,
            region_path=store.region.path,
            changes=changes_with_key({"name": [None, name], "points_price": [None, price]}, key),
        )
    return item


def item_update(
    *,
    actor: AnyUser,
    item: Item,
    name: str,
    unit: str,
    points_price: int,
    is_active: bool,
    sort_order: int = 0,
    picture: Any = None,
) -> Item:
    """Change an item's name, unit, price, shelf state, order or picture (None keeps the picture);
    returns it. A price change applies to receipts from now on (lines keep the price they were sold at)."""
    name = _text(
        name,
        field="name",
        maximum=NAME_MAX,
        required_message=_("请填写商品名称。"),
        too_long=_("名称最多 60 字。"),
    )
    unit = _text(
        unit,
        field="unit",
        maximum=UNIT_MAX,
        required_message=_("请填写单位，例如 袋、瓶。"),
        too_long=_("单位最多 10 字。"),
    )
    price = _positive_int(
        points_price, field="points_price", maximum=PRICE_MAX, message=_("兑换积分须是 1 到 100000 的整数。")
    )
    content = _picture_file(picture)
    with transaction.atomic():
        item = (
            Item.objects.select_for_update(of=("self",), no_key=True)
            .select_related("store__region", "store__township")
            .get(pk=item.pk)
        )
        _require_manage(actor, item.store)
        if Item.objects.filter(store_id=item.store_id, name=name).exclude(pk=item.pk).exists():
            raise DomainError("item_duplicate", _("本超市已有同名商品。"), field="name")
        before = {
            "name": item.name,
            "unit": item.unit,
            "points_price": item.points_price,
            "is_active": item.is_active,
            "sort_order": item.sort_order,
        }
        item.name, item.unit, item.points_price = name, unit, price
        item.is_active, item.sort_order = bool(is_active), max(0, int(sort_order or 0))
        fields = ["name", "unit", "points_price", "is_active", "sort_order"]
        if content is not None:
            item.picture.save(content.name or "item.jpg", content, save=False)
            fields.append("picture")
        item.save(update_fields=fields)
        after = {name_: getattr(item, name_) for name_ in before}
        changes = diff_fields(before, after)
        if content is not None:
            changes["picture"] = [None, item.picture.name]
        if changes:
            audit_record(
                actor=actor,
                action=AuditAction.UPDATE,
                obj=item,
                region_path=item.store.region.path,
                changes=changes,
            )
    return item


# --- stock --------------------------------------------------------------------------------------------


def _movement_replayed(actor: AnyUser, key: str) -> StockMovement | None:
    replayed = audit_replayed(
        actor=actor,
        key=key,
        action=AuditAction.CREATE,
        object_type="points.stockmovement",
        lock_namespace="stock",
    )
    return StockMovement.objects.get(pk=replayed.object_id) if replayed is not None else None


def stock_in(
    *,
    actor: AnyUser,
    idempotency_key: str,
    item: Item,
    kind: str,
    quantity: int,
    source: str,
    value_fen: int | None = None,
) -> StockMovement:
    """Stock in: a purchase (from a supplier) or a donation (from a donor), with what it was worth in fen.
    Returns the movement; the item's on-hand grows by `quantity` in the same transaction. Exactly once."""
    key = idempotency_key_clean(idempotency_key, required=True)
    if kind not in (StockKind.PURCHASE, StockKind.DONATION):
        raise DomainError("bad_kind", _("请选择采购入库或捐赠入库。"), field="kind")
    number = _positive_int(
        quantity, field="quantity", maximum=QUANTITY_MAX, message=_("数量须是 1 到 100000 的整数。")
    )
    source = _text(
        source,
        field="source",
        maximum=SOURCE_MAX,
        required_message=_("请填写来源（供货商或捐赠人）。"),
        too_long=_("来源最多 100 字。"),
    )
    if value_fen is not None and (isinstance(value_fen, bool) or value_fen < 0 or value_fen > VALUE_MAX_FEN):
        raise DomainError("bad_value", _("金额格式不对，例如 12.50。"), field="value_yuan")
    with transaction.atomic():
        replayed = _movement_replayed(actor, key)
        if replayed is not None:
            return replayed
        item = (
            Item.objects.select_for_update(of=("self",), no_key=True)
            .select_related("store__region", "store__township")
            .get(pk=item.pk)
        )
        _require_manage(actor, item.store)
        movement = StockMovement.objects.create(
            item=item, kind=kind, quantity=number, source=source, value_fen=value_fen, created_by_id=actor.pk
        )
        Item.objects.filter(pk=item.pk).update(on_hand=F("on_hand") + number)
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=movement,
            object_repr=f"{item.name} +{number}",
            region_path=item.store.region.path,
            changes=changes_with_key(
                {"kind": [None, kind], "quantity": [None, number], "value_fen": [None, value_fen]}, key
            ),
            detail=source,
        )
    return movement


def stock_adjust(
    *, actor: AnyUser, idempotency_key: str, item: Item, quantity: int, reason: str
) -> StockMovement:
    """An adjustment after a count (盘点): `quantity` is the change (+ found, − lost or damaged), with a
    reason. Returns the movement. Conflict 409 when it would take on-hand below zero. Exactly once."""
    key = idempotency_key_clean(idempotency_key, required=True)
    if isinstance(quantity, bool):
        raise DomainError("bad_quantity", _("调整数量须是不为 0 的整数。"), field="quantity")
    try:
        delta = int(quantity)
    except (TypeError, ValueError):
        raise DomainError("bad_quantity", _("调整数量须是不为 0 的整数。"), field="quantity") from None
    if delta == 0 or abs(delta) > QUANTITY_MAX:
        raise DomainError("bad_quantity", _("调整数量须是不为 0 的整数。"), field="quantity")
    reason = _text(
        reason,
        field="reason",
        maximum=REASON_MAX,
        required_message=_("请填写调整原因。"),
        too_long=_("原因最多 200 字。"),
    )
    with transaction.atomic():
        replayed = _movement_replayed(actor, key)
        if replayed is not None:
            return replayed
        item = (
            Item.objects.select_for_update(of=("self",), no_key=True)
            .select_related("store__region", "store__township")
            .get(pk=item.pk)
        )
        _require_manage(actor, item.store)
        if item.on_hand + delta < 0:
            raise Conflict(
                "stock_below_zero",
                _("库存不足：%(name)s只剩 %(n)s %(unit)s，不能减少 %(d)s %(unit)s。")
                % {"name": item.name, "n": item.on_hand, "unit": item.unit, "d": -delta},
                field="quantity",
            )
        movement = StockMovement.objects.create(
            item=item, kind=StockKind.ADJUSTMENT, quantity=delta, reason=reason, created_by_id=actor.pk
        )
        Item.objects.filter(pk=item.pk).update(on_hand=F("on_hand") + delta)
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=movement,
            object_repr=f"{item.name} {delta:+d}",
            region_path=item.store.region.path,
            changes=changes_with_key({"kind": [None, StockKind.ADJUSTMENT], "quantity": [None, delta]}, key),
            detail=reason,
        )
    return movement


# --- clerks -------------------------------------------------------------------------------------------


def store_clerk_grant(*, actor: AnyUser, store: Store, user: User) -> bool:
    """Let `user` run this store's till (a guardian `points.run_till` row on the store). Returns True when
    the grant is new, False when the user already had it. Only a manager of the store may grant."""
    with transaction.atomic():
        store = Store.objects.select_related("region", "township").get(pk=store.pk)
        _require_manage(actor, store)
        if not user.is_active:
            raise DomainError("user_inactive", _("该账号已停用。"), field="user")
        from django.contrib.auth.models import Permission

        permission = Permission.objects.get(content_type__app_label="points", codename=RUN_TILL)
        try:
            with transaction.atomic():
                StoreUserObjectPermission.objects.create(
                    content_object=store, user=user, permission=permission
                )
        except IntegrityError:
            return False
        audit_record(
            actor=actor,
            action=AuditAction.GRANT,
            obj=store,
            region_path=store.region.path,
            changes={"run_till": [None, user.get_username()]},
        )
    return True


def store_clerk_revoke(*, actor: AnyUser, store: Store, user: User) -> bool:
    """Take back `user`'s grant on this store; True when there was one."""
    with transaction.atomic():
        store = Store.objects.select_related("region", "township").get(pk=store.pk)
        _require_manage(actor, store)
        deleted, _rows = StoreUserObjectPermission.objects.filter(
            content_object=store, user=user, permission__codename=RUN_TILL
        ).delete()
        if deleted:
            audit_record(
                actor=actor,
                action=AuditAction.REVOKE,
                obj=store,
                region_path=store.region.path,
                changes={"run_till": [user.get_username(), None]},
            )
    return bool(deleted)

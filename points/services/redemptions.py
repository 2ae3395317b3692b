"""Redemptions at the till (兑换) and returns (退货): one database transaction each, exactly once.

A redemption, in one transaction:
1. the idempotency record first (common.idempotency): a concurrent twin with the same key blocks on its
   UNIQUE index until this one commits, then gets this receipt back; a replay returns the first receipt;
2. the items locked in id order (SELECT … FOR UPDATE), then the household's account: two tills selling
   the last unit, or serving the same household, queue on those rows, and the second sees what the
   first took (a clear 409, nothing half-done);
3. the checks: the day open, every item on sale in this store, quantities ≥ 1, the township's minimum
   balance, enough points, enough stock;
4. the ledger transaction (household −total, store sink +total) through points.ledger.ledger_post, the
   receipt with its lines, one stock movement out per line, the items' on-hand, the audit row.

A return is a reversal transaction for the returned quantity's points (store sink −, household +) and a
RETURN stock movement, under a lock on the receipt line so no line is returned beyond what was bought.

Lock order everywhere in this module: receipt line → items (id order) → accounts (id order, ledger_post),
so two of these transactions never wait on each other in a cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from common.errors import Conflict, DomainError, NotFound
from common.idempotency import idempotency_key_clean
from common.models import IdempotencyRecord
from governance.audit import audit_record
from governance.models import AuditAction, Household
from points.models import (
    Account,
    DayStatus,
    Item,
    Redemption,
    RedemptionDay,
    RedemptionLine,
    RedemptionReturn,
    StockKind,
    StockMovement,
    Store,
    TownshipPolicy,
    TransactionKind,
)

AnyUser = AbstractBaseUser | AnonymousUser

SCOPE_REDEMPTION = "points.redemption"
SCOPE_RETURN = "points.redemption_return"
RECEIPT_PREFIX = "DH"
MAX_LINES = 50
MAX_QUANTITY = 999
REASON_MAX = 200


# --- collaborators owned by the ledger area, imported where used --------------------------------------


def _can_run_till(actor: AnyUser, store: Store) -> bool:
    from points.access import can_run_till

    return bool(can_run_till(actor, store))


def _begin(*, actor: AnyUser, scope: str, key: str, body: dict[str, Any]) -> IdempotencyRecord | None:
    """The stored record when this key was already used with this body (a replay); None for a first
    request, whose placeholder row now holds the key. Conflict 409 for the same key with another body."""
    from common.idempotency import body_fingerprint, idempotency_begin

    return idempotency_begin(actor=actor, scope=scope, key=key, fingerprint=body_fingerprint(body))


def _finish(*, actor: AnyUser, scope: str, key: str, response: dict[str, Any]) -> None:
    from common.idempotency import idempotency_finish

    idempotency_finish(actor=actor, scope=scope, key=key, status_code=201, response=response)


# --- redemption ---------------------------------------------------------------------------------------


def _receipt_number(pk: int) -> str:
    """ "DH" + the local date + the receipt's id, zero-padded: unique because the id is, and in order."""
    return f"{RECEIPT_PREFIX}{timezone.localdate():%Y%m%d}{pk:06d}"


def _next_redemption_id() -> int:
    # The id is drawn before the insert so that the receipt number (which carries it) is written once.
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence('points_redemption', 'id'))")
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])


_RECEIPT_FKS: list[str] = []


def _defer_receipt_foreign_keys() -> None:
    """Check the lines' and stock movements' foreign keys to the receipt at COMMIT in this transaction
    (Django creates them DEFERRABLE; a caller may have made them IMMEDIATE), so they may be written before
    the receipt row they name."""
    with connection.cursor() as cursor:
        if not _RECEIPT_FKS:
            cursor.execute(
                "SELECT conname FROM pg_constraint WHERE contype = 'f'"
                " AND confrelid = 'points_redemption'::regclass"
                " AND conrelid IN ('points_redemptionline'::regclass, 'points_stockmovement'::regclass)"
            )
            _RECEIPT_FKS.extend(sorted(row[0] for row in cursor.fetchall()))
        cursor.execute("SET CONSTRAINTS " + ", ".join(f'"{name}"' for name in _RECEIPT_FKS) + " DEFERRED")


def _merged(lines: Sequence[tuple[Item, int]]) -> dict[int, int]:
    """{item id: total quantity}; the same item twice on one receipt counts once with both quantities."""
    if not lines:
        raise DomainError("no_lines", _("请先选择要兑换的商品。"), field="lines")
    if len(lines) > MAX_LINES:
        raise DomainError(
            "too_many_lines", _("一张小票最多 %(n)s 种商品。") % {"n": MAX_LINES}, field="lines"
        )
    merged: dict[int, int] = {}
    for item, quantity in lines:
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            raise DomainError("bad_quantity", _("兑换数量至少为 1。"), field="lines")
        merged[item.pk] = merged.get(item.pk, 0) + quantity
        if merged[item.pk] > MAX_QUANTITY:
            raise DomainError(
                "bad_quantity", _("单个商品一次最多兑换 %(n)s 件。") % {"n": MAX_QUANTITY}, field="lines"
            )
    return merged


def _check_day(store: Store, day: RedemptionDay | None) -> None:
    if day is None:
        return
    # Read again inside the transaction: the page that sent it may be older than a close.
    status = (
        RedemptionDay.objects.filter(pk=day.pk, store_id=store.pk).values_list("status", flat=True).first()
    )
    if status is None:
        raise NotFound(_("未找到该兑换日。"))
    if status == DayStatus.SCHEDULED:
        raise Conflict("day_not_open", _("兑换日还没有开始，请先开始兑换。"))
    if status == DayStatus.CLOSED:
        raise Conflict("day_closed", _("兑换日已结束，不能再兑换。"))


def _household_in_township(household: Household, store: Store) -> Household:
    found = (
        Household.objects.select_related("grid")
        .filter(pk=household.pk, grid__path__startswith=store.township.path)
        .first()
    )
    if found is None:
        raise NotFound(_("未找到该户，或者它不属于本乡镇。"))
    if not found.is_active:
        raise Conflict("household_inactive", _("该户已不在册，不能兑换。"))
    return found


def redemption_create(
    *,
    actor: AnyUser,
    idempotency_key: str,
    store: Store,
    household: Household,
    lines: Sequence[tuple[Item, int]],
    day: RedemptionDay | None = None,
) -> Redemption:
    """Exchange the household's points for `lines` (item, quantity) at `store`, on `day` when given.

    Returns the receipt (Redemption with its lines). Exactly once per (actor, key): a replay with the same
    body returns the first receipt; the same key with another body is Conflict 409. Refusals (nothing
    written): NotFound when the actor may not run this store's till, the household is not in the store's
    township or the day is not this store's; Conflict 409 for a day not open, an item not on sale, a
    balance under the township's minimum or under the total, stock short; DomainError 400 for an empty
    receipt or a quantity below 1.
    """
    from points.ledger import account_for_household, ledger_post, store_sink

    key = idempotency_key_clean(idempotency_key)
    merged = _merged(lines)
    body = {
        "store": store.pk,
        "household": household.pk,
        "day": day.pk if day is not None else None,
        "lines": sorted([item_id, quantity] for item_id, quantity in merged.items()),
    }
    with transaction.atomic():
        replay = _begin(actor=actor, scope=SCOPE_REDEMPTION, key=key, body=body)
        if replay is not None:
            return Redemption.objects.get(pk=replay.response["redemption_id"])
        if "township" not in store._state.fields_cache:
            store = Store.objects.select_related("township").get(pk=store.pk)
        if not _can_run_till(actor, store):
            raise NotFound(_("未找到该积分超市，或者它不在您的管辖范围内。"))
        if not store.is_active:
            raise Conflict("store_closed", _("该积分超市已停业。"))
        _check_day(store, day)
        household = _household_in_township(household, store)

        items = {
            item.pk: item
            for item in Item.objects.select_for_update(no_key=True).filter(pk__in=list(merged)).order_by("pk")
        }
        for item_id in merged:
            item = items.get(item_id)
            if item is None or item.store_id != store.pk:
                raise Conflict("item_not_in_store", _("该商品不属于本积分超市。"))
            if not item.is_active:
                raise Conflict("item_inactive", _("%(name)s已下架，不能兑换。") % {"name": item.name})
        total = sum(items[item_id].points_price * quantity for item_id, quantity in merged.items())

        account = account_for_household(household)
        account = Account.objects.select_for_update(no_key=True).get(pk=account.pk)
        policy = TownshipPolicy.objects.filter(township_id=store.township_id).first()
        minimum = policy.min_balance_to_redeem if policy is not None else 0
        if account.balance < minimum:
            raise Conflict(
                "below_min_balance",
                _("未达兑换起点：可用 %(balance)s 分，满 %(minimum)s 分才能兑换。")
                % {"balance": account.balance, "minimum": minimum},
                balance=account.balance,
                minimum=minimum,
            )
        if account.balance < total:
            raise Conflict(
                "insufficient_points",
                _("积分不足：可用 %(balance)s 分，需要 %(total)s 分。")
                % {"balance": account.balance, "total": total},
                balance=account.balance,
                total=total,
            )
        for item_id, quantity in merged.items():
            item = items[item_id]
            if item.on_hand < quantity:
                raise Conflict(
                    "out_of_stock",
                    _("库存不足：%(name)s只剩 %(n)s %(unit)s。")
                    % {"name": item.name, "n": item.on_hand, "unit": item.unit},
                    item=item.pk,
                    on_hand=item.on_hand,
                )

        # Everything that does not need the store's sink is written first: the sink account is the one
        # row every receipt of the store locks, so it is locked (in ledger_post) as late as possible and
        # held only for the ledger rows, the receipt row and the COMMIT. The lines and stock movements
        # name the receipt by its pre-drawn id; their foreign keys are checked at COMMIT.
        pk = _next_redemption_id()
        receipt_number = _receipt_number(pk)
        _defer_receipt_foreign_keys()
        ordered = sorted(merged.items())
        RedemptionLine.objects.bulk_create(
            RedemptionLine(
                redemption_id=pk, item_id=item_id, quantity=quantity, unit_points=items[item_id].points_price
            )
            for item_id, quantity in ordered
        )
        StockMovement.objects.bulk_create(
            StockMovement(
                item_id=item_id,
                kind=StockKind.REDEMPTION,
                quantity=-quantity,
                redemption_id=pk,
                created_by_id=actor.pk,
            )
            for item_id, quantity in ordered
        )
        for item_id, quantity in ordered:
            Item.objects.filter(pk=item_id).update(on_hand=F("on_hand") - quantity)
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            object_type="points.redemption",
            object_id=str(pk),
            object_repr=receipt_number,
            region_path=household.grid.path,
            changes={
                "total_points": [None, total],
                "lines": [None, body["lines"]],
                "idempotency_key": [None, key],
            },
        )
        _finish(
            actor=actor,
            scope=SCOPE_REDEMPTION,
            key=key,
            response={"redemption_id": pk, "receipt_number": receipt_number},
        )
        sink = store_sink(store)
        ledger_tx = ledger_post(
            township=store.township,
            kind=TransactionKind.REDEMPTION,
            memo=_("积分兑换：%(store)s") % {"store": store.name},
            legs=[(account, -total), (sink, total)],
            actor=actor,
        )
        redemption = Redemption.objects.create(
            pk=pk,
            receipt_number=receipt_number,
            store=store,
            day_id=day.pk if day is not None else None,
            household=household,
            total_points=total,
            transaction=ledger_tx,
            created_by_id=cast(int, actor.pk),
        )
    return redemption


# --- return -------------------------------------------------------------------------------------------


def redemption_return(
    *,
    actor: AnyUser,
    idempotency_key: str,
    line: RedemptionLine,
    quantity: int,
    reason: str,
) -> RedemptionReturn:
    """Take back `quantity` of a receipt line: a reversal transaction gives the points back (store sink −,
    household +), a RETURN stock movement puts the items back on hand.

    Returns the RedemptionReturn. Exactly once per (actor, key), as redemption_create. Refusals (nothing
    written): NotFound when the actor may not run the store's till; DomainError 400 for a quantity below
    1 or no reason; Conflict 409 when more would come back than was bought and not yet returned.
    """
    from points.ledger import account_for_household, ledger_post, store_sink

    key = idempotency_key_clean(idempotency_key)
    reason = (reason or "").strip()
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise DomainError("bad_quantity", _("退货数量至少为 1。"), field="quantity")
    if not reason:
        raise DomainError("reason_required", _("请填写退货原因。"), field="reason")
    if len(reason) > REASON_MAX:
        raise DomainError("reason_too_long", _("退货原因最多 200 字。"), field="reason")
    body = {"line": line.pk, "quantity": quantity, "reason": reason}
    with transaction.atomic():
        replay = _begin(actor=actor, scope=SCOPE_RETURN, key=key, body=body)
        if replay is not None:
            return RedemptionReturn.objects.get(pk=replay.response["return_id"])
        line = (
            RedemptionLine.objects.select_for_update(of=("self",))
            .select_related("redemption__store__township", "redemption__household__grid", "item")
            .get(pk=line.pk)
        )
        redemption = line.redemption
        store = redemption.store
        if not _can_run_till(actor, store):
            raise NotFound(_("未找到该小票，或者它不在您的管辖范围内。"))
        left = line.quantity - line.returned_quantity
        if quantity > left:
            raise Conflict(
                "return_too_many",
                _("最多还能退 %(n)s %(unit)s。") % {"n": left, "unit": line.item.unit},
                left=left,
            )
        Item.objects.select_for_update(no_key=True).filter(pk=line.item_id).first()
        points = line.unit_points * quantity
        account = account_for_household(redemption.household)
        ledger_tx = ledger_post(
            township=store.township,
            kind=TransactionKind.REVERSAL,
            memo=_("退货冲正：小票 %(receipt)s，%(item)s × %(n)s")
            % {"receipt": redemption.receipt_number, "item": line.item.name, "n": quantity},
            legs=[(store_sink(store), -points), (account, points)],
            actor=actor,
        )
        returned = RedemptionReturn.objects.create(
            line=line,
            quantity=quantity,
            reason=reason,
            transaction=ledger_tx,
            created_by_id=cast(int, actor.pk),
        )
        StockMovement.objects.create(
            item_id=line.item_id,
            kind=StockKind.RETURN,
            quantity=quantity,
            redemption=redemption,
            reason=reason,
            created_by_id=actor.pk,
        )
        Item.objects.filter(pk=line.item_id).update(on_hand=F("on_hand") + quantity)
        RedemptionLine.objects.filter(pk=line.pk).update(returned_quantity=F("returned_quantity") + quantity)
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=returned,
            object_repr=f"{redemption.receipt_number} {line.item.name} × {quantity}",
            region_path=redemption.household.grid.path,
            changes={"quantity": [None, quantity], "points": [None, points], "idempotency_key": [None, key]},
            detail=reason,
        )
        _finish(actor=actor, scope=SCOPE_RETURN, key=key, response={"return_id": returned.pk})
    return returned

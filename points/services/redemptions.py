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

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from common.db import execute_prepared
from common.errors import Conflict, DomainError, NotFound
from common.idempotency import idempotency_key_clean
from common.models import IdempotencyRecord
from governance.audit import audit_record
from governance.models import AuditAction, Household, Region
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
    """The receipt's id, drawn before the insert so that the receipt number (which carries it) is written
    once. On SQLite (the demo) the caller already holds the database's write lock (its idempotency
    placeholder is written), so the next id after the largest cannot be taken twice."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(pg_get_serial_sequence('points_redemption', 'id'))")
        else:
            cursor.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM points_redemption")
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])


def _merged(lines: Sequence[tuple[int, int]]) -> dict[int, int]:
    """{item id: total quantity}; the same item twice on one receipt counts once with both quantities."""
    if not lines:
        raise DomainError("no_lines", _("请先选择要兑换的商品。"), field="lines")
    if len(lines) > MAX_LINES:
        raise DomainError(
            "too_many_lines", _("一张小票最多 %(n)s 种商品。") % {"n": MAX_LINES}, field="lines"
        )
    merged: dict[int, int] = {}
    for item_id, quantity in lines:
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            raise DomainError("bad_quantity", _("兑换数量至少为 1。"), field="lines")
        merged[item_id] = merged.get(item_id, 0) + quantity
        if merged[item_id] > MAX_QUANTITY:
            raise DomainError(
                "bad_quantity", _("单个商品一次最多兑换 %(n)s 件。") % {"n": MAX_QUANTITY}, field="lines"
            )
    return merged


@dataclass(frozen=True)
class ReceiptLine:
    id: int
    item_id: int
    item_name: str
    unit: str
    quantity: int
    unit_points: int
    returned_quantity: int = 0


@dataclass(frozen=True)
class Receipt:
    """What the till answers: the receipt as written, and the household's balance after it."""

    id: int
    receipt_number: str
    store_id: int
    day_id: int | None
    household_id: int
    total_points: int
    balance_after: int | None
    created_at: dt.datetime
    lines: list[ReceiptLine] = field(default_factory=list)
    replayed: bool = False


def receipt_of(redemption: Redemption) -> Receipt:
    """The Receipt of a stored redemption (a replay answers this), with the household's balance now."""
    balance = Account.objects.filter(household_id=redemption.household_id).values_list("balance", flat=True)
    return Receipt(
        id=redemption.pk,
        receipt_number=redemption.receipt_number,
        store_id=redemption.store_id,
        day_id=redemption.day_id,
        household_id=redemption.household_id,
        total_points=redemption.total_points,
        balance_after=balance.first(),
        created_at=redemption.created_at,
        lines=[
            ReceiptLine(
                id=line.pk,
                item_id=line.item_id,
                item_name=line.item.name,
                unit=line.item.unit,
                quantity=line.quantity,
                unit_points=line.unit_points,
                returned_quantity=line.returned_quantity,
            )
            for line in redemption.lines.select_related("item").order_by("pk")
        ],
        replayed=True,
    )


# The context of a receipt in one read: the store (and its township, its sink account), the day, the
# household (and its grid), the township's minimum balance. Tables from the models.
_CONTEXT_SQL = """
SELECT s.is_active, s.township_id, t.path, s.name, sink.id,
       d.id, d.status, h.id, h.is_active, g.path, p.min_balance_to_redeem
FROM {store} s
JOIN {region} t ON t.id = s.township_id
LEFT JOIN {account} sink ON sink.store_id = s.id
LEFT JOIN {day} d ON d.id = %s AND d.store_id = s.id
LEFT JOIN {household} h ON h.id = %s
LEFT JOIN {region} g ON g.id = h.grid_id
LEFT JOIN {policy} p ON p.township_id = s.township_id
WHERE s.id = %s
"""


def _context_sql() -> str:
    return _CONTEXT_SQL.format(
        store=Store._meta.db_table,
        region=Region._meta.db_table,
        account=Account._meta.db_table,
        day=RedemptionDay._meta.db_table,
        household=Household._meta.db_table,
        policy=TownshipPolicy._meta.db_table,
    )


def _lock_clause() -> str:
    return " FOR NO KEY UPDATE" if connection.vendor == "postgresql" else ""


def redeem(
    *,
    actor: AnyUser,
    idempotency_key: str,
    store_id: int,
    household_id: int,
    lines: Sequence[tuple[int, int]],
    day_id: int | None = None,
) -> Receipt:
    """Exchange the household's points for `lines` (item id, quantity) at the store, on the day when given:
    the till's hot path, by ids, in about a dozen plain statements (no ORM query building per receipt).

    Exactly once per (actor, key): a replay with the same body returns the first receipt (`replayed`); the
    same key with another body is Conflict 409. Refusals (nothing written): NotFound when the store does
    not exist or the actor may not run its till, the household is not in the store's township or the day
    is not this store's; Conflict 409 for a closed store, a day not open, an item not on sale here, a
    balance under the township's minimum or under the total, stock short; DomainError 400 for an empty
    receipt, a quantity below 1 or an item that does not exist.
    """
    from points.ledger import household_debit_post, store_sink

    key = idempotency_key_clean(idempotency_key)
    merged = _merged(lines)
    body = {
        "store": store_id,
        "household": household_id,
        "day": day_id,
        "lines": sorted([item_id, quantity] for item_id, quantity in merged.items()),
    }
    with transaction.atomic():
        replay = _begin(actor=actor, scope=SCOPE_REDEMPTION, key=key, body=body)
        if replay is not None:
            return receipt_of(Redemption.objects.get(pk=replay.response["redemption_id"]))
        with connection.cursor() as cursor:
            execute_prepared(
                cursor, "points_redeem_context", _context_sql(), [day_id, household_id, store_id]
            )
            context = cursor.fetchone()
        if context is None:
            raise NotFound(_("未找到该积分超市，或者它不在您的管辖范围内。"))
        (store_active, township_id, township_path, store_name, sink_id) = context[:5]
        (found_day_id, day_status, found_household_id, household_active, grid_path, minimum) = context[5:]
        store = Store(pk=store_id, township_id=township_id, name=store_name, is_active=store_active)
        store.township = Region(pk=township_id, path=township_path)
        if not _can_run_till(actor, store):
            raise NotFound(_("未找到该积分超市，或者它不在您的管辖范围内。"))
        if not store_active:
            raise Conflict("store_closed", _("该积分超市已停业。"))
        if day_id is not None:
            if found_day_id is None:
                raise NotFound(_("未找到该兑换日。"))
            if day_status == DayStatus.SCHEDULED:
                raise Conflict("day_not_open", _("兑换日还没有开始，请先开始兑换。"))
            if day_status == DayStatus.CLOSED:
                raise Conflict("day_closed", _("兑换日已结束，不能再兑换。"))
        if found_household_id is None or not str(grid_path).startswith(township_path):
            raise NotFound(_("未找到该户，或者它不属于本乡镇。"))
        if not household_active:
            raise Conflict("household_inactive", _("该户已不在册，不能兑换。"))

        # The items in id order, locked (two tills selling the last unit queue here), then the household's
        # account (household_debit_post): the lock order items → accounts of the whole module.
        ordered = sorted(merged.items())
        ids = [item_id for item_id, _quantity in ordered]
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, store_id, name, unit, points_price, on_hand, is_active "  # noqa: S608
                f"FROM {Item._meta.db_table} WHERE id IN ({', '.join(['%s'] * len(ids))}) "
                f"ORDER BY id{_lock_clause()}",
                ids,
            )
            items = {row[0]: row for row in cursor.fetchall()}
        for item_id in ids:
            row = items.get(item_id)
            if row is None:
                raise DomainError("item_missing", _("该商品不存在。"), field="lines")
            if row[1] != store_id:
                raise Conflict("item_not_in_store", _("该商品不属于本积分超市。"))
            if not row[6]:
                raise Conflict("item_inactive", _("%(name)s已下架，不能兑换。") % {"name": row[2]})
        total = sum(items[item_id][4] * quantity for item_id, quantity in ordered)
        if sink_id is None:
            sink_id = store_sink(store).pk
        transaction_id, _account_id, balance_after = household_debit_post(
            township_id=township_id,
            kind=TransactionKind.REDEMPTION,
            memo=_("积分兑换：%(store)s") % {"store": store_name},
            household_id=household_id,
            to_account_id=sink_id,
            points=total,
            minimum=minimum or 0,
            actor_id=cast(int, actor.pk),
        )
        for item_id, quantity in ordered:
            row = items[item_id]
            if row[5] < quantity:
                raise Conflict(
                    "out_of_stock",
                    _("库存不足：%(name)s只剩 %(n)s %(unit)s。")
                    % {"name": row[2], "n": row[5], "unit": row[3]},
                    item=item_id,
                    on_hand=row[5],
                )

        pk = _next_redemption_id()
        receipt_number = _receipt_number(pk)
        created_at = timezone.now()
        now = connection.ops.adapt_datetimefield_value(created_at)
        values = ", ".join(["(%s, %s, %s, %s, 0)"] * len(ordered))
        movements = ", ".join(["(%s, %s, %s, '', NULL, '', %s, %s, %s)"] * len(ordered))
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Item._meta.db_table} SET on_hand = on_hand - CASE id "  # noqa: S608
                + " ".join(["WHEN %s THEN %s"] * len(ordered))
                + f" END WHERE id IN ({', '.join(['%s'] * len(ids))})",
                [value for pair in ordered for value in pair] + ids,
            )
            cursor.execute(
                f"INSERT INTO {Redemption._meta.db_table} "  # noqa: S608
                "(id, receipt_number, store_id, day_id, household_id, total_points, transaction_id, "
                "created_by_id, created_at) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [pk, receipt_number, store_id, day_id, household_id, total, transaction_id, actor.pk, now],
            )
            cursor.execute(
                f"INSERT INTO {RedemptionLine._meta.db_table} "  # noqa: S608
                "(redemption_id, item_id, quantity, unit_points, returned_quantity) "
                f"VALUES {values} RETURNING id",
                [v for item_id, quantity in ordered for v in (pk, item_id, quantity, items[item_id][4])],
            )
            line_ids = sorted(int(row[0]) for row in cursor.fetchall())
            cursor.execute(
                f"INSERT INTO {StockMovement._meta.db_table} (item_id, kind, quantity, source, value_fen, "  # noqa: S608
                f"reason, redemption_id, created_by_id, created_at) VALUES {movements}",
                [
                    v
                    for item_id, quantity in ordered
                    for v in (item_id, StockKind.REDEMPTION, -quantity, pk, actor.pk, now)
                ],
            )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            object_type="points.redemption",
            object_id=str(pk),
            object_repr=receipt_number,
            region_path=str(grid_path),
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
    return Receipt(
        id=pk,
        receipt_number=receipt_number,
        store_id=store_id,
        day_id=day_id,
        household_id=household_id,
        total_points=total,
        balance_after=balance_after,
        created_at=created_at,
        lines=[
            ReceiptLine(
                id=line_id,
                item_id=item_id,
                item_name=items[item_id][2],
                unit=items[item_id][3],
                quantity=quantity,
                unit_points=items[item_id][4],
            )
            # Multi-row INSERT … RETURNING gives the ids in the order of the VALUES (both backends).
            for line_id, (item_id, quantity) in zip(line_ids, ordered, strict=True)
        ],
    )


def redemption_create(
    *,
    actor: AnyUser,
    idempotency_key: str,
    store: Store,
    household: Household,
    lines: Sequence[tuple[Item, int]],
    day: RedemptionDay | None = None,
) -> Redemption:
    """redeem() for callers holding objects (the till page, the demo, tests): the same checks, the same
    exactly-once; returns the stored receipt (Redemption)."""
    receipt = redeem(
        actor=actor,
        idempotency_key=idempotency_key,
        store_id=store.pk,
        household_id=household.pk,
        lines=[(item.pk, quantity) for item, quantity in lines],
        day_id=day.pk if day is not None else None,
    )
    return Redemption.objects.get(pk=receipt.id)


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

"""The points ledger's write primitives (design.md §4). Every movement of points goes through ledger_post.

Guarantees, for each call (each runs in one transaction.atomic(), nested in the caller's when there is
one, so the caller's other writes commit or roll back with the postings):
- the legs sum to zero and none is zero (checked here with a Chinese message; the deferred trigger of
  points 0002 refuses to COMMIT an unbalanced transaction whatever writes it);
- the household accounts are locked (SELECT … FOR NO KEY UPDATE) in ascending id order, so two postings
  touching the same households serialise instead of deadlocking;
- a household account never goes below zero: checked under the lock with a clear 409 Conflict
  `insufficient_points` (the CHECK constraint is the backstop);
- only household accounts keep a stored balance (the spendable figure the till reads and checks under
  the lock), changed only here in the same transaction as the postings. System accounts (issuance, store
  sinks, expiry) keep none: their column is pinned at 0 by a CHECK (points 0003) and their balance is the
  sum of their postings (account_balance, system_balances). A stored balance there would be one row that
  every award or every receipt of a store locks until COMMIT, serialising a whole redemption day;
- postings are never updated or deleted (a trigger refuses it), a mistake is undone by ledger_reverse.

These are building blocks for the services (awards, redemptions, expiry), which own the audit entry of
the domain action; ledger_reverse, a domain action of its own, writes its audit entry.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from common.errors import Conflict, DomainError
from governance.audit import audit_record
from governance.models import AuditAction, Household, Region, RegionLevel
from points.models import Account, AccountKind, LedgerTransaction, Posting, Store, TransactionKind

# The card code alphabet: no 0/O, 1/I/L, so a code read out at the till is unambiguous.
_CARD_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CARD_CODE_LENGTH = 16  # ~78 bits: not guessable
SYSTEM_KINDS = frozenset({AccountKind.ISSUANCE, AccountKind.EXPIRY})


def township_id_of(region: Region) -> int:
    """The id of the township `region` lies in (the region itself for a township), read from its
    materialized path; DomainError for the county, which has no township."""
    ids = [int(part) for part in region.path.strip("/").split("/") if part]
    if region.level == RegionLevel.COUNTY or len(ids) < 2:
        raise DomainError("not_in_township", _("该区域不属于任何乡镇。"))
    return ids[1]


def card_code_new() -> str:
    """A fresh random points-card code (16 characters, unambiguous alphabet)."""
    return "".join(secrets.choice(_CARD_ALPHABET) for _i in range(CARD_CODE_LENGTH))


def account_for_household(household: Household) -> Account:
    """The household's points account, opened (with a random card_code, in the township of its grid)
    on first use. Safe under concurrency: a twin opening the same account gets the one row."""
    found = Account.objects.filter(household_id=household.pk).first()
    if found is not None:
        return found
    grid = household.grid if hasattr(household, "grid") else Region.objects.get(pk=household.grid_id)
    account, _created = Account.objects.get_or_create(
        household_id=household.pk,
        defaults={
            "kind": AccountKind.HOUSEHOLD,
            "township_id": township_id_of(grid),
            "card_code": card_code_new(),
        },
    )
    return account


def system_account(township: Region, kind: str) -> Account:
    """The township's issuance or expiry account (one per township and kind, opened on first use)."""
    if kind not in SYSTEM_KINDS:
        raise ValueError(f"not a per-township system account kind: {kind}")
    if township.level != RegionLevel.TOWNSHIP:
        raise DomainError("not_a_township", _("系统账户只能开在乡镇。"))
    account, _created = Account.objects.get_or_create(township_id=township.pk, kind=kind)
    return account


def store_sink(store: Store) -> Account:
    """The store's redemption sink account (opened on first use, in the store's township)."""
    account, _created = Account.objects.get_or_create(
        store_id=store.pk,
        defaults={"kind": AccountKind.STORE_SINK, "township_id": store.township_id},
    )
    return account


def _legs_checked(legs: Sequence[tuple[Account, int]]) -> dict[int, int]:
    """{account id: net amount} after refusing empty, zero, non-integer or unbalanced legs."""
    if len(legs) < 2:
        raise DomainError("ledger_legs_missing", _("一笔积分交易至少要有两条分录。"))
    net: dict[int, int] = defaultdict(int)
    for account, amount in legs:
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise DomainError("ledger_amount_not_integer", _("积分必须是整数。"))
        if amount == 0:
            raise DomainError("ledger_amount_zero", _("分录积分不能为零。"))
        if account.pk is None:
            raise DomainError("ledger_account_missing", _("分录的账户不存在。"))
        net[account.pk] += amount
    total = sum(amount for _account, amount in legs)
    if total != 0:
        raise DomainError(
            "ledger_unbalanced",
            _("借贷不平衡：分录合计为 %(total)d 分，应为零。") % {"total": total},
        )
    return net


def accounts_lock(account_ids: Sequence[int] | set[int]) -> dict[int, Account]:
    """Lock the accounts (SELECT … FOR NO KEY UPDATE) in ascending id order and return them by id. The
    writers lock household accounts only (system accounts keep no stored balance, so there is nothing to
    guard on them), through here or, at the till, with the one conditional UPDATE of household_debit_post;
    concurrent postings touching the same households wait for each other instead of deadlocking."""
    # FOR NO KEY UPDATE, not FOR UPDATE: the foreign-key checks other transactions run at COMMIT (FOR KEY
    # SHARE on the accounts their postings name) must not wait on these locks, or they deadlock with them.
    rows = Account.objects.select_for_update(no_key=True).filter(pk__in=sorted(account_ids)).order_by("pk")
    return {account.pk: account for account in rows}


def ledger_post(
    *,
    township: Region,
    kind: str,
    memo: str,
    legs: Sequence[tuple[Account, int]],
    actor: Any,
    reverses: LedgerTransaction | None = None,
) -> LedgerTransaction:
    """Write one balanced transaction: its postings, and each account's stored balance moved by its net
    amount, under row locks, in one database transaction. Returns the transaction.

    Raises DomainError (400) for fewer than two legs, a zero or non-integer amount, legs not summing to
    zero; Conflict 409 `insufficient_points` when a household account would go below zero (nothing is
    written). The accounts' `balance` attributes of the passed objects are not refreshed."""
    if kind not in TransactionKind.values:
        raise ValueError(f"unknown transaction kind: {kind}")
    net = _legs_checked(legs)
    with transaction.atomic():
        # Only household accounts are locked: they alone hold a stored balance to check and move.
        kinds = dict(Account.objects.filter(pk__in=sorted(net)).values_list("pk", "kind"))
        if len(kinds) != len(net):
            raise DomainError("ledger_account_missing", _("分录的账户不存在。"))
        locked = accounts_lock({pk for pk, kind in kinds.items() if kind == AccountKind.HOUSEHOLD})
        for account_id, account in locked.items():
            amount = net[account_id]
            if account.balance + amount < 0:
                raise Conflict(
                    "insufficient_points",
                    _("积分不足：该户可用积分 %(balance)d 分，本次需要 %(needed)d 分。")
                    % {"balance": account.balance, "needed": -amount},
                    account_id=account_id,
                    balance=account.balance,
                    needed=-amount,
                )
        entry = LedgerTransaction.objects.create(
            kind=kind,
            township_id=township.pk,
            memo=memo[:200],
            reverses=reverses,
            created_by_id=actor.pk if actor is not None and actor.is_authenticated else None,
        )
        Posting.objects.bulk_create(
            [Posting(transaction=entry, account_id=account.pk, amount=amount) for account, amount in legs]
        )
        _balances_move({account_id: net[account_id] for account_id in locked if net[account_id]})
    return entry


def _balances_move(deltas: dict[int, int]) -> None:
    """Add each delta to its (already locked) household account's stored balance: one UPDATE … FROM
    (VALUES …) on PostgreSQL whatever the number of accounts (an expiry run touches a whole township)."""
    if not deltas:
        return
    now = timezone.now()
    if connection.vendor != "postgresql":
        for account_id, amount in sorted(deltas.items()):
            Account.objects.filter(pk=account_id).update(balance=F("balance") + amount, updated_at=now)
        return
    table = Account._meta.db_table
    rows = sorted(deltas.items())
    values = ", ".join(["(%s::integer, %s::integer)"] * len(rows))
    params: list[Any] = [now]
    for account_id, amount in rows:
        params += [account_id, amount]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS a SET balance = a.balance + v.delta, updated_at = %s "  # noqa: S608
            f"FROM (VALUES {values}) AS v(id, delta) WHERE a.id = v.id",
            params,
        )


def ledger_reverse(*, transaction: LedgerTransaction, actor: Any, memo: str) -> LedgerTransaction:
    """Undo `transaction` with a reversal transaction that names it (each posting negated). Returns the
    reversal, audited.

    Refuses (409) a second reversal of the same transaction (`already_reversed`, also guarded by the
    UNIQUE `reverses`), the reversal of a reversal (`reversal_not_reversible`), and a reversal that
    would overdraw a household (`insufficient_points`: the points were already spent)."""
    original = transaction
    with _atomic():
        # The original's row lock serialises two reversals of it; the second then sees the first.
        original = LedgerTransaction.objects.select_for_update(no_key=True).get(pk=original.pk)
        if original.kind == TransactionKind.REVERSAL:
            raise Conflict("reversal_not_reversible", _("冲正交易不能再次冲正。"))
        if LedgerTransaction.objects.filter(reverses_id=original.pk).exists():
            raise Conflict("already_reversed", _("该笔交易已经冲正过，不能重复冲正。"))
        postings = list(original.postings.select_related("account").order_by("pk"))
        legs = [(posting.account, -posting.amount) for posting in postings]
        township = Region.objects.get(pk=original.township_id)
        try:
            with _atomic():
                reversal = ledger_post(
                    township=township,
                    kind=TransactionKind.REVERSAL,
                    memo=memo or _("冲正：%(memo)s") % {"memo": original.memo},
                    legs=legs,
                    actor=actor,
                    reverses=original,
                )
        except IntegrityError as error:  # the UNIQUE on `reverses`: a twin got there first
            raise Conflict("already_reversed", _("该笔交易已经冲正过，不能重复冲正。")) from error
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=reversal,
            region_path=township.path,
            changes={"reverses": [None, original.pk]},
            detail=reversal.memo,
        )
    return reversal


def account_balance(account: Account) -> int:
    """The account's balance: the stored one for a household (one indexed row), the sum of its postings
    for a system account (which keeps none)."""
    if account.kind == AccountKind.HOUSEHOLD:
        return int(Account.objects.filter(pk=account.pk).values_list("balance", flat=True).get())
    total = Posting.objects.filter(account_id=account.pk).aggregate(total=Sum("amount"))["total"]
    return int(total or 0)


def system_balances(*, kind: str, township_id: int | None = None) -> int:
    """The summed balance of every system account of `kind` (in one township when given): points issued
    are −issuance, redeemed are +store sinks, expired are +expiry."""
    postings = Posting.objects.filter(account__kind=kind)
    if township_id is not None:
        postings = postings.filter(account__township_id=township_id)
    return int(postings.aggregate(total=Sum("amount"))["total"] or 0)


def household_debit_post(
    *,
    township_id: int,
    kind: str,
    memo: str,
    household_id: int,
    to_account_id: int,
    points: int,
    minimum: int,
    actor_id: int | None,
) -> tuple[int, int, int]:
    """The till's hot path: take `points` (> 0) from the household's account into the system account
    `to_account_id` as one balanced transaction. Returns (transaction id, household account id, balance
    after). Call it inside the caller's transaction, after any item locks (lock order: items → household).

    Three statements, no ORM: one conditional UPDATE that locks the household's row, checks the balance
    (≥ `points` and ≥ the township's `minimum`) and debits it; the transaction row; its two postings.
    Conflict 409 `below_min_balance` or `insufficient_points` when the balance falls short (nothing
    written; the household's account is read again to say by how much)."""
    if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
        raise DomainError("ledger_amount_zero", _("分录积分不能为零。"))
    if kind not in TransactionKind.values:
        raise ValueError(f"unknown transaction kind: {kind}")
    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    table = Account._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET balance = balance - %s, updated_at = %s "  # noqa: S608
            "WHERE household_id = %s AND kind = %s AND balance >= %s RETURNING id, balance",
            [points, now, household_id, AccountKind.HOUSEHOLD, max(points, minimum)],
        )
        row = cursor.fetchone()
        if row is None:
            cursor.execute(
                f"SELECT balance FROM {table} WHERE household_id = %s",  # noqa: S608
                [household_id],
            )
            found = cursor.fetchone()
            balance = int(found[0]) if found is not None else 0
            if balance < minimum:
                raise Conflict(
                    "below_min_balance",
                    _("未达兑换起点：可用 %(balance)s 分，满 %(minimum)s 分才能兑换。")
                    % {"balance": balance, "minimum": minimum},
                    balance=balance,
                    minimum=minimum,
                )
            raise Conflict(
                "insufficient_points",
                _("积分不足：可用 %(balance)s 分，需要 %(total)s 分。")
                % {"balance": balance, "total": points},
                balance=balance,
                total=points,
            )
        account_id, balance_after = int(row[0]), int(row[1])
        cursor.execute(
            f"INSERT INTO {LedgerTransaction._meta.db_table} "  # noqa: S608
            "(kind, township_id, memo, reverses_id, created_by_id, created_at) "
            "VALUES (%s, %s, %s, NULL, %s, %s) RETURNING id",
            [kind, township_id, memo[:200], actor_id, now],
        )
        transaction_id = int(cursor.fetchone()[0])
        cursor.execute(
            f"INSERT INTO {Posting._meta.db_table} (transaction_id, account_id, amount, created_at) "  # noqa: S608
            "VALUES (%s, %s, %s, %s), (%s, %s, %s, %s)",
            [transaction_id, account_id, -points, now, transaction_id, to_account_id, points, now],
        )
    return transaction_id, account_id, balance_after


def _atomic() -> Any:
    # `transaction` is a parameter name of ledger_reverse (the brief's signature), so the module is
    # reached through this helper there.
    from django.db import transaction as db_transaction

    return db_transaction.atomic()


def pending_add(account: Account, points: int) -> None:
    """Add `points` (> 0) to the account's pending (awards under public notice), under its row lock."""
    _pending_positive(points)
    _pending_move(account, points)


def pending_release(account: Account, points: int) -> None:
    """Take `points` (> 0) off the account's pending (the award was posted or voided), under its row
    lock. Conflict `pending_short` if less is pending (never below zero)."""
    _pending_positive(points)
    _pending_move(account, -points)


def _pending_positive(points: int) -> None:
    if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
        raise DomainError("pending_not_positive", _("公示中积分的变动必须是正整数。"))


def _pending_move(account: Account, delta: int) -> None:
    with transaction.atomic():
        locked = accounts_lock({account.pk})[account.pk]
        if locked.pending + delta < 0:
            raise Conflict("pending_short", _("公示中积分不足，无法释放。"))
        Account.objects.filter(pk=account.pk).update(pending=F("pending") + delta, updated_at=timezone.now())
    account.pending = locked.pending + delta

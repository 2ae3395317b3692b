"""Annual clearing of old points (积分清零) per township policy: done by posting, never by overwriting.

Under ExpiryMode.ANNUAL, the clearing run of year Y (on the policy's clearing date) clears the points
earned before 1 January of Y−1 that are still unspent. Spending is taken first-in-first-out: whatever a
household has spent (redemptions, deductions, reversals, earlier clearings) is counted against its oldest
points first, so the points that expire are

    min(balance, max(0, points credited before the cutoff − points debited so far)).

The run is ONE ledger transaction per township and year (kind EXPIRY, every household with points to
clear → the township's expiry account), with a fixed memo that names the year; a second run for the same
township and year finds it and writes nothing (a transaction-scoped advisory lock serialises twin runs).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from common.errors import DomainError
from governance.audit import audit_record
from governance.models import AuditAction, Region, RegionLevel
from points.ledger import accounts_lock, ledger_post, system_account
from points.models import (
    Account,
    AccountKind,
    ExpiryMode,
    LedgerTransaction,
    Posting,
    TownshipPolicy,
    TransactionKind,
)

logger = logging.getLogger("points.expiry")


def expiry_memo(year: int) -> str:
    """The memo naming a township's clearing run of `year` (also how a rerun finds it)."""
    return f"{year}年度积分清零"


def expiry_cutoff(as_of: dt.date) -> dt.datetime:
    """Points credited before this moment are cleared by the run of `as_of`'s year: 1 January of the
    year before, at local midnight."""
    return timezone.make_aware(dt.datetime(as_of.year - 1, 1, 1))


def expiry_amounts(township: Region, as_of: dt.date) -> dict[int, int]:
    """{household account id: points to clear} for the township's run of `as_of`'s year (only accounts
    with something to clear). Reads only; call under the accounts' locks for a consistent answer."""
    cutoff = expiry_cutoff(as_of)
    rows = (
        Posting.objects.filter(account__township_id=township.pk, account__kind=AccountKind.HOUSEHOLD)
        .values("account_id", "account__balance")
        .annotate(
            credited_before=Sum("amount", filter=Q(amount__gt=0, created_at__lt=cutoff), default=0),
            debited=Sum("amount", filter=Q(amount__lt=0), default=0),
        )
    )
    amounts: dict[int, int] = {}
    for row in rows:
        unspent_old = int(row["credited_before"]) + int(row["debited"])
        clear = min(int(row["account__balance"]), max(0, unspent_old))
        if clear > 0:
            amounts[row["account_id"]] = clear
    return amounts


def points_expire(township: Region, as_of: dt.date, *, actor: Any = None) -> LedgerTransaction | None:
    """Clear the township's old points for the year of `as_of` (see the module docstring). Returns the
    clearing transaction — the one already posted for that township and year on a rerun — or None when
    nothing was left to clear. Refuses a region that is not a township (DomainError)."""
    if township.level != RegionLevel.TOWNSHIP:
        raise DomainError("not_a_township", _("积分清零按乡镇进行。"))
    memo = expiry_memo(as_of.year)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                    [f"points_expire:{township.pk}:{as_of.year}"],
                )
        done = LedgerTransaction.objects.filter(
            township_id=township.pk, kind=TransactionKind.EXPIRY, memo=memo
        ).first()
        if done is not None:
            return done
        household_ids = list(
            Account.objects.filter(township_id=township.pk, kind=AccountKind.HOUSEHOLD).values_list(
                "pk", flat=True
            )
        )
        # Lock before reading the amounts: a redemption in flight finishes first and is counted.
        locked = accounts_lock(set(household_ids))
        amounts = expiry_amounts(township, as_of)
        if not amounts:
            logger.info("points expiry %s %s: nothing to clear", township.pk, as_of.year)
            return None
        sink = system_account(township, AccountKind.EXPIRY)
        legs = [(locked[account_id], -points) for account_id, points in sorted(amounts.items())]
        legs.append((sink, sum(amounts.values())))
        entry = ledger_post(township=township, kind=TransactionKind.EXPIRY, memo=memo, legs=legs, actor=actor)
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=entry,
            region_path=township.path,
            changes={"households": [None, len(amounts)], "points": [None, sum(amounts.values())]},
            detail=memo,
        )
    logger.info(
        "points expiry %s %s: %d households, %d points",
        township.pk,
        as_of.year,
        len(amounts),
        sum(amounts.values()),
    )
    return entry


def clearing_date(policy: TownshipPolicy, year: int) -> dt.date:
    return dt.date(year, policy.clearing_month, policy.clearing_day)


def points_expire_due(today: dt.date | None = None) -> list[int]:
    """Run the clearing of every township whose annual clearing date this year has come (beat task body).
    Returns the ids of the clearing transactions posted or found. Idempotent: reruns find them."""
    today = today or timezone.localdate()
    done: list[int] = []
    policies = TownshipPolicy.objects.filter(expiry_mode=ExpiryMode.ANNUAL).select_related("township")
    for policy in policies:
        if today < clearing_date(policy, today.year):
            continue
        entry = points_expire(policy.township, clearing_date(policy, today.year))
        if entry is not None:
            done.append(entry.pk)
    return done

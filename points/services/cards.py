"""Points cards (积分卡): a printed card per household whose QR code is its account's card_code.

Printing a card needs the code, so printing opens the household's account when it has none yet
(account_for_household, safe under concurrency). Nothing else is written: a reprint shows the same code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction

from governance.audit import audit_record
from governance.models import AuditAction, Household
from points.ledger import account_for_household
from points.models import Account


def card_accounts_open(*, actor: Any, households: Sequence[Household]) -> dict[int, Account]:
    """{household id: its points account} for `households`, opening (with a random card_code, and an
    audit entry each) the accounts that do not exist yet, in one transaction. The caller has checked
    that `actor` may see these households."""
    found: dict[int, Account] = {
        int(account.household_id or 0): account
        for account in Account.objects.filter(household__in=households)
    }
    missing = [household for household in households if household.pk not in found]
    if not missing:
        return found
    with transaction.atomic():
        for household in missing:
            account = account_for_household(household)
            found[household.pk] = account
            audit_record(
                actor=actor,
                action=AuditAction.CREATE,
                obj=account,
                region_path=household.grid.path,
                detail=f"积分卡开户 {household.number}",
            )
    return found

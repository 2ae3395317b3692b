"""The ledger's verification job (design.md §4.4): do the stored numbers agree with their ledgers?

One SQL statement, so every figure comes from one snapshot (balances and their postings always commit
together, so a consistent ledger never shows a difference mid-traffic). It checks:
- every household account's stored balance equals the sum of its postings (`balance_mismatch`; system
  accounts store none, their CHECK pins the column at 0 and their balance is their postings' sum);
- every transaction's postings sum to zero (`transaction_unbalanced`) and it has postings
  (`transaction_empty`);
- all postings together sum to zero (`postings_total`);
- no household balance and no pending below zero (`household_overdrawn`, `pending_negative`);
- every item's on-hand stock equals the sum of its stock movements (`stock_mismatch`) and is not below
  zero (`stock_negative`).
Each run is stored as a LedgerCheck (the county dashboard shows the latest); a mismatch is logged at ERROR
so the alerting picks it up.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import connection, transaction
from django.utils.translation import gettext as _

from points.models import Account, Item, LedgerCheck, LedgerTransaction, Posting, StockMovement

logger = logging.getLogger("points.ledger_check")

# Tables are read from the models so a rename cannot silently check the wrong table.
_SQL = """
WITH account_sums AS (
    SELECT account_id, SUM(amount)::bigint AS total FROM {posting} GROUP BY account_id
), accounts AS (
    SELECT a.id, a.kind, a.balance::bigint AS balance, a.pending::bigint AS pending,
           COALESCE(s.total, 0) AS total
    FROM {account} a LEFT JOIN account_sums s ON s.account_id = a.id
), transaction_sums AS (
    SELECT t.id, COALESCE(SUM(p.amount), 0)::bigint AS total, COUNT(p.id) AS legs
    FROM {transaction} t LEFT JOIN {posting} p ON p.transaction_id = t.id
    GROUP BY t.id
), stock_sums AS (
    SELECT i.id, i.on_hand::bigint AS on_hand, COALESCE(SUM(m.quantity), 0)::bigint AS total
    FROM {item} i LEFT JOIN {movement} m ON m.item_id = i.id
    GROUP BY i.id
)
SELECT 'accounts_checked', NULL::bigint, (SELECT COUNT(*) FROM accounts), NULL::bigint, ''
UNION ALL
SELECT 'postings_total', NULL, (SELECT COALESCE(SUM(amount), 0)::bigint FROM {posting}), 0, ''
UNION ALL
SELECT 'balance_mismatch', id, balance, total, kind FROM accounts
WHERE kind = 'household' AND balance <> total
UNION ALL
SELECT 'household_overdrawn', id, balance, 0, kind FROM accounts WHERE kind = 'household' AND balance < 0
UNION ALL
SELECT 'pending_negative', id, pending, 0, kind FROM accounts WHERE pending < 0
UNION ALL
SELECT 'transaction_unbalanced', id, total, 0, '' FROM transaction_sums WHERE total <> 0
UNION ALL
SELECT 'transaction_empty', id, legs, 2, '' FROM transaction_sums WHERE legs = 0
UNION ALL
SELECT 'stock_mismatch', id, on_hand, total, '' FROM stock_sums WHERE on_hand <> total
UNION ALL
SELECT 'stock_negative', id, on_hand, 0, '' FROM stock_sums WHERE on_hand < 0
"""

# How each difference reads for people (the command's output, the dashboard).
_MESSAGES: dict[str, str] = {
    "balance_mismatch": "账户 #%(id)s（%(account_kind)s）记录余额 %(stored)s 分，分录合计 %(expected)s 分",
    "household_overdrawn": "农户账户 #%(id)s 余额为负：%(stored)s 分",
    "pending_negative": "账户 #%(id)s 公示中积分为负：%(stored)s 分",
    "transaction_unbalanced": "交易 #%(id)s 借贷不平衡：分录合计 %(stored)s 分",
    "transaction_empty": "交易 #%(id)s 没有分录",
    "postings_total": "全部分录合计 %(stored)s 分，应为零",
    "stock_mismatch": "商品 #%(id)s 库存记录 %(stored)s，库存流水合计 %(expected)s",
    "stock_negative": "商品 #%(id)s 库存为负：%(stored)s",
}


def _sql() -> str:
    return _SQL.format(
        posting=Posting._meta.db_table,
        account=Account._meta.db_table,
        transaction=LedgerTransaction._meta.db_table,
        item=Item._meta.db_table,
        movement=StockMovement._meta.db_table,
    )


def difference_text(difference: dict[str, Any]) -> str:
    """One difference as a Chinese sentence."""
    template = _MESSAGES.get(difference["kind"])
    if template is None:
        return str(difference)
    return _(template) % difference


def ledger_differences() -> tuple[int, list[dict[str, Any]]]:
    """(accounts checked, differences) from one SQL statement over the whole ledger. Each difference is
    {"kind", "id", "stored", "expected", "kind_of_account"}; an empty list means all agree. Writes nothing."""
    with connection.cursor() as cursor:
        cursor.execute(_sql())
        rows = cursor.fetchall()
    checked = 0
    differences: list[dict[str, Any]] = []
    for kind, row_id, stored, expected, account_kind in rows:
        if kind == "accounts_checked":
            checked = int(stored)
            continue
        if kind == "postings_total" and stored == 0:
            continue
        differences.append(
            {
                "kind": kind,
                "id": row_id,
                "stored": int(stored),
                "expected": int(expected),
                "account_kind": account_kind,
            }
        )
    differences.sort(key=lambda d: (d["kind"], d["id"] or 0))
    return checked, differences


def ledger_verify() -> LedgerCheck:
    """Run the check and store it as a LedgerCheck (is_ok, accounts checked, the differences, each with a
    Chinese `text`). A mismatch is logged at ERROR, naming every difference. Returns the stored run."""
    checked, differences = ledger_differences()
    for difference in differences:
        difference["text"] = difference_text(difference)
    with transaction.atomic():
        check = LedgerCheck.objects.create(
            is_ok=not differences, accounts_checked=checked, differences=differences
        )
    if differences:
        logger.error(
            "points ledger check #%s: %d difference(s): %s",
            check.pk,
            len(differences),
            "; ".join(d["text"] for d in differences),
        )
    else:
        logger.info("points ledger check #%s: %d accounts agree", check.pk, checked)
    return check


def ledger_check_latest() -> LedgerCheck | None:
    """The latest verification run (for the county dashboard's alert), or None before the first run."""
    return LedgerCheck.objects.order_by("-ran_at", "-pk").first()

"""The points ledger (design.md §4): accounts, transactions and their postings.

Invariants, enforced in the database where it can:
1. A transaction's postings sum to zero (a deferred constraint trigger checks it at commit, points 0002).
2. Postings are append-only (a trigger refuses UPDATE and DELETE); a mistake is corrected by a reversal
   transaction that names the original (`reverses`, UNIQUE: a transaction is reversed at most once).
3. A household's balance never goes below zero (CHECK); balances change only in the service that writes
   the postings, in the same transaction, under a row lock on the account.
4. A household's stored balance equals the sum of its postings (LedgerCheck records each verification
   run); system accounts (issuance, store sinks, expiry) store none (CHECK: 0), their balance is the sum
   of their postings.
Points are integers.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AccountKind(models.TextChoices):
    HOUSEHOLD = "household", _("农户积分账户")
    # Per township: where awarded points come from (its balance goes negative as points are issued).
    ISSUANCE = "issuance", _("积分发放账户")
    # Per store: where redeemed points go.
    STORE_SINK = "store_sink", _("积分超市兑换账户")
    # Per township: where expired or cleared points go.
    EXPIRY = "expiry", _("积分清零账户")


class Account(models.Model):
    kind = models.CharField(_("账户类型"), max_length=12, choices=AccountKind.choices)
    township = models.ForeignKey(
        "governance.Region", verbose_name=_("乡镇"), on_delete=models.PROTECT, related_name="+"
    )
    household = models.OneToOneField(
        "governance.Household",
        verbose_name=_("户"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="points_account",
    )
    store = models.OneToOneField(
        "points.Store",
        verbose_name=_("积分超市"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sink",
    )
    # Spendable points: the sum of posted postings (households only; 0 on system accounts).
    balance = models.IntegerField(_("可用积分"), default=0)
    # Awards under public notice: visible, not spendable (the first phase of a two-phase award).
    pending = models.IntegerField(_("公示中积分"), default=0)
    # The code printed as a QR on the household's points card (积分卡); random, not guessable.
    card_code = models.CharField(_("积分卡码"), max_length=32, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(_("开户时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("积分账户")
        verbose_name_plural = _("积分账户")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="household") | models.Q(balance__gte=0),
                name="points_account_household_no_overdraft",
            ),
            models.CheckConstraint(
                condition=models.Q(pending__gte=0), name="points_account_pending_nonnegative"
            ),
            # Only a household keeps a stored balance; a system account's is the sum of its postings
            # (points.ledger.account_balance), so no row of it is locked by every award or receipt.
            models.CheckConstraint(
                condition=models.Q(kind="household") | models.Q(balance=0),
                name="points_account_system_no_stored_balance",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="household") | models.Q(household__isnull=False),
                name="points_account_household_named",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="store_sink") | models.Q(store__isnull=False),
                name="points_account_sink_names_store",
            ),
            models.UniqueConstraint(
                fields=["township", "kind"],
                condition=models.Q(kind__in=["issuance", "expiry"]),
                name="points_account_one_system_account_per_township",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class TransactionKind(models.TextChoices):
    AWARD = "award", _("奖励")
    DEDUCTION = "deduction", _("扣分")
    REDEMPTION = "redemption", _("兑换")
    REVERSAL = "reversal", _("冲正")
    EXPIRY = "expiry", _("清零")
    ADJUSTMENT = "adjustment", _("调整")


class LedgerTransaction(models.Model):
    kind = models.CharField(_("业务类型"), max_length=12, choices=TransactionKind.choices)
    township = models.ForeignKey(
        "governance.Region", verbose_name=_("乡镇"), on_delete=models.PROTECT, related_name="+"
    )
    memo = models.CharField(_("摘要"), max_length=200)
    # A reversal names the transaction it undoes; each transaction is reversed at most once.
    reverses = models.OneToOneField(
        "self",
        verbose_name=_("冲正原交易"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("经办人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("记账时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("积分交易")
        verbose_name_plural = _("积分交易")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class Posting(models.Model):
    """One leg of a transaction: points into (+) or out of (−) an account. Append-only."""

    transaction = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT, related_name="postings")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="postings")
    amount = models.IntegerField(_("积分"))
    created_at = models.DateTimeField(_("记账时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("分录")
        verbose_name_plural = _("分录")
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=~models.Q(amount=0), name="points_posting_nonzero")]
        indexes = [models.Index(fields=["account", "id"], name="points_posting_account")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.amount:+d}"


class LedgerCheck(models.Model):
    """One run of the verification job: every stored balance against the sum of its postings, every
    transaction's postings summing to zero. A failed run is an alert on the county dashboard."""

    ran_at = models.DateTimeField(_("核对时间"), auto_now_add=True, db_index=True)
    is_ok = models.BooleanField(_("核对一致"))
    accounts_checked = models.PositiveIntegerField(_("核对账户数"))
    differences = models.JSONField(_("差异"), default=list, blank=True)

    class Meta:
        verbose_name = _("账务核对")
        verbose_name_plural = _("账务核对")
        ordering = ["-ran_at"]

    def __str__(self) -> str:
        return f"{self.ran_at:%Y-%m-%d %H:%M} {'OK' if self.is_ok else 'MISMATCH'}"

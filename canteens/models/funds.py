"""Donations (社会捐赠) and the donation funds meals draw from, and the yearly budgets per funder.

A fund belongs to a canteen or to a township (CHECK: exactly one). Its `balance_fen` is stored for the
check-in's "can the fund cover this share" test under a row lock and never goes below zero (CHECK); every
change is a FundMovement row (append-only by trigger, canteens 0002) in the same transaction, so the
balance always equals the sum of its movements (the verification in canteens.services.funds checks it).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from canteens.models.meals import Funder


class DonationFund(models.Model):
    site = models.OneToOneField(
        "canteens.Site", null=True, blank=True, on_delete=models.PROTECT, related_name="donation_fund"
    )
    township = models.OneToOneField(
        "governance.Region", null=True, blank=True, on_delete=models.PROTECT, related_name="donation_fund"
    )
    name = models.CharField(_("基金名称"), max_length=60)
    balance_fen = models.BigIntegerField(_("余额（分）"), default=0)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("捐赠资金")
        verbose_name_plural = _("捐赠资金")
        constraints = [
            models.CheckConstraint(condition=models.Q(balance_fen__gte=0), name="canteens_fund_nonnegative"),
            models.CheckConstraint(
                condition=(models.Q(site__isnull=False) & models.Q(township__isnull=True))
                | (models.Q(site__isnull=True) & models.Q(township__isnull=False)),
                name="canteens_fund_site_or_township",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class DonorKind(models.TextChoices):
    PERSON = "person", _("个人")
    ENTERPRISE = "enterprise", _("企业")
    ORGANISATION = "organisation", _("社会组织")
    ANONYMOUS = "anonymous", _("匿名")


class DonationKind(models.TextChoices):
    MONEY = "money", _("资金")
    GOODS = "goods", _("物资")


class Donation(models.Model):
    """A gift to a fund: money, or goods valued in fen (rice and oil for the kitchen count as what they
    would have cost). Both credit the fund; the receipt number is the donor's proof."""

    fund = models.ForeignKey(DonationFund, on_delete=models.PROTECT, related_name="donations")
    donor_name = models.CharField(_("捐赠方"), max_length=100)
    donor_kind = models.CharField(_("捐赠方类型"), max_length=12, choices=DonorKind.choices)
    kind = models.CharField(_("捐赠形式"), max_length=6, choices=DonationKind.choices)
    amount_fen = models.BigIntegerField(_("金额（分）"))
    goods_description = models.CharField(_("物资明细"), max_length=200, blank=True)
    received_on = models.DateField(_("捐赠日期"))
    purpose = models.CharField(_("用途"), max_length=100, blank=True)
    receipt_number = models.CharField(_("收据编号"), max_length=30, unique=True)
    # Shown on the canteen's public thank-you list (致谢榜) only with the donor's consent.
    is_public = models.BooleanField(_("公开致谢"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("捐赠")
        verbose_name_plural = _("捐赠")
        ordering = ["-received_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_fen__gte=1, amount_fen__lte=10_000_000_000),
                name="canteens_donation_amount_range",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="money") | ~models.Q(goods_description=""),
                name="canteens_donation_goods_described",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.donor_name} {self.amount_fen / 100:.2f}"


class FundMovementKind(models.TextChoices):
    DONATION = "donation", _("捐赠入账")
    MEAL_DRAW = "meal_draw", _("就餐列支")
    MEAL_RETURN = "meal_return", _("更正退回")
    ADJUSTMENT = "adjustment", _("调整")


class FundMovement(models.Model):
    """One change of a fund's balance, traceable to its donation or its meal. Append-only."""

    fund = models.ForeignKey(DonationFund, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(_("类型"), max_length=12, choices=FundMovementKind.choices)
    amount_fen = models.BigIntegerField(_("金额（分）"))
    donation = models.ForeignKey(Donation, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    meal = models.ForeignKey(
        "canteens.Meal", null=True, blank=True, on_delete=models.PROTECT, related_name="fund_movements"
    )
    memo = models.CharField(_("说明"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("捐赠资金流水")
        verbose_name_plural = _("捐赠资金流水")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(amount_fen=0), name="canteens_movement_nonzero"),
            models.CheckConstraint(
                condition=~models.Q(kind="donation") | models.Q(donation__isnull=False, amount_fen__gt=0),
                name="canteens_movement_donation_named",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind__in=["meal_draw", "meal_return"]) | models.Q(meal__isnull=False),
                name="canteens_movement_meal_named",
            ),
        ]
        indexes = [models.Index(fields=["fund", "id"], name="canteens_movement_fund_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount_fen}"


class Budget(models.Model):
    """What a funder has budgeted for a canteen's meals in a year (budget vs. spent vs. remaining)."""

    site = models.ForeignKey("canteens.Site", on_delete=models.PROTECT, related_name="budgets")
    year = models.PositiveSmallIntegerField(_("年度"))
    funder = models.CharField(_("出资方"), max_length=12, choices=Funder.choices)
    amount_fen = models.BigIntegerField(_("预算（分）"))
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("年度预算")
        verbose_name_plural = _("年度预算")
        ordering = ["site", "-year", "funder"]
        constraints = [
            models.UniqueConstraint(fields=["site", "year", "funder"], name="canteens_budget_unique"),
            models.CheckConstraint(
                condition=models.Q(amount_fen__gte=0, amount_fen__lte=10_000_000_000),
                name="canteens_budget_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.site} {self.year} {self.get_funder_display()}"

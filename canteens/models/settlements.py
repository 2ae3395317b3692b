"""Monthly settlement per canteen and the government subsidy claim (补贴申报) it becomes.

A settlement is computed from the month's meal rows (a GROUP BY: the figures can never disagree with the
meals), submitted, then approved or returned by the township/county. An approved claim is locked: a
trigger (canteens 0002) refuses any UPDATE or DELETE of it and its lines; a later correction lands in the
next open period as a reversal meal.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from canteens.models.meals import SlotKind


class ClaimStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已申报")
    APPROVED = "approved", _("已核准")
    RETURNED = "returned", _("已退回")


class Settlement(models.Model):
    site = models.ForeignKey("canteens.Site", on_delete=models.PROTECT, related_name="settlements")
    year = models.PositiveSmallIntegerField(_("年度"))
    month = models.PositiveSmallIntegerField(_("月份"))
    status = models.CharField(
        _("状态"), max_length=10, choices=ClaimStatus.choices, default=ClaimStatus.DRAFT
    )
    claim_number = models.CharField(_("申报编号"), max_length=30, unique=True)
    meals = models.PositiveIntegerField(_("就餐人次"), default=0)
    elders = models.PositiveIntegerField(_("就餐老人数"), default=0)
    guest_meals = models.PositiveIntegerField(_("非登记就餐人次"), default=0)
    price_fen = models.BigIntegerField(_("餐费合计（分）"), default=0)
    resident_fen = models.BigIntegerField(_("个人缴费（分）"), default=0)
    government_county_fen = models.BigIntegerField(_("县级补贴（分）"), default=0)
    government_township_fen = models.BigIntegerField(_("乡镇补贴（分）"), default=0)
    community_fen = models.BigIntegerField(_("社区补贴（分）"), default=0)
    donation_fen = models.BigIntegerField(_("捐赠列支（分）"), default=0)
    computed_at = models.DateTimeField(_("计算时间"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(_("申报时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    return_reason = models.CharField(_("退回原因"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("月度结算")
        verbose_name_plural = _("月度结算")
        ordering = ["-year", "-month", "site"]
        constraints = [
            models.UniqueConstraint(fields=["site", "year", "month"], name="canteens_settlement_unique"),
            models.CheckConstraint(
                condition=models.Q(month__gte=1, month__lte=12), name="canteens_settlement_month"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    price_fen=models.F("resident_fen")
                    + models.F("government_county_fen")
                    + models.F("government_township_fen")
                    + models.F("community_fen")
                    + models.F("donation_fen")
                ),
                name="canteens_settlement_sums",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.site} {self.year}-{self.month:02d}"


class SettlementLine(models.Model):
    """The settlement's figures by slot and tier (tier empty: guests)."""

    settlement = models.ForeignKey(Settlement, on_delete=models.CASCADE, related_name="lines")
    slot = models.CharField(_("餐次"), max_length=10, choices=SlotKind.choices)
    tier = models.ForeignKey(
        "canteens.SubsidyTier", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    meals = models.IntegerField(_("人次"))
    price_fen = models.BigIntegerField(_("餐费（分）"))
    resident_fen = models.BigIntegerField(_("个人缴费（分）"))
    government_fen = models.BigIntegerField(_("政府补贴（分）"))
    community_fen = models.BigIntegerField(_("社区补贴（分）"))
    donation_fen = models.BigIntegerField(_("捐赠列支（分）"))

    class Meta:
        verbose_name = _("结算明细")
        verbose_name_plural = _("结算明细")
        ordering = ["settlement", "slot", "tier"]
        constraints = [
            models.UniqueConstraint(
                fields=["settlement", "slot", "tier"], nulls_distinct=False, name="canteens_line_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    price_fen=models.F("resident_fen")
                    + models.F("government_fen")
                    + models.F("community_fen")
                    + models.F("donation_fen")
                ),
                name="canteens_line_sums",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.settlement} {self.slot}"

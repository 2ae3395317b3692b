"""The village collective economy (村级集体经济): each village's collective income per year by source, and
the county's thresholds (a village under the weak line is flagged: e.g. 100,000 yuan)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class IncomeSource(models.TextChoices):
    LAND_RENT = "land_rent", _("土地流转租金")
    ASSET_LEASE = "asset_lease", _("资产资源发包租赁")
    SERVICES = "services", _("服务收入")
    SHARES = "shares", _("入股分红")
    TOURISM = "tourism", _("乡村旅游")
    OPERATIONS = "operations", _("自主经营")
    SUBSIDY = "subsidy", _("上级补助")
    OTHER = "other", _("其他")


class CollectiveIncome(models.Model):
    """A village's collective income from one source in one year, in fen."""

    village = models.ForeignKey(
        "governance.Region",
        verbose_name=_("村（社区）"),
        on_delete=models.PROTECT,
        related_name="collective_incomes",
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    source = models.CharField(_("收入来源"), max_length=12, choices=IncomeSource.choices)
    amount_fen = models.BigIntegerField(_("金额（分）"))
    note = models.CharField(_("说明"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        "governance.User",
        verbose_name=_("填报人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("集体经济收入")
        verbose_name_plural = _("集体经济收入")
        ordering = ["village__path", "-year", "source"]
        constraints = [
            models.UniqueConstraint(fields=["village", "year", "source"], name="industry_income_unique"),
            models.CheckConstraint(condition=Q(amount_fen__gte=0), name="industry_income_nonneg"),
            models.CheckConstraint(
                condition=Q(year__gte=2000) & Q(year__lte=2100), name="industry_income_year"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.village_id} {self.year} {self.source}"


class CollectiveThreshold(models.Model):
    """The county's lines for a year: below `weak_below_fen` a village is weak (薄弱村); at or above
    `strong_from_fen` (optional) it is strong."""

    year = models.PositiveSmallIntegerField(_("年度"), unique=True)
    weak_below_fen = models.BigIntegerField(_("薄弱村标准（分）"))
    strong_from_fen = models.BigIntegerField(_("强村标准（分）"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("集体经济标准")
        verbose_name_plural = _("集体经济标准")
        ordering = ["-year"]
        constraints = [
            models.CheckConstraint(condition=Q(weak_below_fen__gt=0), name="industry_threshold_weak_pos"),
            models.CheckConstraint(
                condition=Q(strong_from_fen__isnull=True) | Q(strong_from_fen__gt=models.F("weak_below_fen")),
                name="industry_threshold_order",
            ),
        ]

    def __str__(self) -> str:
        return str(self.year)

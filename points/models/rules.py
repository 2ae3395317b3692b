"""The rules catalog (积分细则) and each township's redeemability policy."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class RuleCategory(models.TextChoices):
    ENVIRONMENT = "environment", _("环境卫生")
    FILIAL_PIETY = "filial_piety", _("孝老爱亲")
    VOLUNTEERING = "volunteering", _("志愿服务")
    LAW_ABIDING = "law_abiding", _("遵纪守法")
    CIVILISED_CUSTOMS = "civilised_customs", _("移风易俗")
    EVALUATIONS = "evaluations", _("参与评选")
    OTHER = "other", _("其他")


class CapPeriod(models.TextChoices):
    MONTH = "month", _("每月")
    QUARTER = "quarter", _("每季度")
    YEAR = "year", _("每年")


class Rule(models.Model):
    """An item of the catalog. The county's items sit at the county; a township or village may add its own
    (region = that township or village), which apply under it only."""

    region = models.ForeignKey(
        "governance.Region", verbose_name=_("适用区域"), on_delete=models.PROTECT, related_name="points_rules"
    )
    code = models.CharField(_("条目编号"), max_length=20)
    name = models.CharField(_("条目"), max_length=100)
    description = models.TextField(_("说明"), max_length=1000, blank=True)
    category = models.CharField(_("类别"), max_length=20, choices=RuleCategory.choices)
    # Positive: an award; negative: a deduction.
    points = models.IntegerField(_("分值"))
    is_evidence_required = models.BooleanField(_("须附照片"), default=False)
    # At most `cap_count` times per household per `cap_period`; null: no cap (still one per period).
    cap_count = models.PositiveSmallIntegerField(_("次数上限"), null=True, blank=True)
    cap_period = models.CharField(
        _("上限周期"), max_length=8, choices=CapPeriod.choices, default=CapPeriod.MONTH
    )
    is_active = models.BooleanField(_("启用"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("积分细则")
        verbose_name_plural = _("积分细则")
        ordering = ["category", "code"]
        constraints = [
            models.UniqueConstraint(fields=["region", "code"], name="points_rule_unique_code"),
            models.CheckConstraint(
                condition=~models.Q(points=0) & models.Q(points__gte=-100, points__lte=100),
                name="points_rule_points_range",
            ),
            models.CheckConstraint(
                condition=models.Q(cap_count__isnull=True) | models.Q(cap_count__gte=1),
                name="points_rule_cap",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ExpiryMode(models.TextChoices):
    NONE = "none", _("不清零")
    # Points older than the year before are cleared on the clearing day (posted, never overwritten).
    ANNUAL = "annual", _("每年清零上年以前积分")


class TownshipPolicy(models.Model):
    """A township's redeemability policy."""

    township = models.OneToOneField(
        "governance.Region", verbose_name=_("乡镇"), on_delete=models.CASCADE, related_name="points_policy"
    )
    min_balance_to_redeem = models.PositiveIntegerField(_("兑换起点（分）"), default=0)
    notice_days = models.PositiveSmallIntegerField(_("公示天数"), default=7)
    expiry_mode = models.CharField(
        _("清零方式"), max_length=8, choices=ExpiryMode.choices, default=ExpiryMode.NONE
    )
    clearing_month = models.PositiveSmallIntegerField(_("清零月份"), default=1)
    clearing_day = models.PositiveSmallIntegerField(_("清零日"), default=1)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("积分兑换政策")
        verbose_name_plural = _("积分兑换政策")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(notice_days__gte=1, notice_days__lte=30), name="points_policy_notice_days"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    clearing_month__gte=1, clearing_month__lte=12, clearing_day__gte=1, clearing_day__lte=28
                ),
                name="points_policy_clearing_date",
            ),
        ]

    def __str__(self) -> str:
        return str(self.township)

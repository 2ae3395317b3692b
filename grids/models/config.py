"""What the county configures for case handling: the category tree (the five duties and their
sub-categories), time limits per category and urgency, the working-day calendar, the handling units and
the routing table (category × region → unit), and response templates."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Duty(models.TextChoices):
    """The five duties of a hundred-household grid leader (网格长五项职责)."""

    POLICY_OUTREACH = "policy_outreach", _("政策宣传")
    DISPUTE_MEDIATION = "dispute_mediation", _("矛盾调解")
    PUBLIC_SENTIMENT = "public_sentiment", _("社情民意")
    GOVERNANCE_COORDINATION = "governance_coordination", _("治理协调")
    LIVELIHOOD_SERVICE = "livelihood_service", _("民生服务")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("一般")
    URGENT = "urgent", _("紧急")
    CRITICAL = "critical", _("特急")


class CaseCategory(models.Model):
    """A node of the category tree: the five duties at the top (parent is null), sub-categories below.
    The county edits the tree; a category in use is deactivated, never deleted."""

    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级类别"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    duty = models.CharField(_("职责"), max_length=30, choices=Duty.choices)
    code = models.SlugField(_("类别代码"), max_length=40, unique=True)
    name = models.CharField(_("类别名称"), max_length=40)
    # Dispute categories may be handed to the village sages' mediation group.
    is_mediable = models.BooleanField(_("可交乡贤调解"), default=False)
    is_active = models.BooleanField(_("启用"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("民情类别")
        verbose_name_plural = _("民情类别")
        ordering = ["duty", "sort_order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="case_category_unique_name_in_parent"),
        ]

    def __str__(self) -> str:
        return self.name


class CaseTimeLimit(models.Model):
    """How many working days a handler has, counted from assignment, to sign for and to resolve a case
    of this category and urgency. A sub-category without its own row uses its parent's."""

    category = models.ForeignKey(
        CaseCategory, verbose_name=_("类别"), on_delete=models.CASCADE, related_name="time_limits"
    )
    urgency = models.CharField(_("紧急程度"), max_length=10, choices=Urgency.choices)
    sign_days = models.PositiveSmallIntegerField(_("签收时限（工作日）"), default=1)
    resolve_days = models.PositiveSmallIntegerField(_("办结时限（工作日）"))

    class Meta:
        verbose_name = _("办理时限")
        verbose_name_plural = _("办理时限")
        constraints = [
            models.UniqueConstraint(fields=["category", "urgency"], name="case_time_limit_unique"),
            models.CheckConstraint(
                condition=models.Q(resolve_days__gte=1), name="case_time_limit_resolve_min"
            ),
            models.CheckConstraint(
                condition=models.Q(resolve_days__gte=models.F("sign_days")),
                name="case_time_limit_sign_before_resolve",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category} · {self.get_urgency_display()}"


class CalendarDay(models.Model):
    """An exception to the Monday–Friday working week: a public holiday on a weekday (is_workday=False)
    or a make-up working day on a weekend (调休, is_workday=True). The county edits the year's list."""

    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("是否工作日"))
    name = models.CharField(_("名称"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("节假日与调休")
        verbose_name_plural = _("节假日与调休")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class HandlingUnit(models.Model):
    """Who a case can be assigned to: a village committee, a township office or a county department.
    `region` is where it sits (its level decides which queue it serves); `members` may act for it."""

    name = models.CharField(_("承办单位"), max_length=60)
    region = models.ForeignKey(
        "governance.Region",
        verbose_name=_("所在区域"),
        on_delete=models.PROTECT,
        related_name="handling_units",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("承办人员"), blank=True, related_name="handling_units"
    )
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("承办单位")
        verbose_name_plural = _("承办单位")
        ordering = ["region__path", "name"]
        constraints = [models.UniqueConstraint(fields=["region", "name"], name="handling_unit_unique_name")]

    def __str__(self) -> str:
        return self.name


class RoutingRule(models.Model):
    """The routing table: for a category filed anywhere under `region`, the unit that handles it. The most
    specific rule wins (the deepest region, then the category before its parent)."""

    category = models.ForeignKey(
        CaseCategory, verbose_name=_("类别"), on_delete=models.CASCADE, related_name="routing_rules"
    )
    region = models.ForeignKey(
        "governance.Region", verbose_name=_("适用区域"), on_delete=models.CASCADE, related_name="+"
    )
    unit = models.ForeignKey(
        HandlingUnit, verbose_name=_("承办单位"), on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        verbose_name = _("派单规则")
        verbose_name_plural = _("派单规则")
        constraints = [models.UniqueConstraint(fields=["category", "region"], name="routing_rule_unique")]

    def __str__(self) -> str:
        return f"{self.category} @ {self.region} → {self.unit}"


class ResponseTemplate(models.Model):
    """A reply text for a transition (e.g. the acknowledgement sent to the resident on filing). Placeholders:
    {number} {category} {deadline} {unit}. A category-specific template beats the general one."""

    transition = models.CharField(_("环节"), max_length=30)
    category = models.ForeignKey(
        CaseCategory,
        verbose_name=_("类别"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    text = models.TextField(_("模板内容"), max_length=500)
    # Sent to the resident (an SMS in the outbox) rather than only offered to the handler.
    is_sent_to_resident = models.BooleanField(_("发送给群众"), default=False)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("答复模板")
        verbose_name_plural = _("答复模板")
        ordering = ["transition", "category"]

    def __str__(self) -> str:
        return f"{self.transition}: {self.text[:20]}"

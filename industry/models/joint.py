"""Joint building (联建): village–enterprise (村企联建) and village–village (村村联建) communities, their
members, the brand they build, their joint Party committee and their yearly results."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class JointKind(models.TextChoices):
    VILLAGE_ENTERPRISE = "village_enterprise", _("村企联建")
    VILLAGE_VILLAGE = "village_village", _("村村联建")


class JointCommunity(models.Model):
    kind = models.CharField(_("联建类型"), max_length=20, choices=JointKind.choices)
    name = models.CharField(_("名称"), max_length=80, unique=True)
    brand = models.CharField(_("共建品牌"), max_length=80, blank=True)
    # The lead village: its township's admins run the community; scope follows its path.
    lead_region = models.ForeignKey(
        "governance.Region",
        verbose_name=_("牵头村"),
        on_delete=models.PROTECT,
        related_name="led_joint_communities",
    )
    party_organisation = models.ForeignKey(
        "governance.PartyOrganisation",
        verbose_name=_("联合党组织"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="joint_communities",
    )
    established_on = models.DateField(_("成立日期"), null=True, blank=True)
    description = models.TextField(_("简介"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("联建共同体")
        verbose_name_plural = _("联建共同体")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class JointMember(models.Model):
    """A village or a business in a joint community (exactly one of the two)."""

    community = models.ForeignKey(
        JointCommunity, verbose_name=_("联建共同体"), on_delete=models.CASCADE, related_name="members"
    )
    region = models.ForeignKey(
        "governance.Region",
        verbose_name=_("成员村"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    business = models.ForeignKey(
        "industry.Business",
        verbose_name=_("成员企业"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    joined_on = models.DateField(_("加入日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("联建成员")
        verbose_name_plural = _("联建成员")
        ordering = ["community", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(region__isnull=False) & Q(business__isnull=True))
                | (Q(region__isnull=True) & Q(business__isnull=False)),
                name="industry_joint_member_one_kind",
            ),
            models.UniqueConstraint(
                fields=["community", "region"],
                condition=Q(region__isnull=False),
                name="industry_joint_member_region",
            ),
            models.UniqueConstraint(
                fields=["community", "business"],
                condition=Q(business__isnull=False),
                name="industry_joint_member_business",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.community_id} · {self.region_id or self.business_id}"


class JointResult(models.Model):
    """A joint community's results for a year besides tourism (visits and tourism income come from its
    monthly TourismRecord rows): jobs created, joint income, households benefiting."""

    community = models.ForeignKey(
        JointCommunity, verbose_name=_("联建共同体"), on_delete=models.CASCADE, related_name="results"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    jobs = models.PositiveIntegerField(_("带动就业（人）"), default=0)
    income_fen = models.BigIntegerField(_("联建收益（分）"), default=0)
    households_benefited = models.PositiveIntegerField(_("受益农户（户）"), default=0)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("联建年度成效")
        verbose_name_plural = _("联建年度成效")
        ordering = ["community", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["community", "year"], name="industry_joint_result_unique"),
            models.CheckConstraint(condition=Q(income_fen__gte=0), name="industry_joint_result_nonneg"),
        ]

    def __str__(self) -> str:
        return f"{self.community_id} {self.year}"

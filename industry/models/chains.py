"""Industry chains (产业链), their links, the businesses that take part, households' own projects and the
work that gives working-age residents a job.

A business (经营主体: enterprise, cooperative, family farm, village collective, household) is one row
wherever it appears — on a chain, as an exhibitor at an expo, as the member of a joint community — so the
county counts it once. It sits in a village (its region), which is what scopes it.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class IndustryChain(models.Model):
    """An agricultural industry chain (茶叶, 食用菌, 油茶, 畜牧水产 …) and the Party branch built on it."""

    name = models.CharField(_("名称"), max_length=40, unique=True)
    description = models.TextField(_("简介"), blank=True)
    # The township the chain is based in (its lead), for the overview; participants may be anywhere.
    base_region = models.ForeignKey(
        "governance.Region",
        verbose_name=_("主要所在乡镇"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    party_branch = models.ForeignKey(
        "governance.PartyOrganisation",
        verbose_name=_("产业链党支部"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="industry_chains",
    )
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("产业链")
        verbose_name_plural = _("产业链")
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.name


class LinkKind(models.TextChoices):
    PRODUCTION = "production", _("种养殖")
    PROCESSING = "processing", _("加工")
    LOGISTICS = "logistics", _("仓储物流")
    SALES = "sales", _("销售")
    TOURISM = "tourism", _("文旅")
    SERVICE = "service", _("社会化服务")


class ChainLink(models.Model):
    """A link of a chain (planting, processing, sales, tourism …), in the order the product moves."""

    chain = models.ForeignKey(
        IndustryChain, verbose_name=_("产业链"), on_delete=models.CASCADE, related_name="links"
    )
    kind = models.CharField(_("环节类型"), max_length=12, choices=LinkKind.choices)
    name = models.CharField(_("环节名称"), max_length=40)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("产业链环节")
        verbose_name_plural = _("产业链环节")
        ordering = ["chain", "sort_order", "id"]
        constraints = [models.UniqueConstraint(fields=["chain", "name"], name="industry_link_unique_name")]

    def __str__(self) -> str:
        return f"{self.chain} · {self.name}"


class BusinessKind(models.TextChoices):
    ENTERPRISE = "enterprise", _("企业")
    COOPERATIVE = "cooperative", _("农民专业合作社")
    FAMILY_FARM = "family_farm", _("家庭农场")
    VILLAGE_COLLECTIVE = "village_collective", _("村集体经济组织")
    HOUSEHOLD = "household", _("农户")


class Business(models.Model):
    """A business taking part in the county's industry (经营主体). A household-kind business names its
    household; the others may carry their unified social credit code (统一社会信用代码)."""

    kind = models.CharField(_("主体类型"), max_length=20, choices=BusinessKind.choices)
    name = models.CharField(_("名称"), max_length=100)
    region = models.ForeignKey(
        "governance.Region",
        verbose_name=_("所在村（社区）"),
        on_delete=models.PROTECT,
        related_name="businesses",
    )
    household = models.ForeignKey(
        "governance.Household",
        verbose_name=_("农户"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="businesses",
    )
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    legal_representative = models.CharField(_("负责人"), max_length=50, blank=True)
    description = models.TextField(_("简介"), blank=True)
    is_active = models.BooleanField(_("在营"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("经营主体")
        verbose_name_plural = _("经营主体")
        ordering = ["region__path", "kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["region", "kind", "name"], name="industry_business_unique_name"),
            models.UniqueConstraint(
                fields=["credit_code"],
                condition=~Q(credit_code=""),
                name="industry_business_unique_credit_code",
            ),
            models.CheckConstraint(
                condition=(Q(kind="household") & Q(household__isnull=False))
                | (~Q(kind="household") & Q(household__isnull=True)),
                name="industry_business_household_iff_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ChainParticipation(models.Model):
    """A business on a chain, at a link, with its scale: area (亩), yearly output value, jobs, households
    it brings along (带动农户)."""

    chain = models.ForeignKey(
        IndustryChain, verbose_name=_("产业链"), on_delete=models.PROTECT, related_name="participations"
    )
    link = models.ForeignKey(
        ChainLink, verbose_name=_("环节"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    business = models.ForeignKey(
        Business, verbose_name=_("经营主体"), on_delete=models.PROTECT, related_name="participations"
    )
    area_mu = models.DecimalField(_("面积（亩）"), max_digits=12, decimal_places=2, default=0)
    output_value_fen = models.BigIntegerField(_("年产值（分）"), default=0)
    jobs = models.PositiveIntegerField(_("带动就业（人）"), default=0)
    households_driven = models.PositiveIntegerField(_("带动农户（户）"), default=0)
    joined_on = models.DateField(_("加入日期"), null=True, blank=True)
    left_on = models.DateField(_("退出日期"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("产业链参与主体")
        verbose_name_plural = _("产业链参与主体")
        ordering = ["chain", "business__region__path", "business__name"]
        constraints = [
            models.UniqueConstraint(fields=["chain", "business"], name="industry_participation_unique"),
            models.CheckConstraint(
                condition=Q(area_mu__gte=0) & Q(output_value_fen__gte=0),
                name="industry_participation_scale_nonneg",
            ),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True)
                | Q(joined_on__isnull=True)
                | Q(left_on__gte=models.F("joined_on")),
                name="industry_participation_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.chain} · {self.business}"


class ProjectKind(models.TextChoices):
    PLANTING = "planting", _("种植")
    BREEDING = "breeding", _("养殖")
    PROCESSING = "processing", _("加工")
    ECOMMERCE = "ecommerce", _("电商")
    TOURISM = "tourism", _("农家乐民宿")
    SERVICE = "service", _("服务")
    HANDICRAFT = "handicraft", _("手工")


class HouseholdProject(models.Model):
    """A household's own project (户户有项目): what it grows, raises, makes or runs."""

    household = models.ForeignKey(
        "governance.Household", verbose_name=_("农户"), on_delete=models.CASCADE, related_name="projects"
    )
    kind = models.CharField(_("项目类型"), max_length=12, choices=ProjectKind.choices)
    title = models.CharField(_("项目名称"), max_length=60)
    chain = models.ForeignKey(
        IndustryChain,
        verbose_name=_("所属产业链"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="household_projects",
    )
    scale = models.CharField(_("规模"), max_length=60, blank=True)
    started_on = models.DateField(_("开始日期"))
    ended_on = models.DateField(_("结束日期"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("户项目")
        verbose_name_plural = _("户项目")
        ordering = ["household", "started_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="industry_project_period",
            )
        ]
        indexes = [models.Index(fields=["household", "ended_on"], name="industry_project_hh_idx")]

    def __str__(self) -> str:
        return self.title


class EmploymentKind(models.TextChoices):
    LOCAL_BUSINESS = "local_business", _("本地企业/合作社务工")
    WORKSHOP = "workshop", _("爱心作坊就业")
    OWN_PROJECT = "own_project", _("自主经营")
    PUBLIC_POST = "public_post", _("公益性岗位")
    MIGRANT = "migrant", _("外出务工")
    FLEXIBLE = "flexible", _("灵活就业")


class Employment(models.Model):
    """A resident's work over a period (人人有事干). A resident whose status is 外出务工 counts as working
    too (the coverage rule in industry.selectors.coverage says so)."""

    resident = models.ForeignKey(
        "governance.Resident", verbose_name=_("居民"), on_delete=models.CASCADE, related_name="employments"
    )
    kind = models.CharField(_("就业方式"), max_length=16, choices=EmploymentKind.choices)
    business = models.ForeignKey(
        Business,
        verbose_name=_("用工主体"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    started_on = models.DateField(_("开始日期"))
    ended_on = models.DateField(_("结束日期"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("就业记录")
        verbose_name_plural = _("就业记录")
        ordering = ["resident", "started_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="industry_employment_period",
            )
        ]
        indexes = [models.Index(fields=["resident", "ended_on"], name="industry_employment_res_idx")]

    def __str__(self) -> str:
        return f"{self.resident_id} · {self.get_kind_display()}"

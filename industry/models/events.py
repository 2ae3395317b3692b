"""Expos and festivals (农旅展览会 / 节会), their exhibitors, the product catalogue, sales records and
monthly tourism figures.

Sales records are a ledger: posted rows never change (a PostgreSQL trigger refuses UPDATE and DELETE);
a correction is a new record that reverses the wrong one (negative amount and quantity, naming it), and
the right figures are a new record after it. Amounts are integer fen.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase


class EventKind(models.TextChoices):
    EXPO = "expo", _("农旅展览会")
    FESTIVAL = "festival", _("节会")


class Event(models.Model):
    """An expo or festival held in a town (its region: a township, or the county for county-wide ones)."""

    kind = models.CharField(_("类型"), max_length=10, choices=EventKind.choices)
    name = models.CharField(_("名称"), max_length=80)
    series = models.CharField(_("系列"), max_length=60, blank=True)  # e.g. 五谷情深·味在谷城
    region = models.ForeignKey(
        "governance.Region",
        verbose_name=_("举办乡镇"),
        on_delete=models.PROTECT,
        related_name="industry_events",
    )
    town_product = models.CharField(_("一镇一品"), max_length=40, blank=True)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    venue = models.CharField(_("举办地点"), max_length=100, blank=True)
    organiser = models.CharField(_("主办单位"), max_length=100, blank=True)
    description = models.TextField(_("简介"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("展会节会")
        verbose_name_plural = _("展会节会")
        ordering = ["-starts_on", "name"]
        permissions = [("manage_event", _("管理此展会"))]
        constraints = [
            models.UniqueConstraint(fields=["name", "starts_on"], name="industry_event_unique"),
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="industry_event_period"
            ),
        ]
        indexes = [models.Index(fields=["starts_on"], name="industry_event_start_idx")]

    def __str__(self) -> str:
        return self.name


class EventUserObjectPermission(UserObjectPermissionBase):
    """An event's organiser (e.g. a company running the festival) without a region role."""

    content_object = models.ForeignKey(Event, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        abstract = False


class EventGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Event, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        abstract = False


class ProductCategory(models.TextChoices):
    TEA = "tea", _("茶叶")
    FUNGI = "fungi", _("食用菌")
    OIL_TEA = "oil_tea", _("油茶")
    LIVESTOCK_AQUATIC = "livestock_aquatic", _("畜禽水产")
    FRUIT = "fruit", _("水果")
    GRAIN_OIL = "grain_oil", _("粮油")
    VEGETABLE = "vegetable", _("蔬菜")
    HERBAL = "herbal", _("中药材")
    PROCESSED = "processed", _("加工食品")
    HONEY = "honey", _("蜂蜜")
    HANDICRAFT = "handicraft", _("手工艺品")
    OTHER = "other", _("其他")


class Product(models.Model):
    """A product in the county's catalogue: `code` is what sales sheets name it by."""

    code = models.CharField(_("产品编码"), max_length=20, unique=True)
    name = models.CharField(_("产品名称"), max_length=60)
    category = models.CharField(_("品类"), max_length=20, choices=ProductCategory.choices)
    origin_region = models.ForeignKey(
        "governance.Region",
        verbose_name=_("产地村"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    chain = models.ForeignKey(
        "industry.IndustryChain",
        verbose_name=_("所属产业链"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="products",
    )
    producer = models.ForeignKey(
        "industry.Business",
        verbose_name=_("生产主体"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="products",
    )
    unit = models.CharField(_("计量单位"), max_length=10, default="件")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("农产品")
        verbose_name_plural = _("农产品")
        ordering = ["category", "name"]
        indexes = [models.Index(fields=["category"], name="industry_product_cat_idx")]

    def __str__(self) -> str:
        return self.name


class Exhibitor(models.Model):
    """A business exhibiting at an event, with its booth."""

    event = models.ForeignKey(
        Event, verbose_name=_("展会节会"), on_delete=models.CASCADE, related_name="exhibitors"
    )
    business = models.ForeignKey(
        "industry.Business", verbose_name=_("参展主体"), on_delete=models.PROTECT, related_name="exhibits"
    )
    booth = models.CharField(_("展位"), max_length=20, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("参展主体")
        verbose_name_plural = _("参展主体")
        ordering = ["event", "booth", "id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "business"], name="industry_exhibitor_unique")
        ]

    def __str__(self) -> str:
        return f"{self.event_id} · {self.business_id}"


class SalesChannel(models.TextChoices):
    OFFLINE = "offline", _("线下")
    ONLINE = "online", _("线上")


class SalesSource(models.TextChoices):
    PAGE = "page", _("页面录入")
    API = "api", _("接口")
    IMPORT = "import", _("Excel 导入")


class SalesRecord(models.Model):
    """One posted sale: an exhibitor's product sold at an event on a day through a channel.

    Append-only. A reversal names the record it reverses (`reverses`, at most one reversal each) and
    carries exactly its negated quantity and amount; an original's amount is positive.
    """

    event = models.ForeignKey(
        Event, verbose_name=_("展会节会"), on_delete=models.PROTECT, related_name="sales"
    )
    exhibitor = models.ForeignKey(
        Exhibitor, verbose_name=_("参展主体"), on_delete=models.PROTECT, related_name="sales"
    )
    product = models.ForeignKey(
        Product, verbose_name=_("产品"), on_delete=models.PROTECT, related_name="sales"
    )
    channel = models.CharField(_("渠道"), max_length=10, choices=SalesChannel.choices)
    platform = models.CharField(_("线上平台"), max_length=30, blank=True)
    sold_on = models.DateField(_("销售日期"))
    quantity = models.DecimalField(_("数量"), max_digits=14, decimal_places=2)
    amount_fen = models.BigIntegerField(_("销售额（分）"))
    reverses = models.OneToOneField(
        "self",
        verbose_name=_("冲正的记录"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
    )
    reason = models.CharField(_("更正原因"), max_length=200, blank=True)
    source = models.CharField(_("来源"), max_length=10, choices=SalesSource.choices, default=SalesSource.PAGE)
    import_job = models.ForeignKey(
        "industry.SalesImportJob",
        verbose_name=_("导入批次"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="records",
    )
    idempotency_key = models.CharField(_("防重复提交标识"), max_length=64, null=True, blank=True, unique=True)
    recorded_by = models.ForeignKey(
        "governance.User",
        verbose_name=_("录入人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("销售记录")
        verbose_name_plural = _("销售记录")
        ordering = ["-sold_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(reverses__isnull=True) & Q(amount_fen__gt=0) & Q(quantity__gte=0))
                | (Q(reverses__isnull=False) & Q(amount_fen__lt=0) & Q(quantity__lte=0) & ~Q(reason="")),
                name="industry_sale_sign",
            ),
            models.CheckConstraint(
                condition=Q(channel="offline", platform="") | (Q(channel="online") & ~Q(platform="")),
                name="industry_sale_platform_iff_online",
            ),
        ]
        indexes = [
            models.Index(fields=["event", "sold_on"], name="industry_sale_event_day_idx"),
            models.Index(fields=["product"], name="industry_sale_product_idx"),
            models.Index(fields=["exhibitor"], name="industry_sale_exhibitor_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} {self.sold_on} {self.amount_fen}"


class TourismRecord(models.Model):
    """Visitor trips and tourism income for one month, for a village/town or for a joint community's
    brand (exactly one of the two). `month` is the month's first day."""

    month = models.DateField(_("月份"))
    region = models.ForeignKey(
        "governance.Region",
        verbose_name=_("村镇"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    community = models.ForeignKey(
        "industry.JointCommunity",
        verbose_name=_("联建品牌"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tourism_records",
    )
    visits = models.PositiveIntegerField(_("游客接待量（人次）"))
    income_fen = models.BigIntegerField(_("旅游综合收入（分）"))
    note = models.CharField(_("说明"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        "governance.User",
        verbose_name=_("填报人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("旅游统计")
        verbose_name_plural = _("旅游统计")
        ordering = ["-month"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(region__isnull=False) & Q(community__isnull=True))
                | (Q(region__isnull=True) & Q(community__isnull=False)),
                name="industry_tourism_one_subject",
            ),
            models.CheckConstraint(condition=Q(income_fen__gte=0), name="industry_tourism_income_nonneg"),
            models.CheckConstraint(condition=Q(month__day=1), name="industry_tourism_month_first_day"),
            models.UniqueConstraint(
                fields=["region", "month"],
                condition=Q(region__isnull=False),
                name="industry_tourism_region_month",
            ),
            models.UniqueConstraint(
                fields=["community", "month"],
                condition=Q(community__isnull=False),
                name="industry_tourism_community_month",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}"

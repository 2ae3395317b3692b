"""Featured towns (特色乡镇), featured villages and village development types, as designations on regions."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class DesignationKind(models.TextChoices):
    FEATURED_TOWN = "featured_town", _("特色乡镇")
    FEATURED_VILLAGE = "featured_village", _("特色村")
    DEVELOPMENT_TYPE = "development_type", _("村庄发展类型")


class DevelopmentType(models.TextChoices):
    RED_BEAUTIFUL = "red_beautiful", _("红色美丽村")
    GREEN_DEVELOPMENT = "green_development", _("绿色发展村")
    CIVILISED = "civilised", _("乡风文明村")
    WELL_GOVERNED = "well_governed", _("和谐善治村")
    LIVEABLE = "liveable", _("生态宜居村")


class RegionDesignation(models.Model):
    """A tag on a region: a featured town's theme (茶旅小镇, 蜜旅小镇, 电商小镇, 鲟游小镇 …), a featured
    village's theme, or a village's development type (one of DevelopmentType). A township may hold more
    than one theme; the county's "12 featured towns" counts designations."""

    region = models.ForeignKey(
        "governance.Region", verbose_name=_("区域"), on_delete=models.CASCADE, related_name="designations"
    )
    kind = models.CharField(_("类别"), max_length=20, choices=DesignationKind.choices)
    # For a development type: a DevelopmentType value; otherwise the theme's name.
    theme = models.CharField(_("名称/主题"), max_length=40)
    designated_year = models.PositiveSmallIntegerField(_("命名年度"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("区域命名")
        verbose_name_plural = _("区域命名")
        ordering = ["kind", "region__path", "theme"]
        constraints = [
            models.UniqueConstraint(fields=["region", "kind", "theme"], name="industry_designation_unique"),
            models.CheckConstraint(
                condition=~Q(kind="development_type") | Q(theme__in=DevelopmentType.values),
                name="industry_designation_type_valid",
            ),
        ]
        indexes = [models.Index(fields=["kind", "theme"], name="industry_designation_kind_idx")]

    def __str__(self) -> str:
        return f"{self.region_id} · {self.theme}"

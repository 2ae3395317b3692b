"""Livelihood sites (民生阵地): love canteens, love classrooms, love workshops and red service stations.

One registry for the four kinds, so the region browser, the rollups and the county's 16 / 18 / 40 / 28
count them the same way; what differs per kind lives in the kind's own models (canteens.models.meals,
canteens.models.community). A site's manager gets the object permission `manage_site` (guardian, direct
foreign-key rows: design.md §3); township admins and county admins reach every site in their subtree.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase


class SiteKind(models.TextChoices):
    CANTEEN = "canteen", _("爱心食堂")
    CLASSROOM = "classroom", _("爱心讲堂")
    WORKSHOP = "workshop", _("爱心作坊")
    RED_STATION = "red_station", _("红色驿站")


class Site(models.Model):
    kind = models.CharField(_("类型"), max_length=12, choices=SiteKind.choices)
    name = models.CharField(_("名称"), max_length=60)
    # The village or community the site serves (its subtree's people are its beneficiaries).
    region = models.ForeignKey(
        "governance.Region", verbose_name=_("所在村（社区）"), on_delete=models.PROTECT, related_name="sites"
    )
    address = models.CharField(_("地址"), max_length=200, blank=True)
    operator = models.CharField(_("运营主体"), max_length=100, blank=True)
    # Seats (canteen), places (classroom), work places (workshop); empty where it does not apply.
    capacity = models.PositiveIntegerField(_("容量"), null=True, blank=True)
    # A classroom held in a canteen after meals (爱心讲堂 in the 爱心食堂).
    host = models.ForeignKey(
        "self",
        verbose_name=_("所在食堂"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="hosted",
    )
    phone_masked = models.CharField(_("联系电话"), max_length=13, blank=True)
    description = models.TextField(_("简介"), blank=True)
    opened_on = models.DateField(_("启用日期"), null=True, blank=True)
    is_active = models.BooleanField(_("运行中"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("民生阵地")
        verbose_name_plural = _("民生阵地")
        ordering = ["kind", "region__path", "name"]
        permissions = [("manage_site", _("管理此阵地"))]
        constraints = [
            models.UniqueConstraint(fields=["region", "kind", "name"], name="canteens_site_unique_name"),
            models.CheckConstraint(
                condition=models.Q(host__isnull=True) | models.Q(kind="classroom"),
                name="canteens_site_only_classroom_hosted",
            ),
        ]
        indexes = [models.Index(fields=["kind", "is_active"], name="canteens_site_kind_idx")]

    def __str__(self) -> str:
        return self.name


class SiteUserObjectPermission(UserObjectPermissionBase):
    """A site's manager (e.g. the canteen manager) without a region role over the whole village."""

    content_object = models.ForeignKey(Site, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        abstract = False


class SiteGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Site, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        abstract = False


class SitePhoto(models.Model):
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(_("照片"), upload_to="sites/%Y/%m/")
    caption = models.CharField(_("说明"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("阵地照片")
        verbose_name_plural = _("阵地照片")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.caption or f"{self.site} #{self.pk}"

"""The spine: users, the region tree and role assignments.

Issue 3 grows this app (Party organisations, households, residents, audit); the region tree's shape
is fixed here because every later record points at it.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from governance.roles import Role


class User(AbstractUser):
    """A person who signs in. Their reach comes from role assignments, never from is_staff."""

    full_name = models.CharField(_("姓名"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.full_name or self.username


class RegionLevel(models.TextChoices):
    COUNTY = "county", _("县")
    TOWNSHIP = "township", _("乡镇")
    VILLAGE = "village", _("村（社区）")
    GRID = "grid", _("网格")


LEVEL_DEPTH = {RegionLevel.COUNTY: 0, RegionLevel.TOWNSHIP: 1, RegionLevel.VILLAGE: 2, RegionLevel.GRID: 3}


class RegionKind(models.TextChoices):
    COUNTY = "county", _("县")
    TOWN = "town", _("镇")
    XIANG = "xiang", _("乡")
    SUBDISTRICT = "subdistrict", _("街道")
    VILLAGE = "village", _("村")
    COMMUNITY = "community", _("社区")
    GRID = "grid", _("网格")


class Region(models.Model):
    """A node of county → township → village/community → grid.

    `path` is the materialized path of ancestor ids ("12/340/5678/"), so "everything under X" is one
    prefix filter served by the varchar_pattern_ops index. The statistical code is an attribute, not a
    key: codes are re-issued.
    """

    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    level = models.CharField(_("层级"), max_length=10, choices=RegionLevel.choices)
    kind = models.CharField(_("类型"), max_length=12, choices=RegionKind.choices)
    name = models.CharField(_("名称"), max_length=60)
    code = models.CharField(_("统计用区划代码"), max_length=15, blank=True, db_index=True)
    path = models.CharField(_("路径"), max_length=255, editable=False)
    valid_from = models.DateField(_("设立日期"), null=True, blank=True)
    valid_to = models.DateField(_("撤销日期"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("行政区域")
        verbose_name_plural = _("行政区域")
        ordering = ["path"]
        indexes = [
            models.Index(fields=["path"], name="region_path_prefix_idx", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["level", "name"], name="region_level_name_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="region_unique_name_under_parent"),
            models.UniqueConstraint(fields=["path"], name="region_unique_path"),
            models.CheckConstraint(
                condition=models.Q(level__in=RegionLevel.values), name="region_level_valid"
            ),
            models.CheckConstraint(
                condition=(models.Q(level=RegionLevel.COUNTY, parent__isnull=True))
                | (~models.Q(level=RegionLevel.COUNTY) & models.Q(parent__isnull=False)),
                name="region_only_county_is_root",
            ),
            models.CheckConstraint(condition=models.Q(path__endswith="/"), name="region_path_set"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def depth(self) -> int:
        return LEVEL_DEPTH[RegionLevel(self.level)]


class RegionCode(models.Model):
    """A statistical division code a region held over a period: codes are re-issued, so they have dates."""

    region = models.ForeignKey(Region, verbose_name=_("区域"), on_delete=models.CASCADE, related_name="codes")
    code = models.CharField(_("统计用区划代码"), max_length=15)
    valid_from = models.DateField(_("启用日期"))
    valid_to = models.DateField(_("停用日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("区划代码")
        verbose_name_plural = _("区划代码")
        ordering = ["region", "valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["region", "valid_from"], name="region_code_unique_start"),
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True) | models.Q(valid_to__gt=models.F("valid_from")),
                name="region_code_valid_period",
            ),
        ]
        indexes = [models.Index(fields=["code"], name="region_code_code_idx")]

    def __str__(self) -> str:
        return f"{self.code} ({self.valid_from}–{self.valid_to or ''})"


class RegionMove(models.Model):
    """History of a grid re-zoned to another village: where it was, where it went, when and by whom."""

    region = models.ForeignKey(Region, verbose_name=_("区域"), on_delete=models.CASCADE, related_name="moves")
    from_parent = models.ForeignKey(
        Region, verbose_name=_("原上级"), on_delete=models.PROTECT, related_name="+"
    )
    to_parent = models.ForeignKey(
        Region, verbose_name=_("新上级"), on_delete=models.PROTECT, related_name="+"
    )
    old_path = models.CharField(_("原路径"), max_length=255)
    new_path = models.CharField(_("新路径"), max_length=255)
    moved_at = models.DateTimeField(_("调整时间"), auto_now_add=True)
    moved_by = models.ForeignKey(
        User, verbose_name=_("操作人"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(_("调整原因"), max_length=200)

    class Meta:
        verbose_name = _("区划调整记录")
        verbose_name_plural = _("区划调整记录")
        ordering = ["-moved_at"]

    def __str__(self) -> str:
        return f"{self.region}: {self.from_parent} → {self.to_parent}"


class RoleAssignment(models.Model):
    """A user holds `role` at `region` and so over the region's whole subtree."""

    user = models.ForeignKey(
        User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="role_assignments"
    )
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    region = models.ForeignKey(
        Region, verbose_name=_("管辖区域"), on_delete=models.PROTECT, related_name="role_assignments"
    )
    granted_by = models.ForeignKey(
        User, verbose_name=_("授权人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("角色分配")
        verbose_name_plural = _("角色分配")
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "region"], name="role_assignment_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="role_assignment_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.region}"

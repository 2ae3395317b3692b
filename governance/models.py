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


class RoleAssignment(models.Model):
    """A user holds `role` at `region` and so over the region's whole subtree."""

    user = models.ForeignKey(
        User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="role_assignments"
    )
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    region = models.ForeignKey(
        Region, verbose_name=_("管辖区域"), on_delete=models.PROTECT, related_name="role_assignments"
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

"""The roles of design.md §3. A role held at a region reaches that region's whole subtree."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    COUNTY_ADMIN = "county_admin", _("县委组织部管理员")
    TOWNSHIP_ADMIN = "township_admin", _("乡镇管理员")
    VILLAGE_SECRETARY = "village_secretary", _("村党组织书记")
    GRID_LEADER = "grid_leader", _("百户网格长")
    CANTEEN_MANAGER = "canteen_manager", _("爱心食堂管理员")
    MEDIATOR = "mediator", _("乡贤说事评理团调解员")
    VIEWER = "viewer", _("只读查看")

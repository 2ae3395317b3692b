"""Writes of the region tree: one function per domain action, keyword-only, atomic."""

from __future__ import annotations

import uuid

from django.db import transaction
from django.utils.translation import gettext as _

from common.errors import DomainError
from governance.models import LEVEL_DEPTH, Region, RegionKind, RegionLevel

_CHILD_LEVEL = {
    RegionLevel.COUNTY: RegionLevel.TOWNSHIP,
    RegionLevel.TOWNSHIP: RegionLevel.VILLAGE,
    RegionLevel.VILLAGE: RegionLevel.GRID,
}


@transaction.atomic
def region_create(*, parent: Region | None, name: str, kind: RegionKind, code: str = "") -> Region:
    """Create a region under `parent` (None for the county root) and set its materialized path.

    The level follows from the parent; a grid has no children.
    """
    name = name.strip()
    if not name:
        raise DomainError("region_name_required", _("请填写区域名称。"), field="name")
    if parent is None:
        level = RegionLevel.COUNTY
    else:
        child_level = _CHILD_LEVEL.get(RegionLevel(parent.level))
        if child_level is None:
            raise DomainError("region_grid_has_no_children", _("网格下不能再设下级区域。"), field="parent")
        level = child_level
    if parent is not None and Region.objects.filter(parent=parent, name=name).exists():
        raise DomainError(
            "region_name_taken",
            _("“%(parent)s”下已有名为“%(name)s”的区域。") % {"parent": parent.name, "name": name},
            field="name",
        )
    # The path needs the row's own id: insert with a unique placeholder, then set it in the same transaction.
    region = Region.objects.create(
        parent=parent, level=level, kind=kind, name=name, code=code, path=f"pending-{uuid.uuid4().hex}/"
    )
    region.path = f"{parent.path if parent else ''}{region.pk}/"
    Region.objects.filter(pk=region.pk).update(path=region.path)
    assert LEVEL_DEPTH[level] == region.path.count("/") - 1
    return region

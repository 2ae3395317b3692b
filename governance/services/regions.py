"""Writes of the region tree: one function per domain action, keyword-only, atomic."""

from __future__ import annotations

import datetime as dt
import re
import uuid

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from common.errors import Conflict, DomainError, NotFound
from governance import access
from governance.audit import audit_record, audit_replayed, changes_with_key, idempotency_key_clean
from governance.models import (
    LEVEL_DEPTH,
    AuditAction,
    Region,
    RegionCode,
    RegionKind,
    RegionLevel,
    RegionMove,
)
from governance.roles import Role

_CHILD_LEVEL = {
    RegionLevel.COUNTY: RegionLevel.TOWNSHIP,
    RegionLevel.TOWNSHIP: RegionLevel.VILLAGE,
    RegionLevel.VILLAGE: RegionLevel.GRID,
}
# Statistical division codes: 12 digits down to villages; a grid adds a 3-digit suffix (design.md §1).
_CODE_LENGTH = {
    RegionLevel.COUNTY: 12,
    RegionLevel.TOWNSHIP: 12,
    RegionLevel.VILLAGE: 12,
    RegionLevel.GRID: 15,
}
# The kinds a region of each level may be (镇/乡/街道 for a township, 村/社区 for a village).
LEVEL_KINDS: dict[RegionLevel, frozenset[RegionKind]] = {
    RegionLevel.COUNTY: frozenset({RegionKind.COUNTY}),
    RegionLevel.TOWNSHIP: frozenset({RegionKind.TOWN, RegionKind.XIANG, RegionKind.SUBDISTRICT}),
    RegionLevel.VILLAGE: frozenset({RegionKind.VILLAGE, RegionKind.COMMUNITY}),
    RegionLevel.GRID: frozenset({RegionKind.GRID}),
}
# How many leading digits of the parent's code a child's code repeats: the codes nest (design.md §1):
# 420625 000000 (county) → 420625 1xx 000 (township) → 4206251xx yyy (village) → + 3 digits (grid).
_CODE_NESTING = {RegionLevel.TOWNSHIP: 6, RegionLevel.VILLAGE: 9, RegionLevel.GRID: 12}
# Who may re-zone the tree or change its codes, within the subtree where they hold the role.
REGION_EDITORS: frozenset[Role] = access.REGION_EDITOR_ROLES

AnyUser = AbstractBaseUser | AnonymousUser


def region_child_level(parent: Region) -> RegionLevel | None:
    """The level of a region created under `parent`; None under a grid (it has no children)."""
    return _CHILD_LEVEL.get(RegionLevel(parent.level))


@transaction.atomic
def region_create(
    *,
    parent: Region | None,
    name: str,
    kind: RegionKind,
    code: str = "",
    valid_from: dt.date | None = None,
) -> Region:
    """Create a region under `parent` (None for the county root) and set its materialized path.

    The level follows from the parent; a grid has no children; the kind must fit the level. A code
    with a known start (`valid_from`) also opens the region's first RegionCode period; without one,
    region_code_change back-fills the period when the code is first replaced. Not gated and not
    audited: the seed and the tests build trees with it; people's pages call region_child_create.
    """
    name = name.strip()
    if not name:
        raise DomainError("region_name_required", _("请填写区域名称。"), field="name")
    if parent is None:
        level = RegionLevel.COUNTY
    else:
        child_level = region_child_level(parent)
        if child_level is None:
            raise DomainError("region_grid_has_no_children", _("网格下不能再设下级区域。"), field="parent")
        level = child_level
    if kind not in LEVEL_KINDS[level]:
        raise DomainError(
            "region_kind_mismatch",
            _("%(level)s的类型只能是：%(kinds)s。")
            % {
                "level": level.label,
                "kinds": "、".join(str(k.label) for k in RegionKind if k in LEVEL_KINDS[level]),
            },
            field="kind",
        )
    if parent is not None and Region.objects.filter(parent=parent, name=name).exists():
        raise DomainError(
            "region_name_taken",
            _("“%(parent)s”下已有名为“%(name)s”的区域。") % {"parent": parent.name, "name": name},
            field="name",
        )
    # The path needs the row's own id: insert with a unique placeholder, then set it in the same transaction.
    region = Region.objects.create(
        parent=parent,
        level=level,
        kind=kind,
        name=name,
        code=code,
        valid_from=valid_from,
        path=f"pending-{uuid.uuid4().hex}/",
    )
    region.path = f"{parent.path if parent else ''}{region.pk}/"
    Region.objects.filter(pk=region.pk).update(path=region.path)
    assert LEVEL_DEPTH[level] == region.path.count("/") - 1
    if code and valid_from is not None:
        RegionCode.objects.create(region=region, code=code, valid_from=valid_from)
    return region


def _require_editor(actor: AnyUser, region: Region) -> None:
    """Out of the actor's editing reach answers like a missing region: 404, nothing leaks."""
    if not access.can_edit_regions(actor, region.path):
        raise NotFound(_("未找到该区域，或者它不在您的管辖范围内。"))


def region_code_length(level: str) -> int:
    """Digits of a statistical code at `level`: 12, and 15 for a grid (the village's code + 3)."""
    return _CODE_LENGTH[RegionLevel(level)]


def _code_validate(region: Region, code: str) -> str:
    return _code_format(RegionLevel(region.level), code)


def _code_format(level: RegionLevel, code: str) -> str:
    code = (code or "").strip()
    length = _CODE_LENGTH[level]
    if not re.fullmatch(rf"\d{{{length}}}", code):
        raise DomainError(
            "region_code_format",
            _("%(level)s的统计用区划代码应为%(length)d位数字。") % {"level": level.label, "length": length},
            field="code",
        )
    return code


@transaction.atomic
def region_child_create(
    *,
    actor: AnyUser,
    parent: Region,
    name: str,
    kind: RegionKind,
    code: str = "",
    valid_from: dt.date | None = None,
    idempotency_key: str,
    request: HttpRequest | None = None,
) -> Region:
    """Add a region under `parent` (a township under the county, a village under a township, a grid
    under a village) for an actor who may edit the tree there, and return it.

    A statistical code is optional; given, it must have the level's length, repeat the parent's code
    where the codes nest, be unused, and come with the date it took effect (its first period). A
    replay with the same `idempotency_key` returns the region the first request created.
    """
    parent = Region.objects.select_for_update().get(pk=parent.pk)
    _require_editor(actor, parent)
    key = idempotency_key_clean(idempotency_key, required=True)
    # No advisory lock: the row lock above is taken first by a twin request too, so it waits for this
    # one to commit and then finds its entry.
    replay = audit_replayed(
        actor=actor,
        key=key,
        action=AuditAction.CREATE,
        object_type=Region._meta.label_lower,
        lock_namespace=None,
    )
    if replay is not None:
        return Region.objects.get(pk=int(replay.object_id))
    level = region_child_level(parent)
    if level is None:
        raise DomainError("region_grid_has_no_children", _("网格下不能再设下级区域。"), field="parent")
    code = (code or "").strip()
    if code:
        code = _code_format(level, code)
        nesting = _CODE_NESTING[level]
        if len(parent.code) >= nesting and not code.startswith(parent.code[:nesting]):
            raise DomainError(
                "region_code_not_nested",
                _("%(level)s的代码应以上级“%(parent)s”的代码前%(n)d位 %(prefix)s 开头。")
                % {
                    "level": level.label,
                    "parent": parent.name,
                    "n": nesting,
                    "prefix": parent.code[:nesting],
                },
                field="code",
            )
        if Region.objects.filter(code=code).exists():
            raise Conflict(
                "region_code_in_use",
                _("代码 %(code)s 正被其他区域使用，不能重复启用。") % {"code": code},
                field="code",
            )
        if valid_from is None:
            raise DomainError("region_code_date_required", _("请填写代码的启用日期。"), field="valid_from")
    region = region_create(
        parent=parent, name=name, kind=kind, code=code, valid_from=valid_from if code else None
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=region,
        region_path=region.path,
        changes={
            "parent": [None, parent.name],
            "name": [None, region.name],
            "kind": [None, region.kind],
            "code": [None, code],
            "idempotency_key": [None, key],
        },
        detail=_("在“%(parent)s”下新增%(level)s“%(name)s”")
        % {"parent": parent.name, "level": level.label, "name": region.name},
        request=request,
    )
    return region


@transaction.atomic
def region_code_change(
    *,
    actor: AnyUser,
    region: Region,
    code: str,
    valid_from: dt.date,
    idempotency_key: str = "",
    request: HttpRequest | None = None,
) -> RegionCode:
    """Give `region` a new statistical code from `valid_from` on and return the new RegionCode.

    The current period is closed on `valid_from` (periods are half-open: [valid_from, valid_to)), the
    new one opened, and Region.code kept equal to the open period's code. A region whose current code
    has no period yet (rows loaded in bulk) gets one back-filled so the history is complete. A replay
    with the same `idempotency_key` (the pages send one) returns the period the first request opened.
    """
    region = Region.objects.select_for_update().get(pk=region.pk)
    _require_editor(actor, region)
    key = idempotency_key_clean(idempotency_key, required=False)
    if key:
        # No advisory lock: the row lock above is taken first by a twin request too, so it waits for
        # this one to commit and then finds its entry.
        replay = audit_replayed(
            actor=actor,
            key=key,
            action=AuditAction.UPDATE,
            object_type=Region._meta.label_lower,
            lock_namespace=None,
        )
        if replay is not None:
            return RegionCode.objects.get(
                region_id=int(replay.object_id),
                valid_from=dt.date.fromisoformat(replay.changes["valid_from"][1]),
            )
    code = _code_validate(region, code)
    if code == region.code:
        raise DomainError("region_code_unchanged", _("新代码与现用代码相同。"), field="code")
    if Region.objects.filter(code=code).exclude(pk=region.pk).exists():
        raise Conflict(
            "region_code_in_use",
            _("代码 %(code)s 正被其他区域使用，不能重复启用。") % {"code": code},
            field="code",
        )
    current = RegionCode.objects.filter(region=region, valid_to__isnull=True).order_by("-valid_from").first()
    if current is None and region.code:
        # Back-fill the period of the code in use; it began no later than the day before the change.
        started = region.valid_from or timezone.localdate(region.created_at)
        current = RegionCode.objects.create(
            region=region,
            code=region.code,
            valid_from=min(started, valid_from - dt.timedelta(days=1)),
        )
    if current is not None:
        if valid_from <= current.valid_from:
            raise DomainError(
                "region_code_date_too_early",
                _("启用日期须晚于现用代码的启用日期（%(date)s）。")
                % {"date": current.valid_from.isoformat()},
                field="valid_from",
            )
        current.valid_to = valid_from
        current.save(update_fields=["valid_to"])
    new = RegionCode.objects.create(region=region, code=code, valid_from=valid_from)
    old_code = region.code
    region.code = code
    region.save(update_fields=["code"])
    changes: dict[str, list[str | None]] = {"code": [old_code, code]}
    if key:
        changes.update(valid_from=[None, valid_from.isoformat()], idempotency_key=[None, key])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=region,
        region_path=region.path,
        changes=changes,
        detail=_("区划代码自 %(date)s 起变更") % {"date": valid_from.isoformat()},
        request=request,
    )
    return new


@transaction.atomic
def region_grid_move(
    *,
    actor: AnyUser,
    grid: Region,
    to_village: Region,
    reason: str,
    idempotency_key: str = "",
    request: HttpRequest | None = None,
) -> RegionMove:
    """Re-zone `grid` under `to_village` and return the RegionMove that records it.

    The region's own path and every path below it are rewritten by one UPDATE on the old prefix, so
    the move stays correct for a node with children too. History is kept: RegionMove and the audit
    log say where it was. Rows that point at the grid (households, grid leaders) follow by their key.
    A replay with the same `idempotency_key` (the pages send one) returns the first request's move.
    """
    key = idempotency_key_clean(idempotency_key, required=False)
    # Lock both ends so two moves of the same grid, or into a village being moved, cannot interleave.
    locked = {r.pk: r for r in Region.objects.select_for_update().filter(pk__in=[grid.pk, to_village.pk])}
    grid, to_village = locked[grid.pk], locked[to_village.pk]
    _require_editor(actor, grid)
    _require_editor(actor, to_village)
    if key:
        # No advisory lock: the row lock above is taken first by a twin request too, so it waits for
        # this one to commit and then finds its entry.
        replay = audit_replayed(
            actor=actor,
            key=key,
            action=AuditAction.MOVE,
            object_type=Region._meta.label_lower,
            lock_namespace=None,
        )
        if replay is not None:
            old, new = replay.changes["path"]
            # The move row is written before its audit entry in the same transaction: the latest such
            # move up to the entry's time is this one, even if the grid later went back and forth.
            first = (
                RegionMove.objects.filter(
                    region_id=int(replay.object_id), old_path=old, new_path=new, moved_at__lte=replay.at
                )
                .order_by("-moved_at", "-pk")
                .first()
            )
            assert first is not None
            return first
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("region_move_reason_required", _("请填写调整原因。"), field="reason")
    if grid.level != RegionLevel.GRID:
        raise DomainError("region_move_not_a_grid", _("只能调整网格的归属。"), field="grid")
    if to_village.level != RegionLevel.VILLAGE:
        raise DomainError(
            "region_move_target_not_village",
            _("网格只能调整到村（社区）下，“%(name)s”不是村（社区）。") % {"name": to_village.name},
            field="to_village",
        )
    if grid.parent_id == to_village.pk:
        raise DomainError(
            "region_move_same_parent",
            _("“%(grid)s”已在“%(village)s”下。") % {"grid": grid.name, "village": to_village.name},
            field="to_village",
        )
    if Region.objects.filter(parent=to_village, name=grid.name).exists():
        raise DomainError(
            "region_name_taken",
            _("“%(parent)s”下已有名为“%(name)s”的区域。") % {"parent": to_village.name, "name": grid.name},
            field="to_village",
        )
    old_path = grid.path
    new_path = f"{to_village.path}{grid.pk}/"
    from_parent = grid.parent
    assert from_parent is not None
    Region.objects.filter(pk=grid.pk).update(parent=to_village)
    Region.objects.filter(path__startswith=old_path).update(
        path=Concat(Value(new_path), Substr(F("path"), len(old_path) + 1))
    )
    move = RegionMove.objects.create(
        region=grid,
        from_parent=from_parent,
        to_parent=to_village,
        old_path=old_path,
        new_path=new_path,
        moved_by_id=actor.pk if actor.is_authenticated else None,
        reason=reason[:200],
    )
    grid.refresh_from_db()
    audit_record(
        actor=actor,
        action=AuditAction.MOVE,
        obj=grid,
        region_path=new_path,
        changes=changes_with_key(
            {"parent": [from_parent.name, to_village.name], "path": [old_path, new_path]}, key
        ),
        detail=reason,
        request=request,
    )
    return move

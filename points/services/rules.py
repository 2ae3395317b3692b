"""The rules catalog (积分细则): the county's items, and a township's or village's own additions that apply
under it only. An item in use is deactivated, never deleted (its awards keep pointing at it)."""

from __future__ import annotations

import re

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils.translation import gettext as _

from common.errors import Conflict, DomainError, NotFound
from governance.audit import audit_record, diff_fields
from governance.models import AuditAction, Region, RegionLevel
from points.models import CapPeriod, Rule, RuleCategory

AnyUser = AbstractBaseUser | AnonymousUser

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,19}$")
POINTS_MIN, POINTS_MAX = -100, 100
CAP_MAX = 31
RULE_LEVELS = (RegionLevel.COUNTY, RegionLevel.TOWNSHIP, RegionLevel.VILLAGE)


def ancestor_paths(path: str) -> list[str]:
    """Every prefix path of a materialized path, itself included: "1/2/3/" → ["1/", "1/2/", "1/2/3/"]."""
    parts = [part for part in path.split("/") if part]
    return ["".join(f"{part}/" for part in parts[: i + 1]) for i in range(len(parts))]


def _fields_checked(
    *,
    name: str,
    category: str,
    points: int,
    cap_count: int | None,
    cap_period: str,
    description: str,
) -> dict[str, object]:
    name = (name or "").strip()
    if not name:
        raise DomainError("rule_name_required", _("请填写条目名称。"), field="name")
    if len(name) > 100:
        raise DomainError("rule_name_long", _("条目名称不能超过 100 字。"), field="name")
    if category not in RuleCategory.values:
        raise DomainError("rule_category", _("请选择类别。"), field="category")
    if not isinstance(points, int) or points == 0 or not POINTS_MIN <= points <= POINTS_MAX:
        raise DomainError(
            "rule_points",
            _("分值须为 %(min)s 到 %(max)s 之间的非零整数（负数为扣分项）。")
            % {"min": POINTS_MIN, "max": POINTS_MAX},
            field="points",
        )
    if cap_count is not None and not 1 <= cap_count <= CAP_MAX:
        raise DomainError(
            "rule_cap_count",
            _("次数上限须在 1 到 %(max)s 之间，或留空（每周期 1 次）。") % {"max": CAP_MAX},
            field="cap_count",
        )
    if cap_period not in CapPeriod.values:
        raise DomainError("rule_cap_period", _("请选择上限周期。"), field="cap_period")
    description = (description or "").strip()
    if len(description) > 1000:
        raise DomainError("rule_description_long", _("说明不能超过 1000 字。"), field="description")
    return {
        "name": name,
        "category": category,
        "points": points,
        "cap_count": cap_count,
        "cap_period": cap_period,
        "description": description,
    }


def _gate(actor: AnyUser, region: Region) -> None:
    from points import access

    if not access.can_manage_rules(actor, region):
        raise NotFound(_("未找到该区域，或者它不在您的管辖范围内。"))


def rule_create(
    *,
    actor: AnyUser,
    region: Region,
    code: str,
    name: str,
    category: str,
    points: int,
    is_evidence_required: bool = False,
    cap_count: int | None = 1,
    cap_period: str = CapPeriod.MONTH,
    description: str = "",
) -> Rule:
    """Add an item to the catalog at `region` (the county, or a township/village for its own additions);
    returns it. Refusals: a region the actor may not manage (NotFound), a grid (field "region"), a code
    already used at this region, above it or below it (field "code"), and the field checks."""
    _gate(actor, region)
    if region.level not in RULE_LEVELS:
        raise DomainError("rule_region_level", _("积分细则只能设在县、乡镇或村（社区）。"), field="region")
    code = (code or "").strip().upper()
    if not CODE_RE.match(code):
        raise DomainError(
            "rule_code_format", _("条目编号由字母、数字和连字符组成，最长 20 位。"), field="code"
        )
    values = _fields_checked(
        name=name,
        category=category,
        points=points,
        cap_count=cap_count,
        cap_period=cap_period,
        description=description,
    )
    with transaction.atomic():
        # Codes must be unambiguous wherever an item applies: not reused above or below this region.
        Region.objects.select_for_update().filter(pk=region.pk).first()
        clash = (
            Rule.objects.filter(code=code).filter(region__path__in=ancestor_paths(region.path)).exists()
            or Rule.objects.filter(code=code, region__path__startswith=region.path).exists()
        )
        if clash:
            raise DomainError(
                "rule_code_taken", _("条目编号 %(code)s 已被使用。") % {"code": code}, field="code"
            )
        rule = Rule.objects.create(
            region=region,
            code=code,
            is_evidence_required=bool(is_evidence_required),
            created_by_id=actor.pk,
            **values,
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=rule,
            region_path=region.path,
            changes={"points": [None, rule.points]},
            detail=_("新增积分细则：%(name)s") % {"name": rule.name},
        )
    return rule


def rule_update(
    *,
    actor: AnyUser,
    rule: Rule,
    name: str,
    category: str,
    points: int,
    is_evidence_required: bool,
    cap_count: int | None,
    cap_period: str,
    description: str = "",
) -> Rule:
    """Change an item (its code and region stay); returns it. Awards already proposed keep the points
    they were proposed with (copied onto the award)."""
    _gate(actor, rule.region)
    values = _fields_checked(
        name=name,
        category=category,
        points=points,
        cap_count=cap_count,
        cap_period=cap_period,
        description=description,
    )
    values["is_evidence_required"] = bool(is_evidence_required)
    with transaction.atomic():
        rule = Rule.objects.select_for_update().select_related("region").get(pk=rule.pk)
        before = {name: getattr(rule, name) for name in values}
        for name_, value in values.items():
            setattr(rule, name_, value)
        rule.save()
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=rule,
            region_path=rule.region.path,
            changes=diff_fields(before, values),
            detail=_("修改积分细则：%(name)s") % {"name": rule.name},
        )
    return rule


def rule_set_active(*, actor: AnyUser, rule: Rule, active: bool) -> Rule:
    """Deactivate (停用) or reactivate an item; returns it. A deactivated item cannot be proposed; its
    awards stay as they are."""
    _gate(actor, rule.region)
    with transaction.atomic():
        rule = Rule.objects.select_for_update().select_related("region").get(pk=rule.pk)
        before = rule.is_active
        if before != active:
            rule.is_active = active
            rule.save(update_fields=["is_active"])
            audit_record(
                actor=actor,
                action=AuditAction.UPDATE,
                obj=rule,
                region_path=rule.region.path,
                changes={"is_active": [before, active]},
                detail=_("启用积分细则") if active else _("停用积分细则"),
            )
    return rule


def rule_delete(*, actor: AnyUser, rule: Rule) -> None:
    """Delete an item that was never used. One with awards is refused (Conflict `rule_in_use`): it is
    deactivated instead, so history keeps its item."""
    _gate(actor, rule.region)
    with transaction.atomic():
        rule = Rule.objects.select_for_update().select_related("region").get(pk=rule.pk)
        if rule.awards.exists():
            raise Conflict("rule_in_use", _("该条目已有申报记录，不能删除，请改为停用。"))
        audit_record(
            actor=actor,
            action=AuditAction.DELETE,
            obj=rule,
            region_path=rule.region.path,
            detail=_("删除积分细则：%(name)s") % {"name": rule.name},
        )
        rule.delete()

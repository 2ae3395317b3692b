"""Writes of designations on regions: featured towns (特色乡镇, a theme such as 茶旅小镇), featured villages
(特色村) and village development types (one of DevelopmentType). The county's (industry.access.
can_manage_chains): it adds and removes them.

Where each kind sits: a featured town on a township; a featured village and a development type on a
village (村/社区). A development type is given by its value (red_beautiful) or its Chinese name (红色美丽村).
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from common.errors import DomainError, NotFound
from common.idempotency import body_fingerprint, idempotency_begin, idempotency_finish
from governance.audit import audit_record
from governance.models import AuditAction, Region, RegionLevel
from industry import access
from industry.models import DesignationKind, DevelopmentType, RegionDesignation
from industry.services.economy import FIRST_YEAR, AnyUser

SCOPE_ADD = "industry.designation_add"
LEVEL_OF_KIND = {
    DesignationKind.FEATURED_TOWN: RegionLevel.TOWNSHIP,
    DesignationKind.FEATURED_VILLAGE: RegionLevel.VILLAGE,
    DesignationKind.DEVELOPMENT_TYPE: RegionLevel.VILLAGE,
}


def _no_access() -> NotFound:
    return NotFound(_("未找到该页面，或者您没有权限。"))


def development_type_clean(theme: Any) -> str:
    """The DevelopmentType value for `theme` given as a value or as its Chinese name; DomainError
    `bad_development_type` (listing the five) otherwise."""
    text = str(theme or "").strip()
    if text in DevelopmentType.values:
        return text
    for value, label in DevelopmentType.choices:
        if text in (str(label), _(str(label))):
            return value
    raise DomainError(
        "bad_development_type",
        _("村庄发展类型只能是：%(types)s。")
        % {"types": "、".join(str(label) for label in DevelopmentType.labels)},
        field="theme",
    )


def designation_clean(
    *, kind: Any, region: Region | None, theme: Any, designated_year: Any, note: Any
) -> dict[str, Any]:
    """The fields of a designation, checked: DomainError next to the field otherwise."""
    if kind not in DesignationKind.values:
        raise DomainError("bad_kind", _("请选择命名类别。"), field="kind")
    if region is None:
        raise DomainError("region_required", _("请选择区域。"), field="region")
    if region.level != LEVEL_OF_KIND[DesignationKind(kind)]:
        message = (
            _("特色乡镇须命名在乡镇上。")
            if kind == DesignationKind.FEATURED_TOWN
            else _("特色村和村庄发展类型须命名在村（社区）上。")
        )
        raise DomainError("wrong_level", message, field="region")
    if kind == DesignationKind.DEVELOPMENT_TYPE:
        theme = development_type_clean(theme)
    else:
        theme = str(theme or "").strip()
        if not theme:
            raise DomainError("theme_required", _("请填写名称或主题，例如 茶旅小镇。"), field="theme")
        if len(theme) > 40:
            raise DomainError("theme_too_long", _("名称最多 40 个字。"), field="theme")
    year: int | None = None
    if designated_year not in (None, ""):
        try:
            year = int(str(designated_year).strip())
        except (TypeError, ValueError):
            raise DomainError(
                "bad_year", _("命名年度须是年份，例如 2022。"), field="designated_year"
            ) from None
        if not FIRST_YEAR <= year <= timezone.localdate().year:
            raise DomainError(
                "bad_year",
                _("命名年度须在 %(first)s 年到今年之间。") % {"first": FIRST_YEAR},
                field="designated_year",
            )
    note = str(note or "").strip()
    if len(note) > 200:
        raise DomainError("note_too_long", _("说明最多 200 个字。"), field="note")
    return {"kind": kind, "region": region, "theme": theme, "designated_year": year, "note": note}


def designation_add(
    *,
    actor: AnyUser,
    idempotency_key: str,
    region: Region | None,
    kind: str,
    theme: str,
    designated_year: Any = None,
    note: str = "",
) -> RegionDesignation:
    """Designate `region` (county admin). NotFound for anyone else; DomainError for a kind on the wrong
    level, a development type that is not one of the five, a missing theme, or one the region holds
    already. Exactly once per (actor, key)."""
    if not access.can_manage_chains(actor):
        raise _no_access()
    cleaned = designation_clean(
        kind=kind, region=region, theme=theme, designated_year=designated_year, note=note
    )
    body = {**cleaned, "region": cleaned["region"].pk}
    with transaction.atomic():
        replay = idempotency_begin(
            actor=actor, scope=SCOPE_ADD, key=idempotency_key, fingerprint=body_fingerprint(body)
        )
        if replay is not None:
            return RegionDesignation.objects.get(pk=replay.response["id"])
        try:
            with transaction.atomic():
                designation = RegionDesignation.objects.create(**cleaned)
        except IntegrityError:
            raise DomainError("already_designated", _("该区域已有这个命名。"), field="theme") from None
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=designation,
            object_repr=f"{cleaned['region'].name} · {designation_label(designation)}",
            region_path=cleaned["region"].path,
            changes={
                "kind": [None, kind],
                "theme": [None, cleaned["theme"]],
                "idempotency_key": [None, idempotency_key],
            },
        )
        idempotency_finish(
            actor=actor,
            scope=SCOPE_ADD,
            key=idempotency_key,
            status_code=201,
            response={"id": designation.pk},
        )
    return designation


def designation_remove(*, actor: AnyUser, designation: RegionDesignation) -> None:
    """Remove a designation (county admin); removing one already gone does nothing."""
    if not access.can_manage_chains(actor):
        raise _no_access()
    with transaction.atomic():
        deleted, _rows = RegionDesignation.objects.filter(pk=designation.pk).delete()
        if deleted:
            audit_record(
                actor=actor,
                action=AuditAction.DELETE,
                obj=designation,
                object_repr=f"{designation.region.name} · {designation_label(designation)}",
                region_path=designation.region.path,
                changes={"kind": [designation.kind, None], "theme": [designation.theme, None]},
            )


def designation_label(designation: RegionDesignation) -> str:
    """What a designation reads as: a development type's Chinese name, else its theme."""
    if designation.kind == DesignationKind.DEVELOPMENT_TYPE and designation.theme in DevelopmentType.values:
        return str(DevelopmentType(designation.theme).label)
    return designation.theme

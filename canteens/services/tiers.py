"""The county's subsidy tiers (补贴档次): the county admin creates and edits them (can_manage_tiers).
canteens.defaults.tiers_ensure() seeds the defaults."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from canteens import access
from canteens.models import SubsidyTier
from canteens.services._common import AnyUser
from common.errors import DomainError, NotFound
from common.services import begin, finish, text_clean
from governance.audit import audit_record, diff_fields
from governance.models import AuditAction, ResidentTagKind

SCOPE_CREATE = "canteens.tier_create"
AGE_MAX = 130


def _age(value: Any, field: str) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise DomainError("bad_age", _("年龄须是整数。"), field=field) from None
    if number < 0 or number > AGE_MAX:
        raise DomainError("bad_age", _("年龄须在 0 到 130 之间。"), field=field)
    return number


def _clean(*, code: str, name: str, min_age: Any, max_age: Any, tag: str, sort_order: Any) -> dict[str, Any]:
    code = slugify(str(code or "").strip())
    if not code:
        raise DomainError("code_required", _("请填写代码（字母、数字或短横线）。"), field="code")
    if len(code) > 20:
        raise DomainError("code_too_long", _("代码最多 20 个字符。"), field="code")
    low, high = _age(min_age, "min_age"), _age(max_age, "max_age")
    if low is not None and high is not None and high < low:
        raise DomainError("age_order", _("最高年龄不能小于最低年龄。"), field="max_age")
    tag = (tag or "").strip()
    if tag and tag not in ResidentTagKind.values:
        raise DomainError("bad_tag", _("请选择身份条件。"), field="tag")
    if not tag and low is None and high is None:
        raise DomainError("tier_condition", _("请设年龄范围或身份条件。"), field="min_age")
    try:
        order = int(sort_order or 0)
    except (TypeError, ValueError):
        raise DomainError("bad_sort_order", _("排序须是整数。"), field="sort_order") from None
    return {
        "code": code,
        "name": text_clean(name, field="name", maximum=40, required=_("请填写档次名称。")),
        "min_age": low,
        "max_age": high,
        "tag": tag,
        "sort_order": max(0, min(order, 32_000)),
    }


def tier_create(
    *,
    actor: AnyUser,
    idempotency_key: str,
    code: str,
    name: str,
    min_age: int | str | None = None,
    max_age: int | str | None = None,
    tag: str = "",
    sort_order: int | str = 0,
) -> SubsidyTier:
    """A new tier (county admin). Exactly once per (actor, key). DomainError for a duplicate code, an age
    range upside down, or neither an age range nor a status condition."""
    body = {
        "code": code,
        "name": name,
        "min_age": min_age,
        "max_age": max_age,
        "tag": tag,
        "sort_order": sort_order,
    }
    with transaction.atomic():
        replay = begin(actor=actor, scope=SCOPE_CREATE, key=idempotency_key, body=body)
        if replay is not None:
            return SubsidyTier.objects.get(pk=replay.response["id"])
        if not access.can_manage_tiers(actor):
            raise NotFound(_("未找到该页面，或者您没有权限。"))
        cleaned = _clean(
            code=code, name=name, min_age=min_age, max_age=max_age, tag=tag, sort_order=sort_order
        )
        if SubsidyTier.objects.filter(code=cleaned["code"]).exists():
            raise DomainError("code_taken", _("该代码已被使用。"), field="code")
        tier = SubsidyTier.objects.create(**cleaned)
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=tier,
            changes={"name": [None, tier.name], "idempotency_key": [None, idempotency_key]},
        )
        finish(actor=actor, scope=SCOPE_CREATE, key=idempotency_key, object_id=tier.pk)
    return tier


def tier_update(
    *,
    actor: AnyUser,
    tier: SubsidyTier,
    code: str,
    name: str,
    min_age: int | str | None = None,
    max_age: int | str | None = None,
    tag: str = "",
    sort_order: int | str = 0,
    is_active: bool = True,
) -> SubsidyTier:
    """Edit a tier (county admin). Enrolments already made keep their tier; the new condition applies to
    enrolments made from now on."""
    with transaction.atomic():
        if not access.can_manage_tiers(actor):
            raise NotFound(_("未找到该页面，或者您没有权限。"))
        tier = SubsidyTier.objects.select_for_update().get(pk=tier.pk)
        cleaned = _clean(
            code=code, name=name, min_age=min_age, max_age=max_age, tag=tag, sort_order=sort_order
        )
        if SubsidyTier.objects.filter(code=cleaned["code"]).exclude(pk=tier.pk).exists():
            raise DomainError("code_taken", _("该代码已被使用。"), field="code")
        cleaned["is_active"] = bool(is_active)
        before = {n: getattr(tier, n) for n in cleaned}
        for field_name, value in cleaned.items():
            setattr(tier, field_name, value)
        tier.save()
        changes = diff_fields(before, cleaned)
        if changes:
            audit_record(actor=actor, action=AuditAction.UPDATE, obj=tier, changes=changes)
    return tier

"""The county's configuration of case handling: what the workflow asks (time limits, routing, reply
texts) and every write the county admin makes on the configuration pages (categories, time limits,
calendar days, handling units and their members, routing rules, response templates).

Configuration rows are county-wide: only a county admin writes them (config_gate); each write is one
transaction with its audit row.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from common.errors import DomainError, NotFound
from governance import access
from governance.audit import audit_record, diff_fields
from governance.models import AuditAction, AuditEvent, Region, User
from grids.models import (
    CalendarDay,
    Case,
    CaseCategory,
    CaseTimeLimit,
    HandlingUnit,
    ResponseTemplate,
    RoutingRule,
    Urgency,
)
from grids.workflow import FILE, TRANSITIONS

AnyUser = AbstractBaseUser | AnonymousUser

# Used when neither a category nor any of its ancestors has a row for the urgency: (sign, resolve)
# working days. One working day to sign for is the 12345 hotline's rule; 10 working days to resolve
# a normal case, 3 for an urgent one, 1 for a critical one.
DEFAULT_TIME_LIMITS: dict[str, tuple[int, int]] = {
    Urgency.NORMAL: (1, 10),
    Urgency.URGENT: (1, 3),
    Urgency.CRITICAL: (1, 1),
}
MAX_LIMIT_DAYS = 60

# Placeholders a response template may use, and what they become.
PLACEHOLDERS = ("number", "category", "deadline", "unit")
_PLACEHOLDER = re.compile(r"\{([a-z_]*)\}")


def _category_row(category: CaseCategory | int) -> CaseCategory:
    if isinstance(category, CaseCategory):
        return category
    return CaseCategory.objects.get(pk=category)


def _ancestry(category: CaseCategory) -> list[int]:
    """The category's id and its ancestors' ids, nearest first."""
    chain = [category.pk]
    parent_id = category.parent_id
    while parent_id is not None and parent_id not in chain:
        chain.append(parent_id)
        parent_id = CaseCategory.objects.filter(pk=parent_id).values_list("parent_id", flat=True).first()
    return chain


# ---------------------------------------------------------------------------------------------------------
# What the workflow asks


def time_limit_for(category: CaseCategory | int, urgency: str) -> tuple[int, int]:
    """(sign_days, resolve_days) in working days for a case of `category` and `urgency`: the category's
    own row, else the nearest ancestor's, else DEFAULT_TIME_LIMITS (normal for an unknown urgency)."""
    row = _category_row(category)
    chain = _ancestry(row)
    limits = {
        category_id: (sign, resolve)
        for category_id, sign, resolve in CaseTimeLimit.objects.filter(
            category_id__in=chain, urgency=urgency
        ).values_list("category_id", "sign_days", "resolve_days")
    }
    for category_id in chain:
        if category_id in limits:
            return limits[category_id]
    return DEFAULT_TIME_LIMITS.get(urgency, DEFAULT_TIME_LIMITS[Urgency.NORMAL])


def route_for(category: CaseCategory | int, region: Region | int) -> HandlingUnit | None:
    """The active handling unit the routing table names for `category` filed at `region` (usually the
    grid): the rule at the deepest region on the line from the county to `region` wins; at one region a
    rule for the category beats one for its parent. None when no rule applies."""
    row = _category_row(category)
    region_row = region if isinstance(region, Region) else Region.objects.get(pk=region)
    chain = _ancestry(row)
    rules = list(
        RoutingRule.objects.filter(category_id__in=chain, unit__is_active=True)
        .select_related("unit", "region")
        .order_by("pk")
    )
    best: tuple[int, int] | None = None
    chosen: HandlingUnit | None = None
    for rule in rules:
        if not region_row.path.startswith(rule.region.path):
            continue
        rank = (len(rule.region.path), -chain.index(rule.category_id))
        if best is None or rank > best:
            best, chosen = rank, rule.unit
    return chosen


def template_for(transition: str, category: CaseCategory | int | None) -> ResponseTemplate | None:
    """The active template for `transition`: one for the category, else for its nearest ancestor, else
    the general one (no category)."""
    chain = _ancestry(_category_row(category)) if category is not None else []
    rows = {
        row.category_id: row
        for row in ResponseTemplate.objects.filter(
            transition=transition, is_active=True, category_id__in=chain
        ).order_by("-pk")
    }
    general = (
        ResponseTemplate.objects.filter(transition=transition, is_active=True, category__isnull=True)
        .order_by("pk")
        .first()
    )
    for category_id in chain:
        if category_id in rows:
            return rows[category_id]
    return general


def template_render_text(text: str, case: Case) -> str:
    """`text` with {number} {category} {deadline} {unit} filled in from `case`; any other brace text is
    left as typed (templates are validated on save, this never raises)."""
    deadline = case.resolve_deadline
    values = {
        "number": case.number,
        "category": case.category.name,
        "deadline": f"{timezone.localtime(deadline):%Y年%m月%d日 %H:%M}" if deadline else "",
        "unit": case.assigned_unit.name if case.assigned_unit_id and case.assigned_unit else "",
    }
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def template_render(transition: str, case: Case) -> str | None:
    """The text of the county's template for `transition` (grids.workflow names, or "file" for the
    acknowledgement on filing) filled in for `case`; None when there is none."""
    template = template_for(transition, case.category_id)
    if template is None:
        return None
    return template_render_text(template.text, case)


# ---------------------------------------------------------------------------------------------------------
# The gate


def config_gate(actor: AnyUser) -> None:
    """Only a county admin edits the county's configuration; anyone else gets a 404 (design.md §3)."""
    if not access.is_county_admin(actor):
        raise NotFound(_("未找到该页面，或者您无权访问。"))


def _audit(
    actor: AnyUser,
    action: AuditAction,
    obj: Any,
    changes: dict[str, Any],
    detail: str,
    idempotency_key: str = "",
) -> None:
    if idempotency_key:
        # The key rides in the audit row written in the same transaction as the object, so a replay
        # finds the first result without a column of its own on every configuration table.
        changes = {**changes, "idempotency_key": [None, idempotency_key]}
    audit_record(actor=actor, action=action, obj=obj, changes=changes, detail=detail)


M = TypeVar("M", bound=Model)


def _replayed(
    actor: AnyUser, model: type[M], idempotency_key: str, action: AuditAction = AuditAction.CREATE
) -> M | None:
    """The object `actor` created (or changed, with `action`) earlier with this key, if any: a retried
    submit."""
    if not idempotency_key:
        return None
    object_id = (
        AuditEvent.objects.filter(
            actor_id=actor.pk,
            object_type=model._meta.label_lower,
            action=action,
            changes__idempotency_key__1=idempotency_key,
        )
        .values_list("object_id", flat=True)
        .first()
    )
    if object_id is None:
        return None
    return model._default_manager.filter(pk=object_id).first()


def _snapshot(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in fields}


def _clean_name(value: str, *, field: str, max_length: int, label: str) -> str:
    text = (value or "").strip()
    if not text:
        raise DomainError(f"{field}_required", _("请填写%(label)s。") % {"label": label}, field=field)
    if len(text) > max_length:
        raise DomainError(
            f"{field}_too_long",
            _("%(label)s不能超过 %(max)s 个字。") % {"label": label, "max": max_length},
            field=field,
        )
    return text


# ---------------------------------------------------------------------------------------------------------
# Categories

_CATEGORY_FIELDS = ("name", "parent_id", "duty", "code", "is_mediable", "is_active", "sort_order")
_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


def category_in_use(category: CaseCategory) -> bool:
    """Whether any case, sub-category, time limit, routing rule or template refers to `category`."""
    return (
        Case.objects.filter(category=category).exists()
        or CaseCategory.objects.filter(parent=category).exists()
        or RoutingRule.objects.filter(category=category).exists()
        or ResponseTemplate.objects.filter(category=category).exists()
    )


def category_create(
    *,
    actor: AnyUser,
    parent: CaseCategory | int,
    name: str,
    code: str = "",
    is_mediable: bool | None = None,
    sort_order: int = 0,
    idempotency_key: str = "",
) -> CaseCategory:
    """Adds a sub-category under `parent` (the tree is the five duties and one level below them); its
    duty is the parent's; `is_mediable` defaults to the parent's. Returns the new row (the first one
    again for a replayed `idempotency_key`)."""
    config_gate(actor)
    first = _replayed(actor, CaseCategory, idempotency_key)
    if first is not None:
        return first
    parent_row = CaseCategory.objects.filter(
        pk=parent.pk if isinstance(parent, CaseCategory) else parent
    ).first()
    if parent_row is None:
        raise DomainError("category_parent_missing", _("请选择上级类别。"), field="parent")
    if parent_row.parent_id is not None:
        raise DomainError("category_too_deep", _("只能在五项职责下添加子类别。"), field="parent")
    clean = _clean_name(name, field="name", max_length=40, label=_("类别名称"))
    if CaseCategory.objects.filter(parent=parent_row, name=clean).exists():
        raise DomainError("category_name_taken", _("该职责下已有同名类别。"), field="name")
    slug = (code or "").strip().lower()
    if slug:
        if not _CODE.match(slug):
            raise DomainError(
                "category_code_format", _("类别代码只能用小写字母、数字和连字符。"), field="code"
            )
        if CaseCategory.objects.filter(code=slug).exists():
            raise DomainError("category_code_taken", _("类别代码已被使用。"), field="code")
    with transaction.atomic():
        category = CaseCategory.objects.create(
            parent=parent_row,
            duty=parent_row.duty,
            name=clean,
            code=slug or f"tmp-{timezone.now():%H%M%S%f}",
            is_mediable=parent_row.is_mediable if is_mediable is None else is_mediable,
            sort_order=max(0, int(sort_order)),
        )
        if not slug:
            category.code = f"{parent_row.code}-{category.pk}"[:40]
            category.save(update_fields=["code"])
        _audit(
            actor,
            AuditAction.CREATE,
            category,
            diff_fields({}, _snapshot(category, _CATEGORY_FIELDS)),
            _("新增民情类别"),
            idempotency_key,
        )
    return category


def category_update(
    *,
    actor: AnyUser,
    category: CaseCategory | int,
    name: str | None = None,
    is_mediable: bool | None = None,
    is_active: bool | None = None,
    sort_order: int | None = None,
) -> CaseCategory:
    """Renames, reorders, (de)activates or changes whether a category may go to mediation; returns it.
    A deactivated category is no longer offered for filing but keeps its cases. A top category (a duty)
    can be renamed but not deactivated."""
    config_gate(actor)
    with transaction.atomic():
        row = (
            CaseCategory.objects.select_for_update(of=("self",))
            .order_by()
            .filter(pk=category.pk if isinstance(category, CaseCategory) else category)
            .first()
        )
        if row is None:
            raise NotFound(_("未找到该类别。"))
        before = _snapshot(row, _CATEGORY_FIELDS)
        if name is not None:
            clean = _clean_name(name, field="name", max_length=40, label=_("类别名称"))
            if CaseCategory.objects.filter(parent_id=row.parent_id, name=clean).exclude(pk=row.pk).exists():
                raise DomainError("category_name_taken", _("同一上级下已有同名类别。"), field="name")
            row.name = clean
        if is_active is not None:
            if not is_active and row.parent_id is None:
                raise DomainError("category_duty_required", _("五项职责不能停用。"), field="is_active")
            row.is_active = is_active
        if is_mediable is not None:
            row.is_mediable = is_mediable
        if sort_order is not None:
            row.sort_order = max(0, int(sort_order))
        row.save()
        changes = diff_fields(before, _snapshot(row, _CATEGORY_FIELDS))
        if changes:
            _audit(actor, AuditAction.UPDATE, row, changes, _("修改民情类别"))
    return row


def category_delete(*, actor: AnyUser, category: CaseCategory | int) -> None:
    """Deletes a sub-category nobody uses yet (a typo just added); one in use must be deactivated."""
    config_gate(actor)
    with transaction.atomic():
        row = (
            CaseCategory.objects.select_for_update(of=("self",))
            .order_by()
            .filter(pk=category.pk if isinstance(category, CaseCategory) else category)
            .first()
        )
        if row is None:
            raise NotFound(_("未找到该类别。"))
        if row.parent_id is None:
            raise DomainError("category_duty_required", _("五项职责不能删除。"), field="category")
        if category_in_use(row):
            raise DomainError(
                "category_in_use", _("该类别已被使用，不能删除，请改为停用。"), field="category"
            )
        _audit(
            actor,
            AuditAction.DELETE,
            row,
            diff_fields(_snapshot(row, _CATEGORY_FIELDS), {}),
            _("删除民情类别"),
        )
        row.time_limits.all().delete()
        row.delete()


# ---------------------------------------------------------------------------------------------------------
# Time limits


def time_limit_set(
    *,
    actor: AnyUser,
    category: CaseCategory | int,
    urgency: str,
    sign_days: int | None,
    resolve_days: int | None,
) -> CaseTimeLimit | None:
    """Sets the category's limits for `urgency` (working days); both None removes its own row so the
    parent's (or the default) applies again. Returns the row, or None when removed."""
    config_gate(actor)
    row = CaseCategory.objects.filter(
        pk=category.pk if isinstance(category, CaseCategory) else category
    ).first()
    if row is None:
        raise NotFound(_("未找到该类别。"))
    if urgency not in Urgency.values:
        raise DomainError("time_limit_urgency", _("请选择紧急程度。"), field="urgency")
    with transaction.atomic():
        existing = (
            CaseTimeLimit.objects.select_for_update(of=("self",))
            .order_by()
            .filter(category=row, urgency=urgency)
            .first()
        )
        if sign_days is None and resolve_days is None:
            if existing is not None:
                _audit(
                    actor,
                    AuditAction.DELETE,
                    existing,
                    {"sign_days": [existing.sign_days, None], "resolve_days": [existing.resolve_days, None]},
                    _("删除办理时限"),
                )
                existing.delete()
            return None
        if sign_days is None or not 1 <= sign_days <= MAX_LIMIT_DAYS:
            raise DomainError(
                "time_limit_sign_range",
                _("签收时限应为 1 至 %(max)s 个工作日。") % {"max": MAX_LIMIT_DAYS},
                field="sign_days",
            )
        if resolve_days is None or not 1 <= resolve_days <= MAX_LIMIT_DAYS:
            raise DomainError(
                "time_limit_resolve_range",
                _("办结时限应为 1 至 %(max)s 个工作日。") % {"max": MAX_LIMIT_DAYS},
                field="resolve_days",
            )
        if resolve_days < sign_days:
            raise DomainError("time_limit_order", _("办结时限不能短于签收时限。"), field="resolve_days")
        before = {"sign_days": existing.sign_days, "resolve_days": existing.resolve_days} if existing else {}
        limit, _created = CaseTimeLimit.objects.update_or_create(
            category=row, urgency=urgency, defaults={"sign_days": sign_days, "resolve_days": resolve_days}
        )
        changes = diff_fields(before, {"sign_days": sign_days, "resolve_days": resolve_days})
        if changes:
            _audit(
                actor,
                AuditAction.UPDATE if existing else AuditAction.CREATE,
                limit,
                changes,
                _("设置办理时限"),
            )
    return limit


def time_limits_set(
    *,
    actor: AnyUser,
    category: CaseCategory | int,
    limits: dict[str, tuple[int | None, int | None]],
) -> list[CaseTimeLimit]:
    """Sets several urgencies of one category at once (the row of the time limits table): all or none.
    (None, None) for an urgency removes the category's own row for it. An error names the field
    "<urgency>_sign_days" / "<urgency>_resolve_days". Returns the rows that remain set."""
    config_gate(actor)
    saved: list[CaseTimeLimit] = []
    with transaction.atomic():
        for urgency, (sign_days, resolve_days) in limits.items():
            try:
                row = time_limit_set(
                    actor=actor,
                    category=category,
                    urgency=urgency,
                    sign_days=sign_days,
                    resolve_days=resolve_days,
                )
            except DomainError as error:
                if error.field in ("sign_days", "resolve_days"):
                    error.field = f"{urgency}_{error.field}"
                raise
            if row is not None:
                saved.append(row)
    return saved


# ---------------------------------------------------------------------------------------------------------
# Calendar


def calendar_day_set(*, actor: AnyUser, date: Any, is_workday: bool, name: str = "") -> CalendarDay | None:
    """Records `date` as a holiday (is_workday False) or a make-up working day (True). A row that only
    repeats the ordinary week (a weekday marked working, a weekend day off) with no name is removed
    instead, so the calendar keeps exceptions only. Returns the row, or None when none is needed.
    Deadlines already set are kept; the new day counts for deadlines set from now on."""
    config_gate(actor)
    if date is None:
        raise DomainError("calendar_date_required", _("请选择日期。"), field="date")
    label = (name or "").strip()
    if len(label) > 40:
        raise DomainError("calendar_name_too_long", _("名称不能超过 40 个字。"), field="name")
    ordinary = date.weekday() < 5
    if is_workday and ordinary:
        raise DomainError(
            "calendar_workday_ordinary", _("该日期本来就是工作日，调休上班只能设在周末。"), field="date"
        )
    if not is_workday and not label:
        raise DomainError("calendar_name_required", _("请填写节假日名称，如“春节”。"), field="name")
    with transaction.atomic():
        existing = CalendarDay.objects.select_for_update(of=("self",)).order_by().filter(date=date).first()
        before = {"is_workday": existing.is_workday, "name": existing.name} if existing else {}
        row, _created = CalendarDay.objects.update_or_create(
            date=date, defaults={"is_workday": is_workday, "name": label or _("调休上班")}
        )
        changes = diff_fields(before, {"is_workday": row.is_workday, "name": row.name})
        if changes:
            _audit(
                actor, AuditAction.UPDATE if existing else AuditAction.CREATE, row, changes, _("设置节假日")
            )
    return row


def calendar_day_remove(*, actor: AnyUser, date: Any) -> None:
    """Removes the row for `date`: the day follows the ordinary week again."""
    config_gate(actor)
    with transaction.atomic():
        row = CalendarDay.objects.select_for_update(of=("self",)).order_by().filter(date=date).first()
        if row is None:
            raise NotFound(_("该日期没有节假日或调休设置。"))
        _audit(
            actor,
            AuditAction.DELETE,
            row,
            {"is_workday": [row.is_workday, None], "name": [row.name, None]},
            _("删除节假日"),
        )
        row.delete()


# ---------------------------------------------------------------------------------------------------------
# Handling units


def _region_row(region: Region | int | None, field: str) -> Region:
    if region is None or region == "":
        raise DomainError(f"{field}_required", _("请选择区域。"), field=field)
    row = region if isinstance(region, Region) else Region.objects.filter(pk=region).first()
    if row is None or row.level == "grid":
        raise DomainError(f"{field}_invalid", _("请选择县、乡镇或村（社区）。"), field=field)
    return row


def unit_create(
    *,
    actor: AnyUser,
    name: str,
    region: Region | int | None,
    phone: str = "",
    idempotency_key: str = "",
) -> HandlingUnit:
    """A handling unit at a county, township or village region; returns it (the first one again for a
    replayed `idempotency_key`)."""
    config_gate(actor)
    first = _replayed(actor, HandlingUnit, idempotency_key)
    if first is not None:
        return first
    clean = _clean_name(name, field="name", max_length=60, label=_("承办单位名称"))
    region_row = _region_row(region, "region")
    phone_text = _clean_phone(phone)
    if HandlingUnit.objects.filter(region=region_row, name=clean).exists():
        raise DomainError("unit_name_taken", _("该区域已有同名承办单位。"), field="name")
    with transaction.atomic():
        unit = HandlingUnit.objects.create(name=clean, region=region_row, phone=phone_text)
        _audit(
            actor,
            AuditAction.CREATE,
            unit,
            {"name": [None, clean], "region": [None, region_row.pk], "phone": [None, phone_text]},
            _("新增承办单位"),
            idempotency_key,
        )
    return unit


def _clean_phone(phone: str) -> str:
    text = (phone or "").strip()
    if text and not re.fullmatch(r"[0-9\-]{7,20}", text):
        raise DomainError("unit_phone_format", _("联系电话只能包含数字和连字符。"), field="phone")
    return text


def unit_update(
    *,
    actor: AnyUser,
    unit: HandlingUnit | int,
    name: str | None = None,
    phone: str | None = None,
    is_active: bool | None = None,
) -> HandlingUnit:
    """Renames a unit, changes its phone, or (de)activates it (an inactive unit gets no new cases and
    no routing; its cases stay with it). Returns it."""
    config_gate(actor)
    with transaction.atomic():
        row = (
            HandlingUnit.objects.select_for_update(of=("self",))
            .order_by()
            .filter(pk=unit.pk if isinstance(unit, HandlingUnit) else unit)
            .first()
        )
        if row is None:
            raise NotFound(_("未找到该承办单位。"))
        before = _snapshot(row, ("name", "phone", "is_active"))
        if name is not None:
            clean = _clean_name(name, field="name", max_length=60, label=_("承办单位名称"))
            if HandlingUnit.objects.filter(region_id=row.region_id, name=clean).exclude(pk=row.pk).exists():
                raise DomainError("unit_name_taken", _("该区域已有同名承办单位。"), field="name")
            row.name = clean
        if phone is not None:
            row.phone = _clean_phone(phone)
        if is_active is not None:
            row.is_active = is_active
        row.save()
        changes = diff_fields(before, _snapshot(row, ("name", "phone", "is_active")))
        if changes:
            _audit(actor, AuditAction.UPDATE, row, changes, _("修改承办单位"))
    return row


def unit_member_add(
    *, actor: AnyUser, unit: HandlingUnit | int, username: str, idempotency_key: str = ""
) -> User:
    """Adds the active user with `username` to the unit's members; returns the user. A replayed
    `idempotency_key` for the same user returns it without an error."""
    config_gate(actor)
    text = (username or "").strip()
    unit_pk = unit.pk if isinstance(unit, HandlingUnit) else unit
    if _replayed(actor, HandlingUnit, idempotency_key, AuditAction.UPDATE) is not None:
        replay = User.objects.filter(username=text, handling_units__pk=unit_pk).first()
        if replay is not None:
            return replay
    if not text:
        raise DomainError("member_required", _("请填写用户名。"), field="username")
    user = User.objects.filter(username=text, is_active=True).first()
    if user is None:
        raise DomainError("member_unknown", _("没有这个用户名的在用账号。"), field="username")
    with transaction.atomic():
        row = (
            HandlingUnit.objects.select_for_update(of=("self",))
            .order_by()
            .filter(pk=unit.pk if isinstance(unit, HandlingUnit) else unit)
            .first()
        )
        if row is None:
            raise NotFound(_("未找到该承办单位。"))
        if row.members.filter(pk=user.pk).exists():
            raise DomainError("member_exists", _("该用户已是本单位承办人员。"), field="username")
        row.members.add(user)
        _audit(
            actor,
            AuditAction.UPDATE,
            row,
            {"members": [None, user.username]},
            _("添加承办人员"),
            idempotency_key,
        )
    return user


def unit_member_remove(*, actor: AnyUser, unit: HandlingUnit | int, user: User | int) -> None:
    """Removes a member from the unit (cases already assigned to them personally stay theirs)."""
    config_gate(actor)
    with transaction.atomic():
        row = (
            HandlingUnit.objects.select_for_update(of=("self",))
            .order_by()
            .filter(pk=unit.pk if isinstance(unit, HandlingUnit) else unit)
            .first()
        )
        if row is None:
            raise NotFound(_("未找到该承办单位。"))
        member = row.members.filter(pk=user.pk if isinstance(user, User) else user).first()
        if member is None:
            raise NotFound(_("该用户不是本单位承办人员。"))
        row.members.remove(member)
        _audit(actor, AuditAction.UPDATE, row, {"members": [member.username, None]}, _("移除承办人员"))


# ---------------------------------------------------------------------------------------------------------
# Routing


def routing_rule_set(
    *, actor: AnyUser, category: CaseCategory | int, region: Region | int, unit: HandlingUnit | int
) -> RoutingRule:
    """Category × region → unit (replacing the rule for the same category and region). The unit must be
    active and sit at the region or above it (a village's case can go to the township, not to another
    village). Returns the rule."""
    config_gate(actor)
    category_row = CaseCategory.objects.filter(
        pk=category.pk if isinstance(category, CaseCategory) else category
    ).first()
    if category_row is None:
        raise DomainError("routing_category_required", _("请选择类别。"), field="category")
    region_row = region if isinstance(region, Region) else Region.objects.filter(pk=region).first()
    if region_row is None:
        raise DomainError("routing_region_required", _("请选择适用区域。"), field="region")
    unit_row = (
        HandlingUnit.objects.select_related("region")
        .filter(pk=unit.pk if isinstance(unit, HandlingUnit) else unit)
        .first()
    )
    if unit_row is None or not unit_row.is_active:
        raise DomainError("routing_unit_required", _("请选择在用的承办单位。"), field="unit")
    if not region_row.path.startswith(unit_row.region.path):
        raise DomainError(
            "routing_unit_outside",
            _("承办单位须位于适用区域或其上级，不能跨区域派单。"),
            field="unit",
        )
    with transaction.atomic():
        existing = (
            RoutingRule.objects.select_for_update(of=("self",))
            .order_by()
            .filter(category=category_row, region=region_row)
            .first()
        )
        before = {"unit": existing.unit_id} if existing else {}
        try:
            rule, _created = RoutingRule.objects.update_or_create(
                category=category_row, region=region_row, defaults={"unit": unit_row}
            )
        except IntegrityError as exc:  # a concurrent save of the same pair
            raise DomainError(
                "routing_conflict", _("该规则刚被他人修改，请刷新后重试。"), field="unit"
            ) from exc
        changes = diff_fields(before, {"unit": unit_row.pk})
        if changes:
            _audit(
                actor,
                AuditAction.UPDATE if existing else AuditAction.CREATE,
                rule,
                changes,
                _("设置派单规则"),
            )
    return rule


def routing_rule_delete(*, actor: AnyUser, rule: RoutingRule | int) -> None:
    config_gate(actor)
    with transaction.atomic():
        row = (
            RoutingRule.objects.select_for_update(of=("self",))
            .order_by()
            .filter(pk=rule.pk if isinstance(rule, RoutingRule) else rule)
            .first()
        )
        if row is None:
            raise NotFound(_("未找到该派单规则。"))
        _audit(actor, AuditAction.DELETE, row, {"unit": [row.unit_id, None]}, _("删除派单规则"))
        row.delete()


# ---------------------------------------------------------------------------------------------------------
# Response templates

TEMPLATE_TRANSITIONS = (FILE, *TRANSITIONS)


def _template_text_clean(text: str) -> str:
    clean = (text or "").strip()
    if not clean:
        raise DomainError("template_text_required", _("请填写模板内容。"), field="text")
    if len(clean) > 500:
        raise DomainError("template_text_too_long", _("模板内容不能超过 500 个字。"), field="text")
    unknown = sorted({name for name in _PLACEHOLDER.findall(clean) if name not in PLACEHOLDERS})
    if unknown:
        raise DomainError(
            "template_placeholder_unknown",
            _("不认识的占位符：%(names)s。可用：{number}、{category}、{deadline}、{unit}。")
            % {"names": "、".join("{" + name + "}" for name in unknown)},
            field="text",
        )
    return clean


def template_save(
    *,
    actor: AnyUser,
    transition: str,
    text: str,
    category: CaseCategory | int | None = None,
    is_sent_to_resident: bool = False,
    is_active: bool = True,
    template: ResponseTemplate | int | None = None,
    idempotency_key: str = "",
) -> ResponseTemplate:
    """Creates (template None) or updates a response template; returns it (a replayed creation with the
    same `idempotency_key` returns the first template)."""
    config_gate(actor)
    if template is None:
        first = _replayed(actor, ResponseTemplate, idempotency_key)
        if first is not None:
            return first
    if transition not in TEMPLATE_TRANSITIONS:
        raise DomainError("template_transition", _("请选择办理环节。"), field="transition")
    clean = _template_text_clean(text)
    category_row: CaseCategory | None = None
    if category not in (None, ""):
        category_row = CaseCategory.objects.filter(
            pk=category.pk if isinstance(category, CaseCategory) else category
        ).first()
        if category_row is None:
            raise DomainError("template_category", _("请选择类别。"), field="category")
    fields = ("transition", "category_id", "text", "is_sent_to_resident", "is_active")
    with transaction.atomic():
        if template is None:
            row = ResponseTemplate(transition=transition)
            before: dict[str, Any] = {}
        else:
            found = (
                ResponseTemplate.objects.select_for_update(of=("self",))
                .order_by()
                .filter(pk=template.pk if isinstance(template, ResponseTemplate) else template)
                .first()
            )
            if found is None:
                raise NotFound(_("未找到该答复模板。"))
            row = found
            before = _snapshot(row, fields)
        row.transition = transition
        row.category = category_row
        row.text = clean
        row.is_sent_to_resident = is_sent_to_resident
        row.is_active = is_active
        row.save()
        changes = diff_fields(before, _snapshot(row, fields))
        if changes:
            _audit(
                actor,
                AuditAction.CREATE if template is None else AuditAction.UPDATE,
                row,
                changes,
                _("保存答复模板"),
                idempotency_key if template is None else "",
            )
    return row

"""Writes of households and residents: one function per domain action, keyword-only, atomic, audited.

Personal data (design.md §3): the ID number and phone are validated, stored encrypted with a keyed hash
for look-up and de-duplication and a mask for display. The audit log records changes with the masked
forms only, so the log itself never holds an ID number or phone in clear. Reading the clear values is
an action too (resident_personal_data_reveal): checked, and always written to the log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from common.errors import Conflict, DomainError, NotFound
from governance import access, pii
from governance.audit import (
    audit_record,
    audit_replayed,
    changes_with_key,
    diff_fields,
    idempotency_key_clean,
)
from governance.models import (
    AuditAction,
    Gender,
    Household,
    HouseholdTag,
    HouseholdTagKind,
    Region,
    RegionLevel,
    RelationToHead,
    Resident,
    ResidentStatus,
    ResidentTag,
    ResidentTagKind,
)
from governance.selectors.people import PEOPLE_EDITOR_ROLES, address_mask

AnyUser = AbstractBaseUser | AnonymousUser

NAME_MAX = 50
NUMBER_MAX = 30
ADDRESS_MAX = 200
# Registering a household takes no row lock a twin request would wait on: an advisory lock on
# (actor, idempotency key) makes the twin wait for the first to commit (governance.audit).
_LOCK_NAMESPACE = "xiangzhi.people"


@dataclass(frozen=True)
class PersonalData:
    """A resident's personal data in clear, for the one response that shows it."""

    resident_id: int
    id_number: str
    phone: str
    address: str


# ---------------------------------------------------------------------------------------------------------
# Gates


def _not_found() -> NotFound:
    return NotFound(_("未找到该记录，或者它不在您的管辖范围内。"))


def _require_editor(actor: AnyUser, region_path: str) -> None:
    """Out of scope answers 404 like a missing record; in scope without an editing role answers 403."""
    if not access.covers(actor, region_path):
        raise _not_found()
    if not access.covers(actor, region_path, PEOPLE_EDITOR_ROLES):
        raise DomainError(
            "people_edit_forbidden", _("您的角色只能查看户籍和居民信息，不能修改。"), status=403
        )


# ---------------------------------------------------------------------------------------------------------
# Validation


def _text(value: str | None, *, field: str, label: str, max_length: int, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise DomainError(f"{field}_required", _("请填写%(label)s。") % {"label": label}, field=field)
    if len(value) > max_length:
        raise DomainError(
            f"{field}_too_long",
            _("%(label)s不能超过%(max)d个字。") % {"label": label, "max": max_length},
            field=field,
        )
    return value


def _choice(value: str | None, choices: type[Any], *, field: str, label: str) -> str:
    if value not in choices.values:
        raise DomainError(f"{field}_invalid", _("请选择%(label)s。") % {"label": label}, field=field)
    return str(value)


def _tags(values: Iterable[str], choices: type[Any], *, field: str = "tags") -> list[str]:
    tags = sorted(set(values))
    unknown = [t for t in tags if t not in choices.values]
    if unknown:
        raise DomainError(
            "tag_invalid", _("未知的标签：%(tags)s。") % {"tags": "、".join(unknown)}, field=field
        )
    return tags


def _grid_check(grid: Region) -> None:
    if grid.level != RegionLevel.GRID:
        raise DomainError(
            "household_grid_not_grid",
            _("户只能登记在网格下：“%(name)s”不是网格，请选择一个网格。") % {"name": grid.name},
            field="grid",
        )


def _id_agrees(parsed: pii.IdNumber, *, birth_date: dt.date | None, gender: str | None) -> None:
    """The birth date and gender typed must be the ones the ID number encodes."""
    if birth_date is not None and birth_date != parsed.birth_date:
        raise DomainError(
            "resident_birth_date_mismatch",
            _("出生日期与身份证号不一致：身份证号中的出生日期是%(date)s。")
            % {"date": date_format(parsed.birth_date, "Y年n月j日")},
            field="birth_date",
        )
    if gender and gender != parsed.gender:
        raise DomainError(
            "resident_gender_mismatch",
            _("性别与身份证号不一致：按身份证号应为%(gender)s。") % {"gender": Gender(parsed.gender).label},
            field="gender",
        )


def _where(resident: Resident) -> str:
    grid = resident.household.grid
    village = grid.parent
    return f"{village.name if village else ''}{grid.name}"


def _duplicate_find(id_number_hash: str) -> Resident | None:
    return (
        Resident.objects.select_related("household", "household__grid", "household__grid__parent")
        .filter(id_number_hash=id_number_hash)
        .first()
    )


def _duplicate_error(actor: AnyUser, existing: Resident) -> Conflict:
    """Where the registered person lives, only as far as the actor may see it."""
    if access.covers(actor, existing.household.grid.path):
        message = _(
            "该身份证号已登记：%(name)s，%(where)s%(number)s户。同一个人只能登记一次；"
            "如果此人已迁入本户，请在原户办理迁移。"
        ) % {"name": existing.name, "where": _where(existing), "number": existing.household.number}
        return Conflict("resident_duplicate", message, field="id_number", existing_resident_id=existing.pk)
    message = _(
        "该身份证号已在您管辖范围以外的地方登记，同一个人只能登记一次。如需迁入，请联系上级管理员办理。"
    )
    return Conflict("resident_duplicate", message, field="id_number")


# ---------------------------------------------------------------------------------------------------------
# Snapshots for the audit log (masked: the log never holds personal data in clear)


def _household_snapshot(household: Household, tags: Iterable[str]) -> dict[str, Any]:
    return {
        "grid": household.grid_id,
        "number": household.number,
        "address": address_mask(household.address),
        "head": household.head_id,
        "is_active": household.is_active,
        "tags": ",".join(sorted(tags)),
    }


def _resident_snapshot(resident: Resident, tags: Iterable[str]) -> dict[str, Any]:
    return {
        "household": resident.household_id,
        "name": resident.name,
        "gender": resident.gender,
        "birth_date": resident.birth_date.isoformat() if resident.birth_date else None,
        "id_number": resident.id_number_masked,
        "phone": resident.phone_masked,
        "relation_to_head": resident.relation_to_head,
        "status": resident.status,
        "tags": ",".join(sorted(tags)),
    }


def _household_tags_set(household: Household, tags: list[str]) -> None:
    HouseholdTag.objects.filter(household=household).exclude(tag__in=tags).delete()
    existing = set(HouseholdTag.objects.filter(household=household).values_list("tag", flat=True))
    HouseholdTag.objects.bulk_create(
        [HouseholdTag(household=household, tag=tag) for tag in tags if tag not in existing]
    )


def _resident_tags_set(resident: Resident, tags: list[str]) -> None:
    ResidentTag.objects.filter(resident=resident).exclude(tag__in=tags).delete()
    existing = set(ResidentTag.objects.filter(resident=resident).values_list("tag", flat=True))
    ResidentTag.objects.bulk_create(
        [ResidentTag(resident=resident, tag=tag) for tag in tags if tag not in existing]
    )


def _household_tags(household: Household) -> list[str]:
    return sorted(HouseholdTag.objects.filter(household=household).values_list("tag", flat=True))


def _resident_tags(resident: Resident) -> list[str]:
    return sorted(ResidentTag.objects.filter(resident=resident).values_list("tag", flat=True))


# ---------------------------------------------------------------------------------------------------------
# Households


def _number_taken(grid: Region, number: str) -> DomainError:
    return DomainError(
        "household_number_taken",
        _("“%(grid)s”已有户号为“%(number)s”的户，请换一个户号。") % {"grid": grid.name, "number": number},
        field="number",
    )


def _household_save(household: Household, grid: Region, *, creating: bool) -> None:
    """Insert or update; the UNIQUE (grid, number) constraint settles a race with the same message."""
    try:
        with transaction.atomic():
            household.save(force_insert=creating)
    except IntegrityError as error:
        if "household_unique_number_in_grid" in str(error):
            raise _number_taken(grid, household.number) from None
        raise


@transaction.atomic
def household_create(
    *,
    actor: AnyUser,
    grid: Region,
    number: str,
    address: str = "",
    is_active: bool = True,
    tags: Iterable[str] = (),
    idempotency_key: str = "",
    request: HttpRequest | None = None,
) -> Household:
    """Register a household on `grid` and return it. The number is unique within the grid.

    A replay by the same actor with the same `idempotency_key` returns the household the first request
    registered and writes nothing (the pages and API clients send one so a double tap registers once).
    """
    _grid_check(grid)
    _require_editor(actor, grid.path)
    key = idempotency_key_clean(idempotency_key, required=False)
    replay = audit_replayed(
        actor=actor,
        key=key,
        action=AuditAction.CREATE,
        object_type=Household._meta.label_lower,
        lock_namespace=_LOCK_NAMESPACE,
    )
    if replay is not None:
        return Household.objects.get(pk=int(replay.object_id))
    number = _text(number, field="number", label=_("户号"), max_length=NUMBER_MAX)
    address = _text(address, field="address", label=_("住址"), max_length=ADDRESS_MAX, required=False)
    tag_list = _tags(tags, HouseholdTagKind)
    if Household.objects.filter(grid=grid, number=number).exists():
        raise _number_taken(grid, number)
    household = Household(grid=grid, number=number, address=address, is_active=is_active)
    _household_save(household, grid, creating=True)
    _household_tags_set(household, tag_list)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=household,
        region_path=grid.path,
        changes=changes_with_key(diff_fields({}, _household_snapshot(household, tag_list)), key),
        request=request,
    )
    return household


@transaction.atomic
def household_update(
    *,
    actor: AnyUser,
    household: Household,
    number: str | None = None,
    address: str | None = None,
    grid: Region | None = None,
    is_active: bool | None = None,
    tags: Iterable[str] | None = None,
    request: HttpRequest | None = None,
) -> Household:
    """Change the given fields (None leaves a field as it is) and return the household.

    Moving a household to another grid needs the editing role over both grids.
    """
    household = Household.objects.select_for_update(of=("self",)).select_related("grid").get(pk=household.pk)
    _require_editor(actor, household.grid.path)
    before = _household_snapshot(household, _household_tags(household))
    target_grid = household.grid
    if grid is not None and grid.pk != household.grid_id:
        _grid_check(grid)
        _require_editor(actor, grid.path)
        target_grid = grid
        household.grid = grid
    if number is not None:
        household.number = _text(number, field="number", label=_("户号"), max_length=NUMBER_MAX)
    if address is not None:
        household.address = _text(
            address, field="address", label=_("住址"), max_length=ADDRESS_MAX, required=False
        )
    if is_active is not None:
        household.is_active = is_active
    tag_list = _tags(tags, HouseholdTagKind) if tags is not None else _household_tags(household)
    if Household.objects.filter(grid=target_grid, number=household.number).exclude(pk=household.pk).exists():
        raise _number_taken(target_grid, household.number)
    _household_save(household, target_grid, creating=False)
    if tags is not None:
        _household_tags_set(household, tag_list)
    changes = diff_fields(before, _household_snapshot(household, tag_list))
    if changes:
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=household,
            region_path=target_grid.path,
            changes=changes,
            request=request,
        )
    return household


@transaction.atomic
def household_head_set(
    *, actor: AnyUser, household: Household, resident: Resident, request: HttpRequest | None = None
) -> Household:
    """Make `resident` (a member of the household) its head and return the household.

    The new head's relation becomes 户主; a previous head still in the household becomes 其他 until
    someone records the right relation, so a household never has two heads.
    """
    household = Household.objects.select_for_update(of=("self",)).select_related("grid").get(pk=household.pk)
    _require_editor(actor, household.grid.path)
    resident = Resident.objects.select_for_update(of=("self",)).get(pk=resident.pk)
    if resident.household_id != household.pk:
        raise DomainError(
            "household_head_not_member",
            _("%(name)s不是本户成员，不能设为户主。") % {"name": resident.name},
            field="head",
        )
    if household.head_id == resident.pk and resident.relation_to_head == RelationToHead.SELF:
        return household
    changes: dict[str, list[Any]] = {"head": [household.head_id, resident.pk]}
    previous_heads = Resident.objects.filter(
        household=household, relation_to_head=RelationToHead.SELF
    ).exclude(pk=resident.pk)
    for previous in previous_heads:
        changes[f"relation_to_head:{previous.pk}"] = [RelationToHead.SELF.value, RelationToHead.OTHER.value]
    previous_heads.update(relation_to_head=RelationToHead.OTHER)
    if resident.relation_to_head != RelationToHead.SELF:
        changes[f"relation_to_head:{resident.pk}"] = [resident.relation_to_head, RelationToHead.SELF.value]
        resident.relation_to_head = RelationToHead.SELF
        resident.save(update_fields=["relation_to_head", "updated_at"])
    household.head = resident
    household.save(update_fields=["head", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=household,
        region_path=household.grid.path,
        changes=changes,
        detail=_("设置户主：%(name)s") % {"name": resident.name},
        request=request,
    )
    return household


def _head_claim_if_vacant(
    actor: AnyUser, household: Household, resident: Resident, request: HttpRequest | None
) -> None:
    """A member registered (or moved in) as 户主 becomes the head of a household that has none."""
    if household.head_id is not None:
        return
    household.head = resident
    household.save(update_fields=["head", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=household,
        region_path=household.grid.path,
        changes={"head": [None, resident.pk]},
        detail=_("设置户主：%(name)s") % {"name": resident.name},
        request=request,
    )


# ---------------------------------------------------------------------------------------------------------
# Residents


def _phone_fields(phone: str) -> dict[str, str]:
    return pii.phone_columns(pii.phone_parse(phone) if phone.strip() else "")


def _id_fields(parsed: pii.IdNumber) -> dict[str, str]:
    return pii.id_number_columns(parsed.value)


def _resident_save(actor: AnyUser, resident: Resident, *, creating: bool) -> None:
    """Insert or update. Two people registering the same ID number at once both pass the look-up; the
    UNIQUE hash lets one through and the other gets the same message as a plain duplicate."""
    try:
        with transaction.atomic():
            resident.save(force_insert=creating)
    except IntegrityError as error:
        if "resident_unique_id_number" in str(error):
            existing = _duplicate_find(resident.id_number_hash)
            if existing is not None:
                raise _duplicate_error(actor, existing) from None
        raise


def _head_check(household: Household, relation: str, resident: Resident | None = None) -> None:
    """A household has one head: 户主 is refused when another member already is the head."""
    if relation != RelationToHead.SELF:
        return
    heads = Resident.objects.filter(household=household, relation_to_head=RelationToHead.SELF)
    if resident is not None and resident.pk:
        heads = heads.exclude(pk=resident.pk)
    head = heads.first()
    if head is not None:
        raise DomainError(
            "household_has_head",
            _("本户已有户主%(name)s。如需更换户主，请在户详情中“设为户主”。") % {"name": head.name},
            field="relation_to_head",
        )


@transaction.atomic
def resident_create(
    *,
    actor: AnyUser,
    household: Household,
    name: str,
    id_number: str,
    relation_to_head: str,
    gender: str | None = None,
    birth_date: dt.date | None = None,
    phone: str = "",
    status: str = ResidentStatus.RESIDENT,
    tags: Iterable[str] = (),
    idempotency_key: str = "",
    request: HttpRequest | None = None,
) -> Resident:
    """Register a resident in `household` and return them.

    The ID number decides the birth date and gender: left empty they are taken from it, given they must
    agree. One person is one row: an ID number already registered is refused (409), and a household
    whose first member is 户主 gets that member as its head. A replay by the same actor with the same
    `idempotency_key` returns the resident the first request registered and writes nothing (instead of
    refusing the ID number it just registered).
    """
    key = idempotency_key_clean(idempotency_key, required=False)
    household = (
        Household.objects.select_for_update(of=("self",))
        .select_related("grid", "grid__parent")
        .get(pk=household.pk)
    )
    _require_editor(actor, household.grid.path)
    # The advisory lock also covers a replay naming another household (the household lock would not).
    replay = audit_replayed(
        actor=actor,
        key=key,
        action=AuditAction.CREATE,
        object_type=Resident._meta.label_lower,
        lock_namespace=_LOCK_NAMESPACE,
    )
    if replay is not None:
        return Resident.objects.get(pk=int(replay.object_id))
    name = _text(name, field="name", label=_("姓名"), max_length=NAME_MAX)
    parsed = pii.id_number_parse(id_number)
    if gender:
        _choice(gender, Gender, field="gender", label=_("性别"))
    _id_agrees(parsed, birth_date=birth_date, gender=gender)
    relation = _choice(relation_to_head, RelationToHead, field="relation_to_head", label=_("与户主关系"))
    status = _choice(status, ResidentStatus, field="status", label=_("状态"))
    tag_list = _tags(tags, ResidentTagKind)
    phone_fields = _phone_fields(phone or "")
    id_fields = _id_fields(parsed)
    existing = _duplicate_find(id_fields["id_number_hash"])
    if existing is not None:
        raise _duplicate_error(actor, existing)
    _head_check(household, relation)
    resident = Resident(
        household=household,
        name=name,
        gender=parsed.gender,
        birth_date=parsed.birth_date,
        relation_to_head=relation,
        status=status,
        **id_fields,
        **phone_fields,
    )
    _resident_save(actor, resident, creating=True)
    _resident_tags_set(resident, tag_list)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=resident,
        region_path=household.grid.path,
        changes=changes_with_key(diff_fields({}, _resident_snapshot(resident, tag_list)), key),
        request=request,
    )
    if relation == RelationToHead.SELF:
        _head_claim_if_vacant(actor, household, resident, request)
    return resident


@transaction.atomic
def resident_update(
    *,
    actor: AnyUser,
    resident: Resident,
    name: str | None = None,
    gender: str | None = None,
    birth_date: dt.date | None = None,
    id_number: str | None = None,
    phone: str | None = None,
    relation_to_head: str | None = None,
    status: str | None = None,
    tags: Iterable[str] | None = None,
    request: HttpRequest | None = None,
) -> Resident:
    """Change the given fields (None leaves a field as it is; phone "" clears the phone) and return the
    resident. The birth date and gender must still agree with the (new or current) ID number."""
    resident = (
        Resident.objects.select_for_update(of=("self",))
        .select_related("household", "household__grid")
        .get(pk=resident.pk)
    )
    household = resident.household
    _require_editor(actor, household.grid.path)
    before = _resident_snapshot(resident, _resident_tags(resident))
    old_hash = resident.id_number_hash
    if name is not None:
        resident.name = _text(name, field="name", label=_("姓名"), max_length=NAME_MAX)
    if id_number is not None:
        parsed = pii.id_number_parse(id_number)
        id_fields = _id_fields(parsed)
        if id_fields["id_number_hash"] != old_hash:
            existing = _duplicate_find(id_fields["id_number_hash"])
            if existing is not None:
                raise _duplicate_error(actor, existing)
            for field_name, value in id_fields.items():
                setattr(resident, field_name, value)
    else:
        parsed = pii.id_number_parse(pii.decrypt(resident.id_number_encrypted))
    if gender:
        _choice(gender, Gender, field="gender", label=_("性别"))
    _id_agrees(parsed, birth_date=birth_date, gender=gender)
    # The ID number is the authority: a corrected ID number corrects the birth date and gender with it.
    resident.birth_date = parsed.birth_date
    resident.gender = parsed.gender
    if phone is not None:
        for field_name, value in _phone_fields(phone).items():
            setattr(resident, field_name, value)
    if relation_to_head is not None:
        relation = _choice(relation_to_head, RelationToHead, field="relation_to_head", label=_("与户主关系"))
        _head_check(household, relation, resident)
        if household.head_id == resident.pk and relation != RelationToHead.SELF:
            raise DomainError(
                "resident_is_head",
                _("%(name)s是本户户主。请先在户详情中把其他成员设为户主，再修改此关系。")
                % {"name": resident.name},
                field="relation_to_head",
            )
        resident.relation_to_head = relation
    if status is not None:
        resident.status = _choice(status, ResidentStatus, field="status", label=_("状态"))
    tag_list = _tags(tags, ResidentTagKind) if tags is not None else _resident_tags(resident)
    _resident_save(actor, resident, creating=False)
    if tags is not None:
        _resident_tags_set(resident, tag_list)
    changes = diff_fields(before, _resident_snapshot(resident, tag_list))
    if resident.id_number_hash != old_hash and "id_number" not in changes:
        # A corrected digit in the middle leaves the mask unchanged; the log still says the ID changed.
        changes["id_number"] = [before["id_number"], resident.id_number_masked + _("（已更正）")]
    if changes:
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=resident,
            region_path=household.grid.path,
            changes=changes,
            request=request,
        )
    return resident


@transaction.atomic
def resident_move(
    *,
    actor: AnyUser,
    resident: Resident,
    to_household: Household,
    relation_to_head: str,
    request: HttpRequest | None = None,
) -> Resident:
    """Move `resident` into `to_household` with the relation to its head, and return them.

    Needs the editing role over both households. A head who leaves leaves the old household headless
    (the log says so); a mover who is to be 户主 becomes the new household's head if it has none.
    """
    resident = (
        Resident.objects.select_for_update(of=("self",))
        .select_related("household", "household__grid", "household__grid__parent")
        .get(pk=resident.pk)
    )
    source = resident.household
    _require_editor(actor, source.grid.path)
    target = (
        Household.objects.select_for_update(of=("self",))
        .select_related("grid", "grid__parent")
        .get(pk=to_household.pk)
    )
    _require_editor(actor, target.grid.path)
    if target.pk == source.pk:
        raise DomainError("resident_move_same_household", _("此人已在该户，无需迁移。"), field="to_household")
    relation = _choice(relation_to_head, RelationToHead, field="relation_to_head", label=_("与户主关系"))
    _head_check(target, relation)
    tags = _resident_tags(resident)
    before = _resident_snapshot(resident, tags)
    resident.household = target
    resident.relation_to_head = relation
    resident.save(update_fields=["household", "relation_to_head", "updated_at"])
    changes = diff_fields(before, _resident_snapshot(resident, tags))
    source_path = source.grid.path
    detail = _("从%(from_where)s%(from_number)s户迁入%(to_where)s%(to_number)s户") % {
        "from_where": f"{source.grid.parent.name if source.grid.parent else ''}{source.grid.name}",
        "from_number": source.number,
        "to_where": f"{target.grid.parent.name if target.grid.parent else ''}{target.grid.name}",
        "to_number": target.number,
    }
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=resident,
        region_path=target.grid.path,
        changes=changes,
        detail=detail,
        request=request,
    )
    if source.head_id == resident.pk:
        Household.objects.filter(pk=source.pk).update(head=None)
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=source,
            region_path=source_path,
            changes={"head": [resident.pk, None]},
            detail=_("户主%(name)s已迁出") % {"name": resident.name},
            request=request,
        )
    if relation == RelationToHead.SELF:
        _head_claim_if_vacant(actor, target, resident, request)
    return resident


# ---------------------------------------------------------------------------------------------------------
# Personal data in clear, and exports


def resident_personal_data_reveal(
    *, actor: AnyUser, resident: Resident | int, request: HttpRequest | None = None
) -> PersonalData:
    """The resident's ID number, phone and exact address in clear, for a role that needs them.

    Every attempt is written to the audit log, refusals included, and the entry is committed whatever
    happens next (no surrounding transaction here, so a refusal does not roll its own record back).
    Out of scope answers 404; in scope without a role that sees personal data answers 403. `resident`
    may be the id: callers need not (and from outside the scope cannot) load the row first.
    """
    resident_id = resident.pk if isinstance(resident, Resident) else resident
    found = Resident.objects.select_related("household", "household__grid").filter(pk=resident_id).first()
    if found is None:
        # Probing for ids is worth knowing about too.
        audit_record(
            actor=actor,
            action=AuditAction.VIEW_PERSONAL_DATA,
            object_type=Resident._meta.label_lower,
            object_id=str(resident_id),
            detail=_("拒绝：记录不存在"),
            request=request,
        )
        raise _not_found()
    resident = found
    path = resident.household.grid.path
    in_scope = access.covers(actor, path)
    allowed = in_scope and access.can_view_personal_data(actor, path)
    if allowed:
        detail = _("查看完整个人信息：身份证号、手机号、住址")
    elif in_scope:
        detail = _("拒绝：角色无权查看完整个人信息")
    else:
        detail = _("拒绝：不在管辖范围内")
    audit_record(
        actor=actor,
        action=AuditAction.VIEW_PERSONAL_DATA,
        obj=resident,
        region_path=path,
        detail=detail,
        request=request,
    )
    if not in_scope:
        raise _not_found()
    if not allowed:
        raise DomainError("personal_data_forbidden", _("您的角色不能查看居民的完整个人信息。"), status=403)
    return PersonalData(
        resident_id=resident.pk,
        id_number=pii.decrypt(resident.id_number_encrypted),
        phone=pii.decrypt(resident.phone_encrypted),
        address=resident.household.address,
    )


def people_export_record(
    *,
    actor: AnyUser,
    what: str,
    filters: Mapping[str, Any],
    row_count: int,
    unmasked: bool,
    region_path: str = "",
    request: HttpRequest | None = None,
) -> None:
    """Write the audit entry of an export of households or residents (`what`: "household"/"resident"):
    the filter used, the number of rows and whether personal data went out in clear."""
    labels = {"household": _("户"), "resident": _("居民")}
    detail = (
        _("导出%(what)s名单%(rows)d行（含完整身份证号、手机号、住址）")
        if unmasked
        else _("导出%(what)s名单%(rows)d行（个人信息已遮挡）")
    ) % {"what": labels[what], "rows": row_count}
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type=f"governance.{what}",
        object_repr=str(labels[what]),
        region_path=region_path,
        changes={
            "filters": {k: v for k, v in sorted(filters.items()) if v not in ("", None)},
            "row_count": row_count,
            "unmasked": unmasked,
        },
        detail=detail,
        request=request,
    )

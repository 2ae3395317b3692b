"""Filing a case and moving it through the workflow of grids/workflow.py: one service per transition.

Every transition locks the case row (select_for_update), checks the table (a transition not allowed from
the current state is a 409), the actor (403) and its own rule (400 next to the field), then writes the case,
its timeline entry (CaseEvent), the audit row and the notifications in one transaction — a refusal writes
nothing. The counts that make a case escalate by itself (AUTO_ESCALATE_AFTER re-handlings, or as many
transfers without anyone signing for it) are checked in the same transaction, and the automatic
escalation is a second timeline entry with no actor (the system).

Deadlines come from grids.services.config.time_limit_for and grids.calendar.add_working_days, notifications
from grids.services.notifications.notify; they are imported where used so this module loads on its own.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.errors import Conflict, DomainError
from governance import access
from governance.audit import audit_record, diff_fields
from governance.models import AuditAction, Region, Resident, ResidentStatus, User
from grids.access import FILING_ROLES, case_actor_roles, case_get_visible, cases_visible, grid_leader_grids
from grids.models import (
    Case,
    CaseCategory,
    CaseEvent,
    CasePhoto,
    CaseStatus,
    HandlingLevel,
    HandlingUnit,
    LocationSource,
    PhotoStage,
    Privacy,
    Satisfaction,
    Urgency,
    WarningLevel,
)
from grids.workflow import (
    AUTO_ESCALATE_AFTER,
    FILE,
    FINAL_STATES,
    LEVEL_ROLE,
    OPEN_STATES,
    TRANSITIONS,
    Actor,
    Transition,
    level_above,
)

S = CaseStatus
AnyUser = AbstractBaseUser | AnonymousUser

# Gucheng County's extent with a margin (about 31.9–32.5°N, 111.0–111.9°E): a point outside is a bad fix.
COUNTY_BOUNDS = {"south": 31.80, "north": 32.55, "west": 110.90, "east": 111.95}
DESCRIPTION_MAX = 2000
NOTE_MAX = 2000
IDEMPOTENCY_KEY_MAX = 64

# What a transition that needs a note says when it is missing (field "note").
NOTE_REQUIRED: dict[str, Promise] = {
    "return": gettext_lazy("请填写退回理由。"),
    "resolve": gettext_lazy("请填写办理结果。"),
    "escalate": gettext_lazy("请填写上报提级的理由。"),
    "send_down": gettext_lazy("请填写下派说明。"),
    "not_responsible": gettext_lazy("请填写不属于本级职责的说明。"),
    "withdraw": gettext_lazy("请填写撤回原因。"),
    "follow_up": gettext_lazy("请填写群众不满意的原因。"),
}
AUTO_TRANSFERS_NOTE = gettext_lazy("该诉求连续 %(n)s 次流转无人签收，系统自动上报提级。")
AUTO_REHANDLE_NOTE = gettext_lazy("该诉求已发回重办 %(n)s 次，系统自动上报提级。")

# The fields a transition may change: the audit row records those that did.
_AUDITED = (
    "status",
    "level",
    "handling_region_id",
    "assigned_unit_id",
    "assigned_user_id",
    "assigned_at",
    "sign_deadline",
    "resolve_deadline",
    "signed_on_time",
    "resolved_on_time",
    "satisfaction",
    "rehandle_count",
    "transfer_count",
    "escalation_count",
    "duplicate_of_id",
    "routed_elsewhere_to",
)
# Everything a transition may write (the row is locked, so saving them all loses nothing).
_WRITTEN = [
    *(name.removesuffix("_id") for name in _AUDITED),
    "accepted_at",
    "signed_at",
    "resolved_at",
    "followed_up_at",
    "closed_at",
    "warning",
    "result",
    "updated_at",
]


# ---------------------------------------------------------------------------------------------------------
# Collaborators owned by other areas, imported where used.


def _as_user(actor: AnyUser) -> User:
    """The acting user as a User: the services act for signed-in users only (their gates refuse anyone
    else before this is reached)."""
    assert isinstance(actor, User)
    return actor


def _notify(*, users: Iterable[Any], case: Case, text: str, skip: AnyUser | None = None) -> None:
    from grids.services.notifications import notify

    skip_pk = skip.pk if skip is not None else None
    recipients = [user for user in dict.fromkeys(users) if user is not None and user.pk != skip_pk]
    if recipients:
        notify(users=recipients, case=case, text=text)


def _resident_message(case: Case, transition: str) -> None:
    """The county's reply to the resident for this step (the acknowledgement on filing), when it has one."""
    from grids.services.notifications import resident_message_queue

    resident_message_queue(case=case, transition=transition)


def _deadlines(case: Case, start: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    from grids.calendar import add_working_days
    from grids.services.config import time_limit_for

    sign_days, resolve_days = time_limit_for(case.category, case.urgency)
    return add_working_days(start, sign_days), add_working_days(start, resolve_days)


# ---------------------------------------------------------------------------------------------------------
# Filing


def location_in_county(latitude: Decimal | float, longitude: Decimal | float) -> bool:
    bounds = COUNTY_BOUNDS
    return bounds["south"] <= float(latitude) <= bounds["north"] and (
        bounds["west"] <= float(longitude) <= bounds["east"]
    )


def _number_for(pk: int, filed_at: dt.datetime) -> str:
    """MQ + the local filing date + the row id: unique, sortable by day, short enough to read out."""
    return f"MQ{timezone.localtime(filed_at):%Y%m%d}{pk:06d}"


def _next_case_id() -> int | None:
    """The id the next case row will get, so its number can be written in the same INSERT (PostgreSQL)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [Case._meta.db_table])
        return int(cursor.fetchone()[0])


def _filing_clean(
    *,
    actor: AnyUser,
    idempotency_key: str,
    category: CaseCategory | int,
    description: str,
    urgency: str,
    privacy: str,
    grid: Region | int,
    resident: Resident | int | None,
    latitude: Decimal | float | None,
    longitude: Decimal | float | None,
    address: str,
) -> dict[str, Any]:
    key = (idempotency_key or "").strip()
    if not key or len(key) > IDEMPOTENCY_KEY_MAX:
        raise DomainError(
            "idempotency_key_invalid", _("提交标识无效，请刷新页面后重新提交。"), field="idempotency_key"
        )
    grid_id = grid.pk if isinstance(grid, Region) else grid
    grid_row = grid_leader_grids(actor).filter(pk=grid_id).select_related("parent").first()
    if grid_row is None:
        raise DomainError("case_grid_invalid", _("只能在您负责的网格上报。"), field="grid")
    category_id = category.pk if isinstance(category, CaseCategory) else category
    category_row = (
        CaseCategory.objects.filter(pk=category_id, is_active=True).exclude(parent__is_active=False).first()
    )
    if category_row is None:
        raise DomainError("case_category_invalid", _("请选择有效的类别。"), field="category")
    text = (description or "").strip()
    if not text:
        raise DomainError("case_description_required", _("请填写诉求内容。"), field="description")
    if len(text) > DESCRIPTION_MAX:
        raise DomainError(
            "case_description_too_long",
            _("诉求内容不能超过 %(max)s 字。") % {"max": DESCRIPTION_MAX},
            field="description",
        )
    if urgency not in Urgency.values:
        raise DomainError("case_urgency_invalid", _("请选择紧急程度。"), field="urgency")
    if privacy not in Privacy.values:
        raise DomainError("case_privacy_invalid", _("请选择公开方式。"), field="privacy")
    place = (address or "").strip()
    if len(place) > 200:
        raise DomainError("case_address_too_long", _("地点说明不能超过 200 字。"), field="address")
    if (latitude is None) != (longitude is None):
        raise DomainError(
            "case_location_incomplete", _("定位不完整，请重新定位或清除位置。"), field="location"
        )
    lat = lng = None
    if latitude is not None and longitude is not None:
        try:
            lat = Decimal(str(latitude)).quantize(Decimal("0.000001"))
            lng = Decimal(str(longitude)).quantize(Decimal("0.000001"))
        except ArithmeticError:
            lat = lng = None
        if lat is None or lng is None or not lat.is_finite() or not location_in_county(lat, lng):
            raise DomainError(
                "case_location_outside_county",
                _("该位置不在谷城县范围内，请到现场重新定位，或清除位置后只填网格。"),
                field="location",
            )
    resident_row = None
    if resident is not None:
        resident_id = resident.pk if isinstance(resident, Resident) else resident
        resident_row = Resident.objects.filter(
            pk=resident_id, status=ResidentStatus.RESIDENT, household__grid_id=grid_row.pk
        ).first()
        if resident_row is None:
            raise DomainError("case_resident_invalid", _("只能选择该网格内的在册居民。"), field="resident")
    return {
        "idempotency_key": key,
        "category": category_row,
        "description": text,
        "urgency": urgency,
        "privacy": privacy,
        "grid": grid_row,
        "resident": resident_row,
        "latitude": lat,
        "longitude": lng,
        "address": place,
    }


def _same_filing(case: Case, data: dict[str, Any], level: str) -> bool:
    resident = data["resident"]
    return (
        case.category_id == data["category"].pk
        and case.description == data["description"]
        and case.urgency == data["urgency"]
        and case.privacy == data["privacy"]
        and case.grid_id == data["grid"].pk
        and case.resident_id == (resident.pk if resident is not None else None)
        and case.latitude == data["latitude"]
        and case.longitude == data["longitude"]
        and case.address == data["address"]
        and case.level == level
    )


def _replay(case: Case, data: dict[str, Any], level: str) -> Case:
    if not _same_filing(case, data, level):
        raise Conflict(
            "idempotency_key_reused",
            _("该提交标识已用于另一条不同的诉求，请刷新页面后重新填写。"),
            number=case.number,
        )
    return case


def case_file(
    *,
    actor: AnyUser,
    idempotency_key: str,
    category: CaseCategory | int,
    description: str,
    urgency: str,
    privacy: str,
    grid: Region | int,
    resident: Resident | int | None = None,
    latitude: Decimal | float | None = None,
    longitude: Decimal | float | None = None,
    address: str = "",
    photos: Sequence[Any] = (),
    handle_in_grid: bool = False,
) -> Case:
    """File a case for `resident` (None: the filer's own observation) in `grid`; returns the new case.

    The case lands in the village queue (level VILLAGE, handling region = the grid's village, status
    SUBMITTED) or, with `handle_in_grid`, in the grid's own queue (level GRID). Refuses, next to the field,
    a grid the actor may not file in (grid_leader_grids), an inactive category, an empty description, a
    resident not on the grid's register, a location outside the county, and bad photos (checked and
    re-encoded before anything is written). A replay with the same `idempotency_key` and the same body
    returns the first case unchanged; the same key with a different body is a Conflict (409).
    Writes the case, its "file" timeline entry, the filing photos, an audit row, and notifies the staff
    of the receiving queue.
    """
    data = _filing_clean(
        actor=actor,
        idempotency_key=idempotency_key,
        category=category,
        description=description,
        urgency=urgency,
        privacy=privacy,
        grid=grid,
        resident=resident,
        latitude=latitude,
        longitude=longitude,
        address=address,
    )
    grid_row: Region = data["grid"]
    handling_region: Region | None = grid_row if handle_in_grid else grid_row.parent
    level = HandlingLevel.GRID if handle_in_grid else HandlingLevel.VILLAGE
    assert handling_region is not None  # a grid always has its village

    first = Case.objects.filter(reporter_id=actor.pk, idempotency_key=data["idempotency_key"]).first()
    if first is not None:
        return _replay(first, data, level)

    cleaned_photos = _photos_clean(photos)
    now = timezone.now()
    try:
        with transaction.atomic():
            pk = _next_case_id()
            case = Case(
                pk=pk,
                number=_number_for(pk, now) if pk is not None else f"~{uuid.uuid4().hex[:19]}",
                category=data["category"],
                description=data["description"],
                urgency=data["urgency"],
                privacy=data["privacy"],
                grid=grid_row,
                latitude=data["latitude"],
                longitude=data["longitude"],
                location_source=LocationSource.GPS if data["latitude"] is not None else LocationSource.GRID,
                address=data["address"],
                resident=data["resident"],
                reporter=_as_user(actor),
                idempotency_key=data["idempotency_key"],
                status=S.SUBMITTED,
                level=level,
                handling_region=handling_region,
                filed_at=now,
            )
            case.save(force_insert=True)
            if pk is None:
                case.number = _number_for(case.pk, now)
                Case.objects.filter(pk=case.pk).update(number=case.number)
            event = CaseEvent.objects.create(
                case=case, kind=FILE, from_status="", to_status=S.SUBMITTED, actor_id=actor.pk, at=now
            )
            if cleaned_photos:
                from grids.services.photos import case_photos_attach

                case_photos_attach(
                    case=case,
                    uploads=cleaned_photos,
                    stage=PhotoStage.FILING,
                    actor=_as_user(actor),
                    event=event,
                )
            audit_record(
                actor=actor,
                action=AuditAction.CREATE,
                obj=case,
                region_path=grid_row.path,
                changes={"status": [None, S.SUBMITTED], "level": [None, level]},
                detail=_("上报诉求"),
            )
            _filing_notify(case, actor)
            _resident_message(case, FILE)
    except IntegrityError:
        # A concurrent submit with the same key won the UNIQUE(reporter, idempotency_key) race.
        first = Case.objects.filter(reporter_id=actor.pk, idempotency_key=data["idempotency_key"]).first()
        if first is None:
            raise
        return _replay(first, data, level)
    return case


def _filing_notify(case: Case, actor: AnyUser) -> None:
    _notify(
        users=_level_staff(case),
        case=case,
        text=_("新诉求 %(number)s（%(category)s）待受理。")
        % {"number": case.number, "category": case.category.name},
        skip=actor,
    )


def _photos_clean(photos: Sequence[Any], already: int = 0) -> list[Any]:
    uploads = [photo for photo in photos if photo is not None]
    if not uploads:
        return []
    from grids.services.photos import photos_clean

    return list(photos_clean(uploads, already=already))


# ---------------------------------------------------------------------------------------------------------
# Who is told


def _level_staff(case: Case) -> list[User]:
    """The users holding the role of the case's level at its handling region (the grid's current leader
    account too, for a grid-level case)."""
    role = LEVEL_ROLE[HandlingLevel(case.level)]
    users = list(
        User.objects.filter(
            is_active=True, role_assignments__role=role, role_assignments__region_id=case.handling_region_id
        ).order_by("pk")
    )
    return users


def _handlers(case: Case) -> list[User]:
    users: list[User] = []
    if case.assigned_user_id is not None:
        users.append(User.objects.get(pk=case.assigned_user_id))
    if case.assigned_unit_id is not None:
        users.extend(
            User.objects.filter(is_active=True, handling_units__id=case.assigned_unit_id).order_by("pk")
        )
    return users


def _reporter(case: Case) -> list[User]:
    return list(User.objects.filter(pk=case.reporter_id, is_active=True))


# ---------------------------------------------------------------------------------------------------------
# The transition frame: lock, check, write, record


def _snapshot(case: Case) -> dict[str, Any]:
    return {name: getattr(case, name) for name in _AUDITED}


def _lock(actor: AnyUser | None, case: Case | int) -> Case:
    """The case row locked for update, after checking that `actor` may see it (NotFound otherwise)."""
    pk = case.pk if isinstance(case, Case) else int(case)
    if actor is not None:
        case_get_visible(actor, pk)
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("grid", "handling_region", "category")
        .get(pk=pk)
    )


def _check(
    actor: AnyUser | None,
    case: Case,
    transition: Transition,
    note: str,
    *,
    note_needed: bool = False,
) -> str:
    """Refuse before any write: a state the table does not start from (409), an actor who is none of the
    transition's actors (403), a missing or overlong note (400, field "note"). Returns the trimmed note."""
    if case.status not in transition.sources:
        raise Conflict(
            "case_transition_not_allowed",
            _("该诉求当前状态为“%(status)s”，不能执行“%(action)s”。")
            % {"status": S(case.status).label, "action": transition.label},
            transition=transition.name,
            case_status=case.status,
        )
    if actor is None:
        allowed = Actor.SYSTEM in transition.actors
    else:
        allowed = bool(case_actor_roles(actor, case) & transition.actors)
    if not allowed:
        raise DomainError(
            "case_action_forbidden",
            _("您不能对该诉求执行“%(action)s”。") % {"action": transition.label},
            status=403,
            transition=transition.name,
        )
    text = (note or "").strip()
    if (transition.needs_note or note_needed) and not text:
        raise DomainError("note_required", NOTE_REQUIRED[transition.name], field="note")
    if len(text) > NOTE_MAX:
        raise DomainError("note_too_long", _("说明不能超过 %(max)s 字。") % {"max": NOTE_MAX}, field="note")
    return text


def _record(
    *,
    actor: AnyUser | None,
    case: Case,
    kind: str,
    from_status: str,
    before: dict[str, Any],
    note: str,
    now: dt.datetime,
    is_public: bool,
    data: dict[str, Any] | None = None,
    label: str = "",
) -> CaseEvent:
    """Save the changed case fields, append the timeline entry and the audit row; returns the entry."""
    after = _snapshot(case)
    case.save(update_fields=_WRITTEN)
    event = CaseEvent.objects.create(
        case=case,
        kind=kind,
        from_status=from_status,
        to_status=case.status,
        actor_id=actor.pk if actor is not None else None,
        at=now,
        note=note,
        is_public=is_public,
        data=data or {},
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=case,
        region_path=case.grid.path,
        changes=diff_fields(before, after),
        detail=label or kind,
    )
    return event


def _unassign(case: Case) -> None:
    """Nobody owns the case any more: the clock stops until the next assignment."""
    case.assigned_unit = None
    case.assigned_user = None
    case.sign_deadline = None
    case.resolve_deadline = None
    case.warning = WarningLevel.NONE


def _escalate_write(
    *,
    actor: AnyUser | None,
    case: Case,
    note: str,
    now: dt.datetime,
    data: dict[str, Any] | None = None,
) -> CaseEvent | None:
    """Move the case one level up into that level's queue (SUBMITTED), unowned; returns the timeline
    entry, or None for an automatic escalation of a case already at the county (nowhere to go)."""
    above = level_above(HandlingLevel(case.level))
    parent = case.handling_region.parent if case.handling_region.parent_id else None
    if above is None or parent is None:
        if actor is None:
            return None
        raise Conflict("case_escalate_top", _("该诉求已在县级办理，不能再上报提级。"))
    before = _snapshot(case)
    from_status = case.status
    case.status = S.SUBMITTED
    case.level = HandlingLevel(parent.level)
    case.handling_region = parent
    case.escalation_count += 1
    # A new level starts with a clean count of transfers.
    case.transfer_count = 0
    _unassign(case)
    event = _record(
        actor=actor,
        case=case,
        kind="escalate",
        from_status=from_status,
        before=before,
        note=note,
        now=now,
        is_public=TRANSITIONS["escalate"].is_public,
        data={"to_region": parent.name, "to_level": case.level, "automatic": actor is None, **(data or {})},
        label=str(TRANSITIONS["escalate"].label),
    )
    _resident_message(case, "escalate")
    _notify(
        users=[*_level_staff(case), *_reporter(case)],
        case=case,
        text=_("诉求 %(number)s 已上报提级至%(region)s。") % {"number": case.number, "region": parent.name},
        skip=actor,
    )
    return event


def _auto_escalate_if_due(case: Case, now: dt.datetime) -> None:
    """The rule of the issue: re-handled AUTO_ESCALATE_AFTER times, or passed on that many times without
    anyone signing for it, the case goes one level up by itself, in the same transaction."""
    if case.transfer_count >= AUTO_ESCALATE_AFTER:
        note = str(AUTO_TRANSFERS_NOTE) % {"n": case.transfer_count}
        _escalate_write(actor=None, case=case, note=note, now=now, data={"reason": "transfers"})
    elif case.rehandle_count and case.rehandle_count % AUTO_ESCALATE_AFTER == 0 and case.status == S.REOPENED:
        note = str(AUTO_REHANDLE_NOTE) % {"n": case.rehandle_count}
        _escalate_write(actor=None, case=case, note=note, now=now, data={"reason": "rehandles"})


@dataclass
class _Outcome:
    """What a transition's `apply` decided: the timeline entry's data, who is told what, and work to do
    once the entry exists (photos point at it)."""

    data: dict[str, Any] = field(default_factory=dict)
    users: list[User] = field(default_factory=list)
    message: str = ""
    after: Callable[[CaseEvent], None] | None = None


def _run(
    *,
    actor: AnyUser | None,
    case: Case | int,
    name: str,
    note: str,
    apply: Callable[[Case, str, dt.datetime], _Outcome],
    note_needed: bool = False,
) -> Case:
    """The frame every transition runs in: lock, check (state, actor, note), `apply` (which validates its
    parameters before it changes the case's fields), record, notify, auto-escalate — one transaction."""
    transition = TRANSITIONS[name]
    with transaction.atomic():
        locked = _lock(actor, case)
        text = _check(actor, locked, transition, note, note_needed=note_needed)
        now = timezone.now()
        before = _snapshot(locked)
        from_status = locked.status
        outcome = apply(locked, text, now)
        if transition.target is not None:
            locked.status = transition.target
        event = _record(
            actor=actor,
            case=locked,
            kind=name,
            from_status=from_status,
            before=before,
            note=text,
            now=now,
            is_public=transition.is_public,
            data=outcome.data,
            label=str(transition.label),
        )
        if outcome.after is not None:
            outcome.after(event)
        if outcome.message:
            _notify(users=outcome.users, case=locked, text=outcome.message, skip=actor)
        _resident_message(locked, name)
        if locked.status in FINAL_STATES:
            from grids.services.mediation import mediation_grants_revoke_all

            # A closed case is no longer a mediator's business: their one-case grant ends with it.
            mediation_grants_revoke_all(case=locked, actor=actor)
        _auto_escalate_if_due(locked, now)
        return locked


def _text(case: Case, what: str) -> str:
    return _("诉求 %(number)s：%(what)s") % {"number": case.number, "what": what}


# ---------------------------------------------------------------------------------------------------------
# The transitions


def case_accept(*, actor: AnyUser, case: Case | int, note: str = "") -> Case:
    """受理: SUBMITTED → ACCEPTED by the level's staff; stamps accepted_at; tells the reporter."""

    def apply(c: Case, _note: str, now: dt.datetime) -> _Outcome:
        c.accepted_at = now
        return _Outcome(users=_reporter(c), message=_text(c, _("已受理")))

    return _run(actor=actor, case=case, name="accept", note=note, apply=apply)


def _unit_for(case: Case, unit: HandlingUnit | int | str | None) -> HandlingUnit | None:
    if unit is None or unit == "":
        return None
    unit_id = unit.pk if isinstance(unit, HandlingUnit) else _int_or_none(unit)
    if unit_id is None:
        found = None
    else:
        found = HandlingUnit.objects.filter(pk=unit_id, is_active=True).select_related("region").first()
    # A unit sits on the line from the county down to the case's grid (a county department, the township
    # office, the village committee): a unit of another village has no business with the place.
    if found is None or not case.grid.path.startswith(found.region.path):
        raise DomainError("case_assign_unit_invalid", _("该承办单位不能办理本网格的诉求。"), field="unit")
    return found


def _user_for(case: Case, unit: HandlingUnit | None, user: User | int | str | None) -> User | None:
    if user is None or user == "":
        return None
    user_id = user.pk if isinstance(user, User) else _int_or_none(user)
    found = User.objects.filter(pk=user_id, is_active=True).first() if user_id is not None else None
    if found is None:
        raise DomainError("case_assign_user_invalid", _("该承办人不能办理本网格的诉求。"), field="user")
    if unit is not None:
        if not unit.members.filter(pk=found.pk).exists():
            raise DomainError("case_assign_user_not_member", _("承办人不是该承办单位的人员。"), field="user")
    elif not access.covers(found, case.grid.path, FILING_ROLES):
        raise DomainError("case_assign_user_invalid", _("该承办人不能办理本网格的诉求。"), field="user")
    return found


def _int_or_none(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def case_assign(
    *,
    actor: AnyUser,
    case: Case | int,
    note: str = "",
    unit: HandlingUnit | int | None = None,
    user: User | int | None = None,
) -> Case:
    """派单: to a handling unit and/or a person, from ACCEPTED, RETURNED, REOPENED or ASSIGNED (re-assign).

    The unit must sit on the line from the county to the case's grid; a person alone must hold a filing
    role over the grid; a person with a unit must be its member. Starts the clock: assigned_at = now, sign
    and resolve deadlines = now + the category's time limits in working days; the previous round's
    sign-for and resolution stamps are cleared. Re-assigning a case nobody signed for counts a transfer
    (auto-escalation at AUTO_ESCALATE_AFTER). Notifies the handlers.
    """

    def apply(c: Case, _note: str, now: dt.datetime) -> _Outcome:
        chosen_unit = _unit_for(c, unit)
        chosen_user = _user_for(c, chosen_unit, user)
        if chosen_unit is None and chosen_user is None:
            raise DomainError("case_assign_target_required", _("请选择承办单位或承办人。"), field="unit")
        sign_deadline, resolve_deadline = _deadlines(c, now)
        if c.status == S.ASSIGNED:
            c.transfer_count += 1
        c.assigned_unit = chosen_unit
        c.assigned_user = chosen_user
        c.assigned_at = now
        c.sign_deadline = sign_deadline
        c.resolve_deadline = resolve_deadline
        c.signed_at = c.signed_on_time = None
        c.resolved_at = c.resolved_on_time = None
        c.warning = WarningLevel.NONE
        data = {
            "unit": chosen_unit.name if chosen_unit else "",
            "unit_id": chosen_unit.pk if chosen_unit else None,
            "user_id": chosen_user.pk if chosen_user else None,
            "sign_deadline": sign_deadline.isoformat(),
            "resolve_deadline": resolve_deadline.isoformat(),
        }
        deadline = f"{timezone.localtime(resolve_deadline):%Y-%m-%d %H:%M}"
        message = _text(c, _("已派给您办理，请于 %(deadline)s 前办结。") % {"deadline": deadline})
        return _Outcome(data=data, users=_handlers(c), message=message)

    return _run(actor=actor, case=case, name="assign", note=note, apply=apply)


def case_sign_for(*, actor: AnyUser, case: Case | int, note: str = "") -> Case:
    """签收: ASSIGNED → SIGNED by the handler, who becomes the owner if the case went to a unit. Records
    whether it was on time against the sign deadline; the transfer count starts again."""

    def apply(c: Case, _note: str, now: dt.datetime) -> _Outcome:
        c.signed_at = now
        c.signed_on_time = now <= c.sign_deadline if c.sign_deadline is not None else None
        c.transfer_count = 0
        if c.assigned_user_id is None:
            c.assigned_user = _as_user(actor)
        return _Outcome(
            data={"on_time": c.signed_on_time}, users=_level_staff(c), message=_text(c, _("承办人已签收"))
        )

    return _run(actor=actor, case=case, name="sign_for", note=note, apply=apply)


def case_return(*, actor: AnyUser, case: Case | int, note: str = "") -> Case:
    """退回 (reason required): ASSIGNED or SIGNED → RETURNED to the level's queue, unowned. Counts a
    transfer (auto-escalation at AUTO_ESCALATE_AFTER). Notifies the level's staff."""

    def apply(c: Case, _note: str, now: dt.datetime) -> _Outcome:
        data = {"unit_id": c.assigned_unit_id, "user_id": c.assigned_user_id}
        c.transfer_count += 1
        _unassign(c)
        return _Outcome(data=data, users=_level_staff(c), message=_text(c, _("被承办人退回，请重新派单")))

    return _run(actor=actor, case=case, name="return", note=note, apply=apply)


def case_start(*, actor: AnyUser, case: Case | int, note: str = "") -> Case:
    """开始处置: SIGNED → IN_PROGRESS by the handler. Tells the reporter."""

    def apply(c: Case, _note: str, now: dt.datetime) -> _Outcome:
        return _Outcome(users=_reporter(c), message=_text(c, _("已开始处置")))

    return _run(actor=actor, case=case, name="start", note=note, apply=apply)


def case_resolve(
    *,
    actor: AnyUser,
    case: Case | int,
    note: str = "",
    result: str = "",
    photos: Sequence[Any] = (),
) -> Case:
    """办结 (note required): SIGNED or IN_PROGRESS → RESOLVED by the handler, with the result (`result`, or
    the note) and result photos (checked and re-encoded before anything is written). Records whether it
    was on time against the resolve deadline. Tells the reporter and the level's staff, who follow up."""

    def apply(c: Case, text: str, now: dt.datetime) -> _Outcome:
        outcome = (result or "").strip() or text
        if len(outcome) > DESCRIPTION_MAX:
            raise DomainError(
                "case_result_too_long",
                _("办理结果不能超过 %(max)s 字。") % {"max": DESCRIPTION_MAX},
                field="result",
            )
        already = CasePhoto.objects.filter(case_id=c.pk, stage=PhotoStage.RESULT).count()
        cleaned = _photos_clean(photos, already=already)
        c.result = outcome
        c.resolved_at = now
        c.resolved_on_time = now <= c.resolve_deadline if c.resolve_deadline is not None else None
        c.warning = WarningLevel.NONE

        def attach(event: CaseEvent) -> None:
            if cleaned:
                from grids.services.photos import case_photos_attach

                case_photos_attach(
                    case=c, uploads=cleaned, stage=PhotoStage.RESULT, actor=_as_user(actor), event=event
                )

        return _Outcome(
            data={"on_time": c.resolved_on_time, "photos": len(cleaned)},
            users=[*_reporter(c), *_level_staff(c)],
            message=_text(c, _("已办结，请回访")),
            after=attach,
        )

    return _run(actor=actor, case=case, name="resolve", note=note, apply=apply)


def case_follow_up(*, actor: AnyUser, case: Case | int, note: str = "", satisfaction: str = "") -> Case:
    """回访: RESOLVED → FOLLOWED_UP when the resident is satisfied or basically satisfied; unsatisfied (a
    reason required) → REOPENED for re-handling (发回重办), counting a re-handling — the case escalates by
    itself when the count reaches a multiple of AUTO_ESCALATE_AFTER. By the level's staff or the reporter."""

    def apply(c: Case, _note: str, now: dt.datetime) -> _Outcome:
        if satisfaction not in Satisfaction.values:
            raise DomainError("case_satisfaction_required", _("请选择群众满意度。"), field="satisfaction")
        c.satisfaction = satisfaction
        c.followed_up_at = now
        data = {"satisfaction": satisfaction}
        if satisfaction == Satisfaction.UNSATISFIED:
            c.status = S.REOPENED
            c.rehandle_count += 1
            c.warning = WarningLevel.NONE
            users = [*_level_staff(c), *_handlers(c)]
            return _Outcome(data=data, users=users, message=_text(c, _("群众不满意，发回重办")))
        c.status = S.FOLLOWED_UP
        label = Satisfaction(satisfaction).label
        return _Outcome(data=data, users=_handlers(c), message=_text(c, _("回访结果：%(s)s") % {"s": label}))

    return _run(
        actor=actor,
        case=case,
        name="follow_up",
        note=note,
        apply=apply,
        note_needed=satisfaction == Satisfaction.UNSATISFIED,
    )


def case_archive(*, actor: AnyUser, case: Case | int, note: str = "") -> Case:
    """归档: FOLLOWED_UP → CLOSED by the level's staff; stamps closed_at."""

    def apply(c: Case, _note: str, now: dt.datetime) -> _Outcome:
        c.closed_at = now
        return _Outcome(users=_reporter(c), message=_text(c, _("已归档")))

    return _run(actor=actor, case=case, name="archive", note=note, apply=apply)


def case_escalate(*, actor: AnyUser | None, case: Case | int, note: str = "") -> Case:
    """上报提级 (reason required): from a queue state one level up (grid → village → township → county),
    into that level's queue (SUBMITTED) at the parent of the handling region, unowned. Refused at the
    county (409). `actor` None is the system."""
    with transaction.atomic():
        locked = _lock(actor, case)
        text = _check(actor, locked, TRANSITIONS["escalate"], note)
        _escalate_write(actor=actor, case=locked, note=text, now=timezone.now())
        return locked


def case_send_down(
    *, actor: AnyUser, case: Case | int, note: str = "", region: Region | int | None = None
) -> Case:
    """下派 (note required): from a queue state to a region strictly below the handling region on the way
    to the case's grid (its village, or the grid itself), accepted there; unowned."""

    def apply(c: Case, _note: str, now: dt.datetime) -> _Outcome:
        region_id = region.pk if isinstance(region, Region) else _int_or_none(region)
        target = Region.objects.filter(pk=region_id).first() if region_id is not None else None
        here = c.handling_region.path
        if (
            target is None
            or target.path == here
            or not target.path.startswith(here)
            or not c.grid.path.startswith(target.path)
        ):
            raise DomainError(
                "case_send_down_region_invalid",
                _("只能下派到本级以下、该诉求所在网格所属的区域。"),
                field="region",
            )
        c.level = HandlingLevel(target.level)
        c.handling_region = target
        c.accepted_at = now
        _unassign(c)
        message = _text(c, _("已下派至%(region)s，请办理") % {"region": target.name})
        return _Outcome(
            data={"to_region": target.name, "to_level": c.level}, users=_level_staff(c), message=message
        )

    return _run(actor=actor, case=case, name="send_down", note=note, apply=apply)


def case_mark_duplicate(
    *, actor: AnyUser, case: Case | int, note: str = "", original: Case | int | None = None
) -> Case:
    """标记重复: SUBMITTED or ACCEPTED → DUPLICATE of `original`, another open case the actor can see.
    Tells the reporter."""

    def apply(c: Case, _note: str, now: dt.datetime) -> _Outcome:
        original_id = original.pk if isinstance(original, Case) else _int_or_none(original)
        found = None
        if original_id is not None and original_id != c.pk:
            found = cases_visible(actor).filter(pk=original_id, status__in=OPEN_STATES).first()
        if found is None:
            raise DomainError(
                "case_duplicate_original_invalid",
                _("请选择一件您能查看、尚未办结的其他诉求作为原件。"),
                field="original",
            )
        c.duplicate_of = found
        message = _text(c, _("与诉求 %(original)s 重复，合并办理") % {"original": found.number})
        return _Outcome(
            data={"original": found.number, "original_id": found.pk}, users=_reporter(c), message=message
        )

    return _run(actor=actor, case=case, name="mark_duplicate", note=note, apply=apply)


def case_not_responsible(*, actor: AnyUser, case: Case | int, note: str = "", routed_to: str = "") -> Case:
    """非职责范围 (note required): SUBMITTED, ACCEPTED or RETURNED → NOT_RESPONSIBLE, naming where the
    resident was sent instead (`routed_to`). Tells the reporter."""

    def apply(c: Case, _note: str, now: dt.datetime) -> _Outcome:
        where = (routed_to or "").strip()
        if not where:
            raise DomainError("case_routed_to_required", _("请填写转办去向。"), field="routed_to")
        if len(where) > 100:
            raise DomainError("case_routed_to_too_long", _("转办去向不能超过 100 字。"), field="routed_to")
        c.routed_elsewhere_to = where
        _unassign(c)
        message = _text(c, _("不属于本级职责，已告知转至%(where)s") % {"where": where})
        return _Outcome(data={"routed_to": where}, users=_reporter(c), message=message)

    return _run(actor=actor, case=case, name="not_responsible", note=note, apply=apply)


def case_withdraw(*, actor: AnyUser, case: Case | int, note: str = "") -> Case:
    """撤回 (reason required): the reporter withdraws an open case → WITHDRAWN, unowned. Tells the
    handlers and the level's staff."""

    def apply(c: Case, _note: str, now: dt.datetime) -> _Outcome:
        users = [*_handlers(c), *_level_staff(c)]
        _unassign(c)
        return _Outcome(users=users, message=_text(c, _("上报人已撤回")))

    return _run(actor=actor, case=case, name="withdraw", note=note, apply=apply)


_SERVICES: dict[str, Callable[..., Case]] = {
    "accept": case_accept,
    "assign": case_assign,
    "sign_for": case_sign_for,
    "return": case_return,
    "start": case_start,
    "resolve": case_resolve,
    "follow_up": case_follow_up,
    "archive": case_archive,
    "escalate": case_escalate,
    "send_down": case_send_down,
    "mark_duplicate": case_mark_duplicate,
    "not_responsible": case_not_responsible,
    "withdraw": case_withdraw,
}
# The parameters each transition takes besides the note.
TRANSITION_PARAMS: dict[str, tuple[str, ...]] = {
    "assign": ("unit", "user"),
    "resolve": ("result", "photos"),
    "follow_up": ("satisfaction",),
    "send_down": ("region",),
    "mark_duplicate": ("original",),
    "not_responsible": ("routed_to",),
}
assert set(_SERVICES) == set(TRANSITIONS), "every transition of the table has its service"


def case_transition(*, actor: AnyUser, case: Case | int, name: str, note: str = "", **params: Any) -> Case:
    """Take the transition `name` on `case` (one of grids.workflow.TRANSITIONS); returns the case as it is
    afterwards. Unknown names and parameters the transition does not take are refused (400)."""
    service = _SERVICES.get(name)
    if service is None:
        raise DomainError("case_transition_unknown", _("未知的办理操作。"), field="name")
    unknown = sorted(set(params) - set(TRANSITION_PARAMS.get(name, ())))
    if unknown:
        raise DomainError(
            "case_transition_params_invalid",
            _("该操作不接受参数：%(names)s。") % {"names": "、".join(unknown)},
            field="params",
        )
    return service(actor=actor, case=case, note=note, **params)


# ---------------------------------------------------------------------------------------------------------
# Notes


NOTE_ROLES = frozenset({Actor.LEVEL, Actor.HANDLER, Actor.REPORTER})


def case_note_add(*, actor: AnyUser, case: Case | int, note: str, is_public: bool = False) -> CaseEvent:
    """Add a note to the case's timeline (not public unless `is_public`: a public note shows on the
    public timeline of a public case, so it must not carry personal data). By the level's staff, the
    handler, the reporter, or the mediator granted the case; returns the new entry."""
    from grids.access import is_mediator_of

    with transaction.atomic():
        locked = _lock(actor, case)
        if not (case_actor_roles(actor, locked) & NOTE_ROLES) and not is_mediator_of(actor, locked):
            raise DomainError("case_action_forbidden", _("您不能为该诉求添加记录。"), status=403)
        text = (note or "").strip()
        if not text:
            raise DomainError("note_required", _("请填写记录内容。"), field="note")
        if len(text) > NOTE_MAX:
            raise DomainError(
                "note_too_long", _("说明不能超过 %(max)s 字。") % {"max": NOTE_MAX}, field="note"
            )
        event = CaseEvent.objects.create(
            case=locked,
            kind="note",
            from_status=locked.status,
            to_status=locked.status,
            actor_id=actor.pk,
            at=timezone.now(),
            note=text,
            is_public=bool(is_public) and locked.privacy == Privacy.PUBLIC,
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            object_type="grids.caseevent",
            object_id=str(event.pk),
            object_repr=f"{locked.number} 记录",
            region_path=locked.grid.path,
            detail=_("添加办理记录"),
        )
        return event

"""Deadlines of cases being handled: the warnings the beat task raises, supervision (督办) by a higher
level, and extension requests (延期申请).

Warning rules (docs/grids.md, "Deadlines"), for a case in CLOCK_STATES:
- the sign deadline counts while the case is ASSIGNED (nobody signed for it yet), the resolve deadline
  while it is ASSIGNED, SIGNED or IN_PROGRESS;
- red (超期) once now is past the deadline;
- yellow (临期) from 00:00 of the first of the last K working days up to the deadline, K = max(1, ⌈N/5⌉)
  where N is the working days from the clock start (assignment) to the deadline — the last working day,
  or the last 20% of the time allowed when that is longer (3 days of a 15-day limit);
- the case's `warning` is the worse of the two.
Each new (case, kind, deadline) warning writes one CaseSupervision (UNIQUE: a rerun of the task, or a
second worker, never raises it twice), one timeline entry and notifications to the handler and the
staff of the level above the case's handling region. A warning that no longer applies (signed in time,
deadline extended) is lowered silently.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from common.errors import Conflict, DomainError, NotFound
from governance import access
from governance.audit import audit_record
from governance.models import AuditAction, Region, User
from grids.access import case_actor_roles, case_get_visible
from grids.calendar import WorkCalendar, day_start, local_date
from grids.models import (
    Case,
    CaseEvent,
    CaseExtension,
    CaseStatus,
    CaseSupervision,
    ExtensionStatus,
    HandlingLevel,
    SupervisionKind,
    WarningLevel,
)
from grids.services.notifications import notify
from grids.workflow import CLOCK_STATES, LEVEL_ORDER, LEVEL_ROLE, OPEN_STATES, Actor, level_above

AnyUser = AbstractBaseUser | AnonymousUser
S = CaseStatus
EXTENSION_MAX_DAYS = 30
REASON_MAX = 500
NOTE_MAX = 500
# Extensions are asked for while the case is being handled (signed for or in progress).
EXTENSION_STATES = frozenset({S.SIGNED, S.IN_PROGRESS})
_RANK = {WarningLevel.NONE: 0, WarningLevel.YELLOW: 1, WarningLevel.RED: 2}


# ---------------------------------------------------------------------------------------------------------
# Computing warnings


def nearing_from(clock_start: dt.datetime, deadline: dt.datetime, calendar: WorkCalendar) -> dt.datetime:
    """The moment a deadline turns yellow: 00:00 of the first of its last K working days (module
    docstring); never before `clock_start`."""
    allowed = calendar.working_days_between(clock_start, deadline)
    last_days = max(1, math.ceil(allowed / 5))
    first_of_last = calendar.nth_workday_before(local_date(deadline) + dt.timedelta(days=1), last_days)
    return max(day_start(first_of_last), clock_start)


def deadline_level(
    *, now: dt.datetime, clock_start: dt.datetime, deadline: dt.datetime, calendar: WorkCalendar
) -> WarningLevel:
    """RED past the deadline, YELLOW from nearing_from, NONE before."""
    if now > deadline:
        return WarningLevel.RED
    if now >= nearing_from(clock_start, deadline, calendar):
        return WarningLevel.YELLOW
    return WarningLevel.NONE


@dataclass(frozen=True)
class DeadlineState:
    """One deadline of a case and its level now: `which` is "sign" or "resolve"."""

    which: str
    deadline: dt.datetime
    level: WarningLevel


def case_deadline_states(case: Case, *, now: dt.datetime, calendar: WorkCalendar) -> list[DeadlineState]:
    """The deadlines that count for `case` now (module docstring) with their levels; [] outside
    CLOCK_STATES."""
    if case.status not in CLOCK_STATES:
        return []
    clock_start = case.assigned_at or case.filed_at
    states: list[DeadlineState] = []
    if case.status == S.ASSIGNED and case.sign_deadline is not None:
        level = deadline_level(
            now=now, clock_start=clock_start, deadline=case.sign_deadline, calendar=calendar
        )
        states.append(DeadlineState("sign", case.sign_deadline, level))
    if case.resolve_deadline is not None:
        level = deadline_level(
            now=now, clock_start=clock_start, deadline=case.resolve_deadline, calendar=calendar
        )
        states.append(DeadlineState("resolve", case.resolve_deadline, level))
    return states


def _worst(states: Iterable[DeadlineState]) -> WarningLevel:
    worst = WarningLevel.NONE
    for state in states:
        if _RANK[state.level] > _RANK[worst]:
            worst = state.level
    return worst


# ---------------------------------------------------------------------------------------------------------
# Who is told


def _handlers(case: Case) -> list[User]:
    users: list[User] = []
    if case.assigned_user_id is not None:
        users.extend(User.objects.filter(pk=case.assigned_user_id, is_active=True))
    if case.assigned_unit_id is not None:
        users.extend(
            User.objects.filter(is_active=True, handling_units__id=case.assigned_unit_id).order_by("pk")
        )
    return users


def _staff_at(level: HandlingLevel, region_id: int) -> list[User]:
    return list(
        User.objects.filter(
            is_active=True, role_assignments__role=LEVEL_ROLE[level], role_assignments__region_id=region_id
        )
        .distinct()
        .order_by("pk")
    )


def level_staff(case: Case) -> list[User]:
    """Staff of the level whose queue holds the case (its role at the handling region)."""
    return _staff_at(HandlingLevel(case.level), case.handling_region_id)


def level_above_staff(case: Case) -> list[User]:
    """Staff of the level above the case's handling region: the role of the next level up held at the
    handling region's parent (the township admins for a village's case). A county-level case has no
    level above; its own county admins are told."""
    above = level_above(HandlingLevel(case.level))
    region = Region.objects.only("parent_id").get(pk=case.handling_region_id)
    if above is None or region.parent_id is None:
        return _staff_at(HandlingLevel.COUNTY, case.handling_region_id)
    return _staff_at(above, region.parent_id)


# ---------------------------------------------------------------------------------------------------------
# The beat task's work


def deadlines_check(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Recomputes the warning of every case in CLOCK_STATES and raises the new ones (module docstring);
    returns counts {"checked", "raised", "lowered", "notified"}. Idempotent: a second run at the same
    moment changes nothing. Cases are read in one query; only those whose warning changes or that owe a
    supervision row are locked and written, each in its own transaction."""
    now = now or timezone.now()
    rows = list(
        Case.objects.filter(status__in=CLOCK_STATES)
        .exclude(sign_deadline__isnull=True, resolve_deadline__isnull=True)
        .only("pk", "status", "assigned_at", "filed_at", "sign_deadline", "resolve_deadline", "warning")
        .order_by("pk")
    )
    counts = {"checked": len(rows), "raised": 0, "lowered": 0, "notified": 0}
    if not rows:
        return counts
    earliest = min(local_date(row.assigned_at or row.filed_at) for row in rows)
    latest = max(
        local_date(deadline)
        for row in rows
        for deadline in (row.sign_deadline, row.resolve_deadline)
        if deadline
    )
    calendar = WorkCalendar.for_span(min(earliest, local_date(now)), max(latest, local_date(now)))
    due: dict[int, list[DeadlineState]] = {}
    for row in rows:
        states = case_deadline_states(row, now=now, calendar=calendar)
        due[row.pk] = states
    raised_keys = _raised(
        [pk for pk, states in due.items() if any(s.level != WarningLevel.NONE for s in states)]
    )
    for row in rows:
        states = due[row.pk]
        wanted = _worst(states)
        missing = [
            state
            for state in states
            if state.level != WarningLevel.NONE
            and (row.pk, state.level.value, state.deadline) not in raised_keys
        ]
        if wanted == row.warning and not missing:
            continue
        outcome = _case_warnings_apply(case_id=row.pk, now=now, calendar=calendar)
        for key in ("raised", "lowered", "notified"):
            counts[key] += outcome[key]
    return counts


def _raised(case_ids: list[int]) -> set[tuple[int, str, dt.datetime]]:
    if not case_ids:
        return set()
    return set(
        CaseSupervision.objects.filter(case_id__in=case_ids)
        .exclude(kind=SupervisionKind.MANUAL)
        .values_list("case_id", "kind", "deadline")
    )


def _case_warnings_apply(*, case_id: int, now: dt.datetime, calendar: WorkCalendar) -> dict[str, int]:
    """Under the case's row lock: recompute, write the missing supervision rows with their timeline
    entries and notifications, set the warning. Returns counts."""
    counts = {"raised": 0, "lowered": 0, "notified": 0}
    with transaction.atomic():
        case = (
            Case.objects.select_for_update(of=("self",))
            .select_related("grid", "category")
            .filter(pk=case_id)
            .first()
        )
        if case is None:
            return counts
        states = case_deadline_states(case, now=now, calendar=calendar)
        wanted = _worst(states)
        existing = set(
            CaseSupervision.objects.filter(case=case)
            .exclude(kind=SupervisionKind.MANUAL)
            .values_list("kind", "deadline")
        )
        new: dict[tuple[str, dt.datetime], DeadlineState] = {}
        for state in states:
            key = (state.level.value, state.deadline)
            if state.level != WarningLevel.NONE and key not in existing:
                # Sign and resolve deadlines can coincide (a 1-day critical case): one row for the moment.
                new.setdefault(key, state)
        for (kind, deadline), state in new.items():
            supervision = CaseSupervision.objects.create(
                case=case,
                kind=kind,
                deadline=deadline,
                raised_at=now,
                raised_by=None,
                note=_warning_text(state),
            )
            CaseEvent.objects.create(
                case=case,
                kind="warning",
                from_status=case.status,
                to_status=case.status,
                actor=None,
                at=now,
                note=_warning_text(state),
                is_public=False,
                data={
                    "level": state.level.value,
                    "deadline_kind": state.which,
                    "deadline": deadline.isoformat(),
                    "supervision_id": supervision.pk,
                },
            )
            counts["raised"] += 1
            counts["notified"] += notify(
                users=[*_handlers(case), *level_above_staff(case)],
                case=case,
                text=_("诉求 %(number)s：%(what)s") % {"number": case.number, "what": _warning_text(state)},
            )
        old = case.warning
        if wanted != old:
            Case.objects.filter(pk=case.pk).update(warning=wanted, updated_at=now)
            if _RANK[WarningLevel(wanted)] < _RANK[WarningLevel(old)]:
                counts["lowered"] += 1
            audit_record(
                actor=None,
                action=AuditAction.UPDATE,
                obj=case,
                region_path=case.grid.path,
                changes={"warning": [old, wanted.value]},
                detail=_("时限预警"),
            )
    return counts


def _warning_text(state: DeadlineState) -> str:
    deadline = f"{timezone.localtime(state.deadline):%m月%d日 %H:%M}"
    if state.which == "sign":
        if state.level == WarningLevel.RED:
            return _("已超过签收期限（%(deadline)s），请立即签收。") % {"deadline": deadline}
        return _("临近签收期限（%(deadline)s），请尽快签收。") % {"deadline": deadline}
    if state.level == WarningLevel.RED:
        return _("已超过办结期限（%(deadline)s），请抓紧办理。") % {"deadline": deadline}
    return _("临近办结期限（%(deadline)s），请按时办结。") % {"deadline": deadline}


def case_warning_refresh(case: Case, *, now: dt.datetime | None = None) -> WarningLevel:
    """Sets the locked `case`'s warning to what its deadlines say now, lowering only (raising is the
    beat task's, with its supervision rows); returns the warning. For services holding the row lock."""
    now = now or timezone.now()
    states = case_deadline_states(case, now=now, calendar=WorkCalendar())
    wanted = _worst(states)
    if _RANK[wanted] < _RANK[WarningLevel(case.warning)]:
        case.warning = wanted
    return WarningLevel(case.warning)


# ---------------------------------------------------------------------------------------------------------
# Supervision by a higher level (督办)


def can_supervise(user: AnyUser, case: Case) -> bool:
    """Whether `user` staffs a level above the case's handling region (a role of a higher level held at
    the handling region's parent or further up) and the case is still open."""
    if case.status not in OPEN_STATES or not user.is_authenticated:
        return False
    region = Region.objects.only("path", "parent_id").get(pk=case.handling_region_id)
    if region.parent_id is None:
        return False
    parent_path = Region.objects.only("path").get(pk=region.parent_id).path
    rank = LEVEL_ORDER.index(HandlingLevel(case.level))
    roles = frozenset(LEVEL_ROLE[level] for level in LEVEL_ORDER[rank + 1 :])
    return any(parent_path.startswith(path) for role, path in access.assignments(user) if role in roles)


def case_supervise(*, actor: AnyUser, case: Case | int, note: str, idempotency_key: str) -> CaseSupervision:
    """督办 by a higher level: a manual CaseSupervision on the open case with the actor's instructions, a
    timeline entry, notifications to the handler (or the level's staff while nobody handles it).
    Out of scope: 404; not above the case's level: 403; a replay of `idempotency_key` returns the
    first supervision."""
    pk = case.pk if isinstance(case, Case) else int(case)
    case_get_visible(actor, pk)
    text = (note or "").strip()
    key = (idempotency_key or "").strip()[:64]
    if not key:
        raise DomainError("idempotency_key_required", _("缺少防重复提交标识，请刷新页面后重试。"))
    with transaction.atomic():
        locked = Case.objects.select_for_update(of=("self",)).select_related("grid").get(pk=pk)
        replay = _replayed(locked, actor, "supervise", key)
        if replay is not None:
            return CaseSupervision.objects.get(pk=replay.data["supervision_id"])
        if locked.status not in OPEN_STATES:
            raise Conflict("case_supervise_closed", _("该诉求已办结或已结束，无需督办。"))
        if not can_supervise(actor, locked):
            raise DomainError("case_supervise_forbidden", _("只有上级可以督办该诉求。"), status=403)
        if not text:
            raise DomainError("supervise_note_required", _("请填写督办意见。"), field="note")
        if len(text) > NOTE_MAX:
            raise DomainError(
                "note_too_long", _("督办意见不能超过 %(max)s 字。") % {"max": NOTE_MAX}, field="note"
            )
        now = timezone.now()
        supervision = CaseSupervision.objects.create(
            case=locked,
            kind=SupervisionKind.MANUAL,
            deadline=locked.resolve_deadline or now,
            raised_at=now,
            raised_by_id=actor.pk,
            note=text,
        )
        CaseEvent.objects.create(
            case=locked,
            kind="supervise",
            from_status=locked.status,
            to_status=locked.status,
            actor_id=actor.pk,
            at=now,
            note=text,
            is_public=False,
            data={"supervision_id": supervision.pk, "idempotency_key": key},
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=supervision,
            region_path=locked.grid.path,
            changes={"kind": [None, SupervisionKind.MANUAL], "note": [None, text]},
            detail=_("督办"),
        )
        told = _handlers(locked) or level_staff(locked)
        notify(
            users=[user for user in told if user.pk != actor.pk],
            case=locked,
            text=_("诉求 %(number)s 被上级督办：%(note)s") % {"number": locked.number, "note": text},
        )
    return supervision


def _replayed(case: Case, actor: AnyUser, kind: str, key: str) -> CaseEvent | None:
    return CaseEvent.objects.filter(
        case=case, kind=kind, actor_id=actor.pk, data__idempotency_key=key
    ).first()


# ---------------------------------------------------------------------------------------------------------
# Extension requests (延期申请)


def case_extension_request(
    *, actor: AnyUser, case: Case | int, days: int | None, reason: str, idempotency_key: str
) -> CaseExtension:
    """The handler asks for `days` (1–30) more working days with a reason, while the case is signed for
    or in progress; one pending request per case (Conflict otherwise). Tells the level's staff. A replay
    of `idempotency_key` returns the first request."""
    pk = case.pk if isinstance(case, Case) else int(case)
    case_get_visible(actor, pk)
    key = (idempotency_key or "").strip()[:64] or uuid.uuid4().hex
    with transaction.atomic():
        locked = (
            Case.objects.select_for_update(of=("self",)).select_related("grid", "handling_region").get(pk=pk)
        )
        replay = _replayed(locked, actor, "extension_request", key)
        if replay is not None:
            return CaseExtension.objects.get(pk=replay.data["extension_id"])
        if Actor.HANDLER not in case_actor_roles(actor, locked):
            raise DomainError("extension_forbidden", _("只有承办人可以申请延期。"), status=403)
        if locked.status not in EXTENSION_STATES or locked.resolve_deadline is None:
            raise Conflict("extension_state", _("诉求签收后、办结前才能申请延期。"))
        if CaseExtension.objects.filter(case=locked, status=ExtensionStatus.PENDING).exists():
            raise Conflict("extension_pending", _("已有一份延期申请在审批中，请等待审批结果。"))
        if days is None or not 1 <= int(days) <= EXTENSION_MAX_DAYS:
            raise DomainError(
                "extension_days_range",
                _("延长天数应为 1 至 %(max)s 个工作日。") % {"max": EXTENSION_MAX_DAYS},
                field="days",
            )
        text = (reason or "").strip()
        if not text:
            raise DomainError("extension_reason_required", _("请填写延期理由。"), field="reason")
        if len(text) > REASON_MAX:
            raise DomainError(
                "extension_reason_too_long",
                _("延期理由不能超过 %(max)s 字。") % {"max": REASON_MAX},
                field="reason",
            )
        now = timezone.now()
        assert actor.pk is not None  # case_get_visible refused anyone not signed in
        extension = CaseExtension.objects.create(
            case=locked, days=int(days), reason=text, requested_by_id=actor.pk, requested_at=now
        )
        CaseEvent.objects.create(
            case=locked,
            kind="extension_request",
            from_status=locked.status,
            to_status=locked.status,
            actor_id=actor.pk,
            at=now,
            note=text,
            is_public=False,
            data={"extension_id": extension.pk, "days": extension.days, "idempotency_key": key},
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=extension,
            region_path=locked.grid.path,
            changes={"days": [None, extension.days], "reason": [None, text]},
            detail=_("申请延期"),
        )
        notify(
            users=[user for user in level_staff(locked) if user.pk != actor.pk],
            case=locked,
            text=_("诉求 %(number)s 申请延期 %(days)s 个工作日，请审批。")
            % {"number": locked.number, "days": extension.days},
        )
    return extension


def case_extension_decide(
    *, actor: AnyUser, extension: CaseExtension | int, approve: bool, note: str = ""
) -> CaseExtension:
    """The level that holds the case (its staff or anyone above) approves or rejects a pending request;
    a rejection needs a reason. Approval pushes resolve_deadline by the days asked, counted in working
    days from the current deadline, and lowers a warning that no longer applies. Tells the requester."""
    from grids.calendar import add_working_days

    ext_pk = extension.pk if isinstance(extension, CaseExtension) else int(extension)
    case_id = CaseExtension.objects.filter(pk=ext_pk).values_list("case_id", flat=True).first()
    if case_id is None:
        raise NotFound(_("未找到该延期申请。"))
    case_get_visible(actor, case_id)
    text = (note or "").strip()
    with transaction.atomic():
        locked = (
            Case.objects.select_for_update(of=("self",))
            .select_related("grid", "handling_region")
            .get(pk=case_id)
        )
        row = CaseExtension.objects.select_for_update().get(pk=ext_pk)
        if row.status != ExtensionStatus.PENDING:
            raise Conflict("extension_decided", _("该延期申请已审批，不能重复审批。"))
        if Actor.LEVEL not in case_actor_roles(actor, locked):
            raise DomainError("extension_decide_forbidden", _("只有派单的一级可以审批延期申请。"), status=403)
        if not approve and not text:
            raise DomainError("extension_note_required", _("不同意延期时请填写理由。"), field="decision_note")
        if len(text) > NOTE_MAX:
            raise DomainError(
                "note_too_long", _("审批意见不能超过 %(max)s 字。") % {"max": NOTE_MAX}, field="decision_note"
            )
        if approve and (locked.status not in CLOCK_STATES or locked.resolve_deadline is None):
            raise Conflict("extension_state", _("该诉求已不在办理中，不能再延期。"))
        now = timezone.now()
        before = {"status": row.status, "resolve_deadline": locked.resolve_deadline}
        row.status = ExtensionStatus.APPROVED if approve else ExtensionStatus.REJECTED
        row.decided_by_id = actor.pk
        row.decided_at = now
        row.decision_note = text
        row.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        data: dict[str, Any] = {"extension_id": row.pk, "approved": approve, "days": row.days}
        if approve:
            assert locked.resolve_deadline is not None
            old_deadline = locked.resolve_deadline
            locked.resolve_deadline = add_working_days(old_deadline, row.days)
            case_warning_refresh(locked, now=now)
            locked.save(update_fields=["resolve_deadline", "warning", "updated_at"])
            data["resolve_deadline"] = [old_deadline.isoformat(), locked.resolve_deadline.isoformat()]
        CaseEvent.objects.create(
            case=locked,
            kind="extension_decide",
            from_status=locked.status,
            to_status=locked.status,
            actor_id=actor.pk,
            at=now,
            note=text,
            is_public=False,
            data=data,
        )
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=row,
            region_path=locked.grid.path,
            changes={
                "status": [before["status"], row.status],
                "resolve_deadline": [str(before["resolve_deadline"]), str(locked.resolve_deadline)],
            },
            detail=_("延期审批"),
        )
        deadline = (
            f"{timezone.localtime(locked.resolve_deadline):%Y-%m-%d %H:%M}" if locked.resolve_deadline else ""
        )
        message = (
            _("诉求 %(number)s 的延期申请已同意，办结期限延至 %(deadline)s。")
            % {"number": locked.number, "deadline": deadline}
            if approve
            else _("诉求 %(number)s 的延期申请未同意：%(note)s") % {"number": locked.number, "note": text}
        )
        notify(users=User.objects.filter(pk=row.requested_by_id, is_active=True), case=locked, text=message)
    return row


def extension_pending(case: Case) -> CaseExtension | None:
    """The case's pending extension request, if any."""
    return CaseExtension.objects.filter(case=case, status=ExtensionStatus.PENDING).first()

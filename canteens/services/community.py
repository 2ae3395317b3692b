"""What the other livelihood sites record: love classrooms (volunteers, sessions with the children who came,
volunteer hours), love workshops (products, the left-behind women employed, orders, monthly wages) and red
service stations (the services offered, the service log).

Every write: the gate first (canteens.access.site_get_runnable — out of scope is NotFound, 404), then the
checks with a Chinese message next to the field, then the rows and the audit entry in one transaction.
Retryable creates carry an idempotency key (common.idempotency through canteens.services._common): a
replay returns the first row and writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from canteens import access
from canteens.models import (
    ClassAttendance,
    ClassSession,
    OrderStatus,
    ServiceLog,
    Site,
    SiteKind,
    StationService,
    Volunteer,
    VolunteerHours,
    WagePayment,
    WorkshopOrder,
    WorkshopProduct,
    WorkshopWorker,
)
from canteens.selectors.community import RECORD_NOT_FOUND, session_length
from canteens.services._common import AnyUser
from common.errors import Conflict, DomainError, NotFound
from common.services import begin, finish, text_clean
from governance import pii
from governance.audit import audit_record, diff_fields
from governance.models import AuditAction, Resident, ResidentStatus, ResidentTagKind

SCOPE_VOLUNTEER = "canteens.volunteer_create"
SCOPE_SESSION = "canteens.session_create"
SCOPE_HOURS = "canteens.volunteer_hours"
SCOPE_PRODUCT = "canteens.product_create"
SCOPE_WORKER = "canteens.worker_add"
SCOPE_ORDER = "canteens.order_create"
SCOPE_WAGE = "canteens.wage_record"
SCOPE_SERVICE = "canteens.station_service_create"
SCOPE_LOG = "canteens.service_log"

CHILDREN_MAX = 500
CHILD_AGE_LIMIT = 18
ATTENDEES_MAX = 200
HOURS_MAX = Decimal("24")
PIECE_RATE_MAX_FEN = 100_000  # ¥1,000 a piece
QUANTITY_MAX = 1_000_000
ORDER_AMOUNT_MAX_FEN = 1_000_000_000  # ¥10 million: beyond it the figure is a typing mistake
WAGE_MAX_FEN = 10_000_000  # ¥100,000 a month (the table's CHECK)
PIECES_MAX = 1_000_000
PEOPLE_MAX = 10_000
EARLIEST = dt.date(2000, 1, 1)

KIND_MESSAGES = {
    SiteKind.CLASSROOM: "该阵地不是爱心讲堂。",
    SiteKind.WORKSHOP: "该阵地不是爱心作坊。",
    SiteKind.RED_STATION: "该阵地不是红色驿站。",
}


# --- helpers ------------------------------------------------------------------------------------------


def site_runnable_of_kind(actor: AnyUser, site_id: int | str, kind: str) -> Site:
    """The site `actor` may run, of `kind`; NotFound (404) when out of reach or of another kind (a write
    form never learns of a site it cannot act on)."""
    site = access.site_get_runnable(actor, site_id)
    if site.kind != kind:
        raise NotFound(access.NOT_FOUND_MESSAGE)
    return site


def _township_path(site: Site) -> str:
    """The path of the site's township ("county/township/"): residents and volunteers of the township
    may work, teach or learn at its sites."""
    parts = str(site.region.path).strip("/").split("/")
    return "/".join(parts[:2]) + "/"


def _date(value: Any, *, field: str, label: str, earliest: dt.date = EARLIEST) -> dt.date:
    if not isinstance(value, dt.date):
        raise DomainError(f"{field}_required", _("请填写%(label)s。") % {"label": label}, field=field)
    if value > timezone.localdate():
        raise DomainError(f"{field}_future", _("%(label)s不能晚于今天。") % {"label": label}, field=field)
    if value < earliest:
        raise DomainError(
            f"{field}_too_early",
            _("%(label)s不能早于 %(date)s。") % {"label": label, "date": f"{earliest:%Y-%m-%d}"},
            field=field,
        )
    return value


def _int(value: Any, *, field: str, minimum: int, maximum: int, message: str) -> int:
    if isinstance(value, bool):
        raise DomainError(f"bad_{field}", message, field=field)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise DomainError(f"bad_{field}", message, field=field) from None
    if str(number) != str(value).strip() and not isinstance(value, int):
        raise DomainError(f"bad_{field}", message, field=field)
    if number < minimum or number > maximum:
        raise DomainError(f"bad_{field}", message, field=field)
    return number


def hours_clean(value: Any, *, field: str = "hours") -> Decimal:
    """Hours typed as "2" or "1.5": more than 0, at most 24, one decimal. DomainError bad_hours."""
    message = _("时长须在 0.1 到 24 小时之间，最多一位小数。")
    try:
        hours = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise DomainError("bad_hours", message, field=field) from None
    if not hours.is_finite() or hours <= 0 or hours > HOURS_MAX or hours != hours.quantize(Decimal("0.1")):
        raise DomainError("bad_hours", message, field=field)
    return hours.quantize(Decimal("0.1"))


def _age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _resident_in_township(site: Site, resident_id: Any, *, field: str) -> Resident:
    """A resident living in the site's township, still on the register; DomainError otherwise."""
    try:
        pk = int(resident_id)
    except (TypeError, ValueError):
        raise DomainError("resident_required", _("请选择居民。"), field=field) from None
    resident = (
        Resident.objects.select_related("household__grid")
        .filter(pk=pk, household__grid__path__startswith=_township_path(site))
        .first()
    )
    if resident is None:
        raise DomainError(
            "resident_out_of_scope", _("未找到该居民，或者他不住在本阵地所在的乡镇。"), field=field
        )
    if resident.status in (ResidentStatus.DECEASED, ResidentStatus.MOVED_OUT):
        raise DomainError(
            "resident_inactive",
            _("%(name)s已%(status)s，不能登记。")
            % {"name": resident.name, "status": resident.get_status_display()},
            field=field,
        )
    return resident


def _audit(
    actor: AnyUser,
    obj: Any,
    site: Site,
    changes: dict[str, Any],
    action: str = AuditAction.CREATE,
    detail: str = "",
) -> None:
    audit_record(
        actor=actor,
        action=AuditAction(action),
        obj=obj,
        region_path=str(site.region.path),
        changes=changes,
        detail=detail,
    )


def _actor_id(actor: AnyUser) -> int:
    return int(actor.pk)  # type: ignore[arg-type]


def _month_bounds(year: int, month: int) -> tuple[dt.date, dt.date]:
    first = dt.date(year, month, 1)
    following = dt.date(year + (month == 12), month % 12 + 1, 1)
    return first, following - dt.timedelta(days=1)


# --- how long a classroom record may be corrected ------------------------------------------------------

# A session or an hours entry may be corrected or deleted in its own month, and last month's still in the
# first EDIT_GRACE_DAYS days of this one (a class logged late on the 31st and found wrong on the 1st);
# after that the month's figures have gone out (the classroom's year, the volunteers' hours, the county's
# people benefiting) and stay as they were.
EDIT_GRACE_DAYS = 5


def edit_window_start(today: dt.date | None = None) -> dt.date:
    """The earliest date of a classroom record that may still be corrected or deleted today."""
    today = today or timezone.localdate()
    first = today.replace(day=1)
    if today.day <= EDIT_GRACE_DAYS:
        return (first - dt.timedelta(days=1)).replace(day=1)
    return first


def record_editable(day: dt.date, today: dt.date | None = None) -> bool:
    """Whether a session held (or hours worked) on `day` may still be corrected or deleted."""
    return day >= edit_window_start(today)


def _editable_or_refuse(day: dt.date, *, field: str, what: str) -> None:
    if record_editable(day):
        return
    raise Conflict(
        "record_locked",
        _(
            "%(what)s只能在当月修改或删除（每月 %(grace)s 日前还可以改上个月的）；"
            "%(date)s 的记录已过期限，不能再改。"
        )
        % {"what": what, "grace": EDIT_GRACE_DAYS, "date": f"{day:%Y-%m-%d}"},
        field=field,
    )


# --- volunteers ---------------------------------------------------------------------------------------


def _phone_columns(phone: str) -> dict[str, str]:
    phone = (phone or "").strip()
    if not phone:
        return {"phone_encrypted": "", "phone_masked": ""}
    value = pii.phone_parse(phone)
    return {"phone_encrypted": pii.encrypt(value), "phone_masked": pii.mask_phone(value)}


def volunteer_create(
    *,
    actor: AnyUser,
    idempotency_key: str,
    site: Site,
    name: str,
    phone: str = "",
    speciality: str = "",
    resident_id: int | None = None,
) -> Volunteer:
    """A volunteer registered at the village of `site` (which the actor runs); the phone is stored
    encrypted with a masked copy. Returns the volunteer (the first one on a replay)."""
    name = text_clean(name, field="name", maximum=50, required=_("请填写志愿者姓名。"))
    speciality = text_clean(speciality, field="speciality", maximum=60)
    body = {"site": site.pk, "name": name, "phone": phone, "speciality": speciality, "resident": resident_id}
    with transaction.atomic():
        site = access.site_get_runnable(actor, site.pk)
        replay = begin(actor=actor, scope=SCOPE_VOLUNTEER, key=idempotency_key, body=body)
        if replay is not None:
            return Volunteer.objects.get(pk=replay.response["id"])
        try:
            columns = _phone_columns(phone)
        except DomainError as error:
            raise DomainError(error.code, error.message, field="phone") from None
        resident = (
            _resident_in_township(site, resident_id, field="resident")
            if resident_id not in (None, "")
            else None
        )
        volunteer = Volunteer.objects.create(
            region=site.region, resident=resident, name=name, speciality=speciality, **columns
        )
        _audit(actor, volunteer, site, {"name": [None, name], "site": [None, site.pk]})
        finish(actor=actor, scope=SCOPE_VOLUNTEER, key=idempotency_key, object_id=volunteer.pk)
    return volunteer


def volunteer_update(
    *,
    actor: AnyUser,
    volunteer: Volunteer,
    name: str,
    phone: str | None = None,
    speciality: str = "",
    is_active: bool = True,
) -> Volunteer:
    """Rename, change the phone (None keeps it), speciality, active flag. NotFound unless the actor
    runs a site in the volunteer's village or holds a running role over it."""
    name = text_clean(name, field="name", maximum=50, required=_("请填写志愿者姓名。"))
    speciality = text_clean(speciality, field="speciality", maximum=60)
    with transaction.atomic():
        from canteens.selectors.community import volunteer_get_runnable

        volunteer = volunteer_get_runnable(actor, volunteer.pk, lock=True)
        before = {
            "name": volunteer.name,
            "phone": volunteer.phone_masked,
            "speciality": volunteer.speciality,
            "is_active": volunteer.is_active,
        }
        if phone is not None:
            try:
                columns = _phone_columns(phone)
            except DomainError as error:
                raise DomainError(error.code, error.message, field="phone") from None
            volunteer.phone_encrypted = columns["phone_encrypted"]
            volunteer.phone_masked = columns["phone_masked"]
        volunteer.name, volunteer.speciality, volunteer.is_active = name, speciality, bool(is_active)
        volunteer.save(update_fields=["name", "speciality", "is_active", "phone_encrypted", "phone_masked"])
        changes = diff_fields(
            before,
            {
                "name": volunteer.name,
                "phone": volunteer.phone_masked,
                "speciality": volunteer.speciality,
                "is_active": volunteer.is_active,
            },
        )
        if changes:
            audit_record(
                actor=actor,
                action=AuditAction.UPDATE,
                obj=volunteer,
                region_path=str(volunteer.region.path),
                changes=changes,
            )
    return volunteer


def _volunteer_for_site(site: Site, volunteer_id: Any, *, field: str) -> Volunteer:
    try:
        pk = int(volunteer_id)
    except (TypeError, ValueError):
        raise DomainError(f"{field}_required", _("请选择志愿者。"), field=field) from None
    volunteer = (
        Volunteer.objects.select_related("region")
        .filter(pk=pk, region__path__startswith=_township_path(site))
        .first()
    )
    if volunteer is None:
        raise DomainError(
            "volunteer_out_of_scope", _("未找到该志愿者，或者他不在本阵地所在的乡镇登记。"), field=field
        )
    if not volunteer.is_active:
        raise DomainError(
            "volunteer_inactive",
            _("%(name)s已不在册，请先恢复在册。") % {"name": volunteer.name},
            field=field,
        )
    return volunteer


# --- classroom sessions and hours ---------------------------------------------------------------------


@dataclass(frozen=True)
class _SessionChecked:
    teacher: Volunteer
    count: int
    children: list[Resident]
    hours: Decimal | None  # the teacher's hours to record with the session (None: none known)


def _session_clean(
    site: Site,
    *,
    held_on: dt.date,
    starts: dt.time | None,
    ends: dt.time | None,
    children_count: Any,
    ids: list[int],
    teacher_id: Any,
    hours: Any,
    keep_teacher: Volunteer | None = None,
) -> _SessionChecked:
    """The checks a session's fields pass on create and on edit (DomainError next to the field).
    `keep_teacher` is the teacher already recorded: kept even if no longer active (an edit of something
    else must not fail on it)."""
    if (starts is None) != (ends is None):
        raise DomainError(
            "times_incomplete",
            _("请同时填写开始和结束时间，或都不填。"),
            field="ends" if ends is None else "starts",
        )
    if starts is not None and ends is not None and ends <= starts:
        raise DomainError("times_order", _("结束时间须晚于开始时间。"), field="ends")
    count = _int(
        children_count,
        field="children_count",
        minimum=1,
        maximum=CHILDREN_MAX,
        message=_("到课儿童人数须是 1 到 %(max)s 的整数。") % {"max": CHILDREN_MAX},
    )
    if len(ids) > count:
        raise DomainError(
            "attendees_exceed_count",
            _("登记姓名的儿童（%(named)s 人）不能多于到课人数（%(count)s 人）。")
            % {"named": len(ids), "count": count},
            field="attendees",
        )
    teacher = (
        keep_teacher
        if keep_teacher is not None and str(keep_teacher.pk) == str(teacher_id)
        else _volunteer_for_site(site, teacher_id, field="teacher")
    )
    children = list(
        Resident.objects.filter(pk__in=ids, household__grid__path__startswith=_township_path(site))
    )
    if len(children) != len(ids):
        raise DomainError(
            "attendee_out_of_scope", _("有儿童不在本乡镇的居民名册中，请重新选择。"), field="attendees"
        )
    for child in children:
        if _age_on(child.birth_date, held_on) >= CHILD_AGE_LIMIT:
            raise DomainError(
                "attendee_not_child",
                _("%(name)s上课当天已满 %(age)s 岁，只能登记未成年儿童。")
                % {"name": child.name, "age": CHILD_AGE_LIMIT},
                field="attendees",
            )
    if hours not in (None, ""):
        worked = hours_clean(hours)
    elif starts is not None and ends is not None:
        worked = session_length(starts, ends)
    else:
        worked = None
    return _SessionChecked(teacher, count, children, worked)


def session_create(
    *,
    actor: AnyUser,
    idempotency_key: str,
    site: Site,
    held_on: dt.date,
    subject: str,
    teacher_id: int,
    children_count: int,
    starts: dt.time | None = None,
    ends: dt.time | None = None,
    attendee_ids: Sequence[int] = (),
    notes: str = "",
    hours: Any = None,
) -> ClassSession:
    """A class held at the classroom `site`: date, times, subject, the volunteer teacher, the head count and
    the named children from the register (residents of the township under 18 on the day, at most the head
    count). The teacher's volunteer hours are written with it: `hours` when entered, else the session's
    length from its times (none when neither is known). Returns the session (the first on a replay)."""
    subject = text_clean(subject, field="subject", maximum=100, required=_("请填写上课内容。"))
    notes = text_clean(notes, field="notes", maximum=200)
    ids = sorted({int(i) for i in attendee_ids})
    body = {
        "site": site.pk,
        "held_on": held_on,
        "starts": starts,
        "ends": ends,
        "subject": subject,
        "teacher": teacher_id,
        "children_count": children_count,
        "attendees": ids,
        "notes": notes,
        "hours": hours,
    }
    with transaction.atomic():
        site = site_runnable_of_kind(actor, site.pk, SiteKind.CLASSROOM)
        replay = begin(actor=actor, scope=SCOPE_SESSION, key=idempotency_key, body=body)
        if replay is not None:
            return ClassSession.objects.get(pk=replay.response["id"])
        held_on = _date(held_on, field="held_on", label=_("上课日期"))
        checked = _session_clean(
            site,
            held_on=held_on,
            starts=starts,
            ends=ends,
            children_count=children_count,
            ids=ids,
            teacher_id=teacher_id,
            hours=hours,
        )
        teacher, count, children, worked = checked.teacher, checked.count, checked.children, checked.hours
        session = ClassSession.objects.create(
            site=site,
            held_on=held_on,
            starts=starts,
            ends=ends,
            subject=subject,
            teacher=teacher,
            children_count=count,
            notes=notes,
            created_by_id=_actor_id(actor),
        )
        ClassAttendance.objects.bulk_create([ClassAttendance(session=session, resident=c) for c in children])
        if worked is not None:
            VolunteerHours.objects.create(
                volunteer=teacher,
                site=site,
                session=session,
                worked_on=held_on,
                hours=worked,
                activity=(_("讲堂授课：%(subject)s") % {"subject": subject})[:100],
            )
        _audit(
            actor,
            session,
            site,
            {
                "held_on": [None, str(held_on)],
                "teacher": [None, teacher.pk],
                "children_count": [None, count],
                "attendees": [None, ids],
                "hours": [None, str(worked) if worked is not None else None],
            },
        )
        finish(actor=actor, scope=SCOPE_SESSION, key=idempotency_key, object_id=session.pk)
    return session


def volunteer_hours_record(
    *,
    actor: AnyUser,
    idempotency_key: str,
    site: Site,
    volunteer_id: int,
    worked_on: dt.date,
    hours: Any,
    activity: str,
) -> VolunteerHours:
    """Hours a volunteer gave at `site` (any kind the actor runs) outside a recorded session, as entered."""
    activity = text_clean(activity, field="activity", maximum=100, required=_("请填写服务内容。"))
    body = {
        "site": site.pk,
        "volunteer": volunteer_id,
        "worked_on": worked_on,
        "hours": hours,
        "activity": activity,
    }
    with transaction.atomic():
        site = access.site_get_runnable(actor, site.pk)
        replay = begin(actor=actor, scope=SCOPE_HOURS, key=idempotency_key, body=body)
        if replay is not None:
            return VolunteerHours.objects.get(pk=replay.response["id"])
        worked_on = _date(worked_on, field="worked_on", label=_("服务日期"))
        worked = hours_clean(hours)
        volunteer = _volunteer_for_site(site, volunteer_id, field="volunteer")
        row = VolunteerHours.objects.create(
            volunteer=volunteer, site=site, worked_on=worked_on, hours=worked, activity=activity
        )
        _audit(actor, row, site, {"volunteer": [None, volunteer.pk], "hours": [None, str(worked)]})
        finish(actor=actor, scope=SCOPE_HOURS, key=idempotency_key, object_id=row.pk)
    return row


def _session_state(session: ClassSession) -> dict[str, Any]:
    """What the audit log records of a session (before and after an edit, before a delete)."""
    hours = [
        str(h)
        for h in VolunteerHours.objects.filter(session=session).order_by("id").values_list("hours", flat=True)
    ]
    return {
        "held_on": session.held_on,
        "starts": session.starts,
        "ends": session.ends,
        "subject": session.subject,
        "teacher": session.teacher_id,
        "children_count": session.children_count,
        "attendees": sorted(
            ClassAttendance.objects.filter(session=session).values_list("resident_id", flat=True)
        ),
        "notes": session.notes,
        "hours": hours[0] if len(hours) == 1 else (hours or None),
    }


def _session_locked(actor: AnyUser, session_id: int) -> tuple[Site, ClassSession]:
    """The session under its row lock, if `actor` runs its classroom (else NotFound, 404)."""
    site_id = ClassSession.objects.filter(pk=session_id).values_list("site_id", flat=True).first()
    if site_id is None:
        raise NotFound(RECORD_NOT_FOUND)
    try:
        site = site_runnable_of_kind(actor, site_id, SiteKind.CLASSROOM)
    except NotFound:
        raise NotFound(RECORD_NOT_FOUND) from None
    session = ClassSession.objects.select_for_update().select_related("teacher").filter(pk=session_id).first()
    if session is None:  # deleted while we waited for the lock
        raise NotFound(RECORD_NOT_FOUND)
    return site, session


def session_update(
    *,
    actor: AnyUser,
    session: ClassSession,
    held_on: dt.date,
    subject: str,
    teacher_id: int,
    children_count: int,
    starts: dt.time | None = None,
    ends: dt.time | None = None,
    attendee_ids: Sequence[int] = (),
    notes: str = "",
    hours: Any = None,
) -> ClassSession:
    """Correct a session: every field as on create (the same checks), the named children replaced by
    `attendee_ids`, and the teacher's hours written with it follow — the new teacher, date and `hours`
    (or the length of the new times; none when neither is known). Only within the edit window
    (record_editable), for the session's date and for the new one: Conflict record_locked otherwise.
    NotFound unless `actor` runs the classroom. Returns the session; the audit entry has what changed."""
    subject = text_clean(subject, field="subject", maximum=100, required=_("请填写上课内容。"))
    notes = text_clean(notes, field="notes", maximum=200)
    ids = sorted({int(i) for i in attendee_ids})
    with transaction.atomic():
        site, session = _session_locked(actor, session.pk)
        what = _("讲堂课程")
        _editable_or_refuse(session.held_on, field="held_on", what=what)
        held_on = _date(held_on, field="held_on", label=_("上课日期"))
        _editable_or_refuse(held_on, field="held_on", what=what)
        checked = _session_clean(
            site,
            held_on=held_on,
            starts=starts,
            ends=ends,
            children_count=children_count,
            ids=ids,
            teacher_id=teacher_id,
            hours=hours,
            keep_teacher=session.teacher,
        )
        before = _session_state(session)
        session.held_on, session.starts, session.ends = held_on, starts, ends
        session.subject, session.teacher, session.children_count = subject, checked.teacher, checked.count
        session.notes = notes
        session.save(
            update_fields=["held_on", "starts", "ends", "subject", "teacher", "children_count", "notes"]
        )
        ClassAttendance.objects.filter(session=session).exclude(resident_id__in=ids).delete()
        present = set(ClassAttendance.objects.filter(session=session).values_list("resident_id", flat=True))
        ClassAttendance.objects.bulk_create(
            [ClassAttendance(session=session, resident=c) for c in checked.children if c.pk not in present]
        )
        rows = list(VolunteerHours.objects.select_for_update().filter(session=session).order_by("id"))
        if checked.hours is None:
            VolunteerHours.objects.filter(pk__in=[r.pk for r in rows]).delete()
        else:
            activity = (_("讲堂授课：%(subject)s") % {"subject": subject})[:100]
            if rows:
                teacher_row, *others = rows
                teacher_row.volunteer, teacher_row.worked_on = checked.teacher, held_on
                teacher_row.hours, teacher_row.activity = checked.hours, activity
                teacher_row.save(update_fields=["volunteer", "worked_on", "hours", "activity"])
                VolunteerHours.objects.filter(pk__in=[r.pk for r in others]).update(worked_on=held_on)
            else:
                VolunteerHours.objects.create(
                    volunteer=checked.teacher,
                    site=site,
                    session=session,
                    worked_on=held_on,
                    hours=checked.hours,
                    activity=activity,
                )
        changes = diff_fields(before, _session_state(session))
        if changes:
            _audit(actor, session, site, changes, AuditAction.UPDATE)
    return session


def session_delete(*, actor: AnyUser, session: ClassSession, reason: str = "") -> None:
    """Delete a session logged in error, with its named children and the teacher's hours written with it
    (the classroom's figures and the volunteer's hours drop together). Only within the edit window
    (Conflict record_locked otherwise); NotFound unless `actor` runs the classroom. The audit entry keeps
    what the session was, and `reason` when given."""
    reason = text_clean(reason, field="reason", maximum=200)
    with transaction.atomic():
        site, session = _session_locked(actor, session.pk)
        _editable_or_refuse(session.held_on, field="held_on", what=_("讲堂课程"))
        before = _session_state(session)
        _audit(
            actor,
            session,
            site,
            diff_fields(before, {}),
            AuditAction.DELETE,
            detail=reason,
        )
        VolunteerHours.objects.filter(session=session).delete()
        session.delete()  # its ClassAttendance rows cascade


def _hours_locked(actor: AnyUser, hours_id: int) -> tuple[Site, VolunteerHours]:
    """The hours entry under its row lock, if `actor` runs its site (else NotFound, 404)."""
    site_id = VolunteerHours.objects.filter(pk=hours_id).values_list("site_id", flat=True).first()
    if site_id is None:
        raise NotFound(RECORD_NOT_FOUND)
    try:
        site = access.site_get_runnable(actor, site_id)
    except NotFound:
        raise NotFound(RECORD_NOT_FOUND) from None
    row = VolunteerHours.objects.select_for_update().select_related("volunteer").filter(pk=hours_id).first()
    if row is None:
        raise NotFound(RECORD_NOT_FOUND)
    if row.session_id is not None:
        raise Conflict(
            "hours_of_session",
            _("这条时长是随 %(date)s 的讲堂课程登记的，请修改或删除那次课程。")
            % {"date": f"{row.worked_on:%Y-%m-%d}"},
        )
    return site, row


def _hours_state(row: VolunteerHours) -> dict[str, Any]:
    return {
        "volunteer": row.volunteer_id,
        "worked_on": row.worked_on,
        "hours": str(row.hours),
        "activity": row.activity,
    }


def volunteer_hours_update(
    *,
    actor: AnyUser,
    row: VolunteerHours,
    volunteer_id: int,
    worked_on: dt.date,
    hours: Any,
    activity: str,
) -> VolunteerHours:
    """Correct an hours entry recorded on its own (one written with a session changes with the session:
    Conflict hours_of_session). The same checks as on record; only within the edit window, for the old
    date and the new (Conflict record_locked). NotFound unless `actor` runs the site. Returns the row."""
    activity = text_clean(activity, field="activity", maximum=100, required=_("请填写服务内容。"))
    with transaction.atomic():
        site, row = _hours_locked(actor, row.pk)
        what = _("志愿服务时长")
        _editable_or_refuse(row.worked_on, field="worked_on", what=what)
        worked_on = _date(worked_on, field="worked_on", label=_("服务日期"))
        _editable_or_refuse(worked_on, field="worked_on", what=what)
        worked = hours_clean(hours)
        volunteer = (
            row.volunteer
            if str(row.volunteer_id) == str(volunteer_id)
            else _volunteer_for_site(site, volunteer_id, field="volunteer")
        )
        before = _hours_state(row)
        row.volunteer, row.worked_on, row.hours, row.activity = volunteer, worked_on, worked, activity
        row.save(update_fields=["volunteer", "worked_on", "hours", "activity"])
        changes = diff_fields(before, _hours_state(row))
        if changes:
            _audit(actor, row, site, changes, AuditAction.UPDATE)
    return row


def volunteer_hours_delete(*, actor: AnyUser, row: VolunteerHours) -> None:
    """Delete an hours entry recorded on its own, within the edit window (Conflict record_locked; one
    written with a session goes with the session: Conflict hours_of_session). NotFound unless `actor`
    runs the site. The audit entry keeps what it was."""
    with transaction.atomic():
        site, row = _hours_locked(actor, row.pk)
        _editable_or_refuse(row.worked_on, field="worked_on", what=_("志愿服务时长"))
        before = _hours_state(row)
        _audit(actor, row, site, diff_fields(before, {}), AuditAction.DELETE)
        row.delete()


# --- workshops ----------------------------------------------------------------------------------------


def product_create(
    *,
    actor: AnyUser,
    idempotency_key: str,
    site: Site,
    name: str,
    unit: str,
    piece_rate_fen: int,
) -> WorkshopProduct:
    """A product the workshop `site` makes, with its piece rate in fen. Returns it."""
    name = text_clean(name, field="name", maximum=60, required=_("请填写产品名称。"))
    unit = text_clean(unit, field="unit", maximum=10, required=_("请填写单位，例如 件、双。"))
    body = {"site": site.pk, "name": name, "unit": unit, "piece_rate_fen": piece_rate_fen}
    with transaction.atomic():
        site = site_runnable_of_kind(actor, site.pk, SiteKind.WORKSHOP)
        replay = begin(actor=actor, scope=SCOPE_PRODUCT, key=idempotency_key, body=body)
        if replay is not None:
            return WorkshopProduct.objects.get(pk=replay.response["id"])
        rate = _int(
            piece_rate_fen,
            field="piece_rate",
            minimum=0,
            maximum=PIECE_RATE_MAX_FEN,
            message=_("计件工价须在 0 到 1000 元之间。"),
        )
        if WorkshopProduct.objects.filter(site=site, name=name).exists():
            raise DomainError("product_duplicate", _("本作坊已有同名产品。"), field="name")
        product = WorkshopProduct.objects.create(site=site, name=name, unit=unit, piece_rate_fen=rate)
        _audit(actor, product, site, {"name": [None, name], "piece_rate_fen": [None, rate]})
        finish(actor=actor, scope=SCOPE_PRODUCT, key=idempotency_key, object_id=product.pk)
    return product


def product_update(
    *, actor: AnyUser, product: WorkshopProduct, name: str, unit: str, piece_rate_fen: int, is_active: bool
) -> WorkshopProduct:
    """Rename, change the unit or piece rate (wages already paid keep their amount), stop or resume it."""
    name = text_clean(name, field="name", maximum=60, required=_("请填写产品名称。"))
    unit = text_clean(unit, field="unit", maximum=10, required=_("请填写单位，例如 件、双。"))
    rate = _int(
        piece_rate_fen,
        field="piece_rate",
        minimum=0,
        maximum=PIECE_RATE_MAX_FEN,
        message=_("计件工价须在 0 到 1000 元之间。"),
    )
    with transaction.atomic():
        site = site_runnable_of_kind(actor, product.site_id, SiteKind.WORKSHOP)
        product = WorkshopProduct.objects.select_for_update().get(pk=product.pk, site=site)
        if WorkshopProduct.objects.filter(site=site, name=name).exclude(pk=product.pk).exists():
            raise DomainError("product_duplicate", _("本作坊已有同名产品。"), field="name")
        before = {
            "name": product.name,
            "unit": product.unit,
            "piece_rate_fen": product.piece_rate_fen,
            "is_active": product.is_active,
        }
        product.name, product.unit, product.piece_rate_fen, product.is_active = (
            name,
            unit,
            rate,
            bool(is_active),
        )
        product.save(update_fields=["name", "unit", "piece_rate_fen", "is_active"])
        after = {"name": name, "unit": unit, "piece_rate_fen": rate, "is_active": product.is_active}
        changes = diff_fields(before, after)
        if changes:
            _audit(actor, product, site, changes, AuditAction.UPDATE)
    return product


@dataclass(frozen=True)
class WorkerAdded:
    worker: WorkshopWorker
    # Set when the resident is not tagged 留守妇女: allowed, but the manager is told.
    warning: str


def _worker_warning(resident: Resident) -> str:
    if resident.tags.filter(tag=ResidentTagKind.LEFT_BEHIND_WOMAN).exists():
        return ""
    return _("%(name)s未标记为留守妇女，已照常登记；如情况属实，请在居民档案中补充标签。") % {
        "name": resident.name
    }


def worker_add(
    *, actor: AnyUser, idempotency_key: str, site: Site, resident_id: int, joined_on: dt.date
) -> WorkerAdded:
    """Employ a resident of the township at the workshop `site` from `joined_on`. One open employment per
    person and workshop (Conflict 409 otherwise). Returns the worker and a warning when the resident is not
    tagged as a left-behind woman (still allowed)."""
    body = {"site": site.pk, "resident": resident_id, "joined_on": joined_on}
    with transaction.atomic():
        site = site_runnable_of_kind(actor, site.pk, SiteKind.WORKSHOP)
        replay = begin(actor=actor, scope=SCOPE_WORKER, key=idempotency_key, body=body)
        if replay is not None:
            worker = WorkshopWorker.objects.select_related("resident").get(pk=replay.response["id"])
            return WorkerAdded(worker, _worker_warning(worker.resident))
        joined_on = _date(joined_on, field="joined_on", label=_("入职日期"))
        resident = _resident_in_township(site, resident_id, field="resident")
        if WorkshopWorker.objects.filter(site=site, resident=resident, left_on__isnull=True).exists():
            raise Conflict(
                "worker_already_employed",
                _("%(name)s已在本作坊务工，不能重复登记。") % {"name": resident.name},
                field="resident",
            )
        try:
            with transaction.atomic():
                worker = WorkshopWorker.objects.create(site=site, resident=resident, joined_on=joined_on)
        except IntegrityError:
            raise Conflict(
                "worker_already_employed",
                _("%(name)s已在本作坊务工，不能重复登记。") % {"name": resident.name},
                field="resident",
            ) from None
        warning = _worker_warning(resident)
        _audit(
            actor,
            worker,
            site,
            {"resident": [None, resident.pk], "joined_on": [None, str(joined_on)]},
            detail=warning,
        )
        finish(actor=actor, scope=SCOPE_WORKER, key=idempotency_key, object_id=worker.pk)
    return WorkerAdded(worker, warning)


def worker_leave(*, actor: AnyUser, worker: WorkshopWorker, left_on: dt.date) -> WorkshopWorker:
    """End an employment on `left_on` (not before it began, not after today). Conflict when already ended."""
    with transaction.atomic():
        site = site_runnable_of_kind(actor, worker.site_id, SiteKind.WORKSHOP)
        worker = WorkshopWorker.objects.select_for_update().select_related("resident").get(pk=worker.pk)
        if worker.left_on is not None:
            raise Conflict(
                "worker_already_left", _("%(name)s已离开本作坊。") % {"name": worker.resident.name}
            )
        left_on = _date(left_on, field="left_on", label=_("离开日期"), earliest=worker.joined_on)
        worker.left_on = left_on
        worker.save(update_fields=["left_on"])
        _audit(actor, worker, site, {"left_on": [None, str(left_on)]}, AuditAction.UPDATE)
    return worker


def order_create(
    *,
    actor: AnyUser,
    idempotency_key: str,
    site: Site,
    product_id: int,
    customer: str,
    quantity: int,
    amount_fen: int,
    ordered_on: dt.date,
    due_on: dt.date | None = None,
) -> WorkshopOrder:
    """An order for one of the workshop's products (open until delivered or cancelled). Returns it."""
    customer = text_clean(customer, field="customer", maximum=100, required=_("请填写客户。"))
    body = {
        "site": site.pk,
        "product": product_id,
        "customer": customer,
        "quantity": quantity,
        "amount_fen": amount_fen,
        "ordered_on": ordered_on,
        "due_on": due_on,
    }
    with transaction.atomic():
        site = site_runnable_of_kind(actor, site.pk, SiteKind.WORKSHOP)
        replay = begin(actor=actor, scope=SCOPE_ORDER, key=idempotency_key, body=body)
        if replay is not None:
            return WorkshopOrder.objects.get(pk=replay.response["id"])
        product = WorkshopProduct.objects.filter(pk=_pk(product_id, "product"), site=site).first()
        if product is None:
            raise DomainError("product_required", _("请选择本作坊的产品。"), field="product")
        if not product.is_active:
            raise DomainError("product_inactive", _("该产品已停产，不能接单。"), field="product")
        count = _int(
            quantity,
            field="quantity",
            minimum=1,
            maximum=QUANTITY_MAX,
            message=_("数量须是 1 到 %(max)s 的整数。") % {"max": f"{QUANTITY_MAX:,}"},
        )
        amount = _int(
            amount_fen,
            field="amount",
            minimum=0,
            maximum=ORDER_AMOUNT_MAX_FEN,
            message=_("订单金额须在 0 到 1000 万元之间。"),
        )
        ordered_on = _date(ordered_on, field="ordered_on", label=_("下单日期"))
        if due_on is not None and due_on < ordered_on:
            raise DomainError("due_before_order", _("交货期限不能早于下单日期。"), field="due_on")
        order = WorkshopOrder.objects.create(
            site=site,
            product=product,
            customer=customer,
            quantity=count,
            amount_fen=amount,
            ordered_on=ordered_on,
            due_on=due_on,
            created_by_id=_actor_id(actor),
        )
        _audit(
            actor,
            order,
            site,
            {"product": [None, product.pk], "quantity": [None, count], "amount_fen": [None, amount]},
        )
        finish(actor=actor, scope=SCOPE_ORDER, key=idempotency_key, object_id=order.pk)
    return order


def _pk(value: Any, field: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise DomainError(f"{field}_required", _("请选择。"), field=field) from None


def _order_locked(actor: AnyUser, order: WorkshopOrder) -> tuple[Site, WorkshopOrder]:
    site = site_runnable_of_kind(actor, order.site_id, SiteKind.WORKSHOP)
    locked = WorkshopOrder.objects.select_for_update().get(pk=order.pk)
    if locked.status != OrderStatus.OPEN:
        raise Conflict(
            "order_not_open",
            _("该订单状态为“%(status)s”，不能再更改。") % {"status": locked.get_status_display()},
        )
    return site, locked


def order_deliver(*, actor: AnyUser, order: WorkshopOrder, delivered_on: dt.date) -> WorkshopOrder:
    """open → delivered on `delivered_on` (not before the order date, not after today). Conflict 409 for an
    order that is no longer open."""
    with transaction.atomic():
        site, order = _order_locked(actor, order)
        delivered_on = _date(
            delivered_on, field="delivered_on", label=_("交付日期"), earliest=order.ordered_on
        )
        order.status, order.delivered_on = OrderStatus.DELIVERED, delivered_on
        order.save(update_fields=["status", "delivered_on"])
        _audit(
            actor,
            order,
            site,
            {"status": [OrderStatus.OPEN, OrderStatus.DELIVERED], "delivered_on": [None, str(delivered_on)]},
            AuditAction.UPDATE,
        )
    return order


def order_cancel(*, actor: AnyUser, order: WorkshopOrder, reason: str) -> WorkshopOrder:
    """open → cancelled, with the reason in the audit log. Conflict 409 for an order no longer open."""
    reason = text_clean(reason, field="reason", maximum=200, required=_("请填写取消原因。"))
    with transaction.atomic():
        site, order = _order_locked(actor, order)
        order.status = OrderStatus.CANCELLED
        order.save(update_fields=["status"])
        _audit(
            actor,
            order,
            site,
            {"status": [OrderStatus.OPEN, OrderStatus.CANCELLED]},
            AuditAction.UPDATE,
            detail=reason,
        )
    return order


def wage_suggest_fen(pieces: int, product: WorkshopProduct | None) -> int | None:
    """The suggested monthly wage: pieces × the product's piece rate (None without a product)."""
    if product is None:
        return None
    return int(pieces) * product.piece_rate_fen


def wage_record(
    *,
    actor: AnyUser,
    idempotency_key: str,
    site: Site,
    worker_id: int,
    year: int,
    month: int,
    pieces: int,
    paid_on: dt.date,
    amount_fen: int | None = None,
    product_id: int | None = None,
) -> WagePayment:
    """A worker's wage for a month, paid on `paid_on`: `amount_fen` as agreed, or (when None) pieces × the
    piece rate of `product_id`. One per worker and month: Conflict 409 for a second. The worker must have
    worked at the workshop that month; the month may not lie in the future."""
    body = {
        "site": site.pk,
        "worker": worker_id,
        "year": year,
        "month": month,
        "pieces": pieces,
        "amount_fen": amount_fen,
        "product": product_id,
        "paid_on": paid_on,
    }
    with transaction.atomic():
        site = site_runnable_of_kind(actor, site.pk, SiteKind.WORKSHOP)
        replay = begin(actor=actor, scope=SCOPE_WAGE, key=idempotency_key, body=body)
        if replay is not None:
            return WagePayment.objects.get(pk=replay.response["id"])
        worker = (
            WorkshopWorker.objects.select_related("resident")
            .filter(pk=_pk(worker_id, "worker"), site=site)
            .first()
        )
        if worker is None:
            raise DomainError("worker_required", _("请选择本作坊的务工人员。"), field="worker")
        year = _int(year, field="year", minimum=2000, maximum=2100, message=_("年度不对。"))
        month = _int(month, field="month", minimum=1, maximum=12, message=_("月份须是 1 到 12。"))
        first, last = _month_bounds(year, month)
        today = timezone.localdate()
        if first > today:
            raise DomainError("month_future", _("不能登记今后月份的工资。"), field="month")
        if worker.joined_on > last or (worker.left_on is not None and worker.left_on < first):
            raise DomainError(
                "worker_not_employed",
                _("%(name)s在 %(year)s年%(month)s月不在本作坊务工。")
                % {"name": worker.resident.name, "year": year, "month": month},
                field="month",
            )
        count = _int(
            pieces,
            field="pieces",
            minimum=0,
            maximum=PIECES_MAX,
            message=_("计件数量须是 0 到 100 万的整数。"),
        )
        if amount_fen in (None, ""):
            product = (
                WorkshopProduct.objects.filter(pk=_pk(product_id, "product"), site=site).first()
                if product_id not in (None, "")
                else None
            )
            suggested = wage_suggest_fen(count, product)
            if suggested is None:
                raise DomainError(
                    "amount_required", _("请填写工资金额，或选择产品按计件工价计算。"), field="amount"
                )
            amount = suggested
        else:
            amount = _int(
                amount_fen, field="amount", minimum=0, maximum=10**12, message=_("工资金额格式不对。")
            )
        if amount < 1 or amount > WAGE_MAX_FEN:
            raise DomainError("bad_amount", _("工资须在 0.01 元到 10 万元之间。"), field="amount")
        paid_on = _date(paid_on, field="paid_on", label=_("发放日期"), earliest=first)
        if WagePayment.objects.filter(worker=worker, year=year, month=month).exists():
            raise _wage_duplicate(worker, year, month)
        try:
            with transaction.atomic():
                wage = WagePayment.objects.create(
                    site=site,
                    worker=worker,
                    year=year,
                    month=month,
                    pieces=count,
                    amount_fen=amount,
                    paid_on=paid_on,
                    created_by_id=_actor_id(actor),
                )
        except IntegrityError:
            raise _wage_duplicate(worker, year, month) from None
        _audit(
            actor,
            wage,
            site,
            {
                "worker": [None, worker.pk],
                "month": [None, f"{year}-{month:02d}"],
                "amount_fen": [None, amount],
            },
        )
        finish(actor=actor, scope=SCOPE_WAGE, key=idempotency_key, object_id=wage.pk)
    return wage


def _wage_duplicate(worker: WorkshopWorker, year: int, month: int) -> Conflict:
    return Conflict(
        "wage_duplicate",
        _("%(name)s %(year)s年%(month)s月的工资已登记，不能重复发放。")
        % {"name": worker.resident.name, "year": year, "month": month},
        field="month",
    )


# --- red stations -------------------------------------------------------------------------------------


def station_service_create(*, actor: AnyUser, idempotency_key: str, site: Site, name: str) -> StationService:
    """A service the red station `site` offers (理发, 代缴代办, 健康义诊 …). Returns it."""
    name = text_clean(name, field="name", maximum=40, required=_("请填写服务项目。"))
    with transaction.atomic():
        site = site_runnable_of_kind(actor, site.pk, SiteKind.RED_STATION)
        replay = begin(
            actor=actor, scope=SCOPE_SERVICE, key=idempotency_key, body={"site": site.pk, "name": name}
        )
        if replay is not None:
            return StationService.objects.get(pk=replay.response["id"])
        if StationService.objects.filter(site=site, name=name).exists():
            raise DomainError("service_duplicate", _("本驿站已有同名服务项目。"), field="name")
        service = StationService.objects.create(site=site, name=name)
        _audit(actor, service, site, {"name": [None, name]})
        finish(actor=actor, scope=SCOPE_SERVICE, key=idempotency_key, object_id=service.pk)
    return service


def station_service_set_active(*, actor: AnyUser, service: StationService, is_active: bool) -> StationService:
    """Stop or resume offering a service (its log stays)."""
    with transaction.atomic():
        site = site_runnable_of_kind(actor, service.site_id, SiteKind.RED_STATION)
        service = StationService.objects.select_for_update().get(pk=service.pk)
        if service.is_active != bool(is_active):
            before = service.is_active
            service.is_active = bool(is_active)
            service.save(update_fields=["is_active"])
            _audit(actor, service, site, {"is_active": [before, service.is_active]}, AuditAction.UPDATE)
    return service


def service_log_record(
    *,
    actor: AnyUser,
    idempotency_key: str,
    site: Site,
    service_id: int,
    served_on: dt.date,
    people_served: int,
    description: str = "",
) -> ServiceLog:
    """One entry of the station's service log: date, service, people served (1–10,000), what was done."""
    description = text_clean(description, field="description", maximum=200)
    body = {
        "site": site.pk,
        "service": service_id,
        "served_on": served_on,
        "people_served": people_served,
        "description": description,
    }
    with transaction.atomic():
        site = site_runnable_of_kind(actor, site.pk, SiteKind.RED_STATION)
        replay = begin(actor=actor, scope=SCOPE_LOG, key=idempotency_key, body=body)
        if replay is not None:
            return ServiceLog.objects.get(pk=replay.response["id"])
        service = StationService.objects.filter(pk=_pk(service_id, "service"), site=site).first()
        if service is None:
            raise DomainError("service_required", _("请选择本驿站的服务项目。"), field="service")
        if not service.is_active:
            raise DomainError("service_inactive", _("该服务项目已停止提供。"), field="service")
        served_on = _date(served_on, field="served_on", label=_("服务日期"))
        people = _int(
            people_served,
            field="people_served",
            minimum=1,
            maximum=PEOPLE_MAX,
            message=_("服务人数须是 1 到 10000 的整数。"),
        )
        log = ServiceLog.objects.create(
            site=site,
            service=service,
            served_on=served_on,
            people_served=people,
            description=description,
            recorded_by_id=_actor_id(actor),
        )
        _audit(actor, log, site, {"service": [None, service.pk], "people_served": [None, people]})
        finish(actor=actor, scope=SCOPE_LOG, key=idempotency_key, object_id=log.pk)
    return log

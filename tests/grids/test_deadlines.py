"""Deadlines (grids/services/deadlines.py, grids.tasks.case_deadlines_check) on a frozen clock, with the
2026 Labour Day break in the way; supervision by a higher level; extension requests.

The case is filed and assigned on Thursday 30 April 2026 at 10:00 in Gucheng. 1–5 May is the Labour Day
break and Saturday 9 May a make-up working day, so with the test category's normal limits (sign 1,
resolve 5 working days) the sign deadline is Wednesday 6 May 18:00 and the resolve deadline Monday 11 May
18:00 (6, 7, 8, 9, 11 May). Both are one-week-or-less limits: yellow from 00:00 of the deadline's day.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from common.errors import Conflict, DomainError, NotFound
from governance.models import AuditEvent
from grids.calendar import WorkCalendar
from grids.models import (
    Case,
    CaseEvent,
    CaseExtension,
    CaseStatus,
    CaseSupervision,
    ExtensionStatus,
    Notification,
    SupervisionKind,
    WarningLevel,
)
from grids.services.deadlines import (
    case_extension_decide,
    case_extension_request,
    case_supervise,
    deadlines_check,
    nearing_from,
)
from grids.tasks import case_deadlines_check
from tests.grids.factories import GridsWorld, case_bring_to, case_make, case_step, grids_world_make

pytestmark = pytest.mark.django_db

S = CaseStatus
GUCHENG = ZoneInfo("Asia/Shanghai")


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=GUCHENG)


@pytest.fixture
def world(demo_county) -> GridsWorld:
    return grids_world_make(demo_county)


@pytest.fixture
def assigned(world) -> Case:
    """A road case assigned to 新华村村民委员会 on Thursday 30 April 2026, 10:00."""
    with time_machine.travel(at(4, 30), tick=False):
        case = case_make(world)
        return case_bring_to(world, case, S.ASSIGNED)


def run_at(moment: dt.datetime) -> dict[str, int]:
    with time_machine.travel(moment, tick=False):
        return case_deadlines_check.apply().get()


def new_notifications(after_pk: int) -> list[tuple[str, str]]:
    return sorted(
        Notification.objects.filter(pk__gt=after_pk).values_list("user__username", "text").order_by("pk")
    )


def last_notification_pk() -> int:
    return Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def supervisions(case: Case) -> list[tuple[str, dt.datetime]]:
    return sorted(
        CaseSupervision.objects.filter(case=case)
        .exclude(kind=SupervisionKind.MANUAL)
        .values_list("kind", "deadline")
    )


# --- the beat task on a frozen clock ---------------------------------------------------------------


def test_deadlines_are_set_across_the_labour_day_break(assigned):
    assert assigned.sign_deadline == at(5, 6, 18)
    assert assigned.resolve_deadline == at(5, 11, 18)
    assert assigned.warning == WarningLevel.NONE


def test_warning_levels_supervision_and_notifications_on_a_frozen_clock(world, assigned):
    case = assigned
    number = case.number
    sign, resolve = at(5, 6, 18), at(5, 11, 18)

    # Through the holiday: nothing is near yet (the sign deadline's last working day is 6 May).
    for moment in (at(4, 30, 23, 45), at(5, 3), at(5, 5, 23, 45)):
        mark = last_notification_pk()
        assert run_at(moment) == {"checked": 1, "raised": 0, "lowered": 0, "notified": 0}
        case.refresh_from_db()
        assert case.warning == WarningLevel.NONE
        assert new_notifications(mark) == []
    assert supervisions(case) == []

    # 6 May 00:15: the sign deadline turns yellow; the handler (the unit's member) and the level above
    # (城关镇's township admin) are told, once.
    mark = last_notification_pk()
    assert run_at(at(5, 6, 0, 15)) == {"checked": 1, "raised": 1, "lowered": 0, "notified": 2}
    assert run_at(at(5, 6, 0, 30)) == {"checked": 1, "raised": 0, "lowered": 0, "notified": 0}
    case.refresh_from_db()
    assert case.warning == WarningLevel.YELLOW
    assert supervisions(case) == [("yellow", sign)]
    text = f"诉求 {number}：临近签收期限（05月06日 18:00），请尽快签收。"
    assert new_notifications(mark) == [("township_admin", text), ("xinhua_clerk", text)]
    event = CaseEvent.objects.get(case=case, kind="warning")
    assert (event.actor_id, event.is_public, event.data["level"], event.data["deadline_kind"]) == (
        None,
        False,
        "yellow",
        "sign",
    )

    # 18:00 exactly is still in time; 18:15 is overdue: red, a second supervision row.
    assert run_at(at(5, 6, 18, 0))["raised"] == 0
    mark = last_notification_pk()
    assert run_at(at(5, 6, 18, 15))["raised"] == 1
    assert run_at(at(5, 6, 18, 30))["raised"] == 0
    case.refresh_from_db()
    assert case.warning == WarningLevel.RED
    assert supervisions(case) == [("red", sign), ("yellow", sign)]
    text = f"诉求 {number}：已超过签收期限（05月06日 18:00），请立即签收。"
    assert new_notifications(mark) == [("township_admin", text), ("xinhua_clerk", text)]

    # Signed for (late) on 7 May: the sign deadline no longer counts and the resolve deadline is not
    # near, so the warning is lowered without a new row or notice.
    with time_machine.travel(at(5, 7, 9), tick=False):
        case_step(world, case, "sign_for")
    mark = last_notification_pk()
    assert run_at(at(5, 7, 9, 15)) == {"checked": 1, "raised": 0, "lowered": 1, "notified": 0}
    case.refresh_from_db()
    assert case.warning == WarningLevel.NONE
    assert new_notifications(mark) == []

    # The make-up Saturday 9 May and Sunday 10 May: still not near (the last working day is 11 May).
    assert run_at(at(5, 9, 12))["raised"] == 0
    assert run_at(at(5, 10, 23, 45))["raised"] == 0

    mark = last_notification_pk()
    assert run_at(at(5, 11, 0, 15))["raised"] == 1
    case.refresh_from_db()
    assert case.warning == WarningLevel.YELLOW
    text = f"诉求 {number}：临近办结期限（05月11日 18:00），请按时办结。"
    # The signer is now the assigned person and a member of the unit: told once.
    assert new_notifications(mark) == [("township_admin", text), ("xinhua_clerk", text)]

    assert run_at(at(5, 12, 9))["raised"] == 1
    assert run_at(at(5, 12, 9, 15))["raised"] == 0
    case.refresh_from_db()
    assert case.warning == WarningLevel.RED
    assert supervisions(case) == [("red", sign), ("red", resolve), ("yellow", sign), ("yellow", resolve)]
    assert CaseEvent.objects.filter(case=case, kind="warning").count() == 4
    assert (
        AuditEvent.objects.filter(object_type="grids.case", object_id=str(case.pk), detail="时限预警").count()
        == 5
    )


def test_a_case_out_of_the_clock_is_left_alone(world, assigned):
    case = case_make(world, reporter="grid_leader_2", grid="第二网格")
    with time_machine.travel(at(5, 12), tick=False):
        # Both deadlines passed unseen: one red row and notice pair for each.
        assert deadlines_check() == {"checked": 1, "raised": 2, "lowered": 0, "notified": 4}
    # Only the assigned case counted; a submitted case has no clock.
    assert supervisions(case) == []
    case.refresh_from_db()
    assert case.warning == WarningLevel.NONE


def test_a_critical_case_whose_deadlines_coincide_gets_one_row(world):
    with time_machine.travel(at(6, 1), tick=False):
        case = case_bring_to(world, case_make(world, urgency="critical"), S.ASSIGNED)
    assert case.sign_deadline == case.resolve_deadline == at(6, 2, 18)
    with time_machine.travel(at(6, 2, 8), tick=False):
        assert deadlines_check()["raised"] == 1
    assert supervisions(case) == [("yellow", at(6, 2, 18))]


def test_a_county_level_case_tells_the_county_admins(world):
    with time_machine.travel(at(6, 1), tick=False):
        case = case_make(world)
        for _round in range(2):
            case_step(world, case, "escalate")
        case_bring_to(world, case, S.ACCEPTED)
        case.refresh_from_db()
        assert case.level == "county"
        from grids.services.cases import case_transition

        case_transition(
            actor=world.users["county_admin"], case=case, name="assign", unit=world.units["county"]
        )
    mark = last_notification_pk()
    with time_machine.travel(at(6, 2, 8), tick=False):
        deadlines_check()
    users = sorted({user for user, _text in new_notifications(mark)})
    assert users == ["county_admin", "county_clerk"]


def test_yellow_begins_with_the_last_fifth_of_a_long_limit():
    calendar = WorkCalendar({})
    start = at(3, 2)  # Monday
    # 15 working days → deadline Monday 23 March; yellow from the 3rd-last working day, Thursday 19 March.
    deadline = calendar.add_working_days(start, 15)
    assert deadline == at(3, 23, 18)
    assert nearing_from(start, deadline, calendar) == at(3, 19, 0)
    # 5 working days → the last working day only; 1 working day → the deadline's day.
    assert nearing_from(start, calendar.add_working_days(start, 5), calendar) == at(3, 9, 0)
    assert nearing_from(start, calendar.add_working_days(start, 1), calendar) == at(3, 3, 0)
    # A deadline on the start's own day: yellow from the start.
    assert nearing_from(start, at(3, 2, 18), calendar) == start


# --- supervision by a higher level ---------------------------------------------------------------


def test_supervise_by_the_level_above(world, assigned):
    mark = last_notification_pk()
    township = world.users["township_admin"]
    with time_machine.travel(at(5, 7), tick=False):
        first = case_supervise(
            actor=township, case=assigned, note="请于本周内修复，确保群众出行安全。", idempotency_key="s-1"
        )
        again = case_supervise(
            actor=township, case=assigned, note="请于本周内修复，确保群众出行安全。", idempotency_key="s-1"
        )
    assert again.pk == first.pk
    assert (first.kind, first.deadline, first.raised_by_id) == (
        SupervisionKind.MANUAL,
        at(5, 11, 18),
        township.pk,
    )
    assert CaseEvent.objects.filter(case=assigned, kind="supervise").count() == 1
    assert new_notifications(mark) == [
        ("xinhua_clerk", f"诉求 {assigned.number} 被上级督办：请于本周内修复，确保群众出行安全。")
    ]
    # The county admin may too; a second supervision is a new row.
    case_supervise(
        actor=world.users["county_admin"], case=assigned, note="县委组织部督办。", idempotency_key="s-2"
    )
    assert CaseSupervision.objects.filter(case=assigned, kind=SupervisionKind.MANUAL).count() == 2


def test_supervise_refusals(world, assigned):
    with pytest.raises(DomainError) as refused:
        case_supervise(
            actor=world.users["village_secretary"], case=assigned, note="督办", idempotency_key="x1"
        )
    assert (refused.value.code, refused.value.status) == ("case_supervise_forbidden", 403)
    with pytest.raises(DomainError) as refused:
        case_supervise(actor=world.users["township_admin"], case=assigned, note="  ", idempotency_key="x2")
    assert (refused.value.code, refused.value.field) == ("supervise_note_required", "note")
    with pytest.raises(NotFound):
        case_supervise(actor=world.users["shihua_admin"], case=assigned, note="督办", idempotency_key="x3")
    with pytest.raises(NotFound):
        case_supervise(actor=world.users["minying_leader"], case=assigned, note="督办", idempotency_key="x4")
    closed = case_bring_to(world, case_make(world), S.CLOSED)
    with pytest.raises(Conflict) as refused:
        case_supervise(actor=world.users["township_admin"], case=closed, note="督办", idempotency_key="x5")
    assert refused.value.code == "case_supervise_closed"
    assert CaseSupervision.objects.filter(kind=SupervisionKind.MANUAL).count() == 0


# --- extension requests --------------------------------------------------------------------------


@pytest.fixture
def signed(world, assigned) -> Case:
    with time_machine.travel(at(5, 6, 9), tick=False):
        case_step(world, assigned, "sign_for")
    assigned.refresh_from_db()
    return assigned


def request(world, case, *, days=3, reason="需等待沥青到货，申请延期。", key="e-1", who="xinhua_clerk"):
    return case_extension_request(
        actor=world.users[who], case=case, days=days, reason=reason, idempotency_key=key
    )


def test_extension_approved_pushes_the_deadline_and_clears_the_warning(world, signed):
    case = signed
    with time_machine.travel(at(5, 12, 9), tick=False):
        deadlines_check()
        case.refresh_from_db()
        assert case.warning == WarningLevel.RED
        mark = last_notification_pk()
        extension = request(world, case)
        assert request(world, case).pk == extension.pk  # a replay
        assert new_notifications(mark) == [
            ("village_secretary", f"诉求 {case.number} 申请延期 3 个工作日，请审批。")
        ]
        mark = last_notification_pk()
        decided = case_extension_decide(
            actor=world.users["village_secretary"], extension=extension, approve=True
        )
    assert (decided.status, decided.decided_by_id) == (
        ExtensionStatus.APPROVED,
        world.users["village_secretary"].pk,
    )
    case.refresh_from_db()
    # 11 May 18:00 + 3 working days = 14 May 18:00; 8 working days from 30 April → yellow from 13 May.
    assert case.resolve_deadline == at(5, 14, 18)
    assert case.warning == WarningLevel.NONE
    assert new_notifications(mark) == [
        ("xinhua_clerk", f"诉求 {case.number} 的延期申请已同意，办结期限延至 2026-05-14 18:00。")
    ]
    assert list(
        CaseEvent.objects.filter(case=case, kind__startswith="extension").values_list("kind", flat=True)
    ) == [
        "extension_request",
        "extension_decide",
    ]
    # The new deadline raises its own warnings in time.
    with time_machine.travel(at(5, 13, 8), tick=False):
        assert deadlines_check()["raised"] == 1
    assert ("yellow", at(5, 14, 18)) in supervisions(case)


def test_extension_rejected_keeps_the_deadline(world, signed):
    extension = request(world, signed)
    with pytest.raises(DomainError) as refused:
        case_extension_decide(
            actor=world.users["village_secretary"], extension=extension, approve=False, note=""
        )
    assert (refused.value.code, refused.value.field) == ("extension_note_required", "decision_note")
    decided = case_extension_decide(
        actor=world.users["township_admin"], extension=extension, approve=False, note="材料已备，请按期办结。"
    )
    assert decided.status == ExtensionStatus.REJECTED
    signed.refresh_from_db()
    assert signed.resolve_deadline == at(5, 11, 18)
    with pytest.raises(Conflict) as refused:
        case_extension_decide(actor=world.users["village_secretary"], extension=extension, approve=True)
    assert refused.value.code == "extension_decided"
    # A new request may follow a decided one.
    assert request(world, signed, key="e-2").status == ExtensionStatus.PENDING


def test_extension_request_refusals(world, assigned, signed):
    case = signed
    for who, code, status in (
        ("grid_leader", "extension_forbidden", 403),
        ("village_secretary", "extension_forbidden", 403),
    ):
        with pytest.raises(DomainError) as refused:
            request(world, case, who=who, key=f"r-{who}")
        assert (refused.value.code, refused.value.status) == (code, status)
    with pytest.raises(NotFound):
        request(world, case, who="minying_clerk", key="r-out")
    for days in (0, 31, None):
        with pytest.raises(DomainError) as refused:
            request(world, case, days=days, key=f"r-d{days}")
        assert (refused.value.code, refused.value.field) == ("extension_days_range", "days")
    with pytest.raises(DomainError) as refused:
        request(world, case, reason=" ", key="r-empty")
    assert (refused.value.code, refused.value.field) == ("extension_reason_required", "reason")
    request(world, case, key="r-ok")
    with pytest.raises(Conflict) as refused:
        request(world, case, key="r-second")
    assert refused.value.code == "extension_pending"
    other = case_bring_to(world, case_make(world), S.ASSIGNED)
    with pytest.raises(Conflict) as refused:
        request(world, other, key="r-assigned")
    assert refused.value.code == "extension_state"
    assert CaseExtension.objects.count() == 1


def test_extension_decide_refusals(world, signed):
    extension = request(world, signed)
    for who in ("xinhua_clerk", "grid_leader"):
        with pytest.raises(DomainError) as refused:
            case_extension_decide(actor=world.users[who], extension=extension, approve=True)
        assert (refused.value.code, refused.value.status) == ("extension_decide_forbidden", 403)
    with pytest.raises(NotFound):
        case_extension_decide(actor=world.users["shihua_admin"], extension=extension, approve=True)
    with pytest.raises(NotFound):
        case_extension_decide(actor=world.users["village_secretary"], extension=999999, approve=True)
    extension.refresh_from_db()
    assert extension.status == ExtensionStatus.PENDING

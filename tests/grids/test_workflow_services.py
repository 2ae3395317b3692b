"""The workflow services (grids/services/cases.py) against the table of grids/workflow.py.

Every allowed (transition, source state) pair succeeds with its exact resulting state and timeline entry;
every disallowed pair is refused with a 409 and writes nothing; actors, notes, parameters, deadlines,
the counts and the automatic escalation after AUTO_ESCALATE_AFTER re-handlings or transfers.

The clock is frozen at Monday 2 March 2026, 10:00 in Gucheng (no holiday that week or the next), so the
deadlines of the test categories (tests/grids/factories.py TIME_LIMITS: sign 1, resolve 5 working days)
are Tuesday 3 March 18:00 and Monday 9 March 18:00.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from common.errors import Conflict, DomainError, NotFound
from governance.models import AuditEvent, Region
from grids.access import cases_visible
from grids.models import (
    Case,
    CaseEvent,
    CasePhoto,
    CaseStatus,
    HandlingLevel,
    Notification,
    Privacy,
    ResidentMessage,
    Satisfaction,
    WarningLevel,
)
from grids.services.cases import (
    case_assign,
    case_escalate,
    case_file,
    case_follow_up,
    case_mark_duplicate,
    case_note_add,
    case_return,
    case_send_down,
    case_sign_for,
    case_transition,
)
from grids.workflow import AUTO_ESCALATE_AFTER, FINAL_STATES, TRANSITIONS, Actor
from tests.grids.factories import (
    GridsWorld,
    case_bring_to,
    case_make,
    case_step,
    case_step_args,
    grids_world_make,
)

pytestmark = pytest.mark.django_db

S = CaseStatus
GUCHENG = ZoneInfo("Asia/Shanghai")
MONDAY = dt.datetime(2026, 3, 2, 10, 0, tzinfo=GUCHENG)
SIGN_DEADLINE = dt.datetime(2026, 3, 3, 18, 0, tzinfo=GUCHENG)
RESOLVE_DEADLINE = dt.datetime(2026, 3, 9, 18, 0, tzinfo=GUCHENG)

# Every (transition, source) the table allows, and every one it does not.
ALLOWED = [(name, source) for name, t in TRANSITIONS.items() for source in sorted(t.sources)]
DISALLOWED_BY_STATE = {
    state: [name for name, t in TRANSITIONS.items() if state not in t.sources] for state in S.values
}
# The state each allowed transition leads to (follow_up: satisfied here; unsatisfied is tested apart).
EXPECTED_TARGET = {name: t.target or S.FOLLOWED_UP for name, t in TRANSITIONS.items()}


@pytest.fixture
def frozen():
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(demo_county, frozen) -> GridsWorld:
    return grids_world_make(demo_county)


def _writes() -> dict[str, int]:
    return {
        "events": CaseEvent.objects.count(),
        "audit": AuditEvent.objects.count(),
        "notifications": Notification.objects.count(),
        "photos": CasePhoto.objects.count(),
        "messages": ResidentMessage.objects.count(),
        "cases": Case.objects.count(),
    }


def _row(case: Case) -> dict[str, Any]:
    return dict(Case.objects.filter(pk=case.pk).values().get())


def test_the_table_is_what_the_tests_walk():
    # 13 transitions; the pairs below are derived from the table, so a change to it changes the tests.
    assert len(TRANSITIONS) == 13
    assert len(ALLOWED) == 32
    assert sum(len(names) for names in DISALLOWED_BY_STATE.values()) == 13 * 13 - 32
    assert all(not any(s in t.sources for t in TRANSITIONS.values()) for s in FINAL_STATES)


# ---------------------------------------------------------------------------------------------------------
# Filing


def test_file_lands_in_the_village_queue(world):
    case = case_make(world, resident="王建国")
    assert case.status == S.SUBMITTED
    assert case.level == HandlingLevel.VILLAGE
    assert case.handling_region == world.regions["新华村"]
    assert case.grid == world.regions["第一网格"]
    assert case.reporter == world.users["grid_leader"]
    assert case.filed_at == MONDAY
    assert case.number == f"MQ20260302{case.pk:06d}"
    assert case.location_source == "grid"
    event = case.events.get()
    assert (event.kind, event.from_status, event.to_status, event.actor, event.at, event.is_public) == (
        "file",
        "",
        S.SUBMITTED,
        world.users["grid_leader"],
        MONDAY,
        True,
    )
    audit = AuditEvent.objects.get(object_type="grids.case", object_id=str(case.pk))
    assert audit.action == "create"
    assert audit.region_path == world.regions["第一网格"].path
    # The village secretary of 新华村 is told; the filer is not.
    assert list(Notification.objects.values_list("user__username", "case_id")) == [
        ("village_secretary", case.pk)
    ]


def test_file_handled_in_the_grid_stays_in_the_grid_leaders_queue(world):
    case = case_make(world, handle_in_grid=True)
    assert (case.level, case.handling_region) == (HandlingLevel.GRID, world.regions["第一网格"])


def test_file_with_a_location_in_the_county(world):
    case = case_make(world, latitude=32.2646, longitude=111.6412, address="村委会东侧小桥")
    case.refresh_from_db()
    assert (str(case.latitude), str(case.longitude), case.location_source) == (
        "32.264600",
        "111.641200",
        "gps",
    )


@pytest.mark.parametrize(
    ("kwargs", "code", "field"),
    [
        ({"latitude": 30.5, "longitude": 114.3}, "case_location_outside_county", "location"),
        ({"latitude": 32.26}, "case_location_incomplete", "location"),
        ({"description": "   "}, "case_description_required", "description"),
        ({"description": "长" * 2001}, "case_description_too_long", "description"),
        ({"urgency": "whenever"}, "case_urgency_invalid", "urgency"),
        ({"privacy": "secret"}, "case_privacy_invalid", "privacy"),
        ({"grid": "第二网格"}, "case_grid_invalid", "grid"),
        ({"resident": "张伟"}, "case_resident_invalid", "resident"),
        ({"idempotency_key": " "}, "idempotency_key_invalid", "idempotency_key"),
    ],
)
def test_file_refuses_bad_input_and_writes_nothing(world, kwargs, code, field):
    before = _writes()
    with pytest.raises(DomainError) as refused:
        case_make(world, **kwargs)
    assert (refused.value.code, refused.value.field, refused.value.status) == (code, field, 400)
    assert _writes() == before


def test_file_refuses_an_inactive_category(world):
    category = world.categories["road"]
    category.is_active = False
    category.save()
    with pytest.raises(DomainError) as refused:
        case_make(world)
    assert (refused.value.code, refused.value.field) == ("case_category_invalid", "category")


def test_file_replay_returns_the_first_case_and_another_body_conflicts(world):
    first = case_make(world, idempotency_key="k-1")
    before = _writes()
    again = case_make(world, idempotency_key="k-1")
    assert again.pk == first.pk
    assert _writes() == before
    with pytest.raises(Conflict) as refused:
        case_make(world, idempotency_key="k-1", description="另一件事：路灯不亮。")
    assert (refused.value.code, refused.value.status) == ("idempotency_key_reused", 409)
    assert _writes() == before
    # The key is the reporter's own: another reporter may use the same one.
    other = case_make(world, reporter="village_secretary", idempotency_key="k-1")
    assert other.pk != first.pk


# ---------------------------------------------------------------------------------------------------------
# Every allowed transition from every source state


def _case_in(world: GridsWorld, state: str) -> Case:
    return case_bring_to(world, case_make(world, resident="王建国"), state)


@pytest.mark.parametrize(("name", "source"), ALLOWED)
def test_every_allowed_transition_succeeds(world, name, source):
    case = _case_in(world, source)
    original = case_make(world) if name == "mark_duplicate" else None
    actor, note, params = case_step_args(world, case, name, original=original)
    events_before = case.events.count()
    audit_before = AuditEvent.objects.filter(object_type="grids.case", object_id=str(case.pk)).count()

    result = case_transition(actor=actor, case=case, name=name, note=note, **params)

    case.refresh_from_db()
    assert result.status == case.status == EXPECTED_TARGET[name]
    event = case.events.order_by("-at", "-pk").first()
    assert case.events.count() == events_before + 1
    assert (event.kind, event.from_status, event.to_status, event.actor, event.note, event.is_public) == (
        name,
        source,
        EXPECTED_TARGET[name],
        actor,
        note,
        TRANSITIONS[name].is_public,
    )
    assert event.at == MONDAY
    audits = AuditEvent.objects.filter(object_type="grids.case", object_id=str(case.pk)).order_by("pk")
    assert audits.count() == audit_before + 1
    expected_change = None if source == EXPECTED_TARGET[name] else [source, EXPECTED_TARGET[name]]
    assert audits.last().changes.get("status") == expected_change
    assert audits.last().detail == str(TRANSITIONS[name].label)
    # The timeline never carries the resident's name, public or not.
    assert "王建国" not in event.note
    assert "王建国" not in str(event.data)


# ---------------------------------------------------------------------------------------------------------
# Every disallowed pair


@pytest.mark.parametrize("state", S.values)
def test_every_disallowed_transition_is_refused_and_writes_nothing(world, state):
    case = _case_in(world, state)
    original = case_make(world)
    row_before, writes_before = _row(case), _writes()
    refused_names = []
    for name in DISALLOWED_BY_STATE[state]:
        actor, note, params = case_step_args(world, case, name, original=original)
        # The county admin staffs every level: a refusal here is the state's, not the actor's. (A handler
        # who cannot see the case is refused earlier, with a 404: tested below.)
        candidates = {actor, world.users["county_admin"], world.users["grid_leader"]}
        for who in [u for u in candidates if cases_visible(u).filter(pk=case.pk).exists()]:
            with pytest.raises(Conflict) as refused:
                case_transition(actor=who, case=case, name=name, note=note or "说明", **params)
            assert refused.value.code == "case_transition_not_allowed"
            assert refused.value.status == 409
            assert refused.value.extra == {"transition": name, "case_status": state}
        refused_names.append(name)
    assert refused_names == DISALLOWED_BY_STATE[state]
    assert _row(case) == row_before
    assert _writes() == writes_before


def test_an_unknown_transition_or_parameter_is_refused(world):
    case = case_make(world)
    secretary = world.users["village_secretary"]
    with pytest.raises(DomainError) as unknown:
        case_transition(actor=secretary, case=case, name="approve")
    assert (unknown.value.code, unknown.value.field) == ("case_transition_unknown", "name")
    with pytest.raises(DomainError) as extra:
        case_transition(actor=secretary, case=case, name="accept", unit=world.units["xinhua"])
    assert (extra.value.code, extra.value.field) == ("case_transition_params_invalid", "params")


# ---------------------------------------------------------------------------------------------------------
# Actors


@pytest.mark.parametrize(
    ("state", "name", "username"),
    [
        (S.SUBMITTED, "accept", "grid_leader"),  # the reporter is not the village's staff
        (S.SUBMITTED, "accept", "viewer"),
        (S.ASSIGNED, "assign", "xinhua_clerk"),  # the handler does not re-assign
        (S.ASSIGNED, "sign_for", "village_secretary"),  # level staff, not the handler
        (S.ASSIGNED, "return", "county_admin"),
        (S.SIGNED, "start", "grid_leader"),
        (S.IN_PROGRESS, "resolve", "township_admin"),
        (S.RESOLVED, "follow_up", "xinhua_clerk"),
        (S.FOLLOWED_UP, "archive", "grid_leader"),
        (S.ACCEPTED, "withdraw", "village_secretary"),  # only the reporter withdraws
        (S.RETURNED, "escalate", "grid_leader"),
        (S.SIGNED, "withdraw", "xinhua_clerk"),
        (S.SUBMITTED, "not_responsible", "grid_leader"),
    ],
)
def test_a_user_who_is_not_the_transitions_actor_is_refused(world, state, name, username):
    case = _case_in(world, state)
    original = case_make(world)
    _actor, note, params = case_step_args(world, case, name, original=original)
    row_before, writes_before = _row(case), _writes()
    with pytest.raises(DomainError) as refused:
        case_transition(actor=world.users[username], case=case, name=name, note=note or "说明", **params)
    assert (refused.value.code, refused.value.status) == ("case_action_forbidden", 403)
    assert (_row(case), _writes()) == (row_before, writes_before)


@pytest.mark.parametrize(
    "username", ["minying_secretary", "shihua_admin", "minying_leader", "nobody", "mediator"]
)
def test_a_user_out_of_scope_gets_not_found(world, username):
    case = case_make(world)
    with pytest.raises(NotFound):
        case_transition(actor=world.users[username], case=case, name="accept")
    assert case.events.count() == 1


def test_higher_levels_act_for_the_level_below(world):
    for username in ("township_admin", "county_admin"):
        case = case_make(world)
        case_transition(actor=world.users[username], case=case, name="accept")
        assert Case.objects.get(pk=case.pk).status == S.ACCEPTED


def test_a_grid_level_case_is_the_grid_leaders_to_accept(world):
    case = case_make(world, handle_in_grid=True)
    with pytest.raises(DomainError):
        case_transition(actor=world.users["grid_leader_2"], case=case, name="accept")
    case_transition(actor=world.users["grid_leader"], case=case, name="accept")
    assert Case.objects.get(pk=case.pk).status == S.ACCEPTED


# ---------------------------------------------------------------------------------------------------------
# Notes


@pytest.mark.parametrize(
    ("state", "name", "message"),
    [
        (S.ASSIGNED, "return", "请填写退回理由。"),
        (S.IN_PROGRESS, "resolve", "请填写办理结果。"),
        (S.SUBMITTED, "escalate", "请填写上报提级的理由。"),
        (S.ACCEPTED, "send_down", "请填写下派说明。"),
        (S.ACCEPTED, "not_responsible", "请填写不属于本级职责的说明。"),
        (S.SUBMITTED, "withdraw", "请填写撤回原因。"),
        (S.RESOLVED, "follow_up:unsatisfied", "请填写群众不满意的原因。"),
    ],
)
def test_a_transition_that_needs_a_note_refuses_without_one(world, state, name, message):
    case = _case_in(world, state)
    actor, _note, params = case_step_args(world, case, name)
    row_before, writes_before = _row(case), _writes()
    with pytest.raises(DomainError) as refused:
        case_transition(actor=actor, case=case, name=name.partition(":")[0], note="   ", **params)
    assert (refused.value.code, refused.value.field, str(refused.value.message)) == (
        "note_required",
        "note",
        message,
    )
    assert (_row(case), _writes()) == (row_before, writes_before)


def test_notes_needed_match_the_table():
    assert {n for n, t in TRANSITIONS.items() if t.needs_note} == {
        "return",
        "resolve",
        "escalate",
        "send_down",
        "not_responsible",
        "withdraw",
    }


# ---------------------------------------------------------------------------------------------------------
# Assign, sign for, resolve: the clock


def test_assign_starts_the_clock_and_tells_the_unit(world):
    case = _case_in(world, S.ACCEPTED)
    Notification.objects.all().delete()
    case_assign(actor=world.users["village_secretary"], case=case, unit=world.units["xinhua"])
    case.refresh_from_db()
    assert case.status == S.ASSIGNED
    assert (case.assigned_unit, case.assigned_user, case.assigned_at) == (world.units["xinhua"], None, MONDAY)
    assert (case.sign_deadline, case.resolve_deadline) == (SIGN_DEADLINE, RESOLVE_DEADLINE)
    assert case.transfer_count == 0
    event = case.events.last()
    assert event.data == {
        "unit": "新华村村民委员会",
        "unit_id": world.units["xinhua"].pk,
        "user_id": None,
        "sign_deadline": "2026-03-03T18:00:00+08:00",
        "resolve_deadline": "2026-03-09T18:00:00+08:00",
    }
    assert list(Notification.objects.values_list("user__username", flat=True)) == ["xinhua_clerk"]
    assert (
        Notification.objects.get().text == f"诉求 {case.number}：已派给您办理，请于 2026-03-09 18:00 前办结。"
    )


def test_assign_an_urgent_case_uses_its_time_limit(world):
    case = case_bring_to(world, case_make(world, urgency="urgent"), S.ASSIGNED)
    assert case.resolve_deadline == dt.datetime(2026, 3, 5, 18, 0, tzinfo=GUCHENG)


@pytest.mark.parametrize(
    ("unit", "user", "code", "field"),
    [
        (None, None, "case_assign_target_required", "unit"),
        ("minying", None, "case_assign_unit_invalid", "unit"),  # another township's unit
        (None, "minying_clerk", "case_assign_user_invalid", "user"),  # holds no role over the grid
        (None, "minying_leader", "case_assign_user_invalid", "user"),
        ("xinhua", "chengguan_clerk", "case_assign_user_not_member", "user"),
    ],
)
def test_assign_refuses_a_unit_or_person_who_cannot_handle_the_grid(world, unit, user, code, field):
    case = _case_in(world, S.ACCEPTED)
    row_before, writes_before = _row(case), _writes()
    with pytest.raises(DomainError) as refused:
        case_assign(
            actor=world.users["village_secretary"],
            case=case,
            unit=world.units[unit] if unit else None,
            user=world.users[user] if user else None,
        )
    assert (refused.value.code, refused.value.field) == (code, field)
    assert (_row(case), _writes()) == (row_before, writes_before)


def test_assign_to_a_county_department_or_the_grid_leader(world):
    case = _case_in(world, S.ACCEPTED)
    case_assign(actor=world.users["village_secretary"], case=case, unit=world.units["county"])
    assert Case.objects.get(pk=case.pk).assigned_unit == world.units["county"]
    other = _case_in(world, S.ACCEPTED)
    case_assign(actor=world.users["village_secretary"], case=other, user=world.users["grid_leader"])
    other.refresh_from_db()
    assert (other.assigned_unit, other.assigned_user) == (None, world.users["grid_leader"])
    case_sign_for(actor=world.users["grid_leader"], case=other)
    assert Case.objects.get(pk=other.pk).status == S.SIGNED


def test_sign_for_on_time_makes_the_signer_the_owner(world, frozen):
    case = _case_in(world, S.ASSIGNED)
    frozen.move_to(SIGN_DEADLINE)
    case_sign_for(actor=world.users["xinhua_clerk"], case=case)
    case.refresh_from_db()
    assert (case.signed_at, case.signed_on_time, case.assigned_user) == (
        SIGN_DEADLINE,
        True,
        world.users["xinhua_clerk"],
    )
    assert case.events.last().data == {"on_time": True}


def test_sign_for_late_and_resolve_late(world, frozen):
    case = _case_in(world, S.ASSIGNED)
    late = SIGN_DEADLINE + dt.timedelta(minutes=1)
    frozen.move_to(late)
    case_sign_for(actor=world.users["xinhua_clerk"], case=case)
    frozen.move_to(RESOLVE_DEADLINE + dt.timedelta(seconds=1))
    case_transition(actor=world.users["xinhua_clerk"], case=case, name="resolve", note="已修复。")
    case.refresh_from_db()
    assert (case.signed_on_time, case.resolved_on_time) == (False, False)
    assert case.result == "已修复。"


def test_resolve_on_time_with_a_result_distinct_from_the_note(world, frozen):
    case = _case_in(world, S.IN_PROGRESS)
    frozen.move_to(RESOLVE_DEADLINE)
    case_transition(
        actor=world.users["xinhua_clerk"],
        case=case,
        name="resolve",
        note="已办结，详见结果。",
        result="已铺设沥青路面 20 平方米。",
    )
    case.refresh_from_db()
    assert (case.status, case.resolved_at, case.resolved_on_time) == (S.RESOLVED, RESOLVE_DEADLINE, True)
    assert case.result == "已铺设沥青路面 20 平方米。"
    assert case.warning == WarningLevel.NONE


def test_reassign_starts_a_new_round(world):
    case = _case_in(world, S.REOPENED)
    assert (case.signed_on_time, case.resolved_on_time) == (True, True)
    case_step(world, case, "assign")
    case.refresh_from_db()
    assert (case.signed_at, case.signed_on_time, case.resolved_at, case.resolved_on_time) == (None,) * 4
    assert case.rehandle_count == 1


# ---------------------------------------------------------------------------------------------------------
# Follow-up and the counts


def test_follow_up_basically_satisfied_then_archive(world):
    case = _case_in(world, S.RESOLVED)
    case_follow_up(actor=world.users["grid_leader"], case=case, satisfaction=Satisfaction.BASICALLY)
    case.refresh_from_db()
    assert (case.status, case.satisfaction, case.followed_up_at) == (S.FOLLOWED_UP, "basically", MONDAY)
    case_step(world, case, "archive")
    case.refresh_from_db()
    assert (case.status, case.closed_at) == (S.CLOSED, MONDAY)


def test_follow_up_unsatisfied_reopens_for_rehandling(world):
    case = _case_in(world, S.RESOLVED)
    case_follow_up(
        actor=world.users["grid_leader"],
        case=case,
        satisfaction=Satisfaction.UNSATISFIED,
        note="路面又塌了。",
    )
    case.refresh_from_db()
    assert (case.status, case.satisfaction, case.rehandle_count) == (S.REOPENED, "unsatisfied", 1)
    event = case.events.last()
    assert (event.kind, event.from_status, event.to_status, event.note, event.data) == (
        "follow_up",
        S.RESOLVED,
        S.REOPENED,
        "路面又塌了。",
        {"satisfaction": "unsatisfied"},
    )


def test_follow_up_needs_a_satisfaction(world):
    case = _case_in(world, S.RESOLVED)
    row_before, writes_before = _row(case), _writes()
    with pytest.raises(DomainError) as refused:
        case_follow_up(actor=world.users["grid_leader"], case=case, satisfaction="")
    assert (refused.value.code, refused.value.field) == ("case_satisfaction_required", "satisfaction")
    assert (_row(case), _writes()) == (row_before, writes_before)


def _last_two(case: Case) -> list[tuple[Any, ...]]:
    return list(
        case.events.order_by("-pk").values_list("kind", "from_status", "to_status", "actor", "data")[:2]
    )[::-1]


def test_three_rehandlings_escalate_by_themselves(world):
    case = _case_in(world, S.RESOLVED)
    for round_ in range(1, AUTO_ESCALATE_AFTER + 1):
        case_step(world, case, "follow_up:unsatisfied")
        case.refresh_from_db()
        assert case.rehandle_count == round_
        if round_ < AUTO_ESCALATE_AFTER:
            assert (case.status, case.level) == (S.REOPENED, HandlingLevel.VILLAGE)
            for step in ("assign", "sign_for", "start", "resolve"):
                case_step(world, case, step)
    assert case.status == S.SUBMITTED
    assert (case.level, case.handling_region) == (HandlingLevel.TOWNSHIP, world.regions["城关镇"])
    assert (case.escalation_count, case.rehandle_count, case.transfer_count) == (1, 3, 0)
    assert (case.assigned_unit, case.assigned_user, case.sign_deadline, case.resolve_deadline) == (None,) * 4
    secretary = world.users["village_secretary"]
    assert _last_two(case) == [
        ("follow_up", S.RESOLVED, S.REOPENED, secretary.pk, {"satisfaction": "unsatisfied"}),
        (
            "escalate",
            S.REOPENED,
            S.SUBMITTED,
            None,
            {"to_region": "城关镇", "to_level": "township", "automatic": True, "reason": "rehandles"},
        ),
    ]
    escalation = case.events.order_by("-pk").first()
    assert escalation.note == "该诉求已发回重办 3 次，系统自动上报提级。"
    assert escalation.is_public is True
    # The township admin is told, and the automatic escalation is audited with no actor.
    assert Notification.objects.filter(user=world.users["township_admin"], case=case).exists()
    audit = AuditEvent.objects.filter(object_type="grids.case", object_id=str(case.pk)).order_by("pk").last()
    assert (audit.actor_id, audit.changes["level"]) == (None, ["village", "township"])


def test_three_returns_escalate_by_themselves(world):
    case = _case_in(world, S.ACCEPTED)
    for count in range(1, AUTO_ESCALATE_AFTER + 1):
        case_step(world, case, "assign")
        case_step(world, case, "return")
        case.refresh_from_db()
        if count < AUTO_ESCALATE_AFTER:
            assert (case.status, case.transfer_count) == (S.RETURNED, count)
    assert (case.status, case.level, case.transfer_count, case.escalation_count) == (
        S.SUBMITTED,
        HandlingLevel.TOWNSHIP,
        0,
        1,
    )
    kinds = list(case.events.order_by("pk").values_list("kind", flat=True))
    assert kinds[-3:] == ["assign", "return", "escalate"]
    assert case.events.order_by("-pk").first().data["reason"] == "transfers"
    assert case.events.order_by("-pk").first().note == "该诉求连续 3 次流转无人签收，系统自动上报提级。"


def test_three_reassignments_without_a_signature_escalate(world):
    case = _case_in(world, S.ASSIGNED)
    secretary = world.users["village_secretary"]
    units = [world.units["chengguan"], world.units["xinhua"], world.units["county"]]
    for count, unit in enumerate(units, start=1):
        case_assign(actor=secretary, case=case, unit=unit)
        case.refresh_from_db()
        if count < AUTO_ESCALATE_AFTER:
            assert (case.status, case.transfer_count) == (S.ASSIGNED, count)
    assert (case.status, case.level, case.assigned_unit) == (S.SUBMITTED, HandlingLevel.TOWNSHIP, None)
    assert _last_two(case)[1][:3] == ("escalate", S.ASSIGNED, S.SUBMITTED)


def test_signing_for_resets_the_transfer_count(world):
    case = _case_in(world, S.ACCEPTED)
    for step in ("assign", "return", "assign", "return", "assign", "sign_for", "return"):
        case_step(world, case, step)
    case.refresh_from_db()
    assert (case.status, case.transfer_count, case.level) == (S.RETURNED, 1, HandlingLevel.VILLAGE)


def test_automatic_escalation_stops_at_the_county(world):
    case = _case_in(world, S.SUBMITTED)
    case_step(world, case, "escalate")
    case_step(world, case, "escalate")
    case.refresh_from_db()
    assert (case.level, case.handling_region) == (HandlingLevel.COUNTY, world.regions["谷城县"])
    case_step(world, case, "accept")
    for _round in range(AUTO_ESCALATE_AFTER):
        case_assign(actor=world.users["county_admin"], case=case, unit=world.units["county"])
        case_return(actor=world.users["county_clerk"], case=case, note="请另行派单。")
    case.refresh_from_db()
    assert (case.status, case.level, case.transfer_count, case.escalation_count) == (
        S.RETURNED,
        HandlingLevel.COUNTY,
        3,
        2,
    )


# ---------------------------------------------------------------------------------------------------------
# Escalate and send down


def test_escalate_goes_up_one_level_at_a_time_and_stops_at_the_county(world):
    case = case_make(world, handle_in_grid=True)
    expected = [
        (HandlingLevel.VILLAGE, "新华村", "grid_leader"),
        (HandlingLevel.TOWNSHIP, "城关镇", "village_secretary"),
        (HandlingLevel.COUNTY, "谷城县", "township_admin"),
    ]
    for level, region, username in expected:
        case_escalate(actor=world.users[username], case=case, note="请上级协调。")
        case.refresh_from_db()
        assert (case.status, case.level, case.handling_region) == (S.SUBMITTED, level, world.regions[region])
    assert case.escalation_count == 3
    row_before, writes_before = _row(case), _writes()
    with pytest.raises(Conflict) as refused:
        case_escalate(actor=world.users["county_admin"], case=case, note="再上报。")
    assert (refused.value.code, refused.value.status) == ("case_escalate_top", 409)
    assert (_row(case), _writes()) == (row_before, writes_before)


def test_after_escalation_the_lower_level_can_no_longer_act(world):
    case = case_make(world)
    case_escalate(actor=world.users["village_secretary"], case=case, note="涉及多个村，请镇里协调。")
    with pytest.raises(DomainError) as refused:
        case_transition(actor=world.users["village_secretary"], case=case, name="accept")
    assert refused.value.status == 403
    case_transition(actor=world.users["township_admin"], case=case, name="accept")


def test_send_down_to_the_grid(world):
    case = _case_in(world, S.ACCEPTED)
    case_send_down(
        actor=world.users["village_secretary"],
        case=case,
        note="请网格先行处置。",
        region=world.regions["第一网格"],
    )
    case.refresh_from_db()
    assert (case.status, case.level, case.handling_region) == (
        S.ACCEPTED,
        HandlingLevel.GRID,
        world.regions["第一网格"],
    )
    assert case.events.last().data == {"to_region": "第一网格", "to_level": "grid"}
    # Now the grid leader's to assign.
    case_assign(actor=world.users["grid_leader"], case=case, user=world.users["grid_leader"])


def test_send_down_from_the_county_to_the_village(world):
    case = case_make(world)
    case_step(world, case, "escalate")
    case_step(world, case, "escalate")
    case_send_down(
        actor=world.users["county_admin"], case=case, note="请村里办理。", region=world.regions["新华村"]
    )
    case.refresh_from_db()
    assert (case.level, case.handling_region, case.status) == (
        HandlingLevel.VILLAGE,
        world.regions["新华村"],
        S.ACCEPTED,
    )


@pytest.mark.parametrize("region", ["新华村", "城关镇", "第二网格", "民营第一网格", "东街社区"])
def test_send_down_only_strictly_below_on_the_way_to_the_grid(world, region):
    case = case_make(world)
    row_before, writes_before = _row(case), _writes()
    with pytest.raises(DomainError) as refused:
        case_send_down(
            actor=world.users["village_secretary"], case=case, note="下派。", region=world.regions[region]
        )
    assert (refused.value.code, refused.value.field) == ("case_send_down_region_invalid", "region")
    assert (_row(case), _writes()) == (row_before, writes_before)


# ---------------------------------------------------------------------------------------------------------
# Duplicates, not our responsibility, withdraw


def test_mark_duplicate_names_an_open_original_in_scope(world):
    original = case_make(world)
    case = case_make(world)
    case_mark_duplicate(actor=world.users["village_secretary"], case=case, original=original)
    case.refresh_from_db()
    assert (case.status, case.duplicate_of) == (S.DUPLICATE, original)
    assert case.events.last().data == {"original": original.number, "original_id": original.pk}


@pytest.mark.parametrize("which", ["itself", "closed", "out_of_scope", "missing"])
def test_mark_duplicate_refuses_a_bad_original(world, which):
    case = case_make(world)
    original: Any
    if which == "itself":
        original = case
    elif which == "closed":
        original = _case_in(world, S.CLOSED)
    elif which == "out_of_scope":
        original = case_make(world, reporter="minying_leader", grid="民营第一网格")
    else:
        original = 2_147_483_000
    row_before, writes_before = _row(case), _writes()
    with pytest.raises(DomainError) as refused:
        case_mark_duplicate(actor=world.users["village_secretary"], case=case, original=original)
    assert (refused.value.code, refused.value.field) == ("case_duplicate_original_invalid", "original")
    assert (_row(case), _writes()) == (row_before, writes_before)


def test_not_responsible_needs_where_it_went(world):
    case = case_make(world)
    with pytest.raises(DomainError) as refused:
        case_transition(
            actor=world.users["village_secretary"], case=case, name="not_responsible", note="不归村里管。"
        )
    assert (refused.value.code, refused.value.field) == ("case_routed_to_required", "routed_to")
    case_step(world, case, "not_responsible")
    case.refresh_from_db()
    assert (case.status, case.routed_elsewhere_to) == (S.NOT_RESPONSIBLE, "国网谷城县供电公司")


def test_withdraw_an_assigned_case_tells_the_handler(world):
    case = _case_in(world, S.SIGNED)
    Notification.objects.all().delete()
    case_step(world, case, "withdraw")
    case.refresh_from_db()
    assert (case.status, case.assigned_unit, case.assigned_user) == (S.WITHDRAWN, None, None)
    assert sorted(Notification.objects.values_list("user__username", flat=True)) == [
        "village_secretary",
        "xinhua_clerk",
    ]


# ---------------------------------------------------------------------------------------------------------
# Notes on the timeline


def test_note_add_private_by_default_and_public_only_on_a_public_case(world):
    case = case_make(world)
    note = case_note_add(
        actor=world.users["village_secretary"], case=case, note="已电话联系王建国，约定周三到现场。"
    )
    assert (note.kind, note.is_public, note.from_status, note.to_status) == (
        "note",
        False,
        S.SUBMITTED,
        S.SUBMITTED,
    )
    public = case_note_add(
        actor=world.users["village_secretary"], case=case, note="已安排现场查看。", is_public=True
    )
    assert public.is_public is True
    anonymous = case_make(world, privacy=Privacy.ANONYMOUS)
    hidden = case_note_add(actor=world.users["grid_leader"], case=anonymous, note="已查看。", is_public=True)
    assert hidden.is_public is False


@pytest.mark.parametrize(("username", "error"), [("viewer", DomainError), ("minying_secretary", NotFound)])
def test_note_add_refuses_who_has_no_part_in_the_case(world, username, error):
    case = case_make(world)
    with pytest.raises(error):
        case_note_add(actor=world.users[username], case=case, note="看看。")
    assert case.events.count() == 1


def test_note_add_refuses_an_empty_note(world):
    case = case_make(world)
    with pytest.raises(DomainError) as refused:
        case_note_add(actor=world.users["grid_leader"], case=case, note="  ")
    assert (refused.value.code, refused.value.field) == ("note_required", "note")


def test_actor_enum_covers_the_table():
    assert {a for t in TRANSITIONS.values() for a in t.actors} == set(Actor)


def test_file_by_a_village_secretary_in_any_grid_of_the_village(world):
    for grid in ("第一网格", "第二网格"):
        case = case_file(
            actor=world.users["village_secretary"],
            idempotency_key=f"vs-{grid}",
            category=world.categories["boundary"],
            description="两户因宅基地边界发生争执。",
            urgency="normal",
            privacy=Privacy.CONFIDENTIAL,
            grid=world.regions[grid],
        )
        assert case.grid == world.regions[grid]
    assert Region.objects.filter(pk=case.handling_region_id, name="新华村").exists()


# ---------------------------------------------------------------------------------------------------------
# Messages to the resident and the mediator's grant


def test_filing_for_a_resident_queues_the_acknowledgement_and_accept_tells_them(world):
    case = case_make(world, resident="王建国")
    assert list(ResidentMessage.objects.filter(case=case).values_list("text", "status")) == [
        (f"您反映的问题已登记，编号{case.number}（道路损坏）。我们将尽快受理办理，请留意后续短信。", "queued")
    ]
    case_step(world, case, "accept")
    assert ResidentMessage.objects.filter(case=case).order_by("pk").last().text == (
        f"您反映的问题（编号{case.number}）已受理，我们将尽快安排办理。"
    )
    # Filed as the grid leader's own finding: nobody to text.
    assert not ResidentMessage.objects.filter(case=case_make(world)).exists()


@pytest.mark.parametrize("state", [S.SUBMITTED, S.ACCEPTED])
def test_a_final_transition_takes_back_the_mediators_grant(world, state):
    from guardian.shortcuts import assign_perm

    from grids.access import cases_visible as visible

    case = _case_in(world, state)
    assign_perm("grids.mediate_case", world.users["mediator"], case)
    assert visible(world.users["mediator"]).filter(pk=case.pk).exists()
    case_step(world, case, "not_responsible")
    assert not visible(world.users["mediator"]).filter(pk=case.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_submits_with_one_key_file_one_case(demo_county):
    import threading

    from django.db import connection

    world = grids_world_make(demo_county)
    barrier = threading.Barrier(2)
    filed: list[int] = []
    errors: list[BaseException] = []

    def submit() -> None:
        try:
            barrier.wait(timeout=10)
            filed.append(case_make(world, idempotency_key="race-1").pk)
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(filed) == 2
    assert len(set(filed)) == 1
    assert Case.objects.filter(idempotency_key="race-1").count() == 1
    assert CaseEvent.objects.filter(case_id=filed[0]).count() == 1

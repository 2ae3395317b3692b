"""The demo year of cases (grids/demo.py) is written in bulk, not through the services: these tests hold
it to the rules the services keep, so every page and chart shows a history the workflow could produce."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from governance.demo import seed_demo_county
from governance.models import Region, RegionLevel, RoleAssignment, User
from governance.roles import Role
from grids import workflow
from grids.models import (
    Case,
    CaseEvent,
    CaseStatus,
    CaseSupervision,
    GridLeader,
    HandlingLevel,
    HandlingUnit,
    MediationAgreement,
    WarningLevel,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """The test-scale county with its cases, built once for the module inside a transaction that is
    rolled back afterwards (each test's own transaction nests inside it as a savepoint)."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            seed_demo_county(password="xiangzhi-demo", scale="test")
            yield
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def test_every_grid_has_cases_and_every_leader_an_account(seeded):
    grids = Region.objects.filter(level=RegionLevel.GRID)
    with_cases = grids.annotate(n=Count("cases")).filter(n__gte=4).count()
    assert with_cases == grids.count() == 62
    leaders = GridLeader.objects.filter(ended_on=None)
    assert leaders.count() == 62
    assert leaders.filter(user__isnull=True).count() == 0
    # Each leader's account holds the grid-leader role at exactly their grid.
    for leader in leaders.select_related("user"):
        assert RoleAssignment.objects.filter(
            user=leader.user, role=Role.GRID_LEADER, region=leader.grid
        ).exists()


def test_timelines_replay_to_the_stored_state(seeded):
    """Walking each case's events from the start through the workflow table ends at its status, and
    every transition on the way is one the table allows."""
    events: dict[int, list[CaseEvent]] = {}
    for event in CaseEvent.objects.order_by("case_id", "at", "id"):
        events.setdefault(event.case_id, []).append(event)
    cases = list(Case.objects.all())
    assert len(cases) == len(events)
    for case in cases:
        status = ""
        for event in events[case.pk]:
            if not event.to_status:
                continue  # a mediation entry: no state change
            if event.kind == workflow.FILE:
                assert status == ""
            else:
                assert workflow.is_allowed(event.kind, status), (case.number, event.kind, status)
                assert event.from_status == status
            status = event.to_status
        assert status == case.status, case.number


def test_stored_fields_agree_with_the_history(seeded):
    for case in Case.objects.all():
        assert case.number == f"MQ{timezone.localtime(case.filed_at):%Y%m%d}{case.pk:06d}"
        if case.status in (CaseStatus.CLOSED, CaseStatus.NOT_RESPONSIBLE):
            assert case.closed_at is not None
        if case.assigned_at is not None and case.sign_deadline is not None:
            assert case.sign_deadline > case.assigned_at
            assert case.resolve_deadline >= case.sign_deadline
        if case.signed_at is not None and case.sign_deadline is not None and case.signed_on_time is not None:
            assert case.signed_on_time == (case.signed_at <= case.sign_deadline)
        if case.status == CaseStatus.CLOSED:
            assert case.satisfaction in ("satisfied", "basically")
        if case.level == HandlingLevel.VILLAGE:
            assert case.handling_region_id == case.grid.parent_id
        if case.warning != WarningLevel.NONE:
            assert case.status in workflow.CLOCK_STATES
            assert CaseSupervision.objects.filter(case=case, kind=case.warning).count() == 1
        unsatisfied = CaseEvent.objects.filter(
            case=case, kind="follow_up", to_status=CaseStatus.REOPENED
        ).count()
        assert case.rehandle_count == unsatisfied


def test_the_demo_logins_have_work_waiting(seeded):
    grid_leader = User.objects.get(username="grid_leader")
    grid = GridLeader.objects.get(user=grid_leader, ended_on=None).grid
    open_cases = Case.objects.filter(grid=grid, status__in=workflow.OPEN_STATES)
    assert open_cases.count() >= 4
    village = grid.parent
    queue = Case.objects.filter(handling_region=village, status__in=workflow.QUEUE_STATES)
    assert queue.count() >= 1
    # The village's own committee is a unit the demo secretary acts for.
    secretary = User.objects.get(username="village_secretary")
    assert HandlingUnit.objects.filter(region=village, members=secretary).count() == 1


def test_mediated_disputes_and_the_data_column(seeded):
    agreements = MediationAgreement.objects.select_related("case__category")
    assert agreements.exists()
    assert all(a.case.category.is_mediable for a in agreements)
    assert CaseEvent.objects.filter(kind="assign").exclude(data={}).exists()
    raw = CaseEvent.objects.filter(kind="assign").values_list("data", flat=True).first()
    assert isinstance(raw, dict)
    assert set(raw) == {"unit_id"}
    assert json.loads(json.dumps(raw))["unit_id"] > 0


def test_seed_twice_adds_nothing(seeded):
    before = Case.objects.count()
    seed_demo_county(password="xiangzhi-demo", scale="test")
    assert Case.objects.count() == before
    assert dt.timedelta(days=366) > timezone.now() - Case.objects.order_by("filed_at").first().filed_at

"""Reads for the case page (/grids/cases/<number>/): the case with everything it shows joined, its
photos, its timeline with who did what and each entry's photos, the actions the user may take now, and
the choices those actions' forms offer (units, people, regions below, possible originals).

Every read is for an acting user who already passed grids.access.case_get_visible; identity follows
grids.access.case_sees_identity.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Prefetch, Q
from django.utils.translation import gettext_lazy as _

from governance.models import Region, User
from grids import access as grids_access
from grids.models import (
    Case,
    CaseEvent,
    CaseExtension,
    CasePhoto,
    CaseStatus,
    CaseSupervision,
    FeedbackProject,
    HandlingUnit,
    PhotoStage,
)
from grids.workflow import FINAL_STATES, TRANSITIONS, Transition, transitions_from

AnyUser = AbstractBaseUser | AnonymousUser

# Transitions shown as the main next step when the user may take them, in this order.
PRIMARY_ORDER = ("accept", "assign", "sign_for", "start", "resolve", "follow_up", "archive")
DUPLICATE_CANDIDATES = 30

# Labels of timeline entries that are not transitions of the table.
EVENT_LABELS = {
    "file": _("上报诉求"),
    "note": _("办理说明"),
    "supervise": _("督办"),
    "warning": _("预警"),
    "extension": _("延期申请"),
    "extension_request": _("申请延期"),
    "extension_decide": _("延期审批"),
    "me_too": _("附议"),
    "mediation_hand_over": _("移交调解"),
    "mediation_revoke": _("收回调解"),
    "mediation_session": _("调解记录"),
    "mediation_agreement": _("调解协议"),
    "auto_escalate": _("自动提级"),
}


def event_label(kind: str) -> str:
    """The Chinese name of a timeline entry's kind."""
    transition = TRANSITIONS.get(kind)
    if transition is not None:
        return str(transition.label)
    return str(EVENT_LABELS.get(kind, kind))


def status_label(value: str) -> str:
    try:
        return str(CaseStatus(value).label)
    except ValueError:
        return ""


@dataclass
class CasePage:
    case: Case
    sees_identity: bool
    filing_photos: list[CasePhoto]
    result_photos: list[CasePhoto]
    # The timeline; each event's `shown_photos` are its progress and mediation photos (filing and result
    # photos have their own places on the page).
    events: list[CaseEvent]
    actions: list[Transition]
    primary: str | None
    can_note: bool
    is_final: bool
    extra: dict[str, Any] = field(default_factory=dict)


def case_page_case(*, user: AnyUser, number: str) -> Case:
    """The case `number` if the user may see it, with its related rows joined; NotFound otherwise."""
    visible = grids_access.case_get_visible(user, number)
    return Case.objects.select_related(
        "category",
        "category__parent",
        "grid",
        "grid__parent",
        "grid__parent__parent",
        "handling_region",
        "assigned_unit",
        "assigned_user",
        "resident",
        "resident__household",
        "reporter",
        "duplicate_of",
    ).get(pk=visible.pk)


def case_page(*, user: AnyUser, case: Case) -> CasePage:
    """Everything the case page shows for `user`."""
    photos = list(CasePhoto.objects.filter(case=case).order_by("created_at", "pk"))
    events = list(
        CaseEvent.objects.filter(case=case)
        .select_related("actor")
        .prefetch_related(Prefetch("photos", queryset=CasePhoto.objects.order_by("created_at", "pk")))
        .order_by("at", "pk")
    )
    for event in events:
        event.shown_photos = [  # type: ignore[attr-defined]
            p for p in event.photos.all() if p.stage not in (PhotoStage.FILING, PhotoStage.RESULT)
        ]
        event.label = event_label(event.kind)  # type: ignore[attr-defined]
        event.from_label = status_label(event.from_status)  # type: ignore[attr-defined]
        event.to_label = status_label(event.to_status)  # type: ignore[attr-defined]
    actions = [t for t in transitions_from(case.status) if grids_access.case_can(user, case, t.name)]
    names = [t.name for t in actions]
    primary = next((name for name in PRIMARY_ORDER if name in names), None)
    return CasePage(
        case=case,
        sees_identity=grids_access.case_sees_identity(user, case),
        filing_photos=[p for p in photos if p.stage == PhotoStage.FILING],
        result_photos=[p for p in photos if p.stage == PhotoStage.RESULT],
        events=events,
        actions=actions,
        primary=primary,
        can_note=case_can_note(user=user, case=case),
        is_final=case.status in FINAL_STATES,
    )


def case_can_note(*, user: AnyUser, case: Case) -> bool:
    """Whether `user` may add a note to the timeline: the level's staff, the handler, the reporter, or
    the mediator granted the case (grids.services.cases.case_note_add's rule)."""
    return bool(grids_access.case_actor_roles(user, case)) or grids_access.is_mediator_of(user, case)


def assign_unit_choices(*, case: Case) -> list[HandlingUnit]:
    """Active handling units a case at its handling region may go to: those sitting at the handling
    region or above it (a township office, a county department) and those below it, by region and name."""
    region_path = case.handling_region.path
    ancestors = [int(part) for part in region_path.split("/") if part]
    return list(
        HandlingUnit.objects.filter(is_active=True)
        .filter(Q(region_id__in=ancestors) | Q(region__path__startswith=region_path))
        .select_related("region")
        .order_by("region__path", "name")
    )


def assign_person_choices(*, units: list[HandlingUnit]) -> list[tuple[HandlingUnit, list[User]]]:
    """The members of each unit (for the optional person), unit by unit."""
    if not units:
        return []
    through = HandlingUnit.members.through
    rows = (
        through.objects.filter(handlingunit_id__in=[u.pk for u in units], user__is_active=True)
        .select_related("user")
        .order_by("user__full_name", "user__username")
    )
    by_unit: dict[int, list[User]] = {}
    for row in rows:
        by_unit.setdefault(row.handlingunit_id, []).append(row.user)
    return [(unit, by_unit.get(unit.pk, [])) for unit in units]


def send_down_choices(*, case: Case) -> list[Region]:
    """Where the case may be sent down to: the regions on its grid's own path below the handling region
    (e.g. from a township: the case's village, then its grid), top down."""
    region_path = case.handling_region.path
    grid_path = case.grid.path
    ids = [int(part) for part in grid_path[len(region_path) :].split("/") if part]
    if not grid_path.startswith(region_path) or not ids:
        return []
    return list(Region.objects.filter(pk__in=ids).order_by("path"))


def duplicate_choices(*, user: AnyUser, case: Case) -> list[Case]:
    """Cases that could be the original of `case`: visible to the user, in the same village, filed
    before it, not themselves duplicates, same category first, newest first."""
    village_path = case.grid.parent.path if case.grid.parent else case.grid.path
    since = case.filed_at - dt.timedelta(days=365)
    return list(
        grids_access.cases_visible(user)
        .filter(grid__path__startswith=village_path, filed_at__lt=case.filed_at, filed_at__gte=since)
        .exclude(pk=case.pk)
        .exclude(status="duplicate")
        .select_related("category")
        .order_by("-filed_at")[:DUPLICATE_CANDIDATES]
    )


def case_extensions(*, case: Case) -> list[CaseExtension]:
    """The case's extension requests, newest first, with who asked and who decided."""
    return list(
        CaseExtension.objects.filter(case=case)
        .select_related("requested_by", "decided_by")
        .order_by("-requested_at")
    )


def case_supervisions(*, case: Case) -> list[CaseSupervision]:
    """The case's supervisions (warnings and 督办 by hand), newest first."""
    return list(CaseSupervision.objects.filter(case=case).select_related("raised_by").order_by("-raised_at"))


def case_projects(*, case: Case) -> list[FeedbackProject]:
    """The projects that came from `case` (shown to whoever sees the case), with their village."""
    return list(
        FeedbackProject.objects.filter(source_cases=case)
        .select_related("village", "village__parent")
        .annotate(
            milestone_count=Count("milestones", distinct=True),
            milestone_done=Count("milestones", filter=Q(milestones__done_on__isnull=False), distinct=True),
        )
        .order_by("-created_at")
    )

"""Reads of feedback projects, always for an acting user and limited to the villages in their scope."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from common.errors import NotFound
from governance import access
from governance.models import Region
from grids import access as grids_access
from grids.models import Case, FeedbackProject, ProjectMilestone, ProjectStatus
from grids.services.projects import project_can_manage

AnyUser = AbstractBaseUser | AnonymousUser

PROJECT_SORTS = {
    "-created": ("-created_at", "-pk"),
    "created": ("created_at", "pk"),
    "-progress": ("-progress_percent", "-pk"),
    "progress": ("progress_percent", "pk"),
    "village": ("village__path", "-created_at", "-pk"),
}
DEFAULT_PROJECT_SORT = "-created"


def project_list(
    *,
    user: AnyUser,
    village_id: int | None = None,
    region: Region | None = None,
    status: str | None = None,
    sort: str = DEFAULT_PROJECT_SORT,
) -> QuerySet[FeedbackProject]:
    """Projects of the villages in the user's scope (optionally one village, or those under `region`),
    with the village and `milestone_count` / `milestone_done` annotated, in `sort` order."""
    projects = access.scoped(FeedbackProject.objects.all(), user, "village__path")
    if village_id is not None:
        projects = projects.filter(village_id=village_id)
    if region is not None:
        projects = projects.filter(village__path__startswith=region.path)
    if status:
        projects = projects.filter(status=status)
    return (
        projects.select_related("village", "village__parent")
        .annotate(
            milestone_count=Count("milestones", distinct=True),
            milestone_done=Count("milestones", filter=Q(milestones__done_on__isnull=False), distinct=True),
        )
        .order_by(*PROJECT_SORTS.get(sort, PROJECT_SORTS[DEFAULT_PROJECT_SORT]))
    )


def project_get(*, user: AnyUser, project_id: int) -> FeedbackProject:
    """The project if its village is in the user's scope; NotFound (404) otherwise."""
    return access.get_in_scope(
        FeedbackProject.objects.select_related("village", "village__parent", "created_by"),
        user,
        "village__path",
        pk=project_id,
    )


@dataclass(frozen=True)
class ProjectDetail:
    project: FeedbackProject
    milestones: list[ProjectMilestone]
    # (number, category name, status label, is the user allowed to open it)
    source_cases: list[tuple[str, str, str, bool]]
    can_manage: bool
    total_weight: int
    done_weight: int


def project_detail(*, user: AnyUser, project_id: int) -> ProjectDetail:
    """A project with its milestones and the cases it came from; a source case the user may not open is
    listed by number and category only. A fixed number of queries."""
    project = project_get(user=user, project_id=project_id)
    milestones = list(project.milestones.order_by("due_on", "pk"))
    cases = list(Case.objects.filter(projects=project).select_related("category").order_by("filed_at", "pk"))
    visible = set(_visible_case_ids(user, [c.pk for c in cases])) if cases else set()
    return ProjectDetail(
        project=project,
        milestones=milestones,
        source_cases=[
            (c.number, c.category.name, str(c.get_status_display()), c.pk in visible) for c in cases
        ],
        can_manage=project_can_manage(user=user, village=project.village),
        total_weight=sum(m.weight for m in milestones),
        done_weight=sum(m.weight for m in milestones if m.done_on is not None),
    )


def _visible_case_ids(user: AnyUser, ids: list[int]) -> list[int]:
    return list(grids_access.cases_visible(user).filter(pk__in=ids).values_list("pk", flat=True))


def project_status_counts(*, user: AnyUser, region: Region | None = None) -> dict[str, int]:
    """{status: count} of the projects in scope (under `region` when given), every status present."""
    projects = access.scoped(FeedbackProject.objects.all(), user, "village__path")
    if region is not None:
        projects = projects.filter(village__path__startswith=region.path)
    counts = dict(projects.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    return {status: counts.get(status, 0) for status in ProjectStatus.values}


def project_villages(*, user: AnyUser) -> list[Region]:
    """Villages in scope that have at least one project, for the list's filter."""
    ids = access.scoped(FeedbackProject.objects.all(), user, "village__path").values("village_id")
    return list(Region.objects.filter(pk__in=ids).order_by("path"))


def project_region_get(*, user: AnyUser, region_id: int) -> Region:
    """A region in the user's scope (for the village page's project section); NotFound otherwise."""
    found = access.scoped(Region.objects.all(), user, "path").filter(pk=region_id).first()
    if found is None:
        raise NotFound(_("未找到该区域，或者它不在您的管辖范围内。"))
    return found

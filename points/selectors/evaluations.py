"""Reads of evaluations, scoped to the acting user (the villages in their points scope)."""

from __future__ import annotations

from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _

from common.errors import DomainError, NotFound
from governance.access import AnyUser, scope_q
from governance.models import Region, RegionLevel, Resident, ResidentStatus
from points import access as points_access
from points.models import Evaluation, Rule
from points.services.awards import rule_applies_to
from points.services.evaluations import evaluation_ranking


def evaluations_visible(user: AnyUser) -> QuerySet[Evaluation]:
    """Evaluations of the villages in the user's points scope."""
    return Evaluation.objects.filter(scope_q(user, "village__path", points_access.POINTS_SCOPE_ROLES))


def evaluation_list(*, user: AnyUser) -> list[Evaluation]:
    """The visible evaluations, newest year first, with nomination and winner counts."""
    return list(
        evaluations_visible(user)
        .select_related("village", "rule")
        .annotate(nomination_count=Count("nominations"))
        .order_by("-year", "village__path", "title")
    )


def evaluation_get(*, user: AnyUser, evaluation_id: int | str) -> Evaluation:
    found = (
        evaluations_visible(user).select_related("village__parent", "rule").filter(pk=evaluation_id).first()
    )
    if found is None:
        raise NotFound(_("未找到该评选活动，或者它不在您的管辖范围内。"))
    return found


def evaluation_detail(*, user: AnyUser, evaluation_id: int | str) -> tuple[Evaluation, list, list]:
    """(evaluation, its nominations awaiting or after review with vote counts, the ranking)."""
    evaluation = evaluation_get(user=user, evaluation_id=evaluation_id)
    nominations = list(
        evaluation.nominations.select_related("resident__household__grid", "award")
        .annotate(vote_count=Count("votes"))
        .order_by("created_at", "pk")
    )
    return evaluation, nominations, evaluation_ranking(evaluation)


def villages_for_evaluations(*, user: AnyUser) -> list[Region]:
    """Villages where the user may run an evaluation."""
    from points.services.evaluations import RUNNER_ROLES

    return list(
        Region.objects.filter(scope_q(user, "path", RUNNER_ROLES), level=RegionLevel.VILLAGE).order_by(
            "path"
        )[:500]
    )


def rules_for_evaluations(*, village: Region | None = None) -> list[Rule]:
    """Active award items without a photo requirement (those an evaluation can award), evaluations first."""
    rules = Rule.objects.filter(is_active=True, points__gt=0, is_evidence_required=False).select_related(
        "region"
    )
    found = [r for r in rules if village is None or rule_applies_to(r, village.path)]
    return sorted(found, key=lambda r: (r.category != "evaluations", r.code))


def resident_find(*, evaluation: Evaluation, household_number: str, name: str) -> Resident:
    """The current resident called `name` in household `household_number` of the evaluation's village."""
    resident = (
        Resident.objects.filter(
            household__grid__path__startswith=evaluation.village.path,
            household__number=(household_number or "").strip(),
            name=(name or "").strip(),
        )
        .exclude(status__in=[ResidentStatus.DECEASED, ResidentStatus.MOVED_OUT])
        .select_related("household__grid")
        .first()
    )
    if resident is None:
        raise DomainError(
            "resident_not_found", _("本村（社区）该户号下没有这位居民，请核对户号和姓名。"), field="name"
        )
    return resident

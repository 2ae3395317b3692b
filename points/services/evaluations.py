"""Evaluations ("最美村民" and the like): the village secretary creates one with a rule item and a number
of winners; residents of the village are nominated with a reason; nominations are reviewed; the votes of
the village representatives (typed in from the meeting: representatives have no log-in) are recorded;
the decision makes the top accepted nominations winners and awards them through the ordinary award
flow (award_propose + award_review approve), so the points still go through public notice.

Rules of the decision (documented for the village):
- only ACCEPTED nominations with at least one vote can win;
- order: most votes first; a tie is broken by the earlier nomination (nominated first wins), so the
  result never depends on chance;
- each representative may vote for at most `winners_count` nominations of an evaluation, once each.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from common.errors import Conflict, DomainError, NotFound
from common.idempotency import body_fingerprint, idempotency_begin, idempotency_finish
from governance.access import AnyUser, covers
from governance.audit import audit_record
from governance.models import AuditAction, Region, RegionLevel, Resident, ResidentStatus
from governance.roles import Role
from points.models import (
    AwardStatus,
    Evaluation,
    EvaluationStatus,
    Nomination,
    NominationStatus,
    Rule,
    Vote,
)
from points.services import awards as award_services

# Who runs an evaluation: the village secretary of its village, or the township and county above.
RUNNER_ROLES = frozenset({Role.VILLAGE_SECRETARY, Role.TOWNSHIP_ADMIN, Role.COUNTY_ADMIN})
# Who may nominate: the runners, and the grid leader of the nominee's grid.
NOMINATOR_ROLES = RUNNER_ROLES | {Role.GRID_LEADER}
TITLE_MAX, REASON_MAX, NAME_MAX, WINNERS_MAX = 60, 500, 30, 50


def can_run(user: AnyUser, village: Region) -> bool:
    return covers(user, village.path, RUNNER_ROLES)


def _gate(user: AnyUser, evaluation: Evaluation) -> None:
    if not can_run(user, evaluation.village):
        raise NotFound(_("未找到该评选活动，或者它不在您的管辖范围内。"))


def _locked(evaluation: Evaluation) -> Evaluation:
    return (
        Evaluation.objects.select_for_update(of=("self",))
        .select_related("village", "rule")
        .get(pk=evaluation.pk)
    )


def _replayed(actor: AnyUser, scope: str, key: str, body: dict) -> int | None:
    record = idempotency_begin(actor=actor, scope=scope, key=key, fingerprint=body_fingerprint(body))
    return int(record.response["id"]) if record is not None else None


def evaluation_create(
    *,
    actor: AnyUser,
    idempotency_key: str,
    village: Region,
    title: str,
    year: int,
    rule: Rule,
    winners_count: int,
) -> Evaluation:
    """Create an evaluation in NOMINATING; returns it (the first one again on a replay of the key).

    Refusals: the village out of the actor's reach (NotFound); not a village; empty or long title; a
    year other than this or last year; a rule that is inactive, not an award (points ≤ 0), requires a
    photo, or does not apply to the village; winners not 1–50; the same title and year already in the
    village (Conflict)."""
    title = (title or "").strip()
    if village.level != RegionLevel.VILLAGE or not can_run(actor, village):
        raise NotFound(_("未找到该村（社区），或者它不在您的管辖范围内。"))
    if not title:
        raise DomainError("title_required", _("请填写评选名称。"), field="title")
    if len(title) > TITLE_MAX:
        raise DomainError(
            "title_too_long", _("评选名称不能超过 %(n)s 字。") % {"n": TITLE_MAX}, field="title"
        )
    this_year = timezone.localdate().year
    if year not in (this_year, this_year - 1):
        raise DomainError("year_invalid", _("年度只能是今年或去年。"), field="year")
    if not rule.is_active or rule.points <= 0:
        raise DomainError("rule_not_award", _("请选择一个启用的加分条目。"), field="rule")
    if rule.is_evidence_required:
        raise DomainError("rule_needs_photo", _("该条目须附照片，不能用于评选奖励。"), field="rule")
    if not award_services.rule_applies_to(rule, village.path):
        raise DomainError("rule_not_applicable", _("该条目不适用于此村（社区）。"), field="rule")
    if not 1 <= winners_count <= WINNERS_MAX:
        raise DomainError(
            "winners_invalid", _("评选名额应为 1 到 %(n)s 名。") % {"n": WINNERS_MAX}, field="winners_count"
        )
    body = {"village": village.pk, "title": title, "year": year, "rule": rule.pk, "winners": winners_count}
    with transaction.atomic():
        replay = _replayed(actor, "points.evaluation_create", idempotency_key, body)
        if replay is not None:
            return Evaluation.objects.get(pk=replay)
        if Evaluation.objects.filter(village=village, title=title, year=year).exists():
            raise Conflict("evaluation_exists", _("本村%(year)s年已有同名评选。") % {"year": year})
        evaluation = Evaluation.objects.create(
            village=village,
            title=title,
            year=year,
            rule=rule,
            winners_count=winners_count,
            created_by_id=int(actor.pk or 0),
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=evaluation,
            region_path=village.path,
            changes={"rule": [None, rule.code], "winners_count": [None, winners_count]},
            detail=_("创建评选：%(title)s") % {"title": title},
        )
        idempotency_finish(
            actor=actor,
            scope="points.evaluation_create",
            key=idempotency_key,
            status_code=201,
            response={"id": evaluation.pk},
        )
    return evaluation


def nomination_create(
    *, actor: AnyUser, idempotency_key: str, evaluation: Evaluation, resident: Resident, reason: str
) -> Nomination:
    """Nominate a current resident of the evaluation's village; returns the NOMINATED nomination (the first
    one again on a replay). Refusals: out of reach (NotFound), not nominating any more (Conflict), a
    resident of another village or no longer current, no reason, already nominated (Conflict)."""
    reason = (reason or "").strip()
    household = resident.household
    grid = household.grid
    if not covers(actor, evaluation.village.path, RUNNER_ROLES) and not covers(
        actor, grid.path, NOMINATOR_ROLES
    ):
        raise NotFound(_("未找到该评选活动，或者它不在您的管辖范围内。"))
    if not grid.path.startswith(evaluation.village.path):
        raise DomainError("resident_not_in_village", _("被提名人不是本村（社区）居民。"), field="resident")
    if resident.status in (ResidentStatus.DECEASED, ResidentStatus.MOVED_OUT) or not household.is_active:
        raise DomainError("resident_not_current", _("被提名人已不在册。"), field="resident")
    if not reason:
        raise DomainError("reason_required", _("请填写推荐理由。"), field="reason")
    if len(reason) > REASON_MAX:
        raise DomainError(
            "reason_too_long", _("推荐理由不能超过 %(n)s 字。") % {"n": REASON_MAX}, field="reason"
        )
    body = {"evaluation": evaluation.pk, "resident": resident.pk, "reason": reason}
    with transaction.atomic():
        replay = _replayed(actor, "points.nomination_create", idempotency_key, body)
        if replay is not None:
            return Nomination.objects.get(pk=replay)
        evaluation = _locked(evaluation)
        if evaluation.status != EvaluationStatus.NOMINATING:
            raise Conflict("evaluation_not_nominating", _("该评选已截止提名。"))
        if Nomination.objects.filter(evaluation=evaluation, resident=resident).exists():
            raise Conflict("already_nominated", _("该居民已被提名。"))
        nomination = Nomination.objects.create(
            evaluation=evaluation, resident=resident, reason=reason, nominated_by_id=int(actor.pk or 0)
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=nomination,
            region_path=grid.path,
            detail=_("提名：%(title)s") % {"title": evaluation.title},
        )
        idempotency_finish(
            actor=actor,
            scope="points.nomination_create",
            key=idempotency_key,
            status_code=201,
            response={"id": nomination.pk},
        )
    return nomination


def nomination_review(
    *, actor: AnyUser, nomination: Nomination, accept: bool, reason: str = ""
) -> Nomination:
    """Accept or reject a NOMINATED nomination while the evaluation is nominating; returns it. A
    rejection needs a reason (kept in the audit log). Refusals: out of reach (NotFound), already
    reviewed or nominating closed (Conflict)."""
    evaluation = Evaluation.objects.select_related("village").get(pk=nomination.evaluation_id)
    _gate(actor, evaluation)
    reason = (reason or "").strip()
    if not accept and not reason:
        raise DomainError("rejection_reason_required", _("不通过时请填写理由。"), field="reason")
    with transaction.atomic():
        evaluation = _locked(evaluation)
        if evaluation.status != EvaluationStatus.NOMINATING:
            raise Conflict("evaluation_not_nominating", _("该评选已截止提名，不能再审核。"))
        nomination = Nomination.objects.select_for_update().get(pk=nomination.pk)
        if nomination.status != NominationStatus.NOMINATED:
            raise Conflict("nomination_reviewed", _("该提名已审核。"))
        nomination.status = NominationStatus.ACCEPTED if accept else NominationStatus.REJECTED
        nomination.save(update_fields=["status"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=nomination,
            region_path=evaluation.village.path,
            changes={"status": [NominationStatus.NOMINATED, nomination.status]},
            detail=_("提名审核通过") if accept else _("提名审核不通过：%(r)s") % {"r": reason[:200]},
        )
    return nomination


def evaluation_open_voting(*, actor: AnyUser, evaluation: Evaluation) -> Evaluation:
    """Close nominations and open voting; returns the evaluation. Needs at least one accepted nomination
    and no nomination left unreviewed."""
    _gate(actor, evaluation)
    with transaction.atomic():
        evaluation = _locked(evaluation)
        if evaluation.status != EvaluationStatus.NOMINATING:
            raise Conflict("evaluation_not_nominating", _("该评选已不在提名阶段。"))
        statuses = set(evaluation.nominations.values_list("status", flat=True))
        if NominationStatus.NOMINATED in statuses:
            raise DomainError("nominations_unreviewed", _("还有提名未审核，请先审核全部提名。"))
        if NominationStatus.ACCEPTED not in statuses:
            raise DomainError("no_accepted_nomination", _("还没有审核通过的提名，不能开始投票。"))
        evaluation.status = EvaluationStatus.VOTING
        evaluation.save(update_fields=["status"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=evaluation,
            region_path=evaluation.village.path,
            changes={"status": [EvaluationStatus.NOMINATING, EvaluationStatus.VOTING]},
            detail=_("开始投票"),
        )
    return evaluation


def votes_record(
    *, actor: AnyUser, idempotency_key: str, nomination: Nomination, representatives: Sequence[str]
) -> list[Vote]:
    """Record the votes of the named representatives for one ACCEPTED nomination while voting is open;
    returns the votes written (the same ones again on a replay). All or none. Refusals: out of reach
    (NotFound), voting not open (Conflict), no names, a name too long, a name twice in the list, a
    representative who already voted for this nomination, or who would exceed `winners_count` votes in
    this evaluation (field "representatives", naming them)."""
    names = [" ".join(n.split()) for n in representatives if n and n.strip()]
    evaluation = Evaluation.objects.select_related("village").get(pk=nomination.evaluation_id)
    _gate(actor, evaluation)
    if not names:
        raise DomainError(
            "representatives_required", _("请填写投票的村民代表姓名。"), field="representatives"
        )
    too_long = [n for n in names if len(n) > NAME_MAX]
    if too_long:
        raise DomainError(
            "representative_too_long",
            _("代表姓名不能超过 %(n)s 字。") % {"n": NAME_MAX},
            field="representatives",
        )
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise DomainError(
            "representative_twice",
            _("名单中有重复的代表：%(names)s。") % {"names": "、".join(twice)},
            field="representatives",
        )
    body = {"nomination": nomination.pk, "representatives": names}
    with transaction.atomic():
        replay = _replayed(actor, "points.votes_record", idempotency_key, body)
        if replay is not None:
            return list(Vote.objects.filter(nomination_id=nomination.pk, representative__in=names))
        evaluation = _locked(evaluation)
        if evaluation.status != EvaluationStatus.VOTING:
            raise Conflict("evaluation_not_voting", _("该评选不在投票阶段。"))
        nomination = Nomination.objects.get(pk=nomination.pk)
        if nomination.status != NominationStatus.ACCEPTED:
            raise DomainError("nomination_not_accepted", _("只能为审核通过的提名投票。"), field="nomination")
        voted = sorted(
            Vote.objects.filter(nomination=nomination, representative__in=names).values_list(
                "representative", flat=True
            )
        )
        if voted:
            raise DomainError(
                "representative_voted",
                _("以下代表已为该提名投过票：%(names)s。") % {"names": "、".join(voted)},
                field="representatives",
            )
        used = dict(
            Vote.objects.filter(nomination__evaluation=evaluation, representative__in=names)
            .values_list("representative")
            .annotate(n=Count("pk"))
        )
        over = sorted(n for n in names if used.get(n, 0) >= evaluation.winners_count)
        if over:
            raise DomainError(
                "representative_over_limit",
                _("每位代表最多投 %(n)s 票，以下代表已投满：%(names)s。")
                % {"n": evaluation.winners_count, "names": "、".join(over)},
                field="representatives",
            )
        votes = Vote.objects.bulk_create(
            [Vote(nomination=nomination, representative=n, recorded_by_id=int(actor.pk or 0)) for n in names]
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=nomination,
            region_path=evaluation.village.path,
            changes={"votes": [None, len(votes)]},
            detail=_("录入代表投票 %(n)s 票") % {"n": len(votes)},
        )
        idempotency_finish(
            actor=actor,
            scope="points.votes_record",
            key=idempotency_key,
            status_code=201,
            response={"id": nomination.pk},
        )
    return votes


def evaluation_ranking(evaluation: Evaluation) -> list[Nomination]:
    """The accepted (and winning) nominations in decision order: votes descending, then nominated first.
    Each carries `.vote_count`."""
    return list(
        evaluation.nominations.filter(status__in=[NominationStatus.ACCEPTED, NominationStatus.WINNER])
        .annotate(vote_count=Count("votes"))
        .select_related("resident__household__grid")
        .order_by("-vote_count", "created_at", "pk")
    )


def evaluation_decide(
    *, actor: AnyUser, evaluation: Evaluation, occurred_on: dt.date | None = None
) -> list[Nomination]:
    """Decide a VOTING evaluation: the first `winners_count` of evaluation_ranking with at least one vote
    become WINNER, each awarded the evaluation's rule through award_propose + award_review (approve), so
    the points go under public notice; all in one transaction. Returns the winners in order. Refusals:
    out of reach (NotFound), not voting (Conflict), no votes at all, and whatever the award flow refuses
    (e.g. the rule's cap for a household) — then nothing is decided."""
    _gate(actor, evaluation)
    occurred_on = occurred_on or timezone.localdate()
    with transaction.atomic():
        evaluation = _locked(evaluation)
        if evaluation.status != EvaluationStatus.VOTING:
            raise Conflict("evaluation_not_voting", _("该评选不在投票阶段，不能评定。"))
        ranking = [n for n in evaluation_ranking(evaluation) if n.vote_count > 0]  # type: ignore[attr-defined]
        if not ranking:
            raise DomainError("no_votes", _("还没有录入任何投票，不能评定。"))
        winners = ranking[: evaluation.winners_count]
        for nomination in winners:
            resident = nomination.resident
            award = award_services.award_propose(
                actor=actor,
                idempotency_key=f"evaluation-{evaluation.pk}-{nomination.pk}",
                household=resident.household,
                rule=evaluation.rule,
                occurred_on=occurred_on,
                resident=resident,
                note=_("%(year)s年%(title)s当选") % {"year": evaluation.year, "title": evaluation.title},
            )
            award = award_services.award_review(actor=actor, award=award, approve=True)
            assert award.status == AwardStatus.NOTICE
            Nomination.objects.filter(pk=nomination.pk).update(status=NominationStatus.WINNER, award=award)
            nomination.status, nomination.award = NominationStatus.WINNER, award
        evaluation.status = EvaluationStatus.DECIDED
        evaluation.save(update_fields=["status"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=evaluation,
            region_path=evaluation.village.path,
            changes={
                "status": [EvaluationStatus.VOTING, EvaluationStatus.DECIDED],
                "winners": [None, [n.pk for n in winners]],
            },
            detail=_("评定结果，%(n)s人当选") % {"n": len(winners)},
        )
    return winners

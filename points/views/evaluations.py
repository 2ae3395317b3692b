"""Pages of evaluations ("最美村民"…): the list with the create form, and one evaluation's page where the
village nominates, reviews, opens voting, records the representatives' votes and decides.

Thin: reads through points.selectors.evaluations, writes through points.services.evaluations; errors show
next to their field with the input kept; out of scope answers 404.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from common.errors import DomainError, NotFound
from points.models import EvaluationStatus, Nomination, Rule
from points.selectors import evaluations as selectors
from points.services import evaluations as services


def _errors(error: DomainError) -> dict[str, str]:
    return {error.field or "general": str(error.message)}


@login_required
def evaluation_list(request: HttpRequest) -> HttpResponse:
    """The visible evaluations; POST creates one (village secretary and above)."""
    villages = selectors.villages_for_evaluations(user=request.user)
    errors: dict[str, str] = {}
    data: dict[str, Any] = {
        "idempotency_key": uuid.uuid4().hex,
        "year": timezone.localdate().year,
        "winners_count": 10,
    }
    if request.method == "POST":
        data = request.POST.dict()
        try:
            village = next((v for v in villages if str(v.pk) == data.get("village")), None)
            if village is None:
                raise DomainError("village_required", _("请选择村（社区）。"), field="village")
            rule = Rule.objects.select_related("region").filter(pk=data.get("rule") or 0).first()
            if rule is None:
                raise DomainError("rule_required", _("请选择奖励条目。"), field="rule")
            try:
                year, winners = int(data.get("year", "")), int(data.get("winners_count", ""))
            except ValueError:
                raise DomainError(
                    "number_invalid", _("年度和名额请填写数字。"), field="winners_count"
                ) from None
            evaluation = services.evaluation_create(
                actor=request.user,
                idempotency_key=data.get("idempotency_key", ""),
                village=village,
                title=data.get("title", ""),
                year=year,
                rule=rule,
                winners_count=winners,
            )
        except NotFound as error:
            raise Http404(str(error.message)) from None
        except DomainError as error:
            errors = _errors(error)
        else:
            messages.success(request, _("评选已创建，可以开始提名。"))
            return redirect("points:evaluation_detail", evaluation_id=evaluation.pk)
    return render(
        request,
        "points/evaluations/list.html",
        {
            "evaluations": selectors.evaluation_list(user=request.user),
            "villages": villages,
            "rules": selectors.rules_for_evaluations() if villages else [],
            "data": data,
            "errors": errors,
        },
        status=400 if errors else 200,
    )


@login_required
def evaluation_detail(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    """One evaluation. POST `action`: nominate, accept, reject, open_voting, votes, decide."""
    try:
        evaluation = selectors.evaluation_get(user=request.user, evaluation_id=evaluation_id)
    except NotFound as error:
        raise Http404(str(error.message)) from None
    errors: dict[str, str] = {}
    data: dict[str, Any] = {}
    action = request.POST.get("action", "") if request.method == "POST" else ""
    if action:
        data = request.POST.dict()
        try:
            message = _do(request, evaluation, action, data)
        except NotFound as error:
            raise Http404(str(error.message)) from None
        except DomainError as error:
            errors = _errors(error)
            errors["action"] = action
        else:
            messages.success(request, message)
            return redirect("points:evaluation_detail", evaluation_id=evaluation.pk)
    evaluation, nominations, ranking = selectors.evaluation_detail(
        user=request.user, evaluation_id=evaluation_id
    )
    return render(
        request,
        "points/evaluations/detail.html",
        {
            "e": evaluation,
            "nominations": nominations,
            "ranking": ranking,
            "can_run": services.can_run(request.user, evaluation.village),
            "data": data,
            "errors": errors,
            "new_key": uuid.uuid4().hex,
            "is_nominating": evaluation.status == EvaluationStatus.NOMINATING,
            "is_voting": evaluation.status == EvaluationStatus.VOTING,
        },
        status=400 if errors else 200,
    )


def _nomination(evaluation: Any, data: dict[str, Any]) -> Nomination:
    found = Nomination.objects.filter(evaluation=evaluation, pk=data.get("nomination") or 0).first()
    if found is None:
        raise NotFound(_("未找到该提名。"))
    return found


def _do(request: HttpRequest, evaluation: Any, action: str, data: dict[str, Any]) -> str:
    user = request.user
    if action == "nominate":
        resident = selectors.resident_find(
            evaluation=evaluation,
            household_number=data.get("household_number", ""),
            name=data.get("name", ""),
        )
        services.nomination_create(
            actor=user,
            idempotency_key=data.get("idempotency_key", ""),
            evaluation=evaluation,
            resident=resident,
            reason=data.get("reason", ""),
        )
        return _("已提名。")
    if action in ("accept", "reject"):
        services.nomination_review(
            actor=user,
            nomination=_nomination(evaluation, data),
            accept=action == "accept",
            reason=data.get("reason", ""),
        )
        return _("已审核。")
    if action == "open_voting":
        services.evaluation_open_voting(actor=user, evaluation=evaluation)
        return _("提名已截止，开始投票。")
    if action == "votes":
        services.votes_record(
            actor=user,
            idempotency_key=data.get("idempotency_key", ""),
            nomination=_nomination(evaluation, data),
            representatives=(data.get("representatives", "") or "")
            .replace("，", "\n")
            .replace("、", "\n")
            .replace(",", "\n")
            .splitlines(),
        )
        return _("投票已录入。")
    if action == "decide":
        winners = services.evaluation_decide(actor=user, evaluation=evaluation)
        return _("评定完成，%(n)s人当选，奖励积分已进入公示。") % {"n": len(winners)}
    raise Http404

"""Yearly budgets of a canteen per funder (年度预算): what the government, the community, the donation fund
and the residents are expected to pay for its meals in a year. Set by the township or county admin
(canteens.access.can_set_budgets); the reports set them against what the meals have drawn.
"""

from __future__ import annotations

from typing import Any, cast

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from canteens import access
from canteens.models import Budget, Funder, Site, SiteKind
from canteens.services._common import AnyUser, yuan_to_fen
from common.errors import DomainError, NotFound
from common.services import begin, finish
from governance.audit import audit_record
from governance.models import AuditAction

SCOPE_SET = "canteens.budget_set"
BUDGET_MAX_FEN = 10_000_000_000  # ¥1 亿: the model's CHECK
FIRST_YEAR = 2000


def budget_year_clean(year: Any) -> int:
    try:
        number = int(year)
    except (TypeError, ValueError):
        raise DomainError("bad_year", _("请选择预算年度。"), field="year") from None
    today = timezone.localdate()
    if not FIRST_YEAR <= number <= today.year + 1:
        raise DomainError(
            "bad_year", _("预算年度须在 %(first)s 年到明年之间。") % {"first": FIRST_YEAR}, field="year"
        )
    return number


def budget_set(
    *,
    actor: AnyUser,
    idempotency_key: str,
    site: Site,
    year: Any,
    funder: str,
    amount_yuan: Any = None,
    amount_fen: int | None = None,
) -> Budget:
    """Set (create or change) the site's budget for `funder` in `year`; returns it. The amount comes in
    yuan as typed (`amount_yuan`, e.g. "120000" or "¥12,000.50") or in fen (`amount_fen`).
    NotFound unless the actor may set the site's budgets; DomainError next to the field for a bad year,
    funder or amount. Exactly once per (actor, key)."""
    if not access.can_set_budgets(actor, site):
        raise NotFound(access.NOT_FOUND_MESSAGE)
    if site.kind != SiteKind.CANTEEN:
        raise DomainError("not_a_canteen", _("只有爱心食堂才有就餐预算。"), field="site")
    year = budget_year_clean(year)
    if funder not in Funder.values:
        raise DomainError("bad_funder", _("请选择出资方。"), field="funder")
    if amount_fen is None:
        amount_fen = yuan_to_fen(amount_yuan, field="amount_yuan", maximum=BUDGET_MAX_FEN)
    elif isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen < 0:
        raise DomainError("bad_amount", _("预算金额不能为负数。"), field="amount_yuan")
    elif amount_fen > BUDGET_MAX_FEN:
        raise DomainError("amount_too_large", _("预算金额过大，请核对。"), field="amount_yuan")
    assert amount_fen is not None
    with transaction.atomic():
        body = {"site": site.pk, "year": year, "funder": funder, "amount_fen": amount_fen}
        replay = begin(actor=actor, scope=SCOPE_SET, key=idempotency_key, body=body)
        if replay is not None:
            return Budget.objects.get(pk=replay.response["id"])
        budget = Budget.objects.select_for_update().filter(site=site, year=year, funder=funder).first()
        before = budget.amount_fen if budget is not None else None
        if budget is None:
            budget, _created = Budget.objects.get_or_create(
                site=site,
                year=year,
                funder=funder,
                defaults={"amount_fen": amount_fen, "updated_by_id": actor.pk},
            )
        if budget.amount_fen != amount_fen or before is not None:
            budget.amount_fen = amount_fen
            budget.updated_by_id = cast(int, actor.pk)
            budget.save(update_fields=["amount_fen", "updated_by", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditAction.CREATE if before is None else AuditAction.UPDATE,
            obj=budget,
            region_path=site.region.path,
            changes={"amount_fen": [before, amount_fen], "idempotency_key": [None, idempotency_key]},
        )
        finish(actor=actor, scope=SCOPE_SET, key=idempotency_key, object_id=budget.pk)
    return budget

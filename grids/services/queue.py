"""Writes made from the triage queue: accepting several cases at once, and the audit entry of an Excel
export of the queue (it carries residents' names: personal data)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest
from django.utils.translation import gettext as _

from common.errors import DomainError
from governance.audit import audit_record
from governance.models import AuditAction
from grids import access as grids_access
from grids.services import cases as case_services

Actor = AbstractBaseUser | AnonymousUser

# One bulk action handles at most a page of the queue.
BULK_MAX = 100


@dataclass
class BulkResult:
    done: list[str] = field(default_factory=list)
    # (case number, Chinese reason) for each case that was not accepted
    refused: list[tuple[str, str]] = field(default_factory=list)


def case_bulk_accept(*, actor: Actor, numbers: Sequence[str]) -> BulkResult:
    """Accept (受理) each case named in `numbers`, each in its own transaction through the accept
    transition: one that cannot be accepted (out of scope, already accepted by someone else, not allowed)
    is reported and the others still go through. Returns what was done and what was refused."""
    numbers = list(dict.fromkeys(n.strip() for n in numbers if n and n.strip()))
    if not numbers:
        raise DomainError("bulk_empty", _("请先勾选要受理的诉求。"), field="cases")
    if len(numbers) > BULK_MAX:
        raise DomainError("bulk_too_many", _("一次最多受理%(n)d件诉求。") % {"n": BULK_MAX}, field="cases")
    result = BulkResult()
    for number in numbers:
        try:
            case = grids_access.case_get_visible(actor, number)
            case_services.case_transition(actor=actor, case=case, name="accept")
        except DomainError as error:
            result.refused.append((number, str(error.message)))
        else:
            result.done.append(number)
    return result


def queue_export_record(
    *,
    actor: Actor,
    count: int,
    filters: Mapping[str, str],
    has_personal_data: bool,
    region_path: str = "",
    request: HttpRequest | None = None,
) -> None:
    """Write the audit entry of an Excel export of the queue when it holds personal data (residents'
    names): how many rows, with which filters. An export without personal data is not recorded."""
    if not has_personal_data:
        return
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type="grids.case",
        object_repr=_("民情诉求受理台账（%d 件）") % count,
        region_path=region_path,
        changes={"filters": [None, dict(filters)], "rows": [None, count]},
        detail=_("导出民情诉求受理台账 Excel，共 %d 行。") % count,
        request=request,
    )

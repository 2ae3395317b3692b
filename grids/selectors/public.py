"""The public timeline of a case (no login): only for cases the resident filed as public, and with no
personal data at all — no resident or reporter name, phone, ID number, exact address, description or
photos; free text (the result, the notes of public entries) is scrubbed of the names involved and of
anything shaped like a phone or ID number before it is shown."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.errors import NotFound
from governance.models import Resident
from grids.models import Case, CaseEvent, CaseStatus, Privacy
from grids.workflow import TRANSITIONS

# A mainland mobile number, a landline, an 18-digit (or 15-digit) ID number, possibly spaced.
_PHONE_OR_ID = re.compile(r"(?<!\d)(?:\d[\s-]?){6,17}[\dXx](?!\d)")
MASK = "＊＊"

# Labels of timeline entries that are not transitions.
_OTHER_KINDS = {
    "file": gettext_lazy("上报诉求"),
    "note": gettext_lazy("办理说明"),
    "supervise": gettext_lazy("督办"),
    "warning": gettext_lazy("预警"),
    "extension": gettext_lazy("延期"),
    "me_too": gettext_lazy("附议"),
}


@dataclass(frozen=True)
class PublicEntry:
    at: object
    label: str
    status_label: str
    note: str


@dataclass(frozen=True)
class PublicCase:
    number: str
    category: str
    duty: str
    village: str
    township: str
    status_label: str
    is_finished: bool
    filed_at: object
    accepted_at: object
    resolved_at: object
    closed_at: object
    result: str
    satisfaction_label: str
    entries: list[PublicEntry]
    me_too_count: int


def scrub(text: str, names: list[str]) -> str:
    """`text` with each of `names` and every phone- or ID-shaped number replaced by a mask."""
    for name in sorted({n for n in names if n and len(n) >= 2}, key=len, reverse=True):
        text = text.replace(name, MASK)
    return _PHONE_OR_ID.sub(MASK, text)


def _names(case: Case) -> list[str]:
    """Names that must never show: the resident's household (the resident among them), the reporter."""
    names = [case.reporter.full_name, case.reporter.username]
    if case.resident is not None:
        names += list(
            Resident.objects.filter(
                Q(pk=case.resident.pk) | Q(household_id=case.resident.household_id)
            ).values_list("name", flat=True)
        )
    return names


def _label(kind: str) -> str:
    transition = TRANSITIONS.get(kind)
    if transition is not None:
        return str(transition.label)
    return str(_OTHER_KINDS.get(kind, gettext_lazy("办理")))


def public_case_get(*, number: str) -> PublicCase:
    """The public view of case `number`; NotFound (404) unless the case exists and is public."""
    case = (
        Case.objects.filter(number=number, privacy=Privacy.PUBLIC)
        .select_related("category", "category__parent", "grid__parent__parent", "reporter", "resident")
        .first()
    )
    if case is None:
        raise NotFound(_("未找到该诉求，或者它不公开。"))
    names = _names(case)
    events = CaseEvent.objects.filter(case=case, is_public=True).order_by("at", "pk")
    entries = [
        PublicEntry(
            at=e.at,
            label=_label(e.kind),
            status_label=_status_label(e.to_status),
            # Only a note staff published on purpose shows its text; the notes of transitions (a reason
            # to return, the filing itself) are working notes and may name people or places.
            note=scrub(e.note, names) if e.kind == "note" else "",
        )
        for e in events
    ]
    village = case.grid.parent
    township = village.parent if village is not None else None
    category = case.category
    return PublicCase(
        number=case.number,
        category=category.name,
        duty=category.get_duty_display(),
        village=village.name if village is not None else "",
        township=township.name if township is not None else "",
        status_label=case.get_status_display(),
        is_finished=case.status in {"resolved", "followed_up", "closed"},
        filed_at=case.filed_at,
        accepted_at=case.accepted_at,
        resolved_at=case.resolved_at,
        closed_at=case.closed_at,
        result=scrub(case.result, names),
        satisfaction_label=case.get_satisfaction_display() if case.satisfaction else "",
        entries=entries,
        me_too_count=case.me_too_count,
    )


def _status_label(value: str) -> str:
    try:
        return str(CaseStatus(value).label)
    except ValueError:
        return ""

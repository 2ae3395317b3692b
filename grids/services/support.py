"""附议 ("me too"): another user, or a resident they speak for, has the same problem as an open case."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from common.errors import Conflict, DomainError
from governance.access import scope_q
from governance.audit import audit_record
from governance.models import AuditAction, Resident, ResidentStatus
from grids.access import case_get_visible
from grids.models import Case, CaseEvent, CaseSupporter
from grids.workflow import OPEN_STATES

ME_TOO = "me_too"


@dataclass(frozen=True)
class MeTooResult:
    """`created` is False when this user (or resident) had already said "me too": nothing changed."""

    case: Case
    supporter: CaseSupporter
    created: bool


def case_me_too(
    *, actor: AbstractBaseUser, case: Case | int, resident: Resident | int | None = None
) -> MeTooResult:
    """Record that `actor` — or `resident`, for whom the actor speaks — has the same problem.

    Returns the case with its updated me_too_count. At most once per (case, user) without a resident and
    once per (case, resident): a repeat returns the first supporter row with created=False and changes
    nothing (UNIQUE constraints back this under concurrency; the case row is locked). Adds a "me_too"
    timeline entry (public, without names) and an audit entry. Refuses a case the actor cannot see
    (NotFound), a closed case, the actor's own case without a resident, the case's own resident, and a
    resident outside the actor's scope.
    """
    with transaction.atomic():
        visible = case_get_visible(actor, case.pk if isinstance(case, Case) else case)
        locked = Case.objects.select_for_update(of=("self",)).select_related("grid").get(pk=visible.pk)
        if locked.status not in OPEN_STATES:
            raise Conflict(
                "me_too_case_closed", _("该诉求已办结或关闭，不能再附议；如问题仍在，请重新上报。")
            )

        person: Resident | None = None
        if resident is not None:
            resident_id = resident.pk if isinstance(resident, Resident) else int(resident)
            person = (
                Resident.objects.filter(scope_q(actor, "household__grid__path"))
                .filter(pk=resident_id, status=ResidentStatus.RESIDENT)
                .first()
            )
            if person is None:
                raise DomainError(
                    "me_too_resident_invalid", _("所选群众不在您的网格范围内。"), field="resident"
                )
            if person.pk == locked.resident_id:
                raise DomainError(
                    "me_too_own_resident", _("该群众就是这件诉求的反映人，无需附议。"), field="resident"
                )
        elif locked.reporter_id == actor.pk:
            raise DomainError("me_too_own_case", _("这是您本人上报的诉求，无需附议。"))

        existing = CaseSupporter.objects.filter(case=locked)
        existing = (
            existing.filter(resident=person) if person else existing.filter(user_id=actor.pk, resident=None)
        )
        found = existing.first()
        if found is not None:
            return MeTooResult(case=locked, supporter=found, created=False)

        supporter = CaseSupporter.objects.create(case=locked, user_id=actor.pk, resident=person)
        Case.objects.filter(pk=locked.pk).update(me_too_count=F("me_too_count") + 1)
        locked.refresh_from_db(fields=["me_too_count"])
        CaseEvent.objects.create(
            case=locked,
            kind=ME_TOO,
            actor_id=actor.pk,
            at=timezone.now(),
            note=_("又有群众反映同一问题（共 %(n)s 人附议）") % {"n": locked.me_too_count},
            is_public=True,
            data={"me_too_count": locked.me_too_count, "for_resident": person is not None},
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=supporter,
            object_repr=f"{locked.number} +1",
            region_path=locked.grid.path,
            changes={"me_too_count": [locked.me_too_count - 1, locked.me_too_count]},
            detail=_("附议诉求 %(number)s") % {"number": locked.number},
        )
    return MeTooResult(case=locked, supporter=supporter, created=True)

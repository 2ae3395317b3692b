"""Writes of mediation: a dispute case handed to the village sages' mediation group (乡贤说事评理团), the
sessions the mediator holds and the agreement (调解协议) the parties sign.

Handing a case over gives the mediator object-level access to that one case (django-guardian
`grids.mediate_case`, a direct foreign-key row in CaseUserObjectPermission, design.md §3): they see it and
nothing else of the village. The grant is taken back when the case closes (mediation_grants_revoke_all,
called by the transitions into a final state) or by hand (case_mediation_revoke).

Who may be a mediator: a user holding the mediator role over the case's village, or a user whose
resident record (the only link between a person and an account is a grid-leader term) is an active
member of that village's SagesGroup.

Every function is keyword-only, runs in one transaction, validates before it writes, raises DomainError
with a Chinese message and the form field it belongs to, adds the timeline entry (CaseEvent, not public:
mediation concerns named parties) and writes its audit entry in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from common.errors import Conflict, DomainError, NotFound
from governance import access
from governance.audit import audit_record
from governance.models import AuditAction, Region, RegionLevel, RoleAssignment, SagesMember, User
from governance.roles import Role
from grids.models import (
    Case,
    CaseEvent,
    CaseUserObjectPermission,
    MediationAgreement,
    MediationSession,
)
from grids.workflow import FINAL_STATES

Actor = AbstractBaseUser | AnonymousUser

PERMISSION = "grids.mediate_case"
CODENAME = "mediate_case"
# Who may hand a case over to the sages (and take it back): the village secretary and the levels above.
HAND_OVER_ROLES = frozenset({Role.COUNTY_ADMIN, Role.TOWNSHIP_ADMIN, Role.VILLAGE_SECRETARY})
# Mediation makes sense while the case is still being handled.
MEDIABLE_STATES = frozenset(
    {"submitted", "accepted", "assigned", "signed", "in_progress", "returned", "reopened"}
)


def _village_of(case: Case) -> Region:
    """The village (村/社区) the case's grid belongs to."""
    village = case.grid.parent
    if village is None or village.level != RegionLevel.VILLAGE:
        raise DomainError("mediation_no_village", _("该诉求所在网格不属于任何村（社区）。"))
    return village


def _actor_id(actor: Actor) -> int:
    assert actor.pk is not None
    return int(actor.pk)


def mediation_can_hand_over(*, user: Actor, case: Case) -> bool:
    """Whether `user` may hand `case` to a mediator or take it back."""
    return access.covers(user, case.grid.path, HAND_OVER_ROLES)


def mediation_is_granted(*, user: Actor, case: Case) -> bool:
    """Whether `case` was handed to `user` (a live guardian row)."""
    if not user.is_authenticated:
        return False
    return CaseUserObjectPermission.objects.filter(
        user_id=user.pk,
        content_object_id=case.pk,
        permission__codename=CODENAME,
        permission__content_type__app_label="grids",
    ).exists()


def mediation_can_record(*, user: Actor, case: Case) -> bool:
    """Whether `user` may record sessions and the agreement: the mediator it was handed to, or the
    village secretary and above."""
    return mediation_is_granted(user=user, case=case) or mediation_can_hand_over(user=user, case=case)


def mediator_candidates(*, case: Case) -> QuerySet[User]:
    """Active users who may mediate `case`: the mediator role over its village, or an account linked (as
    a grid leader) to an active member of the village's sages' group. Ordered by name."""
    village = _village_of(case)
    ancestors = [int(part) for part in village.path.split("/") if part]
    role_holders = RoleAssignment.objects.filter(role=Role.MEDIATOR, region_id__in=ancestors).values(
        "user_id"
    )
    sages_residents = SagesMember.objects.filter(group__village=village, is_active=True).values("resident_id")
    return (
        User.objects.filter(is_active=True)
        .filter(Q(pk__in=role_holders) | Q(grid_leader_terms__resident_id__in=sages_residents))
        .distinct()
        .order_by("full_name", "username")
    )


def _require_visible(actor: Actor, case: Case) -> None:
    """A case the actor may not see answers like a missing one (404)."""
    from grids.access import cases_visible

    if not cases_visible(actor).filter(pk=case.pk).exists():
        raise NotFound(_("未找到该诉求，或者它不在您的管辖范围内。"))


def _require_handable(actor: Actor, case: Case) -> None:
    _require_visible(actor, case)
    if not mediation_can_hand_over(user=actor, case=case):
        raise DomainError(
            "mediation_forbidden", _("只有村党组织书记及乡镇、县管理员可以移交调解。"), status=403
        )


def _event(case: Case, actor: Actor, kind: str, note: str, **data: object) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case,
        kind=kind,
        from_status=case.status,
        to_status=case.status,
        actor_id=actor.pk if actor is not None and actor.is_authenticated else None,
        at=timezone.now(),
        note=note,
        is_public=False,
        data=data,
    )


def _notify(users: Sequence[User], case: Case, text: str) -> None:
    """Tell the users in-app, through the notifications service when it is installed."""
    try:
        from grids.services.notifications import notify
    except ImportError:  # pragma: no cover - the notifications module ships with the deadlines work
        return
    notify(users=list(users), case=case, text=text)


@transaction.atomic
def case_mediation_hand_over(
    *, actor: Actor, case: Case, mediator: User, note: str = "", request: HttpRequest | None = None
) -> CaseEvent:
    """Hand the dispute `case` to `mediator` and return the timeline entry.

    Refused: a category that is not mediable, a case no longer being handled, a mediator who is neither
    a sages' group member of the village nor holds the mediator role over it. Handing the same case to
    the same mediator twice is refused too (Conflict), so the timeline never says it twice.
    """
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("category", "grid__parent")
        .get(pk=case.pk)
    )
    _require_handable(actor, case)
    if not case.category.is_mediable:
        raise DomainError(
            "mediation_not_mediable",
            _("“%(category)s”类诉求不属于矛盾纠纷，不能移交乡贤调解。") % {"category": case.category.name},
            field="mediator",
        )
    if case.status not in MEDIABLE_STATES:
        raise DomainError(
            "mediation_case_not_open",
            _("诉求当前为“%(status)s”，不能再移交调解。") % {"status": case.get_status_display()},
            field="mediator",
        )
    if mediator is None or not mediator_candidates(case=case).filter(pk=mediator.pk).exists():
        raise DomainError(
            "mediation_not_a_mediator",
            _("所选人员不是本村乡贤说事评理团成员，也不是调解员，不能承担调解。"),
            field="mediator",
        )
    if mediation_is_granted(user=mediator, case=case):
        raise Conflict(
            "mediation_already_handed",
            _("该诉求已移交%(name)s调解。") % {"name": mediator},
            field="mediator",
        )
    note = (note or "").strip()
    if len(note) > 500:
        raise DomainError("note_too_long", _("说明不能超过500个字。"), field="note")
    from guardian.shortcuts import assign_perm

    assign_perm(PERMISSION, mediator, case)
    text = _("移交乡贤说事评理团调解，调解员：%(name)s") % {"name": mediator}
    event = _event(
        case,
        actor,
        "mediation_hand_over",
        f"{text}。{note}" if note else text,
        mediator_id=mediator.pk,
    )
    audit_record(
        actor=actor,
        action=AuditAction.GRANT,
        obj=case,
        region_path=case.grid.path,
        changes={"mediator": [None, str(mediator.pk)]},
        detail=_("授权 %(user)s 调解诉求 %(number)s") % {"user": mediator, "number": case.number},
        request=request,
    )
    _notify([mediator], case, _("诉求 %(number)s 已移交您调解。") % {"number": case.number})
    return event


def _revoke(
    actor: Actor | None, case: Case, mediator: User, reason: str, request: HttpRequest | None
) -> None:
    from guardian.shortcuts import remove_perm

    remove_perm(PERMISSION, mediator, case)
    audit_record(
        actor=actor,
        action=AuditAction.REVOKE,
        obj=case,
        region_path=case.grid.path,
        changes={"mediator": [str(mediator.pk), None]},
        detail=_("撤销 %(user)s 调解诉求 %(number)s 的授权：%(reason)s")
        % {"user": mediator, "number": case.number, "reason": reason},
        request=request,
    )


@transaction.atomic
def case_mediation_revoke(
    *, actor: Actor, case: Case, mediator: User, reason: str, request: HttpRequest | None = None
) -> CaseEvent:
    """Take the case back from `mediator` (reason required); they no longer see it. Returns the
    timeline entry."""
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("category", "grid__parent")
        .get(pk=case.pk)
    )
    _require_handable(actor, case)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("reason_required", _("请填写收回调解的原因。"), field="reason")
    if len(reason) > 300:
        raise DomainError("reason_too_long", _("原因不能超过300个字。"), field="reason")
    if not mediation_is_granted(user=mediator, case=case):
        raise DomainError("mediation_not_handed", _("该诉求未移交此人调解。"), field="mediator")
    _revoke(actor, case, mediator, reason, request)
    return _event(
        case,
        actor,
        "mediation_revoke",
        _("收回调解（调解员：%(name)s）：%(reason)s") % {"name": mediator, "reason": reason},
        mediator_id=mediator.pk,
    )


def mediation_grants_revoke_all(*, case: Case, actor: Actor | None = None) -> int:
    """Take back every mediation grant on `case` (it closed). Returns how many were removed.

    Called inside the transaction of the transition that closes the case (archive, duplicate, not
    responsible, withdraw), so the grant and the case's state change together. Idempotent."""
    if case.status not in FINAL_STATES:
        return 0
    rows = list(
        CaseUserObjectPermission.objects.filter(
            content_object_id=case.pk, permission__codename=CODENAME
        ).select_related("user")
    )
    for row in rows:
        _revoke(actor, case, row.user, _("诉求已办结归档"), None)
    return len(rows)


def _require_recorder(actor: Actor, case: Case) -> None:
    _require_visible(actor, case)
    if not mediation_can_record(user=actor, case=case):
        raise DomainError("mediation_forbidden", _("只有受托调解员或村党组织书记可以记录调解。"), status=403)
    if case.status in FINAL_STATES:
        raise DomainError(
            "mediation_case_closed",
            _("诉求已“%(status)s”，不能再记录调解。") % {"status": case.get_status_display()},
        )


def _required(value: str, field: str, label: str, max_length: int) -> str:
    value = (value or "").strip()
    if not value:
        raise DomainError(f"{field}_required", _("请填写%(label)s。") % {"label": label}, field=field)
    if len(value) > max_length:
        raise DomainError(
            f"{field}_too_long",
            _("%(label)s不能超过%(n)d个字。") % {"label": label, "n": max_length},
            field=field,
        )
    return value


@transaction.atomic
def mediation_session_record(
    *,
    actor: Actor,
    case: Case,
    held_at: dt.datetime | None,
    participants: str,
    summary: str,
    place: str = "",
    idempotency_key: str,
    request: HttpRequest | None = None,
) -> MediationSession:
    """Record one mediation session on `case` and return it. A replay with the same key returns the
    first session; the same key with another summary is a Conflict."""
    key = (idempotency_key or "").strip()
    if not key or len(key) > 64:
        raise DomainError("idempotency_key_missing", _("缺少防重复提交标识，请刷新页面后重新提交。"))
    case = Case.objects.select_for_update(of=("self",)).select_related("grid").get(pk=case.pk)
    existing = MediationSession.objects.filter(mediator_id=_actor_id(actor), idempotency_key=key).first()
    if existing is not None:
        if existing.case_id == case.pk and existing.summary == (summary or "").strip():
            return existing
        raise Conflict(
            "idempotency_key_reused", _("该防重复提交标识已用于另一条调解记录，请刷新页面后重新提交。")
        )
    _require_recorder(actor, case)
    if held_at is None:
        raise DomainError("held_at_required", _("请填写调解时间。"), field="held_at")
    if held_at > timezone.now() + dt.timedelta(minutes=5):
        raise DomainError("held_at_future", _("调解时间不能晚于现在。"), field="held_at")
    if held_at < case.filed_at - dt.timedelta(days=1):
        raise DomainError("held_at_before_case", _("调解时间不能早于诉求上报时间。"), field="held_at")
    participants = _required(participants, "participants", _("参加人员"), 300)
    summary = _required(summary, "summary", _("调解情况"), 2000)
    place = (place or "").strip()
    if len(place) > 100:
        raise DomainError("place_too_long", _("地点不能超过100个字。"), field="place")
    session = MediationSession.objects.create(
        case=case,
        mediator_id=_actor_id(actor),
        held_at=held_at,
        place=place,
        participants=participants,
        summary=summary,
        idempotency_key=key,
    )
    _event(
        case,
        actor,
        "mediation_session",
        # The summary names the parties: it stays in the mediation section, which follows the privacy rule.
        _("调解记录（%(when)s）") % {"when": timezone.localtime(held_at).strftime("%Y-%m-%d %H:%M")},
        session_id=session.pk,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=session,
        region_path=case.grid.path,
        changes={"case": [None, case.number], "held_at": [None, held_at.isoformat()]},
        detail=_("记录诉求 %(number)s 的调解情况") % {"number": case.number},
        request=request,
    )
    return session


@transaction.atomic
def mediation_agreement_record(
    *,
    actor: Actor,
    case: Case,
    parties: str,
    terms: str,
    signed_on: dt.date | None,
    request: HttpRequest | None = None,
) -> MediationAgreement:
    """Record the agreement the parties signed (one per case) and return it. Submitting the same
    agreement again returns it; a different second agreement is a Conflict (a correction is a note)."""
    case = Case.objects.select_for_update(of=("self",)).select_related("grid").get(pk=case.pk)
    _require_recorder(actor, case)
    parties = _required(parties, "parties", _("当事人"), 300)
    terms = _required(terms, "terms", _("协议内容"), 4000)
    existing = MediationAgreement.objects.filter(case=case).first()
    if existing is not None:
        if existing.parties == parties and existing.terms == terms and existing.signed_on == signed_on:
            return existing
        raise Conflict("mediation_agreement_exists", _("该诉求已签订调解协议，不能重复录入。"), field="terms")
    if signed_on is None:
        raise DomainError("signed_on_required", _("请填写签订日期。"), field="signed_on")
    if signed_on > timezone.localdate():
        raise DomainError("signed_on_future", _("签订日期不能晚于今天。"), field="signed_on")
    if signed_on < timezone.localtime(case.filed_at).date():
        raise DomainError("signed_on_before_case", _("签订日期不能早于诉求上报日期。"), field="signed_on")
    agreement = MediationAgreement.objects.create(
        case=case, mediator_id=_actor_id(actor), parties=parties, terms=terms, signed_on=signed_on
    )
    _event(
        case,
        actor,
        "mediation_agreement",
        _("签订调解协议（%(day)s）") % {"day": signed_on.isoformat()},
        agreement_id=agreement.pk,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=agreement,
        region_path=case.grid.path,
        changes={"case": [None, case.number], "signed_on": [None, signed_on.isoformat()]},
        detail=_("录入诉求 %(number)s 的调解协议") % {"number": case.number},
        request=request,
    )
    return agreement

"""Reads of mediation: the cases handed to a mediator ("我的调解"), and the mediation section of a case page
(who it was handed to, sessions, the agreement, and what the user may do there)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Exists, OuterRef, QuerySet

from governance.models import User
from grids.models import Case, CaseUserObjectPermission, MediationAgreement, MediationSession
from grids.services import mediation as mediation_services
from grids.workflow import FINAL_STATES

AnyUser = AbstractBaseUser | AnonymousUser


def _granted(user: AnyUser) -> QuerySet[CaseUserObjectPermission]:
    return CaseUserObjectPermission.objects.filter(
        user_id=int(user.pk or 0),
        permission__codename=mediation_services.CODENAME,
        permission__content_type__app_label="grids",
    )


def mediation_my_cases(*, user: AnyUser) -> QuerySet[Case]:
    """The cases handed to `user` for mediation that they still hold, open ones first, newest first,
    with the category, grid and village joined and `session_count` / `has_agreement` annotated."""
    if not user.is_authenticated:
        return Case.objects.none()
    return (
        Case.objects.filter(pk__in=_granted(user).values("content_object_id"))
        .select_related("category", "grid", "grid__parent")
        .annotate(
            session_count=Count("mediation_sessions", distinct=True),
            has_agreement=Exists(MediationAgreement.objects.filter(case=OuterRef("pk"))),
        )
        .order_by("-filed_at", "-pk")
    )


@dataclass(frozen=True)
class MediationSection:
    """What the case page shows about mediation, for one user."""

    is_mediable: bool
    mediators: list[User]
    sessions: list[MediationSession]
    agreement: MediationAgreement | None
    can_hand_over: bool
    can_record: bool
    is_granted: bool
    candidates: list[User]

    @property
    def is_shown(self) -> bool:
        return self.is_mediable and bool(
            self.mediators or self.sessions or self.agreement or self.can_hand_over
        )


def mediation_section(*, user: AnyUser, case: Case) -> MediationSection:
    """The mediation section of `case` (already checked visible to `user`)."""
    is_mediable = bool(case.category.is_mediable)
    rows = CaseUserObjectPermission.objects.filter(
        content_object_id=case.pk, permission__codename=mediation_services.CODENAME
    ).select_related("user")
    mediators = sorted({row.user for row in rows}, key=lambda u: (u.full_name, u.username))
    can_hand_over = mediation_services.mediation_can_hand_over(user=user, case=case)
    is_granted = any(m.pk == user.pk for m in mediators)
    is_open = case.status not in FINAL_STATES
    candidates: list[User] = []
    if is_mediable and can_hand_over and case.status in mediation_services.MEDIABLE_STATES:
        taken = {m.pk for m in mediators}
        candidates = [u for u in mediation_services.mediator_candidates(case=case) if u.pk not in taken]
    return MediationSection(
        is_mediable=is_mediable,
        mediators=mediators,
        sessions=list(
            MediationSession.objects.filter(case=case).select_related("mediator").order_by("held_at", "pk")
        ),
        agreement=MediationAgreement.objects.filter(case=case).select_related("mediator").first(),
        can_hand_over=can_hand_over and is_open,
        can_record=(is_granted or can_hand_over) and is_open,
        is_granted=is_granted,
        candidates=candidates,
    )

"""REST API of the mediation area of grids (mounted under /api/v1/grids/).

    GET  mediation/my-cases/                   the cases handed to the caller for mediation (paginated)
    GET  cases/{id}/mediation/                 a case's mediation: mediators, sessions, the agreement
    POST cases/{id}/mediation-hand-over/       {mediator_id, note}: hand it to a mediator (village
                                               secretary and above)
    POST cases/{id}/mediation-revoke/          {mediator_id, reason}: take it back
    POST cases/{id}/mediation-sessions/        {held_at, place, participants, summary, idempotency_key}
    POST cases/{id}/mediation-agreement/       {parties, terms, signed_on}

A case the caller may not see answers 404 exactly like a missing one (checked before the body is read).
The parties' names (participants, parties) are given only to those who may see the resident's identity.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import URLPattern, URLResolver, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import DomainError
from governance.models import User
from grids import access as grids_access
from grids.models import Case, MediationAgreement, MediationSession
from grids.selectors import mediation as mediation_selectors
from grids.services import mediation as mediation_services

TAGS = ["grids-mediation"]


class MediationRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class MediationPersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="__str__")


class MediationMyCaseOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    category = serializers.CharField(source="category.name")
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    grid = MediationRefSerializer()
    village = MediationRefSerializer(source="grid.parent")
    filed_at = serializers.DateTimeField()
    session_count = serializers.IntegerField()
    has_agreement = serializers.BooleanField()


class MediationSessionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    held_at = serializers.DateTimeField()
    place = serializers.CharField()
    participants = serializers.CharField(allow_null=True, help_text=_("仅对可查看反映人身份者提供"))
    summary = serializers.CharField()
    mediator = MediationPersonSerializer()


class MediationAgreementOutputSerializer(serializers.Serializer):
    parties = serializers.CharField(allow_null=True, help_text=_("仅对可查看反映人身份者提供"))
    terms = serializers.CharField()
    signed_on = serializers.DateField()
    mediator = MediationPersonSerializer()


class MediationOutputSerializer(serializers.Serializer):
    case_id = serializers.IntegerField()
    case_number = serializers.CharField()
    is_mediable = serializers.BooleanField()
    mediators = MediationPersonSerializer(many=True)
    sessions = MediationSessionOutputSerializer(many=True)
    agreement = MediationAgreementOutputSerializer(allow_null=True)
    can_hand_over = serializers.BooleanField()
    can_record = serializers.BooleanField()
    candidates = MediationPersonSerializer(many=True, help_text=_("可移交的调解员（仅对可移交者提供）"))


class MediationHandOverInputSerializer(serializers.Serializer):
    mediator_id = serializers.IntegerField(label=_("调解员编号"))
    note = serializers.CharField(label=_("移交说明"), required=False, allow_blank=True, max_length=500)


class MediationRevokeInputSerializer(serializers.Serializer):
    mediator_id = serializers.IntegerField(label=_("调解员编号"))
    reason = serializers.CharField(label=_("收回原因"), allow_blank=True, max_length=300)


class MediationSessionInputSerializer(serializers.Serializer):
    held_at = serializers.DateTimeField(label=_("调解时间"))
    place = serializers.CharField(label=_("地点"), required=False, allow_blank=True, max_length=100)
    participants = serializers.CharField(label=_("参加人员"), allow_blank=True, max_length=300)
    summary = serializers.CharField(label=_("调解情况"), allow_blank=True, max_length=2000)
    idempotency_key = serializers.CharField(label=_("防重复提交标识"), max_length=64)


class MediationAgreementInputSerializer(serializers.Serializer):
    parties = serializers.CharField(label=_("当事人"), allow_blank=True, max_length=300)
    terms = serializers.CharField(label=_("协议内容"), allow_blank=True, max_length=4000)
    signed_on = serializers.DateField(label=_("签订日期"))


def _mediation_body(user: Any, case: Case) -> dict[str, Any]:
    section = mediation_selectors.mediation_section(user=user, case=case)
    sees = grids_access.case_sees_identity(user, case)
    agreement = section.agreement
    return MediationOutputSerializer(
        {
            "case_id": case.pk,
            "case_number": case.number,
            "is_mediable": section.is_mediable,
            "mediators": section.mediators,
            "sessions": [
                {
                    "id": s.pk,
                    "held_at": s.held_at,
                    "place": s.place,
                    # Whoever wrote the record may read it back; others per the identity rule.
                    "participants": s.participants if sees or s.mediator_id == user.pk else None,
                    "summary": s.summary,
                    "mediator": s.mediator,
                }
                for s in section.sessions
            ],
            "agreement": None
            if agreement is None
            else {
                "parties": agreement.parties if sees or agreement.mediator_id == user.pk else None,
                "terms": agreement.terms,
                "signed_on": agreement.signed_on,
                "mediator": agreement.mediator,
            },
            "can_hand_over": section.can_hand_over,
            "can_record": section.can_record,
            "candidates": section.candidates,
        }
    ).data


def _case(request: Request, id: int) -> Case:
    """The case if the caller may see it (NotFound, 404, otherwise), with what the section needs."""
    visible = grids_access.case_get_visible(request.user, id)
    return Case.objects.select_related("category", "grid", "grid__parent").get(pk=visible.pk)


def _mediator(mediator_id: int) -> User:
    found = User.objects.filter(pk=mediator_id, is_active=True).first()
    if found is None:
        raise DomainError(
            "mediation_not_a_mediator",
            _("所选人员不是本村乡贤说事评理团成员，也不是调解员，不能承担调解。"),
            field="mediator_id",
        )
    return found


class MediationMyCasesApi(generics.ListAPIView):
    """The cases handed to the caller for mediation and still held, newest first."""

    serializer_class = MediationMyCaseOutputSerializer

    def get_queryset(self) -> QuerySet[Case]:
        return mediation_selectors.mediation_my_cases(user=self.request.user)

    @extend_schema(tags=TAGS, operation_id="grids_mediation_my_cases")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class CaseMediationApi(APIView):
    """A case's mediation: who it was handed to, the sessions, the agreement, what the caller may do."""

    @extend_schema(tags=TAGS, responses=MediationOutputSerializer, operation_id="grids_case_mediation")
    def get(self, request: Request, id: int) -> Response:
        return Response(_mediation_body(request.user, _case(request, id)))


class CaseMediationHandOverApi(APIView):
    """Hand the dispute case to a mediator of its village (the mediator role, or a sages' group member
    with an account): they then see this one case. Answers the case's mediation."""

    @extend_schema(
        tags=TAGS,
        request=MediationHandOverInputSerializer,
        responses={201: MediationOutputSerializer},
        operation_id="grids_case_mediation_hand_over",
    )
    def post(self, request: Request, id: int) -> Response:
        case = _case(request, id)
        given = MediationHandOverInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        mediation_services.case_mediation_hand_over(
            actor=request.user,
            case=case,
            mediator=_mediator(given.validated_data["mediator_id"]),
            note=given.validated_data.get("note", ""),
            request=request._request,
        )
        return Response(_mediation_body(request.user, _case(request, id)), status=status.HTTP_201_CREATED)


class CaseMediationRevokeApi(APIView):
    """Take the case back from a mediator (reason required). Answers the case's mediation."""

    @extend_schema(
        tags=TAGS,
        request=MediationRevokeInputSerializer,
        responses=MediationOutputSerializer,
        operation_id="grids_case_mediation_revoke",
    )
    def post(self, request: Request, id: int) -> Response:
        case = _case(request, id)
        given = MediationRevokeInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        mediation_services.case_mediation_revoke(
            actor=request.user,
            case=case,
            mediator=_mediator(given.validated_data["mediator_id"]),
            reason=given.validated_data["reason"],
            request=request._request,
        )
        return Response(_mediation_body(request.user, _case(request, id)))


class CaseMediationSessionApi(APIView):
    """Record a mediation session (the mediator, or the village secretary and above). A replay of the
    idempotency key answers the first session's case mediation with 200 instead of 201."""

    @extend_schema(
        tags=TAGS,
        request=MediationSessionInputSerializer,
        responses={201: MediationOutputSerializer, 200: MediationOutputSerializer},
        operation_id="grids_case_mediation_session",
    )
    def post(self, request: Request, id: int) -> Response:
        case = _case(request, id)
        given = MediationSessionInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        replay = MediationSession.objects.filter(
            mediator_id=request.user.pk, idempotency_key=data["idempotency_key"].strip()
        ).exists()
        mediation_services.mediation_session_record(
            actor=request.user,
            case=case,
            held_at=data["held_at"],
            place=data.get("place", ""),
            participants=data["participants"],
            summary=data["summary"],
            idempotency_key=data["idempotency_key"],
            request=request._request,
        )
        return Response(
            _mediation_body(request.user, _case(request, id)),
            status=status.HTTP_200_OK if replay else status.HTTP_201_CREATED,
        )


class CaseMediationAgreementApi(APIView):
    """Record the agreement the parties signed (one per case; the same one again answers 200)."""

    @extend_schema(
        tags=TAGS,
        request=MediationAgreementInputSerializer,
        responses={201: MediationOutputSerializer, 200: MediationOutputSerializer},
        operation_id="grids_case_mediation_agreement",
    )
    def post(self, request: Request, id: int) -> Response:
        case = _case(request, id)
        given = MediationAgreementInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        replay = MediationAgreement.objects.filter(case=case).exists()
        mediation_services.mediation_agreement_record(
            actor=request.user,
            case=case,
            parties=given.validated_data["parties"],
            terms=given.validated_data["terms"],
            signed_on=given.validated_data["signed_on"],
            request=request._request,
        )
        return Response(
            _mediation_body(request.user, _case(request, id)),
            status=status.HTTP_200_OK if replay else status.HTTP_201_CREATED,
        )


urlpatterns: list[URLPattern | URLResolver] = [
    path("mediation/my-cases/", MediationMyCasesApi.as_view(), name="mediation_my_cases"),
    path("cases/<int:id>/mediation/", CaseMediationApi.as_view(), name="case_mediation"),
    path(
        "cases/<int:id>/mediation-hand-over/",
        CaseMediationHandOverApi.as_view(),
        name="case_mediation_hand_over",
    ),
    path("cases/<int:id>/mediation-revoke/", CaseMediationRevokeApi.as_view(), name="case_mediation_revoke"),
    path(
        "cases/<int:id>/mediation-sessions/", CaseMediationSessionApi.as_view(), name="case_mediation_session"
    ),
    path(
        "cases/<int:id>/mediation-agreement/",
        CaseMediationAgreementApi.as_view(),
        name="case_mediation_agreement",
    ),
]

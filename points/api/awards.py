"""REST API of the awards area of points (mounted under /api/v1/points/): propose (exactly once with an
idempotency key), review, list and detail of awards, and the decision on an objection.

Input serializer → one gate → one service or selector → output serializer. Everything is scoped to the
caller's regions; out of scope answers 404 exactly like a missing id.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import URLPattern, URLResolver, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import NotFound
from common.idempotency import idempotent_api_call
from points import access
from points.models import Award, AwardStatus
from points.selectors import awards as selectors
from points.selectors.rules import rules_applicable
from points.services import awards as services
from points.services import objections as objection_services

TAGS = ["points-awards"]


class AwardRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class AwardHouseholdSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    grid = AwardRefSerializer()


class AwardRuleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    category = serializers.CharField()


class AwardOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    household = AwardHouseholdSerializer()
    rule = AwardRuleSerializer()
    resident = AwardRefSerializer(allow_null=True)
    points = serializers.IntegerField()
    occurred_on = serializers.DateField()
    period = serializers.CharField()
    note = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    proposed_at = serializers.DateTimeField()
    reviewed_at = serializers.DateTimeField(allow_null=True)
    rejection_reason = serializers.CharField()
    notice_ends_at = serializers.DateTimeField(allow_null=True)
    posted_at = serializers.DateTimeField(allow_null=True)
    void_reason = serializers.CharField()


class AwardObjectionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reason = serializers.CharField()
    contact_phone = serializers.CharField(source="contact_phone_masked", help_text=_("联系电话（已遮挡）"))
    status = serializers.CharField()
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_note = serializers.CharField()


class AwardPhotoOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()


class AwardDetailOutputSerializer(AwardOutputSerializer):
    photos = AwardPhotoOutputSerializer(many=True, source="photos.all")
    objections = AwardObjectionOutputSerializer(many=True, source="objections.all")


class AwardProposeInputSerializer(serializers.Serializer):
    idempotency_key = serializers.CharField(max_length=64, help_text=_("防重复提交标识（如 UUID）"))
    household = serializers.IntegerField(help_text=_("户编号"))
    rule = serializers.IntegerField(help_text=_("积分条目编号"))
    resident = serializers.IntegerField(required=False, allow_null=True, default=None)
    occurred_on = serializers.DateField()
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)
    photos = serializers.ListField(
        child=serializers.ImageField(allow_empty_file=False), required=False, default=list
    )


class AwardReviewInputSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)


class ObjectionDecideInputSerializer(serializers.Serializer):
    upheld = serializers.BooleanField()
    note = serializers.CharField(max_length=500, allow_blank=True)


def _award_out(user: Any, award_id: int) -> dict[str, Any]:
    return dict(AwardDetailOutputSerializer(selectors.award_detail(user, award_id)).data)


class AwardListApi(generics.ListAPIView):
    """Awards of the households in the caller's scope (filter by status, grid, household, period); POST
    proposes one (grid leader in their grid, village staff and above) — exactly once per idempotency key:
    a replay with the same body answers the first result, with another body 409."""

    serializer_class = AwardOutputSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self) -> QuerySet[Award]:
        params = self.request.query_params

        def number(name: str) -> int | None:
            value = params.get(name, "")
            return int(value) if value.isdigit() else None

        status_ = params.get("status", "")
        return selectors.awards_list(
            self.request.user,
            status=status_ if status_ in AwardStatus.values else "",
            grid=number("grid"),
            household=number("household"),
            period=params.get("period", "")[:8],
        )

    @extend_schema(tags=TAGS)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request={
            "application/json": AwardProposeInputSerializer,
            "multipart/form-data": AwardProposeInputSerializer,
        },
        responses={201: AwardDetailOutputSerializer},
        tags=TAGS,
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data_in: Any = request.data.copy() if hasattr(request.data, "copy") else dict(request.data)
        if hasattr(request.data, "getlist"):
            data_in.setlist("photos", request.data.getlist("photos"))
        given = AwardProposeInputSerializer(data=data_in)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        household = selectors.household_for_proposal(request.user, data["household"])
        rule = rules_applicable(household.grid.path, active_only=False).filter(pk=data["rule"]).first()
        if rule is None:
            raise NotFound(_("未找到该条目，或者它不适用于此户。"))
        resident = household.members.filter(pk=data["resident"]).first() if data["resident"] else None
        if data["resident"] and resident is None:
            from common.errors import DomainError

            raise DomainError("resident_not_in_household", _("当事人不是该户成员。"), field="resident")
        body = {
            "household": data["household"],
            "rule": data["rule"],
            "resident": data["resident"],
            "occurred_on": data["occurred_on"].isoformat(),
            "note": data["note"],
            "photos": [getattr(photo, "size", 0) for photo in data["photos"]],
        }

        def call(key: str) -> tuple[int, dict[str, Any]]:
            award = services.award_propose(
                actor=request.user,
                idempotency_key=key,
                household=household,
                rule=rule,
                occurred_on=data["occurred_on"],
                resident=resident,
                note=data["note"],
                photos=data["photos"],
            )
            return status.HTTP_201_CREATED, _award_out(request.user, award.pk)

        return idempotent_api_call(request, scope="points.award_propose", call=call, body=body)


class AwardDetailApi(APIView):
    """One award with its photos and objections."""

    @extend_schema(responses=AwardDetailOutputSerializer, tags=TAGS)
    def get(self, request: Request, id: int) -> Response:
        return Response(_award_out(request.user, id))


class AwardReviewApi(APIView):
    """The village reviewer's decision: approve (→ public notice, points pending) or reject with a reason."""

    @extend_schema(request=AwardReviewInputSerializer, responses=AwardDetailOutputSerializer, tags=TAGS)
    def post(self, request: Request, id: int) -> Response:
        award = access.award_get_visible(request.user, id)
        given = AwardReviewInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        services.award_review(
            actor=request.user,
            award=award,
            approve=given.validated_data["approve"],
            reason=given.validated_data["reason"],
        )
        return Response(_award_out(request.user, id))


class ObjectionDetailApi(APIView):
    """One objection to an award the caller may review (village secretary of the village, or above)."""

    @extend_schema(responses=AwardObjectionOutputSerializer, tags=TAGS)
    def get(self, request: Request, id: int) -> Response:
        return Response(
            AwardObjectionOutputSerializer(selectors.objection_get_reviewable(request.user, id)).data
        )


class ObjectionDecideApi(APIView):
    """The village's decision on an open objection: upheld (the award is voided) or dismissed."""

    @extend_schema(
        request=ObjectionDecideInputSerializer, responses=AwardObjectionOutputSerializer, tags=TAGS
    )
    def post(self, request: Request, id: int) -> Response:
        objection = selectors.objection_get_reviewable(request.user, id)
        given = ObjectionDecideInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        objection = objection_services.objection_decide(
            actor=request.user,
            objection=objection,
            upheld=given.validated_data["upheld"],
            note=given.validated_data["note"],
        )
        return Response(AwardObjectionOutputSerializer(objection).data)


urlpatterns: list[URLPattern | URLResolver] = [
    path("awards/", AwardListApi.as_view(), name="award_list"),
    path("awards/<int:id>/", AwardDetailApi.as_view(), name="award_detail"),
    path("awards/<int:id>/review/", AwardReviewApi.as_view(), name="award_review"),
    path("objections/<int:id>/", ObjectionDetailApi.as_view(), name="objection_detail"),
    path("objections/<int:id>/decide/", ObjectionDecideApi.as_view(), name="objection_decide"),
]

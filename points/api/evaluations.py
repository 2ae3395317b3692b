"""REST API of the evaluations area of points (mounted under /api/v1/points/).

    GET evaluations/        the evaluations of the villages in the caller's points scope
    GET evaluations/{id}/   one evaluation with its nominations (vote counts) in decision order

Out of scope answers 404 like a missing id. Writes go through the pages (points.views.evaluations).
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from points.models import EvaluationStatus, NominationStatus
from points.selectors import evaluations as selectors

TAGS = ["points-evaluations"]


class EvaluationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    village_id = serializers.IntegerField()
    village = serializers.CharField(source="village.name")
    title = serializers.CharField()
    year = serializers.IntegerField()
    rule_code = serializers.CharField(source="rule.code")
    winners_count = serializers.IntegerField()
    status = serializers.CharField(help_text=" | ".join(EvaluationStatus.values))


class NominationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    resident = serializers.CharField(source="resident.name")
    household_number = serializers.CharField(source="resident.household.number")
    reason = serializers.CharField()
    status = serializers.CharField(help_text=" | ".join(NominationStatus.values))
    votes = serializers.IntegerField(source="vote_count")
    award_id = serializers.IntegerField(allow_null=True)


class EvaluationDetailOutputSerializer(EvaluationOutputSerializer):
    nominations = NominationOutputSerializer(many=True)


class EvaluationListApi(APIView):
    @extend_schema(tags=TAGS, responses={200: EvaluationOutputSerializer(many=True)}, summary=_("评选活动"))
    def get(self, request: Request) -> Response:
        rows = selectors.evaluation_list(user=request.user)
        return Response(EvaluationOutputSerializer(rows, many=True).data)


class EvaluationDetailApi(APIView):
    @extend_schema(tags=TAGS, responses={200: EvaluationDetailOutputSerializer}, summary=_("评选活动详情"))
    def get(self, request: Request, id: int) -> Response:
        evaluation, nominations, _ranking = selectors.evaluation_detail(user=request.user, evaluation_id=id)
        evaluation.nominations_list = nominations  # type: ignore[attr-defined]
        data = EvaluationOutputSerializer(evaluation).data
        data["nominations"] = NominationOutputSerializer(nominations, many=True).data
        return Response(data)


urlpatterns: list[URLPattern | URLResolver] = [
    path("evaluations/", EvaluationListApi.as_view(), name="evaluation_list"),
    path("evaluations/<int:id>/", EvaluationDetailApi.as_view(), name="evaluation_detail"),
]

"""REST API of the rules area of points (mounted under /api/v1/points/): the catalog items the caller's
regions use or added."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import URLPattern, URLResolver, path
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from points.models import Rule
from points.selectors import rules as selectors

TAGS = ["points-rules"]


class RuleOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    region = serializers.IntegerField(source="region_id")
    region_name = serializers.CharField(source="region.name")
    code = serializers.CharField()
    name = serializers.CharField()
    category = serializers.CharField()
    category_label = serializers.CharField(source="get_category_display")
    points = serializers.IntegerField()
    is_evidence_required = serializers.BooleanField()
    cap_count = serializers.IntegerField(allow_null=True)
    cap_period = serializers.CharField()
    is_active = serializers.BooleanField()


class RuleListApi(generics.ListAPIView):
    """The catalog as the caller's regions see it: the county's items, their township's and village's
    additions, and additions below their regions (filter by category, active=1/0, q)."""

    serializer_class = RuleOutputSerializer

    def get_queryset(self) -> QuerySet[Rule]:
        params = self.request.query_params
        # NUL characters dropped: PostgreSQL cannot hold them in a string (the query failed, a 500).
        return selectors.rules_visible(
            self.request.user,
            category=params.get("category", "").replace("\x00", ""),
            active=params.get("active", ""),
            query=params.get("q", "").replace("\x00", "")[:50],
        )

    @extend_schema(tags=TAGS)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class RuleDetailApi(APIView):
    @extend_schema(responses=RuleOutputSerializer, tags=TAGS)
    def get(self, request: Request, id: int) -> Response:
        return Response(RuleOutputSerializer(selectors.rule_get_visible(request.user, id)).data)


urlpatterns: list[URLPattern | URLResolver] = [
    path("rules/", RuleListApi.as_view(), name="rule_list"),
    path("rules/<int:id>/", RuleDetailApi.as_view(), name="rule_detail"),
]

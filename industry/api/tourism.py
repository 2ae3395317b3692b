"""REST API of the tourism figures (mounted under /api/v1/industry/):

    GET  tourism-records/?year=&region=&community=   the monthly records the caller sees (paginated)
    POST tourism-records/                           upsert one month of a region or a brand
                                                    (exactly one of `region` / `community`)
    GET  tourism-records/{id}/                      one record
    PUT  tourism-records/{id}/                      change that month's visits, income, note

Income is integer fen. Every write is exactly once per (caller, key): body `idempotency_key` or the
`Idempotency-Key` header. A subject or record out of the caller's scope answers 404 like a missing one;
each record carries `scope_region`, the region that scopes it (its region, or its brand's lead village).
"""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import NotFound
from common.idempotency import idempotency_key_clean, idempotency_key_from
from governance.models import Region
from industry.models import JointCommunity, TourismRecord
from industry.selectors import tourism as selectors
from industry.services import tourism as services

TAGS = ["industry-tourism"]
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="防重复提交标识（也可放在请求体 idempotency_key）",
)


class TourismQuery(serializers.Serializer):
    year = serializers.IntegerField(required=False, min_value=2000, max_value=2100, help_text="年度")
    region = serializers.IntegerField(required=False, min_value=1, help_text="乡镇或村（社区）id")
    community = serializers.IntegerField(required=False, min_value=1, help_text="联建共同体 id")


class TourismMonthIn(serializers.Serializer):
    region = serializers.IntegerField(required=False, allow_null=True, help_text="乡镇或村（社区）id")
    community = serializers.IntegerField(required=False, allow_null=True, help_text="联建共同体 id")
    month = serializers.CharField(help_text="月份，如 2024-05")
    visits = serializers.IntegerField(help_text="游客接待量（人次）")
    income_fen = serializers.IntegerField(help_text="旅游综合收入（分）")
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class TourismUpdateIn(serializers.Serializer):
    visits = serializers.IntegerField(help_text="游客接待量（人次）")
    income_fen = serializers.IntegerField(help_text="旅游综合收入（分）")
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class TourismRecordOut(serializers.Serializer):
    id = serializers.IntegerField()
    month = serializers.SerializerMethodField(help_text="月份 YYYY-MM")
    region = serializers.IntegerField(source="region_id", allow_null=True)
    region_name = serializers.SerializerMethodField()
    community = serializers.IntegerField(source="community_id", allow_null=True)
    brand = serializers.SerializerMethodField(help_text="联建品牌（无品牌名时为共同体名称）")
    scope_region = serializers.SerializerMethodField(help_text="决定可见范围的区域：村镇本身，或品牌的牵头村")
    visits = serializers.IntegerField()
    income_fen = serializers.IntegerField()
    note = serializers.CharField()
    updated_at = serializers.DateTimeField()

    def get_month(self, obj: TourismRecord) -> str:
        return obj.month.strftime("%Y-%m")

    def get_region_name(self, obj: TourismRecord) -> str | None:
        return obj.region.name if obj.region is not None else None

    def get_brand(self, obj: TourismRecord) -> str | None:
        if obj.community is None:
            return None
        return obj.community.brand or obj.community.name

    def get_scope_region(self, obj: TourismRecord) -> int:
        if obj.region_id is not None:
            return int(obj.region_id)
        assert obj.community is not None
        return int(obj.community.lead_region_id)


def _valid(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _key(request: Request, data: dict[str, Any]) -> str:
    return idempotency_key_clean(data.get("idempotency_key") or idempotency_key_from(request))


def _subject(request: Request, data: dict[str, Any]) -> services.TourismSubject:
    """The subject named by the body, if the caller may record for it; NotFound otherwise (also for one
    that does not exist)."""
    region = community = None
    if data.get("region") is not None:
        region = Region.objects.filter(pk=data["region"]).first()
        if region is None:
            raise NotFound(services.SUBJECT_NOT_FOUND)
    if data.get("community") is not None:
        community = JointCommunity.objects.select_related("lead_region").filter(pk=data["community"]).first()
        if community is None:
            raise NotFound(services.SUBJECT_NOT_FOUND)
    subject = services.tourism_subject(region=region, community=community)
    if not services.can_record_tourism(request.user, subject):
        raise NotFound(services.SUBJECT_NOT_FOUND)
    return subject


class TourismRecordListApi(APIView):
    pagination_class = PageNumberPagination

    @extend_schema(
        tags=TAGS,
        operation_id="industry_tourism_list",
        parameters=[TourismQuery],
        responses={200: TourismRecordOut(many=True)},
        summary="旅游统计（每月游客接待量、旅游综合收入）",
    )
    def get(self, request: Request) -> Response:
        query = _valid(TourismQuery, request.query_params)
        rows = selectors.tourism_records_visible(request.user).select_related(
            "region", "community", "community__lead_region"
        )
        if query.get("year"):
            rows = rows.filter(month__year=query["year"])
        if query.get("region"):
            rows = rows.filter(region_id=query["region"])
        if query.get("community"):
            rows = rows.filter(community_id=query["community"])
        rows = rows.order_by("-month", "region_id", "community_id", "pk")
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(TourismRecordOut(page, many=True).data)

    @extend_schema(
        tags=TAGS,
        operation_id="industry_tourism_month_set",
        request=TourismMonthIn,
        responses={200: TourismRecordOut},
        parameters=[IDEMPOTENCY_HEADER],
        summary="填报（新增或修改）某村镇或联建品牌一个月的旅游统计",
    )
    def post(self, request: Request) -> Response:
        data = _valid(TourismMonthIn, request.data)
        record = services.tourism_month_set(
            actor=request.user,
            idempotency_key=_key(request, data),
            subject=_subject(request, data),
            month=data["month"],
            visits=data["visits"],
            income_fen=data["income_fen"],
            note=data["note"],
        )
        return Response(TourismRecordOut(selectors.tourism_record_get_visible(request.user, record.pk)).data)


class TourismRecordDetailApi(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="industry_tourism_detail",
        responses={200: TourismRecordOut},
        summary="一条旅游统计",
    )
    def get(self, request: Request, id: int) -> Response:
        return Response(TourismRecordOut(selectors.tourism_record_get_visible(request.user, id)).data)

    @extend_schema(
        tags=TAGS,
        operation_id="industry_tourism_update",
        request=TourismUpdateIn,
        responses={200: TourismRecordOut},
        parameters=[IDEMPOTENCY_HEADER],
        summary="修改一个月的旅游统计",
    )
    def put(self, request: Request, id: int) -> Response:
        record = selectors.tourism_record_get_visible(request.user, id)
        subject = services.TourismSubject(region=record.region, community=record.community)
        if not services.can_record_tourism(request.user, subject):
            raise NotFound(selectors.RECORD_NOT_FOUND)
        data = _valid(TourismUpdateIn, request.data)
        record = services.tourism_record_update(
            actor=request.user,
            idempotency_key=_key(request, data),
            record=record,
            visits=data["visits"],
            income_fen=data["income_fen"],
            note=data["note"],
        )
        return Response(TourismRecordOut(selectors.tourism_record_get_visible(request.user, record.pk)).data)


urlpatterns: list[URLPattern] = [
    path("tourism-records/", TourismRecordListApi.as_view(), name="tourism-records"),
    path("tourism-records/<int:id>/", TourismRecordDetailApi.as_view(), name="tourism-record"),
]

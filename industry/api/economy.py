"""REST API of the village collective economy (mounted under /api/v1/industry/).

- GET collective-incomes/ (?year=, ?region= a township or village id): the income rows in the caller's
  scope, one per village, year and source; paginated.
- GET villages/{id}/collective-income/?year=: a village's income for the year by source, last year's
  total, the change and the flag; for a township or the county, the sums over its villages in scope.
  PUT villages/{id}/collective-income/ {year, amounts_fen: {source: fen | null}}: set a village's year
  (a source left out or null has no income; RECORD roles over the village). Exactly once per
  (caller, key): `idempotency_key` in the body or the `Idempotency-Key` header.
- GET thresholds/: the county's thresholds per year and the built-in default; POST thresholds/
  {year, weak_below_fen, strong_from_fen}: set a year's (county admin).
Out of scope answers 404, like a missing id.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import NotFound
from common.idempotency import idempotency_key_from
from governance.models import RegionLevel
from industry import access
from industry.api.params import query_id, query_year
from industry.models import CollectiveIncome, IncomeSource
from industry.selectors import economy as selectors
from industry.services import economy as services

TAGS = ["industry-economy"]
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="防重复提交标识（也可放在请求体 idempotency_key）",
)


def _valid(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _int(value: Any) -> int | None:
    return query_id(value)


class IncomeRowOut(serializers.Serializer):
    id = serializers.IntegerField()
    village = serializers.IntegerField(source="village_id")
    village_name = serializers.CharField(source="village.name")
    year = serializers.IntegerField()
    source = serializers.CharField()  # type: ignore[assignment]
    source_label = serializers.CharField(source="get_source_display")
    amount_fen = serializers.IntegerField()


class CollectiveIncomeListApi(generics.ListAPIView):
    serializer_class = IncomeRowOut
    queryset = CollectiveIncome.objects.none()  # for the schema; get_queryset gives the caller's

    def get_queryset(self) -> QuerySet[CollectiveIncome]:
        params = self.request.query_params
        region = None
        region_id = _int(params.get("region"))
        if region_id is not None:
            region = selectors.region_get_visible(self.request.user, region_id)
        return selectors.income_rows(self.request.user, year=query_year(params), region=region)

    @extend_schema(
        tags=TAGS,
        operation_id="industry_collective_income_list",
        parameters=[
            OpenApiParameter("year", OpenApiTypes.INT, description="年度"),
            OpenApiParameter("region", OpenApiTypes.INT, description="乡镇或村（社区）id"),
        ],
        summary="村级集体经济收入明细（按村、年度、来源）",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class IncomeThresholdOut(serializers.Serializer):
    year = serializers.IntegerField()
    weak_below_fen = serializers.IntegerField()
    strong_from_fen = serializers.IntegerField(allow_null=True)
    from_year = serializers.IntegerField(allow_null=True, help_text="标准来自哪一年；空为默认标准")


class VillageIncomeOut(serializers.Serializer):
    region = serializers.IntegerField()
    region_name = serializers.CharField()
    level = serializers.CharField()
    year = serializers.IntegerField()
    amounts_fen = serializers.DictField(child=serializers.IntegerField(), help_text="来源 → 金额（分）")
    total_fen = serializers.IntegerField(allow_null=True, help_text="空为未填报")
    last_total_fen = serializers.IntegerField(allow_null=True)
    change_fen = serializers.IntegerField(allow_null=True)
    change_pct = serializers.FloatField(allow_null=True)
    status = serializers.CharField(help_text="unreported / weak / ordinary / strong（仅村）")
    threshold = IncomeThresholdOut()


class VillageIncomeIn(serializers.Serializer):
    year = serializers.IntegerField()
    amounts_fen = serializers.DictField(
        child=serializers.IntegerField(allow_null=True, min_value=0),
        help_text="来源 → 金额（分）；未列出或为 null 的来源视为无此项收入",
    )
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


def _year_body(region: Any, year: int, amounts: dict[str, int], last_total: int | None) -> dict[str, Any]:
    threshold = selectors.threshold_for(year)
    total = sum(amounts.values()) if amounts else None
    change = total - last_total if total is not None and last_total is not None else None
    return {
        "region": region.pk,
        "region_name": region.name,
        "level": region.level,
        "year": year,
        "amounts_fen": amounts,
        "total_fen": total,
        "last_total_fen": last_total,
        "change_fen": change,
        "change_pct": round(change * 100 / last_total, 4) if change is not None and last_total else None,
        "status": threshold.status(total) if region.level == RegionLevel.VILLAGE else "",
        "threshold": threshold.__dict__,
    }


class VillageIncomeApi(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="industry_village_income_get",
        parameters=[OpenApiParameter("year", OpenApiTypes.INT, description="年度，默认上一年")],
        responses={200: VillageIncomeOut},
        summary="一个村（或乡镇、全县合计）某年的集体经济收入",
    )
    def get(self, request: Request, id: int) -> Response:
        region = selectors.region_get_visible(request.user, id)
        year = query_year(request.query_params) or timezone.localdate().year - 1
        figures = selectors.region_year_totals(request.user, region, year=year)
        return Response(_year_body(region, year, figures["amounts_fen"], figures["last_total_fen"]))

    @extend_schema(
        tags=TAGS,
        operation_id="industry_village_income_set",
        parameters=[IDEMPOTENCY_HEADER],
        request=VillageIncomeIn,
        responses={200: VillageIncomeOut},
        summary="填报一个村某年的集体经济收入（按来源，整年覆盖）",
    )
    def put(self, request: Request, id: int) -> Response:
        region = selectors.region_get_visible(request.user, id)
        data = _valid(VillageIncomeIn, request.data)
        result = services.collective_income_set(
            actor=request.user,
            idempotency_key=idempotency_key_from(request),
            village=region,
            year=data["year"],
            amounts_fen=data["amounts_fen"],
        )
        last = selectors.region_year_totals(request.user, region, year=result.year)["last_total_fen"]
        return Response(_year_body(region, result.year, result.amounts_fen, last))


class IncomeThresholdIn(serializers.Serializer):
    year = serializers.IntegerField()
    weak_below_fen = serializers.IntegerField(min_value=1)
    strong_from_fen = serializers.IntegerField(required=False, allow_null=True, default=None)
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class IncomeThresholdListOut(serializers.Serializer):
    thresholds = IncomeThresholdOut(many=True)
    default_weak_below_fen = serializers.IntegerField()
    sources = serializers.DictField(child=serializers.CharField(), help_text="收入来源代码 → 名称")


class IncomeThresholdApi(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="industry_threshold_list",
        responses={200: IncomeThresholdListOut},
        summary="集体经济认定标准（各年度）",
    )
    def get(self, request: Request) -> Response:
        if not access.can_read_industry(request.user):
            raise NotFound(_("未找到该页面，或者您没有权限。"))
        return Response(
            {
                "thresholds": [
                    {
                        "year": t.year,
                        "weak_below_fen": t.weak_below_fen,
                        "strong_from_fen": t.strong_from_fen,
                        "from_year": t.year,
                    }
                    for t in selectors.thresholds_list()
                ],
                "default_weak_below_fen": selectors.DEFAULT_WEAK_BELOW_FEN,
                "sources": {value: str(label) for value, label in IncomeSource.choices},
            }
        )

    @extend_schema(
        tags=TAGS,
        operation_id="industry_threshold_set",
        parameters=[IDEMPOTENCY_HEADER],
        request=IncomeThresholdIn,
        responses={200: IncomeThresholdOut},
        summary="设定某年的认定标准（县管理员）",
    )
    def post(self, request: Request) -> Response:
        data = _valid(IncomeThresholdIn, request.data)
        threshold = services.threshold_set(
            actor=request.user,
            idempotency_key=idempotency_key_from(request),
            year=data["year"],
            weak_below_fen=data["weak_below_fen"],
            strong_from_fen=data["strong_from_fen"],
        )
        return Response(
            {
                "year": threshold.year,
                "weak_below_fen": threshold.weak_below_fen,
                "strong_from_fen": threshold.strong_from_fen,
                "from_year": threshold.year,
            }
        )


urlpatterns: list[URLPattern] = [
    path("collective-incomes/", CollectiveIncomeListApi.as_view(), name="collective_income_list"),
    path("villages/<int:id>/collective-income/", VillageIncomeApi.as_view(), name="village_income"),
    path("thresholds/", IncomeThresholdApi.as_view(), name="threshold_list"),
]

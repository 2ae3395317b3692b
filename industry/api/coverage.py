"""REST API of coverage (村村有产业、户户有项目、人人有事干), mounted under /api/v1/industry/.

    GET coverage/?region=<statistical code>&on=<YYYY-MM-DD>

One row per region: the region asked for (default: the outermost one the caller reads at), then its
townships (when it is the county), then its villages. Each row carries numerator, denominator and the
share as a percentage with one decimal (null when the denominator is 0). The rules are those of
industry.selectors.coverage. A region outside the caller's scope answers 404; a caller who reads no
region gets an empty list.
"""

from __future__ import annotations

import datetime as dt

from django.urls import URLPattern, URLResolver, path
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import DomainError
from industry.selectors import chains as chain_selectors
from industry.selectors import coverage as selectors


class CoverageShareOut(serializers.Serializer):
    numerator = serializers.IntegerField()
    denominator = serializers.IntegerField()
    percent = serializers.DecimalField(
        max_digits=4, decimal_places=1, allow_null=True, help_text="百分比，一位小数；分母为 0 时为 null"
    )


class CoverageRowOut(serializers.Serializer):
    id = serializers.IntegerField(source="region_id", help_text="区域 id")
    name = serializers.CharField()
    code = serializers.CharField(help_text="统计用区划代码")
    level = serializers.CharField(help_text="county 县 / township 乡镇 / village 村（社区）")
    parent_region = serializers.IntegerField(source="parent_id", allow_null=True, help_text="上级区域 id")
    parent_name = serializers.CharField()
    villages = CoverageShareOut(help_text="有产业的村 / 村（社区）数")
    households = CoverageShareOut(help_text="有项目的户 / 在册户数")
    residents = CoverageShareOut(help_text="有事干的劳动年龄人口 / 16–59 岁在籍或外出务工人口")


class CoverageApi(APIView):
    @extend_schema(
        tags=["industry-coverage"],
        operation_id="industry_coverage",
        parameters=[
            OpenApiParameter(
                "region", OpenApiTypes.STR, description="区域的统计用区划代码，默认调用者的管辖区域"
            ),
            OpenApiParameter("on", OpenApiTypes.DATE, description="统计日期 YYYY-MM-DD，默认今天"),
        ],
        responses={200: CoverageRowOut(many=True)},
        summary="产业覆盖：村村有产业、户户有项目、人人有事干",
    )
    def get(self, request: Request) -> Response:
        code = (request.query_params.get("region") or "").strip()
        raw_on = (request.query_params.get("on") or "").strip()
        try:
            on = dt.date.fromisoformat(raw_on) if raw_on else timezone.localdate()
        except ValueError:
            raise DomainError("bad_date", _("日期格式应为 YYYY-MM-DD。"), field="on") from None
        if not code and not chain_selectors.reader_paths(request.user):
            return Response([])  # reads no region (deny by default): nothing to count
        coverage = selectors.coverage_for(request.user, on=on, code=code)
        return Response(CoverageRowOut(coverage.rows(), many=True).data)


urlpatterns: list[URLPattern | URLResolver] = [
    path("coverage/", CoverageApi.as_view(), name="coverage"),
]

"""The dashboard's REST API, mounted at /api/v1/dashboard/ (namespace "dashboard"):

    GET summary/?region=<code>&year=<yyyy>     the headline figures of a region for a calendar year
    GET summary/?region=<code>&start=&end=     … or for a period (ISO dates, both included)

`region` is the statistical code (default: the caller's broadest dashboard region, e.g. the county);
`year` defaults to this year. Stock figures are counted as at the period's end, flow figures over the
period from the rollup facts (docs/dashboard.md, "The summary API"). A malformed code, a bad year or
dates, a reversed period: 400 naming the field; a region outside the caller's scope (or unknown): 404.
Thin: governance.selectors.summary.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import DomainError
from governance.selectors import summary as selectors

TAGS = ["dashboard"]


class DashboardSummaryRegion(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.CharField()


def _value_field(field: selectors.SummaryField) -> serializers.Field:
    help_text = f"{field.label}（{field.unit}）"
    if field.kind == "rate":
        return serializers.FloatField(
            allow_null=True, help_text=f"{field.label}：0–1 之间的小数（四位），无分母时为 null"
        )
    if field.key.endswith("_yuan"):
        return serializers.FloatField(help_text=f"{help_text}：整元时为整数，否则保留两位小数")
    return serializers.IntegerField(help_text=help_text)


SummaryOut = inline_serializer(
    name="DashboardSummary",
    fields={
        "region": DashboardSummaryRegion(),
        "start": serializers.DateField(),
        "end": serializers.DateField(),
        "year": serializers.IntegerField(
            allow_null=True, help_text="按年份查询时的年份，按起止日期时为 null"
        ),
        "as_of": serializers.DateField(help_text="存量指标的统计日（期末，或期末在未来时为今天）"),
        **{field.key: _value_field(field) for field in selectors.SUMMARY_FIELDS},
        "rollup_as_of": serializers.DateTimeField(allow_null=True, help_text="最近一次成功汇总的时间"),
    },
)


def _date(request: Request, name: str) -> dt.date:
    raw = request.query_params.get(name, "")
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise DomainError(
            "date_invalid", _("日期格式应为 YYYY-MM-DD，例如 2022-12-31。"), field=name
        ) from None


def _year(raw: str) -> int:
    if not raw.isdigit() or len(raw) != 4:
        raise DomainError("year_invalid", _("年份应为四位数字，例如 2022。"), field="year")
    return int(raw)


class DashboardSummaryApi(APIView):
    """The headline figures of the dashboard for one region and year (or period), in the caller's scope."""

    http_method_names = ["get", "head", "options"]

    @extend_schema(
        tags=TAGS,
        operation_id="dashboard_summary",
        summary="看板汇总指标",
        parameters=[
            OpenApiParameter(
                "region", OpenApiTypes.STR, description="统计用区划代码（默认：您管辖的最高一级区域）"
            ),
            OpenApiParameter("year", OpenApiTypes.INT, description="年度（默认：今年）"),
            OpenApiParameter(
                "start", OpenApiTypes.DATE, description="开始日期（与 end 一起使用，代替 year）"
            ),
            OpenApiParameter("end", OpenApiTypes.DATE, description="结束日期（含）"),
        ],
        responses={200: SummaryOut},
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        code = params.get("region") or None
        year: int | None = None
        if "start" in params or "end" in params:
            if "year" in params:
                raise DomainError("period_ambiguous", _("请只指定年份，或者只指定起止日期。"), field="year")
            start, end = _date(request, "start"), _date(request, "end")
            summary = selectors.summary_for_code(user=request.user, region_code=code, start=start, end=end)
        else:
            year = _year(params["year"]) if "year" in params else None
            summary = selectors.summary_for_year(user=request.user, region_code=code, year=year)
            year = summary.start.year
        body: dict[str, Any] = {
            "region": {
                "id": summary.region.pk,
                "code": summary.region.code,
                "name": summary.region.name,
                "level": summary.region.level,
            },
            "start": summary.start,
            "end": summary.end,
            "year": year,
            "as_of": summary.as_of,
            **summary.values,
            "rollup_as_of": summary.rollup_as_of,
        }
        # Plain JSON numbers: ints stay ints (320000000), a Decimal (a rate, yuan with fen) a number.
        return Response(body)


urlpatterns: list[URLPattern] = [
    path("summary/", DashboardSummaryApi.as_view(), name="summary"),
]

"""REST API of the sales dashboards (mounted under /api/v1/industry/):

    GET  events/{id}/dashboard/     one expo or festival: totals, sales by day, channel, platform and
                                    product category, products and exhibitors ranked (the first 20)
    GET  sales-summary/?year=       the year's overview across the events the caller sees: the same,
                                    plus by town, and every event with its totals in `results`
                                    (default year: the latest with an event the caller sees)

Money is integer fen. Figures net out corrections (a reversal counts on its original's day). An event
out of the caller's scope answers 404 like one that does not exist. Thin: industry.selectors.dashboard.
"""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, path
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from industry.selectors import dashboard as selectors
from industry.selectors.dashboard import SalesDashboard

TAGS = ["industry-dashboard"]


class DashboardYearQuery(serializers.Serializer):
    year = serializers.IntegerField(
        required=False, min_value=2000, max_value=2100, help_text="年度（默认：能看到展会节会的最近一年）"
    )


class DashboardTotalsOut(serializers.Serializer):
    amount_fen = serializers.IntegerField(help_text="销售额（分，更正冲减后）")
    online_fen = serializers.IntegerField()
    offline_fen = serializers.IntegerField()
    records = serializers.IntegerField(help_text="有效销售记录数（原记录减去被冲正的）")
    product_kinds = serializers.IntegerField(help_text="销售额大于 0 的产品种类数")
    exhibitors = serializers.IntegerField(help_text="参展主体数（去重）")
    exhibitors_selling = serializers.IntegerField(help_text="有销售的参展主体数")
    events = serializers.IntegerField(help_text="展会节会场数")


class DashboardDayOut(serializers.Serializer):
    day = serializers.DateField()
    amount_fen = serializers.IntegerField()
    records = serializers.IntegerField()


class DashboardChannelOut(serializers.Serializer):
    channel = serializers.CharField()
    channel_label = serializers.CharField(source="label")
    amount_fen = serializers.IntegerField()
    records = serializers.IntegerField()


class DashboardPlatformOut(serializers.Serializer):
    platform = serializers.CharField()
    amount_fen = serializers.IntegerField()
    records = serializers.IntegerField()


class DashboardCategoryOut(serializers.Serializer):
    category = serializers.CharField()
    category_label = serializers.CharField(source="label")
    amount_fen = serializers.IntegerField()
    records = serializers.IntegerField()
    product_kinds = serializers.IntegerField()


class DashboardProductOut(serializers.Serializer):
    product = serializers.IntegerField(source="product_id")
    code = serializers.CharField()
    name = serializers.CharField()
    category = serializers.CharField()
    category_label = serializers.CharField()
    unit = serializers.CharField()
    quantity = serializers.DecimalField(max_digits=16, decimal_places=2)
    amount_fen = serializers.IntegerField()
    records = serializers.IntegerField()


class DashboardExhibitorOut(serializers.Serializer):
    business = serializers.IntegerField(source="business_id", help_text="经营主体 id")
    name = serializers.CharField()
    kind_label = serializers.CharField()
    village = serializers.CharField()
    amount_fen = serializers.IntegerField()
    records = serializers.IntegerField()


class DashboardTownOut(serializers.Serializer):
    region = serializers.IntegerField(source="region_id")
    name = serializers.CharField()
    events = serializers.IntegerField()
    amount_fen = serializers.IntegerField()
    records = serializers.IntegerField()


class DashboardEventRowOut(serializers.Serializer):
    id = serializers.IntegerField(source="event_id")
    name = serializers.CharField()
    kind_label = serializers.CharField()
    region = serializers.IntegerField(source="region_id")
    town = serializers.CharField()
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    amount_fen = serializers.IntegerField()
    records = serializers.IntegerField()


class DashboardEventRefOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    region = serializers.IntegerField(source="region_id")
    region_name = serializers.CharField(source="region.name")
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()


class _DashboardFiguresOut(serializers.Serializer):
    totals = DashboardTotalsOut()
    days = DashboardDayOut(many=True, help_text="按日（更正计在被更正记录的日期）")
    channels = DashboardChannelOut(many=True)
    platforms = DashboardPlatformOut(many=True, help_text="线上平台")
    categories = DashboardCategoryOut(many=True, help_text="产品品类")
    top_products = DashboardProductOut(many=True, help_text="销售额前 20 的产品")
    top_exhibitors = DashboardExhibitorOut(many=True, help_text="销售额前 20 的参展主体")


class EventDashboardOut(_DashboardFiguresOut):
    event = DashboardEventRefOut()


class SalesSummaryOut(_DashboardFiguresOut):
    year = serializers.IntegerField()
    towns = DashboardTownOut(many=True, help_text="按举办乡镇")
    results = DashboardEventRowOut(many=True, source="events", help_text="这一年的每场展会节会")


class EventDashboardApi(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="industry_event_dashboard",
        responses={200: EventDashboardOut},
        summary="展会节会销售看板",
    )
    def get(self, request: Request, id: int) -> Response:
        board = selectors.event_dashboard(request.user, id)
        return Response(EventDashboardOut(_plain(board)).data)


class SalesSummaryApi(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="industry_sales_summary",
        parameters=[DashboardYearQuery],
        responses={200: SalesSummaryOut},
        summary="年度展会节会销售总览",
    )
    def get(self, request: Request) -> Response:
        query = DashboardYearQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        year = query.validated_data.get("year")
        if year is None:
            years = selectors.sales_years(request.user)
            year = years[0] if years else timezone.localdate().year
        board = selectors.year_dashboard(request.user, year)
        return Response(SalesSummaryOut(_plain(board)).data)


def _plain(board: SalesDashboard) -> dict[str, Any]:
    return {
        "event": board.event,
        "year": board.year,
        "totals": board.totals,
        "days": board.days,
        "channels": board.channels,
        "platforms": board.platforms,
        "categories": board.categories,
        "top_products": board.top_products,
        "top_exhibitors": board.top_exhibitors,
        "towns": board.towns,
        "events": board.events,
    }


urlpatterns: list[URLPattern] = [
    path("events/<int:id>/dashboard/", EventDashboardApi.as_view(), name="event-dashboard"),
    path("sales-summary/", SalesSummaryApi.as_view(), name="sales-summary"),
]

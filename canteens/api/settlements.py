"""REST API of the settlements area of canteens (mounted under /api/v1/canteens/): monthly settlements and
the subsidy claims they become, yearly budgets per funder, and the reports.

    GET  settlements/                       the settlements of every canteen the caller sees (paginated;
                                            ?site=, ?status=, ?year=, ?month=)
    GET  settlements/{id}/                  one settlement with its lines (slot × tier) and funders' totals
    POST settlements/{id}/submit/           submit the claim (figures recomputed from the meals)
    POST settlements/{id}/approve/          approve it (township/county admin): locked from then on
    POST settlements/{id}/return/           return it with a reason
    GET  sites/{id}/settlements/            one canteen's settlements (paginated)
    POST sites/{id}/settlements/            compute (or recompute) the canteen's settlement of a month
    GET  sites/{id}/budgets/                the canteen's budgets (?year=)
    POST sites/{id}/budgets/                set one funder's budget for a year (township/county admin)
    GET  sites/{id}/report/                 one canteen's year to date: funders, months, people benefiting
    GET  canteen-reports/                   every canteen the caller sees (?region=, ?year=): per canteen,
                                            the totals, budget vs. spent vs. remaining per funder

Every POST is exactly once per (caller, key): body `idempotency_key` or the `Idempotency-Key` header; a
replay answers the same object, the same key with another body 409. Anything out of the caller's scope
answers 404, exactly like an id that does not exist. Thin: canteens.services write, canteens.selectors read.
"""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, URLResolver, path
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from canteens import access
from canteens.models import Budget, ClaimStatus, Funder, Settlement
from canteens.selectors import reports as report_selectors
from canteens.selectors import settlements as selectors
from canteens.services import budgets as budget_services
from canteens.services import settlements as services
from common.errors import NotFound
from common.idempotency import idempotency_key_clean, idempotency_key_from
from governance import access as governance_access
from governance.models import Region

TAGS = ["canteens-settlements"]
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="防重复提交标识（也可放在请求体 idempotency_key）",
)
FIRST_YEAR = 2000


def _schema(op: str, **kwargs: Any) -> Any:
    if "request" in kwargs:
        kwargs["parameters"] = [*kwargs.get("parameters", []), IDEMPOTENCY_HEADER]
    return extend_schema(tags=TAGS, operation_id=f"canteens_settlements_{op}", **kwargs)


# --- input ----------------------------------------------------------------------------------------------


def _max_year() -> int:
    return timezone.localdate().year + 1


class SettlementQuery(serializers.Serializer):
    site = serializers.IntegerField(required=False, min_value=1, help_text="爱心食堂 id")
    status = serializers.ChoiceField(choices=ClaimStatus.choices, required=False, help_text="申报状态")
    year = serializers.IntegerField(required=False, min_value=FIRST_YEAR, max_value=2100)
    month = serializers.IntegerField(required=False, min_value=1, max_value=12)


class CanteenYearQuery(serializers.Serializer):
    year = serializers.IntegerField(
        required=False, min_value=FIRST_YEAR, max_value=2100, help_text="年度（默认今年）"
    )


class CanteenReportQuery(CanteenYearQuery):
    region = serializers.IntegerField(required=False, min_value=1, help_text="乡镇或村（社区）id")


class SettlementComputeIn(serializers.Serializer):
    year = serializers.IntegerField(help_text="结算年度")
    month = serializers.IntegerField(help_text="结算月份 1–12")
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class SettlementKeyIn(serializers.Serializer):
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class SettlementReturnIn(SettlementKeyIn):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class CanteenBudgetIn(serializers.Serializer):
    year = serializers.IntegerField(help_text="预算年度")
    funder = serializers.ChoiceField(choices=Funder.choices)
    amount_fen = serializers.IntegerField(help_text="预算金额（分）")
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


def _valid(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _key(request: Request, data: dict[str, Any]) -> str:
    """The caller's idempotency key (body or header); DomainError 400 when there is none."""
    return idempotency_key_clean(data.get("idempotency_key") or idempotency_key_from(request))


def _year(data: dict[str, Any]) -> int:
    year = data.get("year") or timezone.localdate().year
    if year > _max_year():
        raise serializers.ValidationError({"year": [_("年度不能晚于明年。")]})
    return int(year)


# --- output ---------------------------------------------------------------------------------------------


class SettlementOut(serializers.Serializer):
    id = serializers.IntegerField()
    site = serializers.IntegerField(source="site_id")
    site_name = serializers.CharField(source="site.name")
    year = serializers.IntegerField()
    month = serializers.IntegerField()
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    claim_number = serializers.CharField()
    meals = serializers.IntegerField(help_text="就餐人次（更正冲减后）")
    guest_meals = serializers.IntegerField()
    elders = serializers.IntegerField(help_text="就餐老人数（去重）")
    price_fen = serializers.IntegerField()
    resident_fen = serializers.IntegerField()
    government_county_fen = serializers.IntegerField()
    government_township_fen = serializers.IntegerField()
    government_fen = serializers.SerializerMethodField()
    community_fen = serializers.IntegerField()
    donation_fen = serializers.IntegerField()
    computed_at = serializers.DateTimeField(allow_null=True)
    submitted_by = serializers.IntegerField(source="submitted_by_id", allow_null=True)
    submitted_at = serializers.DateTimeField(allow_null=True)
    decided_by = serializers.IntegerField(source="decided_by_id", allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    return_reason = serializers.CharField()

    def get_government_fen(self, obj: Settlement) -> int:
        return obj.government_county_fen + obj.government_township_fen


class SettlementLineOut(serializers.Serializer):
    slot = serializers.CharField()
    slot_label = serializers.CharField()
    tier = serializers.IntegerField(
        source="tier_id", allow_null=True, help_text="补贴档次 id（空：非登记就餐）"
    )
    tier_label = serializers.CharField()
    meals = serializers.IntegerField()
    price_fen = serializers.IntegerField()
    resident_fen = serializers.IntegerField()
    government_fen = serializers.IntegerField()
    community_fen = serializers.IntegerField()
    donation_fen = serializers.IntegerField()


class SettlementFunderOut(serializers.Serializer):
    funder = serializers.CharField()
    funder_label = serializers.CharField(source="label")
    fen = serializers.IntegerField()


class SettlementDetailOut(SettlementOut):
    lines = SettlementLineOut(many=True)
    funders = SettlementFunderOut(many=True, help_text="补贴申报表：各出资方合计，政府补贴分县级、乡镇级")
    open_corrections = serializers.IntegerField(help_text="该月未处理的就餐更正条数")


def _detail(settlement: Settlement) -> dict[str, Any]:
    data = dict(SettlementOut(settlement).data)
    data["lines"] = SettlementLineOut(selectors.settlement_lines(settlement), many=True).data
    data["funders"] = SettlementFunderOut(selectors.settlement_funder_totals(settlement), many=True).data
    data["open_corrections"] = selectors.settlement_open_corrections(settlement)
    return data


class CanteenBudgetOut(serializers.Serializer):
    id = serializers.IntegerField()
    site = serializers.IntegerField(source="site_id")
    year = serializers.IntegerField()
    funder = serializers.CharField()
    funder_label = serializers.CharField(source="get_funder_display")
    amount_fen = serializers.IntegerField()
    updated_by = serializers.IntegerField(source="updated_by_id")
    updated_at = serializers.DateTimeField()


class CanteenFiguresOut(serializers.Serializer):
    meals = serializers.IntegerField(help_text="就餐人次")
    elders = serializers.IntegerField(help_text="就餐老人数（去重）")
    price_fen = serializers.IntegerField(help_text="餐费合计 = 成本")
    resident_fen = serializers.IntegerField()
    government_fen = serializers.IntegerField()
    government_township_fen = serializers.IntegerField()
    community_fen = serializers.IntegerField()
    donation_fen = serializers.IntegerField()
    shortfall_fen = serializers.IntegerField(help_text="捐赠资金不足、转由兜底方承担的金额")
    cost_per_meal_fen = serializers.IntegerField(allow_null=True)
    income_fen = serializers.IntegerField(help_text="个人缴费 + 各项补贴 + 捐赠列支")
    balance_fen = serializers.IntegerField(help_text="收入 − 成本")


class CanteenFunderRowOut(serializers.Serializer):
    funder = serializers.CharField()
    funder_label = serializers.CharField(source="label")
    budget_fen = serializers.IntegerField(allow_null=True)
    spent_fen = serializers.IntegerField()
    remaining_fen = serializers.IntegerField(allow_null=True)
    used_percent = serializers.IntegerField(allow_null=True)
    projected_fen = serializers.IntegerField(help_text="按目前支出速度预计全年支出")
    gap_fen = serializers.IntegerField(help_text="预计缺口（预计全年支出超出预算的部分）")
    runs_out_on = serializers.DateField(allow_null=True, help_text="按目前速度预算用完的日期（年内）")


class CanteenSiteRefOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    region = serializers.IntegerField(source="region_id")
    region_name = serializers.CharField(source="region.name")


class CanteenSiteReportOut(serializers.Serializer):
    site = CanteenSiteRefOut()
    figures = CanteenFiguresOut()
    funders = CanteenFunderRowOut(many=True)
    gap_fen = serializers.IntegerField()


class CanteenReportOut(serializers.Serializer):
    year = serializers.IntegerField()
    start = serializers.DateField()
    end = serializers.DateField(help_text="统计截止日（今年为今天）")
    elapsed_days = serializers.IntegerField()
    year_days = serializers.IntegerField()
    results = CanteenSiteReportOut(many=True, source="sites", help_text="每个爱心食堂")
    total = CanteenFiguresOut()
    funders = CanteenFunderRowOut(many=True, help_text="合计：预算、已支出、剩余、预计")
    gap_fen = serializers.IntegerField()
    beneficiaries = serializers.IntegerField(help_text="受益人数：年内在食堂就餐或在讲堂上课的居民（去重）")


class CanteenMonthOut(serializers.Serializer):
    month = serializers.SerializerMethodField()
    figures = CanteenFiguresOut()

    def get_month(self, obj: report_selectors.MonthRow) -> str:
        return obj.month.strftime("%Y-%m")


class CanteenSiteYearReportOut(serializers.Serializer):
    site = CanteenSiteRefOut()
    year = serializers.IntegerField()
    start = serializers.DateField()
    end = serializers.DateField()
    figures = CanteenFiguresOut()
    funders = CanteenFunderRowOut(many=True)
    gap_fen = serializers.IntegerField()
    months = CanteenMonthOut(many=True)
    beneficiaries = serializers.IntegerField()


# --- views ----------------------------------------------------------------------------------------------


class _Paginated(APIView):
    pagination_class = PageNumberPagination

    def page(self, request: Request, rows: Any, out: type[serializers.Serializer]) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(out(page, many=True).data)


class SettlementListApi(_Paginated):
    @_schema(
        "list",
        parameters=[SettlementQuery],
        responses={200: SettlementOut(many=True)},
        summary="月度结算（补贴申报）列表",
    )
    def get(self, request: Request) -> Response:
        query = _valid(SettlementQuery, request.query_params)
        rows = selectors.settlements_visible(
            request.user,
            site_id=query.get("site"),
            status=query.get("status", ""),
            year=query.get("year"),
            month=query.get("month"),
        )
        return self.page(request, rows, SettlementOut)


class SettlementDetailApi(APIView):
    @_schema("detail", responses={200: SettlementDetailOut}, summary="月度结算：明细与各出资方合计")
    def get(self, request: Request, id: int) -> Response:
        return Response(_detail(selectors.settlement_get_visible(request.user, id)))


class SettlementSubmitApi(APIView):
    @_schema(
        "submit",
        request=SettlementKeyIn,
        responses={200: SettlementDetailOut},
        summary="提交补贴申报（按就餐记录重新计算后提交）",
    )
    def post(self, request: Request, id: int) -> Response:
        settlement = selectors.settlement_get_visible(request.user, id)
        data = _valid(SettlementKeyIn, request.data)
        settlement = services.settlement_submit(
            actor=request.user, idempotency_key=_key(request, data), settlement=settlement
        )
        return Response(_detail(selectors.settlement_get_visible(request.user, settlement.pk)))


class SettlementApproveApi(APIView):
    @_schema(
        "approve",
        request=SettlementKeyIn,
        responses={200: SettlementDetailOut},
        summary="核准补贴申报（锁定）",
    )
    def post(self, request: Request, id: int) -> Response:
        settlement = selectors.settlement_get_visible(request.user, id)
        data = _valid(SettlementKeyIn, request.data)
        settlement = services.settlement_approve(
            actor=request.user, idempotency_key=_key(request, data), settlement=settlement
        )
        return Response(_detail(selectors.settlement_get_visible(request.user, settlement.pk)))


class SettlementReturnApi(APIView):
    @_schema(
        "return", request=SettlementReturnIn, responses={200: SettlementDetailOut}, summary="退回补贴申报"
    )
    def post(self, request: Request, id: int) -> Response:
        settlement = selectors.settlement_get_visible(request.user, id)
        data = _valid(SettlementReturnIn, request.data)
        settlement = services.settlement_return(
            actor=request.user,
            idempotency_key=_key(request, data),
            settlement=settlement,
            reason=data["reason"],
        )
        return Response(_detail(selectors.settlement_get_visible(request.user, settlement.pk)))


class SiteSettlementsApi(_Paginated):
    @_schema("site_list", responses={200: SettlementOut(many=True)}, summary="一个爱心食堂的月度结算")
    def get(self, request: Request, id: int) -> Response:
        return self.page(request, selectors.settlements_for_site(request.user, id), SettlementOut)

    @_schema(
        "compute",
        request=SettlementComputeIn,
        responses={200: SettlementDetailOut},
        summary="按就餐记录计算（或重新计算）某月结算",
    )
    def post(self, request: Request, id: int) -> Response:
        site = access.site_get_visible(request.user, id)
        data = _valid(SettlementComputeIn, request.data)
        settlement = services.settlement_compute(
            actor=request.user,
            idempotency_key=_key(request, data),
            site=site,
            year=data["year"],
            month=data["month"],
        )
        return Response(_detail(selectors.settlement_get_visible(request.user, settlement.pk)))


class SiteBudgetsApi(APIView):
    @_schema(
        "budget_list",
        parameters=[CanteenYearQuery],
        responses={200: CanteenBudgetOut(many=True)},
        summary="年度预算",
    )
    def get(self, request: Request, id: int) -> Response:
        site = access.site_get_visible(request.user, id)
        query = _valid(CanteenYearQuery, request.query_params)
        rows = Budget.objects.filter(site=site).order_by("-year", "funder")
        if query.get("year"):
            rows = rows.filter(year=query["year"])
        order = {funder: index for index, funder in enumerate(report_selectors.FUNDERS)}
        budgets = sorted(rows, key=lambda b: (-b.year, order.get(b.funder, 9)))
        return Response(CanteenBudgetOut(budgets, many=True).data)

    @_schema(
        "budget_set",
        request=CanteenBudgetIn,
        responses={200: CanteenBudgetOut},
        summary="设置某出资方的年度预算（乡镇或县级管理员）",
    )
    def post(self, request: Request, id: int) -> Response:
        site = access.site_get_visible(request.user, id)
        data = _valid(CanteenBudgetIn, request.data)
        budget = budget_services.budget_set(
            actor=request.user,
            idempotency_key=_key(request, data),
            site=site,
            year=data["year"],
            funder=data["funder"],
            amount_fen=data["amount_fen"],
        )
        return Response(CanteenBudgetOut(budget).data)


def _report_data(report: report_selectors.CanteenReport) -> dict[str, Any]:
    return {
        "year": report.year,
        "start": report.start,
        "end": report.end,
        "elapsed_days": report.elapsed_days,
        "year_days": report.year_days,
        "sites": [
            {"site": s.site, "figures": s.figures, "funders": s.funders, "gap_fen": s.gap_fen}
            for s in report.sites
        ],
        "total": report.total,
        "funders": report.funders,
        "gap_fen": report.gap_fen,
        "beneficiaries": report.beneficiaries,
    }


class CanteenReportApi(APIView):
    @_schema(
        "report",
        parameters=[CanteenReportQuery],
        responses={200: CanteenReportOut},
        summary="爱心食堂运行报表：每个食堂、合计、各出资方预算执行（年初至今）",
    )
    def get(self, request: Request) -> Response:
        query = _valid(CanteenReportQuery, request.query_params)
        region = None
        if query.get("region"):
            region = (
                Region.objects.filter(governance_access.scope_q(request.user, "path"))
                .filter(pk=query["region"])
                .first()
            )
            if region is None:
                raise NotFound(_("未找到该区域，或者它不在您的管辖范围内。"))
        report = report_selectors.canteen_report(request.user, year=_year(query), region=region)
        return Response(CanteenReportOut(_report_data(report)).data)


class SiteReportApi(APIView):
    @_schema(
        "site_report",
        parameters=[CanteenYearQuery],
        responses={200: CanteenSiteYearReportOut},
        summary="一个爱心食堂的年度报表：各出资方预算执行、逐月情况、受益人数",
    )
    def get(self, request: Request, id: int) -> Response:
        site = access.site_get_visible(request.user, id)
        query = _valid(CanteenYearQuery, request.query_params)
        year = _year(query)
        report = report_selectors.canteen_report(request.user, year=year, site_id=site.pk)
        # A site of another kind (a classroom, a workshop) has no meals: zero figures, no funders.
        one = report.sites[0] if report.sites else None
        data = {
            "site": site,
            "year": year,
            "start": report.start,
            "end": report.end,
            "figures": one.figures if one else report.total,
            "funders": one.funders if one else [],
            "gap_fen": one.gap_fen if one else 0,
            "months": report_selectors.canteen_months(site, year=year),
            "beneficiaries": report.beneficiaries,
        }
        return Response(CanteenSiteYearReportOut(data).data)


urlpatterns: list[URLPattern | URLResolver] = [
    path("settlements/", SettlementListApi.as_view(), name="settlements"),
    path("settlements/<int:id>/", SettlementDetailApi.as_view(), name="settlement_detail"),
    path("settlements/<int:id>/submit/", SettlementSubmitApi.as_view(), name="settlement_submit"),
    path("settlements/<int:id>/approve/", SettlementApproveApi.as_view(), name="settlement_approve"),
    path("settlements/<int:id>/return/", SettlementReturnApi.as_view(), name="settlement_return"),
    path("sites/<int:id>/settlements/", SiteSettlementsApi.as_view(), name="site_settlements"),
    path("sites/<int:id>/budgets/", SiteBudgetsApi.as_view(), name="site_budgets"),
    path("sites/<int:id>/report/", SiteReportApi.as_view(), name="site_report"),
    path("canteen-reports/", CanteenReportApi.as_view(), name="canteen_reports"),
]

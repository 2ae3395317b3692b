"""REST API of an event's sales records (under /api/v1/industry/).

- GET events/{id}/sales/: the event's records (filters day, channel, platform, exhibitor, category,
  product; sort), reversals included (negative amounts), so the rows sum to the event's net total.
- POST events/{id}/sales/: post one sale (whoever runs the event). `amount_yuan` in yuan ("1200.50"),
  `quantity`, `channel` (online/offline or 线上/线下), `platform` for online, `sold_on`, `exhibitor`
  and `product` (id) or `product_code`.
- GET sales/{id}/; POST sales/{id}/reverse/ {reason}; POST sales/{id}/correct/ {reason + the new sale}.
The same rules and Chinese messages as the page and the Excel import (industry/services/sales_rules.py).
Every POST needs an idempotency key (`Idempotency-Key` header or `idempotency_key`): a replay answers the
first record; the same key with another sale answers 409. Out of scope answers 404, like a missing id.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import URLPattern, URLResolver, path
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import DomainError
from common.idempotency import idempotency_key_from
from industry import access
from industry.api.params import query_id, query_text
from industry.models import Event, Exhibitor, Product, ProductCategory, SalesChannel, SalesRecord, SalesSource
from industry.selectors import sales as selectors
from industry.services import sales as services
from industry.services import sales_rules

TAGS = ["industry-sales"]
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="防重复提交标识（也可放在请求体 idempotency_key）；每次 POST 必填",
)


class SaleOut(serializers.Serializer):
    id = serializers.IntegerField()
    event = serializers.IntegerField(source="event_id")
    exhibitor = serializers.IntegerField(source="exhibitor_id")
    exhibitor_name = serializers.CharField(source="exhibitor.business.name")
    booth = serializers.CharField(source="exhibitor.booth")
    product = serializers.IntegerField(source="product_id")
    product_code = serializers.CharField(source="product.code")
    product_name = serializers.CharField(source="product.name")
    category = serializers.CharField(source="product.category")
    channel = serializers.CharField()
    channel_display = serializers.CharField(source="get_channel_display")
    platform = serializers.CharField()
    sold_on = serializers.DateField()
    quantity = serializers.DecimalField(max_digits=14, decimal_places=2)
    amount_fen = serializers.IntegerField(help_text="销售额（分）；冲正记录为负数")
    reverses = serializers.IntegerField(source="reverses_id", allow_null=True, help_text="冲正的记录 id")
    reversed_by = serializers.SerializerMethodField(help_text="冲正它的记录 id（未冲正为 null）")
    reason = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]  # the field, not Field.source
    created_at = serializers.DateTimeField()

    def get_reversed_by(self, obj: SalesRecord) -> int | None:
        reversal = getattr(obj, "reversed_by", None)
        return reversal.pk if reversal is not None else None


class SaleIn(serializers.Serializer):
    exhibitor = serializers.IntegerField(help_text="本次展会的参展主体 id")
    product = serializers.IntegerField(required=False, allow_null=True, default=None, help_text="产品 id")
    product_code = serializers.CharField(
        max_length=20, required=False, allow_blank=True, default="", help_text="或产品编码，例如 GC-TEA-0001"
    )
    channel = serializers.CharField(max_length=10, help_text="online / offline（也可写 线上 / 线下）")
    platform = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    sold_on = serializers.CharField(max_length=20, help_text="销售日期，例如 2022-03-05")
    quantity = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    amount_yuan = serializers.CharField(
        max_length=30, allow_blank=True, help_text="销售额（元），最多两位小数"
    )
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class ReverseIn(serializers.Serializer):
    reason = serializers.CharField(max_length=200, allow_blank=True, help_text="冲正原因")
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class CorrectIn(SaleIn):
    reason = serializers.CharField(max_length=200, allow_blank=True, help_text="更正原因")
    exhibitor = serializers.IntegerField(required=False, allow_null=True, default=None)
    channel = serializers.CharField(max_length=10, required=False, allow_blank=True, default="")
    sold_on = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")


class SaleCorrectionOut(serializers.Serializer):
    reversal = SaleOut()
    record = SaleOut()


def _records(ids: list[int]) -> dict[int, SalesRecord]:
    rows = SalesRecord.objects.filter(pk__in=ids).select_related(
        "exhibitor__business", "product", "reverses", "reversed_by"
    )
    return {row.pk: row for row in rows}


def _sale_out(record: SalesRecord) -> dict[str, Any]:
    return dict(SaleOut(_records([record.pk])[record.pk]).data)


def _product(data: dict[str, Any]) -> Product:
    product = None
    if data.get("product"):
        product = Product.objects.filter(pk=data["product"]).first()
    elif data.get("product_code"):
        product = Product.objects.filter(code=str(data["product_code"]).strip().upper()).first()
    if product is None:
        raise DomainError("product_not_found", services.PRODUCT_NOT_FOUND, field="product")
    return product


def _exhibitor(event: Event, exhibitor_id: int | None) -> Exhibitor:
    exhibitor = Exhibitor.objects.filter(pk=exhibitor_id).first() if exhibitor_id else None
    if exhibitor is None or exhibitor.event_id != event.pk:
        raise DomainError("exhibitor_not_in_event", _("该参展主体不属于本次展会节会。"), field="exhibitor")
    return exhibitor


def _sale_values(event: Event, data: dict[str, Any]) -> dict[str, Any]:
    """The service's keyword arguments from a parsed body, through the shared parsers."""
    return {
        "exhibitor": _exhibitor(event, data.get("exhibitor")),
        "product": _product(data),
        "channel": sales_rules.channel_parse(data.get("channel")).value,
        "platform": data.get("platform", ""),
        "sold_on": sales_rules.date_parse(data.get("sold_on")),
        "quantity": sales_rules.quantity_parse(data.get("quantity")),
        "amount_fen": sales_rules.amount_fen_parse(data.get("amount_yuan")),
    }


def _int(value: Any) -> int | None:
    return query_id(value, positive_only=True)


class EventSalesApi(generics.ListAPIView):
    serializer_class = SaleOut
    queryset = SalesRecord.objects.none()

    def get_queryset(self) -> QuerySet[SalesRecord]:
        event = access.event_get_visible(self.request.user, self.kwargs["id"])
        params = self.request.query_params
        day = None
        if params.get("day"):
            try:
                day = sales_rules.date_parse(params["day"], field="day")
            except DomainError:
                day = None
        category = params.get("category", "")
        filters = selectors.SaleFilters(
            day=day,
            channel=params.get("channel", ""),
            platform=query_text(params, "platform", max_length=30),
            exhibitor_id=_int(params.get("exhibitor")),
            category=category if category in ProductCategory.values else "",
            product_id=_int(params.get("product")),
        )
        return selectors.sales_list(self.request.user, event, filters, sort=params.get("sort", "-sold_on"))

    @extend_schema(
        tags=TAGS,
        operation_id="industry_event_sales_list",
        summary="展会节会的销售记录（含冲正记录）",
        parameters=[
            OpenApiParameter("day", OpenApiTypes.DATE, description="销售日期"),
            OpenApiParameter("channel", OpenApiTypes.STR, enum=SalesChannel.values, description="渠道"),
            OpenApiParameter("platform", OpenApiTypes.STR, description="线上平台"),
            OpenApiParameter("exhibitor", OpenApiTypes.INT, description="参展主体 id"),
            OpenApiParameter("category", OpenApiTypes.STR, enum=ProductCategory.values, description="品类"),
            OpenApiParameter("product", OpenApiTypes.INT, description="产品 id"),
            OpenApiParameter("sort", OpenApiTypes.STR, enum=list(selectors.SALE_SORTS), description="排序"),
        ],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=TAGS,
        operation_id="industry_sale_create",
        summary="录入一条销售记录（组织者）",
        parameters=[IDEMPOTENCY_HEADER],
        request=SaleIn,
        responses={201: SaleOut},
    )
    def post(self, request: Request, id: int) -> Response:
        event = access.event_get_runnable(request.user, id)
        serializer = SaleIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        record = services.sales_record_create(
            actor=request.user,
            idempotency_key=idempotency_key_from(request),
            event=event,
            source=SalesSource.API,
            **_sale_values(event, serializer.validated_data),
        )
        return Response(_sale_out(record), status=status.HTTP_201_CREATED)


class SaleDetailApi(APIView):
    @extend_schema(tags=TAGS, operation_id="industry_sale_detail", responses={200: SaleOut})
    def get(self, request: Request, id: int) -> Response:
        return Response(_sale_out(selectors.sale_get_visible(request.user, id)))


class SaleReverseApi(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="industry_sale_reverse",
        summary="冲正一条销售记录（组织者）",
        parameters=[IDEMPOTENCY_HEADER],
        request=ReverseIn,
        responses={201: SaleOut},
    )
    def post(self, request: Request, id: int) -> Response:
        record = services.sale_get_runnable(request.user, id)
        serializer = ReverseIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        reversal = services.sales_record_reverse(
            actor=request.user,
            idempotency_key=idempotency_key_from(request),
            record=record,
            reason=serializer.validated_data["reason"],
            source=SalesSource.API,
        )
        return Response(_sale_out(reversal), status=status.HTTP_201_CREATED)


class SaleCorrectApi(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="industry_sale_correct",
        summary="更正一条销售记录：冲正原记录并录入正确的一条（组织者）",
        description="未提供的字段沿用原记录（参展主体、产品、渠道、平台、日期、数量）；销售额必填。",
        parameters=[IDEMPOTENCY_HEADER],
        request=CorrectIn,
        responses={201: SaleCorrectionOut},
    )
    def post(self, request: Request, id: int) -> Response:
        record = services.sale_get_runnable(request.user, id)
        serializer = CorrectIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        # What the correction does not name stays as it was on the wrong record.
        data["exhibitor"] = data.get("exhibitor") or record.exhibitor_id
        if not data.get("product") and not data.get("product_code"):
            data["product"] = record.product_id
        if not data.get("channel"):
            data["channel"] = record.channel
            data["platform"] = data.get("platform") or record.platform
        data["sold_on"] = data.get("sold_on") or record.sold_on
        if data.get("quantity") in (None, ""):
            data["quantity"] = record.quantity
        reversal, new = services.sales_record_correct(
            actor=request.user,
            idempotency_key=idempotency_key_from(request),
            record=record,
            reason=data["reason"],
            source=SalesSource.API,
            **_sale_values(record.event, data),
        )
        rows = _records([reversal.pk, new.pk])
        body = {"reversal": rows[reversal.pk], "record": rows[new.pk]}
        return Response(SaleCorrectionOut(body).data, status=status.HTTP_201_CREATED)


urlpatterns: list[URLPattern | URLResolver] = [
    path("events/<int:id>/sales/", EventSalesApi.as_view(), name="event_sales"),
    path("sales/<int:id>/", SaleDetailApi.as_view(), name="sale_detail"),
    path("sales/<int:id>/reverse/", SaleReverseApi.as_view(), name="sale_reverse"),
    path("sales/<int:id>/correct/", SaleCorrectApi.as_view(), name="sale_correct"),
]

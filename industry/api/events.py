"""REST API of expos and festivals, their exhibitors and the product catalogue (under /api/v1/industry/).

- GET events/ (filters year, kind, town, series, q, sort), POST events/ (county or township admin over
  the town); GET events/{id}/ with its sales totals, PATCH events/{id}/ (whoever runs it).
- GET events/{id}/exhibitors/, POST events/{id}/exhibitors/ (an existing business, with a booth).
- GET products/ (filters category, chain, township, q), POST products/ (county or township admin; a blank
  code gets the next free one), GET products/{id}/ with its sales per event the caller sees.
Every POST runs exactly once per (caller, key): `idempotency_key` in the body or the `Idempotency-Key`
header. Out of scope answers 404, like a missing id.
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

from common.errors import NotFound
from common.idempotency import idempotency_key_from
from governance.models import Region
from industry import access
from industry.api.params import query_id, query_text, query_year
from industry.models import Business, Event, EventKind, Exhibitor, Product, ProductCategory
from industry.selectors import events as selectors
from industry.services import events as services

TAGS = ["industry-events"]
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="防重复提交标识（也可放在请求体 idempotency_key）",
)


def _int(value: Any) -> int | None:
    return query_id(value, positive_only=True)


# --- events -----------------------------------------------------------------------------------------


class EventOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    kind_display = serializers.CharField(source="get_kind_display")
    name = serializers.CharField()
    series = serializers.CharField()
    region = serializers.IntegerField(source="region_id", help_text="举办乡镇（或全县）的 id")
    region_name = serializers.CharField(source="region.name")
    town_product = serializers.CharField(help_text="一镇一品")
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    venue = serializers.CharField()
    organiser = serializers.CharField(help_text="主办单位")
    total_fen = serializers.IntegerField(help_text="净销售额（分，已扣除冲正）")
    exhibitor_count = serializers.IntegerField()


class EventPlatformOut(serializers.Serializer):
    platform = serializers.CharField()
    amount_fen = serializers.IntegerField()


class EventTopProductOut(serializers.Serializer):
    product = serializers.IntegerField(source="product_id")
    code = serializers.CharField()
    name = serializers.CharField()
    category = serializers.CharField()
    unit = serializers.CharField()
    quantity = serializers.DecimalField(max_digits=16, decimal_places=2)
    amount_fen = serializers.IntegerField()


class EventDetailOut(EventOut):
    description = serializers.CharField()
    offline_fen = serializers.IntegerField()
    online_fen = serializers.IntegerField()
    records = serializers.IntegerField(help_text="销售记录条数（含冲正记录）")
    platforms = EventPlatformOut(many=True)
    top_products = EventTopProductOut(many=True)
    can_run = serializers.BooleanField()


class EventIn(serializers.Serializer):
    kind = serializers.CharField(max_length=10, help_text="expo 农旅展览会 / festival 节会")
    name = serializers.CharField(max_length=80, allow_blank=True)
    region = serializers.IntegerField(help_text="举办乡镇（或全县）的 id")
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    series = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    town_product = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    venue = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    organiser = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class EventPatchIn(serializers.Serializer):
    kind = serializers.CharField(max_length=10, required=False, help_text="expo / festival")
    name = serializers.CharField(max_length=80, required=False)
    starts_on = serializers.DateField(required=False)
    ends_on = serializers.DateField(required=False)
    series = serializers.CharField(max_length=60, required=False, allow_blank=True)
    town_product = serializers.CharField(max_length=40, required=False, allow_blank=True)
    venue = serializers.CharField(max_length=100, required=False, allow_blank=True)
    organiser = serializers.CharField(max_length=100, required=False, allow_blank=True)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True)


EDITABLE = (
    "kind",
    "name",
    "starts_on",
    "ends_on",
    "series",
    "town_product",
    "venue",
    "organiser",
    "description",
)


def event_detail_data(event: Event, user: Any) -> dict[str, Any]:
    """The detail body: the event with its net sales totals, platforms and top products."""
    totals = selectors.event_totals(event)
    row: Any = event
    row.total_fen = totals.total_fen
    row.exhibitor_count = Exhibitor.objects.filter(event=event).count()
    row.offline_fen = totals.offline_fen
    row.online_fen = totals.online_fen
    row.records = totals.records
    row.platforms = [{"platform": p, "amount_fen": t} for p, t in totals.platforms]
    row.top_products = selectors.event_top_products(event)
    row.can_run = access.can_run_event(user, event)
    return dict(EventDetailOut(row).data)


class EventListApi(generics.ListAPIView):
    serializer_class = EventOut
    queryset = Event.objects.none()  # for the schema; get_queryset gives the caller's

    def get_queryset(self) -> QuerySet[Event]:
        params = self.request.query_params
        kind = params.get("kind", "")
        return selectors.events_list(
            self.request.user,
            year=query_year(params),
            kind=kind if kind in EventKind.values else "",
            town_id=_int(params.get("town")),
            series=query_text(params, "series", max_length=60),
            q=query_text(params, "q", max_length=40),
            sort=params.get("sort", "-starts_on"),
        )

    @extend_schema(
        tags=TAGS,
        operation_id="industry_event_list",
        summary="展会节会列表（本人管辖范围内）",
        parameters=[
            OpenApiParameter("year", OpenApiTypes.INT, description="开幕年份"),
            OpenApiParameter("kind", OpenApiTypes.STR, enum=EventKind.values, description="类型"),
            OpenApiParameter("town", OpenApiTypes.INT, description="举办乡镇 id"),
            OpenApiParameter("series", OpenApiTypes.STR, description="系列"),
            OpenApiParameter("q", OpenApiTypes.STR, description="名称或一镇一品"),
            OpenApiParameter("sort", OpenApiTypes.STR, enum=list(selectors.EVENT_SORTS), description="排序"),
        ],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=TAGS,
        operation_id="industry_event_create",
        summary="登记展会节会（县、乡镇管理员）",
        parameters=[IDEMPOTENCY_HEADER],
        request=EventIn,
        responses={201: EventDetailOut},
    )
    def post(self, request: Request) -> Response:
        serializer = EventIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("idempotency_key")
        region = Region.objects.filter(pk=data.pop("region")).first()
        if region is None:
            raise NotFound(_(services.REGION_NOT_FOUND))
        event = services.event_create(
            actor=request.user, idempotency_key=idempotency_key_from(request), region=region, **data
        )
        return Response(event_detail_data(event, request.user), status=status.HTTP_201_CREATED)


class EventDetailApi(APIView):
    @extend_schema(tags=TAGS, operation_id="industry_event_detail", responses={200: EventDetailOut})
    def get(self, request: Request, id: int) -> Response:
        event = access.event_get_visible(request.user, id)
        return Response(event_detail_data(event, request.user))

    @extend_schema(
        tags=TAGS,
        operation_id="industry_event_update",
        summary="修改展会节会（组织者）",
        request=EventPatchIn,
        responses={200: EventDetailOut},
    )
    def patch(self, request: Request, id: int) -> Response:
        event = access.event_get_runnable(request.user, id)
        serializer = EventPatchIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = {name: getattr(event, name) for name in EDITABLE}
        values.update(serializer.validated_data)
        event = services.event_update(actor=request.user, event=event, **values)
        return Response(event_detail_data(event, request.user))


# --- exhibitors -------------------------------------------------------------------------------------


class EventExhibitorOut(serializers.Serializer):
    id = serializers.IntegerField()
    event = serializers.IntegerField(source="event_id")
    business = serializers.IntegerField(source="business_id")
    business_name = serializers.CharField(source="business.name")
    business_kind = serializers.CharField(source="business.kind")
    credit_code = serializers.CharField(source="business.credit_code")
    village = serializers.CharField(source="business.region.name")
    booth = serializers.CharField()
    total_fen = serializers.IntegerField(help_text="净销售额（分）")
    sale_count = serializers.IntegerField(help_text="销售记录条数（有记录的不能移除）")


class EventExhibitorIn(serializers.Serializer):
    business = serializers.IntegerField(help_text="经营主体 id（须是本人可见的已有经营主体）")
    booth = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class ExhibitorListApi(generics.ListAPIView):
    serializer_class = EventExhibitorOut
    queryset = Exhibitor.objects.none()

    def get_queryset(self) -> QuerySet[Exhibitor]:
        event = access.event_get_visible(self.request.user, self.kwargs["id"])
        return selectors.event_exhibitors(event)

    @extend_schema(tags=TAGS, operation_id="industry_exhibitor_list", summary="参展主体")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=TAGS,
        operation_id="industry_exhibitor_add",
        summary="添加参展主体（组织者）",
        parameters=[IDEMPOTENCY_HEADER],
        request=EventExhibitorIn,
        responses={201: EventExhibitorOut},
    )
    def post(self, request: Request, id: int) -> Response:
        event = access.event_get_runnable(request.user, id)
        serializer = EventExhibitorIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        business = selectors.business_for_exhibitor(request.user, serializer.validated_data["business"])
        if business is None:
            raise NotFound(access.BUSINESS_NOT_FOUND)
        exhibitor = services.exhibitor_add(
            actor=request.user,
            idempotency_key=idempotency_key_from(request),
            event=event,
            business=business,
            booth=serializer.validated_data["booth"],
        )
        row = selectors.event_exhibitors(event).get(pk=exhibitor.pk)
        return Response(EventExhibitorOut(row).data, status=status.HTTP_201_CREATED)


# --- products ---------------------------------------------------------------------------------------


class CatalogueProductOut(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField(help_text="产品编码（销售表格按它识别产品）")
    name = serializers.CharField()
    category = serializers.CharField()
    category_display = serializers.CharField(source="get_category_display")
    origin_region = serializers.IntegerField(
        source="origin_region_id", allow_null=True, help_text="产地村 id"
    )
    origin_name = serializers.SerializerMethodField()
    chain = serializers.IntegerField(source="chain_id", allow_null=True)
    chain_name = serializers.SerializerMethodField()
    producer = serializers.IntegerField(source="producer_id", allow_null=True)
    unit = serializers.CharField()
    total_fen = serializers.IntegerField(help_text="在本人可见的展会节会上的净销售额（分）")

    def get_origin_name(self, obj: Product) -> str:
        return obj.origin_region.name if obj.origin_region else ""

    def get_chain_name(self, obj: Product) -> str:
        return obj.chain.name if obj.chain else ""


class CatalogueProductEventOut(serializers.Serializer):
    event = serializers.IntegerField(source="event.pk")
    event_name = serializers.CharField(source="event.name")
    starts_on = serializers.DateField(source="event.starts_on")
    quantity = serializers.DecimalField(max_digits=16, decimal_places=2)
    amount_fen = serializers.IntegerField()


class CatalogueProductDetailOut(CatalogueProductOut):
    events = CatalogueProductEventOut(many=True)


class CatalogueProductIn(serializers.Serializer):
    code = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    name = serializers.CharField(max_length=60, allow_blank=True)
    category = serializers.CharField(max_length=20, help_text="品类：" + " / ".join(ProductCategory.values))
    origin_region = serializers.IntegerField(required=False, allow_null=True, default=None)
    chain = serializers.IntegerField(required=False, allow_null=True, default=None)
    producer = serializers.IntegerField(required=False, allow_null=True, default=None)
    unit = serializers.CharField(max_length=10, required=False, allow_blank=True, default="件")
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


def product_detail_data(user: Any, product: Product) -> dict[str, Any]:
    row = selectors.products_list(user).get(pk=product.pk)
    row.events = selectors.product_sales_by_event(user, product)  # type: ignore[attr-defined]
    return dict(CatalogueProductDetailOut(row).data)


class ProductListApi(generics.ListAPIView):
    serializer_class = CatalogueProductOut
    queryset = Product.objects.none()

    def get_queryset(self) -> QuerySet[Product]:
        params = self.request.query_params
        category = params.get("category", "")
        return selectors.products_list(
            self.request.user,
            category=category if category in ProductCategory.values else "",
            chain_id=_int(params.get("chain")),
            township_id=_int(params.get("township")),
            q=query_text(params, "q", max_length=40),
            sort=params.get("sort", "code"),
        )

    @extend_schema(
        tags=TAGS,
        operation_id="industry_product_list",
        summary="农产品目录",
        parameters=[
            OpenApiParameter("category", OpenApiTypes.STR, enum=ProductCategory.values, description="品类"),
            OpenApiParameter("chain", OpenApiTypes.INT, description="产业链 id"),
            OpenApiParameter("township", OpenApiTypes.INT, description="产地乡镇 id"),
            OpenApiParameter("q", OpenApiTypes.STR, description="编码或名称"),
            OpenApiParameter(
                "sort", OpenApiTypes.STR, enum=list(selectors.PRODUCT_SORTS), description="排序"
            ),
        ],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=TAGS,
        operation_id="industry_product_create",
        summary="新增农产品（县、乡镇管理员）",
        parameters=[IDEMPOTENCY_HEADER],
        request=CatalogueProductIn,
        responses={201: CatalogueProductDetailOut},
    )
    def post(self, request: Request) -> Response:
        serializer = CatalogueProductIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("idempotency_key")
        producer = None
        if data["producer"]:
            producer = Business.objects.filter(pk=data["producer"]).first()
            if producer is None:
                raise NotFound(access.BUSINESS_NOT_FOUND)
        product = services.product_create(
            actor=request.user,
            idempotency_key=idempotency_key_from(request),
            code=data["code"],
            name=data["name"],
            category=data["category"],
            origin_region=services.origin_for_product(data["origin_region"]),
            chain=services.chain_for_product(data["chain"]),
            producer=producer,
            unit=data["unit"],
        )
        return Response(product_detail_data(request.user, product), status=status.HTTP_201_CREATED)


class ProductDetailApi(APIView):
    @extend_schema(
        tags=TAGS, operation_id="industry_product_detail", responses={200: CatalogueProductDetailOut}
    )
    def get(self, request: Request, id: int) -> Response:
        product = selectors.product_get(request.user, id)
        return Response(product_detail_data(request.user, product))


urlpatterns: list[URLPattern | URLResolver] = [
    path("events/", EventListApi.as_view(), name="event_list"),
    path("events/<int:id>/", EventDetailApi.as_view(), name="event_detail"),
    path("events/<int:id>/exhibitors/", ExhibitorListApi.as_view(), name="exhibitor_list"),
    path("products/", ProductListApi.as_view(), name="product_list"),
    path("products/<int:id>/", ProductDetailApi.as_view(), name="product_detail"),
]

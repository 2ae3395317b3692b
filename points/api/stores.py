"""REST API of the stores area of points (mounted under /api/v1/points/).

- GET stores/: the stores the caller manages (township or county admin of their township) or whose till
  they were granted, with item count, units on hand, the stock's money value and open/upcoming days.
- GET stores/{id}/items/: a store's items with their stock, for the till and the store's managers.
- GET items/{id}/ and items/{id}/movements/: an item with its stock value; its stock ledger with the
  running on-hand (newest first).
- POST items/{id}/stock-in/ (purchase or donation) and items/{id}/adjustments/ (a count's change with a
  reason), each exactly once per (caller, key): the key in the body (`idempotency_key`) or the
  `Idempotency-Key` header; a replay with the same body answers the first result, another body 409.
Anyone who may not manage (or, for reads, run the till of) the store gets 404, like a missing id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.urls import URLPattern, URLResolver, path
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import NotFound
from common.idempotency import idempotent_api_call
from points.access import can_run_till
from points.models import Item, StockKind, StockMovement, Store
from points.selectors import stores as selectors
from points.services import stores as services
from points.services.stores import store_can_manage

TAGS = ["points-stores"]
# One key space for both stock writes (the services share theirs too).
STOCK_SCOPE = "points.stock_movement"
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="防重复提交标识（也可放在请求体 idempotency_key）",
)


class ItemOut(serializers.Serializer):
    id = serializers.IntegerField()
    store = serializers.IntegerField(source="store_id")
    name = serializers.CharField()
    unit = serializers.CharField()
    points_price = serializers.IntegerField()
    on_hand = serializers.IntegerField()
    is_active = serializers.BooleanField()


class ItemDetailOut(ItemOut):
    picture = serializers.SerializerMethodField()
    sort_order = serializers.IntegerField()
    stock_value_fen = serializers.IntegerField(help_text="库存价值（分），按入库均价计")
    stock_value_display = serializers.CharField(help_text="库存价值，如 ¥62.50")

    def get_picture(self, obj: Item) -> str:
        return obj.picture.url if obj.picture else ""


class DayBrief(serializers.Serializer):
    id = serializers.IntegerField()
    date = serializers.DateField()
    title = serializers.CharField()
    status = serializers.CharField()


class StoreOut(serializers.Serializer):
    id = serializers.IntegerField(source="store.id")
    name = serializers.CharField(source="store.name")
    region = serializers.IntegerField(source="store.region_id")
    region_name = serializers.CharField(source="store.region.name")
    township = serializers.IntegerField(source="store.township_id")
    address = serializers.CharField(source="store.address")
    is_active = serializers.BooleanField(source="store.is_active")
    can_manage = serializers.BooleanField()
    item_count = serializers.IntegerField()
    on_hand = serializers.IntegerField(help_text="库存件数合计")
    stock_value_fen = serializers.IntegerField(help_text="库存价值（分），按入库均价计")
    stock_value_display = serializers.CharField()
    days = DayBrief(many=True, help_text="进行中和即将到来的兑换日")


class MovementOut(serializers.Serializer):
    id = serializers.IntegerField()
    item = serializers.IntegerField(source="item_id")
    kind = serializers.CharField()
    kind_display = serializers.CharField(source="get_kind_display")
    quantity = serializers.IntegerField()
    source = serializers.CharField()  # type: ignore[assignment]
    value_fen = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField()
    redemption = serializers.IntegerField(source="redemption_id", allow_null=True)
    created_at = serializers.DateTimeField()


class LedgerRowOut(MovementOut):
    on_hand_after = serializers.IntegerField(help_text="这笔之后的结存")


class StockResultOut(MovementOut):
    on_hand_after = serializers.IntegerField(help_text="这笔之后的库存")


class StockInIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[StockKind.PURCHASE, StockKind.DONATION])
    quantity = serializers.IntegerField()
    source = serializers.CharField(max_length=100, allow_blank=True)  # type: ignore[assignment]
    value_yuan = serializers.CharField(
        max_length=20, required=False, allow_blank=True, allow_null=True, default=None, help_text="金额（元）"
    )
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class AdjustmentIn(serializers.Serializer):
    quantity = serializers.IntegerField(help_text="调整数量：正数为增加，负数为减少")
    reason = serializers.CharField(max_length=200, allow_blank=True)
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


def _valid(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _body(request: Request, item: Item, operation: str) -> dict[str, Any]:
    """What a key stands for: the request's body, the item and the operation (the same key sent for
    another item or as the other operation is a different request: 409)."""
    data = request.data if isinstance(request.data, Mapping) else {}
    return {**{name: data[name] for name in data}, "item": item.pk, "operation": operation}


def _result(movement: StockMovement) -> dict[str, Any]:
    item = Item.objects.only("on_hand").get(pk=movement.item_id)
    data = dict(MovementOut(movement).data)
    data["on_hand_after"] = item.on_hand
    return data


class StoreListApi(APIView):
    @extend_schema(tags=TAGS, operation_id="points_store_list", responses={200: StoreOut(many=True)})
    def get(self, request: Request) -> Response:
        return Response(StoreOut(selectors.store_rows_for_api(request.user), many=True).data)


class StoreItemsApi(APIView):
    @extend_schema(tags=TAGS, operation_id="points_store_items", responses={200: ItemOut(many=True)})
    def get(self, request: Request, id: int) -> Response:
        store = Store.objects.select_related("township").filter(pk=id).first()
        if store is None or not (can_run_till(request.user, store) or store_can_manage(request.user, store)):
            raise NotFound(_("未找到该积分超市，或者它不在您的管辖范围内。"))
        items = Item.objects.filter(store=store).order_by("sort_order", "name")
        return Response(ItemOut(items, many=True).data)


class ItemDetailApi(APIView):
    @extend_schema(tags=TAGS, operation_id="points_item_detail", responses={200: ItemDetailOut})
    def get(self, request: Request, id: int) -> Response:
        item = selectors.item_with_value(selectors.item_get_readable(request.user, id))
        return Response(ItemDetailOut(item).data)


class ItemMovementsApi(APIView):
    @extend_schema(tags=TAGS, operation_id="points_item_movements", responses={200: LedgerRowOut(many=True)})
    def get(self, request: Request, id: int) -> Response:
        item = selectors.item_get_readable(request.user, id)
        return Response(LedgerRowOut(selectors.item_stock_ledger(item), many=True).data)


class StockInApi(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="points_item_stock_in",
        parameters=[IDEMPOTENCY_HEADER],
        request=StockInIn,
        responses={201: StockResultOut},
        summary="入库：采购或捐赠，含来源和金额（元）",
    )
    def post(self, request: Request, id: int) -> Response:
        item = selectors.item_get_managed(request.user, id)
        data = _valid(StockInIn, request.data)

        def call(key: str) -> tuple[int, dict[str, Any]]:
            movement = services.stock_in(
                actor=request.user,
                idempotency_key=key,
                item=item,
                kind=data["kind"],
                quantity=data["quantity"],
                source=data["source"],
                value_fen=services.yuan_to_fen(data["value_yuan"]),
            )
            return status.HTTP_201_CREATED, _result(movement)

        return idempotent_api_call(
            request, scope=STOCK_SCOPE, call=call, body=_body(request, item, "stock_in")
        )


class AdjustmentApi(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="points_item_adjustment",
        parameters=[IDEMPOTENCY_HEADER],
        request=AdjustmentIn,
        responses={201: StockResultOut},
        summary="盘点调整：正数增加、负数减少，须写原因；库存不能低于 0（409）",
    )
    def post(self, request: Request, id: int) -> Response:
        item = selectors.item_get_managed(request.user, id)
        data = _valid(AdjustmentIn, request.data)

        def call(key: str) -> tuple[int, dict[str, Any]]:
            movement = services.stock_adjust(
                actor=request.user,
                idempotency_key=key,
                item=item,
                quantity=data["quantity"],
                reason=data["reason"],
            )
            return status.HTTP_201_CREATED, _result(movement)

        return idempotent_api_call(
            request, scope=STOCK_SCOPE, call=call, body=_body(request, item, "adjustment")
        )


urlpatterns: list[URLPattern | URLResolver] = [
    path("stores/", StoreListApi.as_view(), name="store_list"),
    path("stores/<int:id>/items/", StoreItemsApi.as_view(), name="store_items"),
    path("items/<int:id>/", ItemDetailApi.as_view(), name="item_detail"),
    path("items/<int:id>/movements/", ItemMovementsApi.as_view(), name="item_movements"),
    path("items/<int:id>/stock-in/", StockInApi.as_view(), name="item_stock_in"),
    path("items/<int:id>/adjustments/", AdjustmentApi.as_view(), name="item_adjustments"),
]

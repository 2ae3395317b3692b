"""REST API of the till area of points (mounted under /api/v1/points/).

POST redemptions/ is exactly once per (caller, key): the key in the body (`idempotency_key`) or the
`Idempotency-Key` header; a replay with the same body answers the first receipt, another body 409.
Receipts and returns are readable by whoever may run the store's till; anything else answers 404.
"""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, URLResolver, path
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import DomainError
from common.idempotency import idempotency_key_from
from points.models import RedemptionLine
from points.selectors import till as selectors
from points.services import redemptions as services

TAGS = ["points-till"]
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="防重复提交标识（也可放在请求体 idempotency_key）",
)


class LineIn(serializers.Serializer):
    item = serializers.IntegerField(min_value=1)
    quantity = serializers.IntegerField()


class RedemptionIn(serializers.Serializer):
    store = serializers.IntegerField(min_value=1)
    household = serializers.IntegerField(min_value=1)
    day = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
    lines = LineIn(many=True)
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class LineOut(serializers.Serializer):
    id = serializers.IntegerField()
    item = serializers.IntegerField(source="item_id")
    item_name = serializers.CharField(source="item.name")
    unit = serializers.CharField(source="item.unit")
    quantity = serializers.IntegerField()
    unit_points = serializers.IntegerField()
    returned_quantity = serializers.IntegerField()


class RedemptionOut(serializers.Serializer):
    id = serializers.IntegerField()
    receipt_number = serializers.CharField()
    store = serializers.IntegerField(source="store_id")
    day = serializers.IntegerField(source="day_id", allow_null=True)
    household = serializers.IntegerField(source="household_id")
    total_points = serializers.IntegerField()
    balance_after = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    lines = serializers.SerializerMethodField()

    def get_balance_after(self, obj: Any) -> int | None:
        account = getattr(obj.household, "points_account", None)
        return account.balance if account is not None else None

    @extend_schema_field(LineOut(many=True))
    def get_lines(self, obj: Any) -> list[dict[str, Any]]:
        return LineOut(obj.lines.select_related("item").order_by("id"), many=True).data  # type: ignore[return-value]


class ReturnIn(serializers.Serializer):
    quantity = serializers.IntegerField()
    reason = serializers.CharField(max_length=200, allow_blank=True)
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class ReturnOut(serializers.Serializer):
    id = serializers.IntegerField()
    line = serializers.IntegerField(source="line_id")
    quantity = serializers.IntegerField()
    reason = serializers.CharField()
    points = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_points(self, obj: Any) -> int:
        return int(obj.quantity * obj.line.unit_points)


def _valid(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class RedemptionCreateApi(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="points_redemption_create",
        parameters=[IDEMPOTENCY_HEADER],
        request=RedemptionIn,
        responses={201: RedemptionOut},
        summary="兑换：扣减农户积分、出库并生成小票",
    )
    def post(self, request: Request) -> Response:
        data = _valid(RedemptionIn, request.data)
        # By ids: the service reads the store, day, household and items itself, once, inside its
        # transaction (the till's hot path: nothing is fetched twice).
        receipt = services.redeem(
            actor=request.user,
            idempotency_key=data["idempotency_key"] or idempotency_key_from(request),
            store_id=data["store"],
            household_id=data["household"],
            lines=[(line["item"], line["quantity"]) for line in data["lines"]],
            day_id=data["day"],
        )
        return Response(_receipt_out(receipt), status=status.HTTP_201_CREATED)


def _receipt_out(receipt: services.Receipt) -> dict[str, Any]:
    """RedemptionOut's shape, from the service's Receipt (no query)."""
    return {
        "id": receipt.id,
        "receipt_number": receipt.receipt_number,
        "store": receipt.store_id,
        "day": receipt.day_id,
        "household": receipt.household_id,
        "total_points": receipt.total_points,
        "balance_after": receipt.balance_after,
        "created_at": serializers.DateTimeField().to_representation(receipt.created_at),
        "lines": [
            {
                "id": line.id,
                "item": line.item_id,
                "item_name": line.item_name,
                "unit": line.unit,
                "quantity": line.quantity,
                "unit_points": line.unit_points,
                "returned_quantity": line.returned_quantity,
            }
            for line in receipt.lines
        ],
    }


class RedemptionDetailApi(APIView):
    @extend_schema(tags=TAGS, operation_id="points_redemption_detail", responses={200: RedemptionOut})
    def get(self, request: Request, id: int) -> Response:
        receipt = selectors.receipt_get(request.user, id)
        return Response(RedemptionOut(receipt).data)


class RedemptionReturnsApi(APIView):
    @extend_schema(tags=TAGS, operation_id="points_redemption_returns", responses={200: ReturnOut(many=True)})
    def get(self, request: Request, id: int) -> Response:
        receipt = selectors.receipt_get(request.user, id)
        return Response(ReturnOut(selectors.receipt_returns(receipt), many=True).data)

    @extend_schema(
        tags=TAGS,
        operation_id="points_redemption_return_create",
        parameters=[IDEMPOTENCY_HEADER],
        request=ReturnIn,
        responses={201: ReturnOut},
        summary="退货：冲正退回积分并入库（请求体另需 line：小票明细编号）",
    )
    def post(self, request: Request, id: int) -> Response:
        receipt = selectors.receipt_get(request.user, id)
        data = _valid(ReturnIn, request.data)
        line_id = request.data.get("line") if hasattr(request.data, "get") else None
        line = RedemptionLine.objects.filter(redemption=receipt, pk=line_id).first() if line_id else None
        if line is None:
            raise DomainError("line_missing", _("请选择要退的商品。"), field="line")
        returned = services.redemption_return(
            actor=request.user,
            idempotency_key=data["idempotency_key"] or idempotency_key_from(request),
            line=line,
            quantity=data["quantity"],
            reason=data["reason"],
        )
        return Response(ReturnOut(returned).data, status=status.HTTP_201_CREATED)


urlpatterns: list[URLPattern | URLResolver] = [
    path("redemptions/", RedemptionCreateApi.as_view(), name="redemption_create"),
    path("redemptions/<int:id>/", RedemptionDetailApi.as_view(), name="redemption_detail"),
    path("redemptions/<int:id>/returns/", RedemptionReturnsApi.as_view(), name="redemption_returns"),
]

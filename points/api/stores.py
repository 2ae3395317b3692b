"""REST API of the stores area of points (mounted under /api/v1/points/): a store's items with their
stock, for the till and the store's managers; anyone else gets 404."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import NotFound
from points.access import can_run_till
from points.models import Item, Store
from points.services.stores import store_can_manage

TAGS = ["points-stores"]


class ItemOut(serializers.Serializer):
    id = serializers.IntegerField()
    store = serializers.IntegerField(source="store_id")
    name = serializers.CharField()
    unit = serializers.CharField()
    points_price = serializers.IntegerField()
    on_hand = serializers.IntegerField()
    is_active = serializers.BooleanField()


class StoreItemsApi(APIView):
    @extend_schema(tags=TAGS, operation_id="points_store_items", responses={200: ItemOut(many=True)})
    def get(self, request: Request, id: int) -> Response:
        store = Store.objects.select_related("township").filter(pk=id).first()
        if store is None or not (can_run_till(request.user, store) or store_can_manage(request.user, store)):
            raise NotFound(_("未找到该积分超市，或者它不在您的管辖范围内。"))
        items = Item.objects.filter(store=store).order_by("sort_order", "name")
        return Response(ItemOut(items, many=True).data)


urlpatterns: list[URLPattern | URLResolver] = [
    path("stores/<int:id>/items/", StoreItemsApi.as_view(), name="store_items"),
]

"""REST API of the sites area of canteens (mounted under /api/v1/canteens/).

- GET sites/: the livelihood sites the caller sees (region scope plus sites granted to them), filtered by
  `kind`, `township`, `village`; paginated.
- POST sites/: register a site (township or county admin over the village), exactly once per (caller,
  key): `idempotency_key` in the body or the `Idempotency-Key` header.
- GET sites/{id}/: one site with its slots and photos.
Out of scope answers 404, like a missing id.
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

from canteens import access
from canteens.api.fields import HourMinuteField
from canteens.models import MealSlot, Site, SiteKind
from canteens.selectors import sites as selectors
from canteens.services import sites as services
from common.errors import NotFound
from common.idempotency import idempotency_key_from
from governance.models import Region

TAGS = ["canteens-sites"]
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="防重复提交标识（也可放在请求体 idempotency_key）",
)


class SlotOut(serializers.Serializer):
    kind = serializers.CharField()
    kind_display = serializers.CharField(source="get_kind_display")
    starts = HourMinuteField()
    ends = HourMinuteField()
    is_active = serializers.BooleanField()


class SiteOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    kind_display = serializers.CharField(source="get_kind_display")
    name = serializers.CharField()
    region = serializers.IntegerField(source="region_id")
    region_name = serializers.CharField(source="region.name")
    address = serializers.CharField()
    operator = serializers.CharField()
    capacity = serializers.IntegerField(allow_null=True)
    host = serializers.IntegerField(source="host_id", allow_null=True, help_text="爱心讲堂所在食堂")
    phone = serializers.CharField(source="phone_masked")
    opened_on = serializers.DateField(allow_null=True)
    is_active = serializers.BooleanField()


class SiteDetailOut(SiteOut):
    description = serializers.CharField()
    slots = serializers.SerializerMethodField()
    photos = serializers.SerializerMethodField()
    can_run = serializers.SerializerMethodField()

    def get_slots(self, obj: Site) -> list[dict[str, Any]]:
        return list(SlotOut(MealSlot.objects.filter(site=obj), many=True).data)

    def get_photos(self, obj: Site) -> list[dict[str, str]]:
        return [{"url": p.image.url, "caption": p.caption} for p in obj.photos.all()]

    def get_can_run(self, obj: Site) -> bool:
        return access.can_run_site(self.context["request"].user, obj)


class SiteIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=SiteKind.choices)
    name = serializers.CharField(max_length=60, allow_blank=True)
    region = serializers.IntegerField(help_text="所在村（社区）的 id")
    address = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    operator = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    capacity = serializers.IntegerField(required=False, allow_null=True, default=None)
    host = serializers.IntegerField(required=False, allow_null=True, default=None, help_text="所在食堂的 id")
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    opened_on = serializers.DateField(required=False, allow_null=True, default=None)
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


# PostgreSQL's bigint: a larger id cannot be compared with a key column (the query would fail, a 500).
_ID_MAX = 2**63 - 1


def _int(value: Any) -> int | None:
    """The id in a filter, or None (the filter is ignored) for a blank, non-numeric or out-of-range one."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if abs(number) <= _ID_MAX else None


class SiteListApi(generics.ListAPIView):
    serializer_class = SiteOut
    queryset = Site.objects.none()  # for the schema; get_queryset gives the caller's

    def get_queryset(self) -> QuerySet[Site]:
        params = self.request.query_params
        kind = params.get("kind", "")
        return selectors.sites_list(
            self.request.user,
            kind=kind if kind in SiteKind.values else "",
            township_id=_int(params.get("township")),
            village_id=_int(params.get("village")),
        )

    @extend_schema(
        tags=TAGS,
        operation_id="canteens_site_list",
        parameters=[
            OpenApiParameter("kind", OpenApiTypes.STR, enum=SiteKind.values, description="阵地类型"),
            OpenApiParameter("township", OpenApiTypes.INT, description="乡镇 id"),
            OpenApiParameter("village", OpenApiTypes.INT, description="村（社区）id"),
        ],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=TAGS,
        operation_id="canteens_site_create",
        parameters=[IDEMPOTENCY_HEADER],
        request=SiteIn,
        responses={201: SiteDetailOut},
        summary="登记民生阵地（乡镇、县管理员）",
    )
    def post(self, request: Request) -> Response:
        serializer = SiteIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        region = Region.objects.filter(pk=data.pop("region")).first()
        if region is None:
            raise NotFound(_("未找到该区域，或者它不在您的管辖范围内。"))
        host_id = data.pop("host")
        host = None
        if host_id is not None:
            host = access.sites_visible(request.user).select_related("region").filter(pk=host_id).first()
            if host is None:
                raise NotFound(access.NOT_FOUND_MESSAGE)
        data.pop("idempotency_key")
        site = services.site_create(
            actor=request.user,
            idempotency_key=idempotency_key_from(request),
            region=region,
            host=host,
            **data,
        )
        return Response(
            SiteDetailOut(site, context={"request": request}).data, status=status.HTTP_201_CREATED
        )


class SiteDetailApi(APIView):
    @extend_schema(tags=TAGS, operation_id="canteens_site_detail", responses={200: SiteDetailOut})
    def get(self, request: Request, id: int) -> Response:
        site = access.site_get_visible(request.user, id)
        return Response(SiteDetailOut(site, context={"request": request}).data)


urlpatterns: list[URLPattern | URLResolver] = [
    path("sites/", SiteListApi.as_view(), name="site_list"),
    path("sites/<int:id>/", SiteDetailApi.as_view(), name="site_detail"),
]

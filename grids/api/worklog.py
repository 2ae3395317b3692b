"""REST API of the worklog area of grids (mounted under /api/v1/grids/): the grid work log, and grid
leaders' terms with elections.

Input serializer → one gate → one service or selector → output serializer. Everything is scoped to the
caller's regions; out of scope answers 404 exactly like a missing id.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import URLPattern, URLResolver, path, reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.models import User
from grids.models import GridLeader, WorkLogEntry
from grids.selectors import worklog as selectors
from grids.services import leaders as leader_services
from grids.services import worklog as services

TAGS = ["grids-worklog"]


class WorkLogRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class WorkLogHouseholdSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()


class WorkLogPhotoSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.SerializerMethodField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()

    def get_url(self, obj: Any) -> str:
        return reverse("grids:work_log_photo", args=[obj.pk])


class WorkLogOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    grid = WorkLogRefSerializer()
    village = WorkLogRefSerializer(source="grid.parent")
    kind = serializers.CharField()
    kind_label = serializers.CharField(source="get_kind_display")
    occurred_on = serializers.DateField()
    topic = serializers.CharField()
    summary = serializers.CharField()
    attendees_count = serializers.IntegerField(allow_null=True)
    household = WorkLogHouseholdSerializer(allow_null=True)
    author = serializers.CharField(source="author.__str__")
    photos_count = serializers.IntegerField()
    cases_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class WorkLogDetailOutputSerializer(WorkLogOutputSerializer):
    photos = WorkLogPhotoSerializer(many=True, source="photos.all")
    cases = serializers.ListField(
        child=serializers.CharField(), help_text=_("关联诉求中您有权查看的诉求编号")
    )
    hidden_cases_count = serializers.IntegerField(help_text=_("关联诉求中您无权查看的件数"))


class WorkLogInputSerializer(serializers.Serializer):
    idempotency_key = serializers.CharField(max_length=64, help_text=_("防重复提交标识（如 UUID）"))
    grid = serializers.IntegerField(help_text=_("网格编号"))
    # A plain string (the service checks it): an enum named "kind" would collide in the schema with the
    # region kinds' enum of the same name.
    kind = serializers.CharField(
        max_length=10,
        help_text=_("工作类型：outreach 政策宣传、visit 入户走访、mediation 矛盾调解、meeting 支部会议"),
    )
    occurred_on = serializers.DateField()
    topic = serializers.CharField(max_length=services.TOPIC_MAX)
    summary = serializers.CharField(
        max_length=services.SUMMARY_MAX, required=False, allow_blank=True, default=""
    )
    attendees_count = serializers.IntegerField(required=False, allow_null=True, default=None)
    household = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text=_("走访户编号（入户走访必填）")
    )
    cases = serializers.ListField(
        child=serializers.IntegerField(), required=False, default=list, help_text=_("关联诉求编号列表")
    )
    photos = serializers.ListField(
        child=serializers.FileField(), required=False, default=list, help_text=_("照片（multipart）")
    )


def _entry_out(user: Any, entry_id: int) -> dict[str, Any]:
    entry = selectors.work_log_detail(user=user, entry_id=entry_id)
    visible, hidden = selectors.work_log_cases_visible(user=user, entry=entry)
    data = dict(WorkLogOutputSerializer(entry).data)
    data["photos"] = WorkLogPhotoSerializer(entry.photos.all(), many=True).data
    data["cases"] = [case.number for case in visible]
    data["hidden_cases_count"] = hidden
    return data


class WorkLogListApi(generics.ListAPIView):
    """The work log of the grids in the caller's scope, newest first (filter by grid, village, township,
    region, kind, date range, text); POST records an entry (JSON, or multipart with photos)."""

    serializer_class = WorkLogOutputSerializer
    filterset_class = selectors.WorkLogFilter
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self) -> QuerySet[WorkLogEntry]:
        return selectors.work_log_base(user=self.request.user)

    @extend_schema(tags=TAGS)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request={"application/json": WorkLogInputSerializer, "multipart/form-data": WorkLogInputSerializer},
        responses={201: WorkLogDetailOutputSerializer},
        tags=TAGS,
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        given = WorkLogInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        grid = selectors.work_log_grid_get(user=request.user, grid_id=data["grid"])
        entry = services.work_log_record(
            actor=request.user,
            idempotency_key=data["idempotency_key"],
            grid=grid,
            kind=data["kind"],
            occurred_on=data["occurred_on"],
            topic=data["topic"],
            summary=data["summary"],
            attendees_count=data["attendees_count"],
            household=data["household"],
            cases=data["cases"],
            photos=data["photos"],
            request=request._request,
        )
        return Response(_entry_out(request.user, entry.pk), status=status.HTTP_201_CREATED)


class WorkLogDetailApi(APIView):
    """One work-log entry with its photos and the linked cases the caller may see."""

    @extend_schema(responses=WorkLogDetailOutputSerializer, tags=TAGS)
    def get(self, request: Request, id: int) -> Response:
        return Response(_entry_out(request.user, id))


# ---------------------------------------------------------------------------------------------------------
# Grid leaders


class GridLeaderOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    grid = WorkLogRefSerializer()
    village = WorkLogRefSerializer(source="grid.parent")
    resident = WorkLogRefSerializer()
    phone = serializers.CharField(source="resident.phone_masked", help_text=_("手机号（已遮挡）"))
    elected_on = serializers.DateField()
    term_end = serializers.DateField()
    ended_on = serializers.DateField(allow_null=True)
    is_current = serializers.SerializerMethodField()
    username = serializers.SerializerMethodField()

    def get_is_current(self, obj: GridLeader) -> bool:
        return obj.ended_on is None

    def get_username(self, obj: GridLeader) -> str:
        return obj.user.username if obj.user_id and obj.user else ""


class GridLeaderElectInputSerializer(serializers.Serializer):
    resident = serializers.IntegerField(help_text=_("当选居民编号（本网格居民）"))
    elected_on = serializers.DateField()
    term_end = serializers.DateField()
    user = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text=_("关联的登录账号编号（须已有本网格网格长角色）"),
    )
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class GridLeaderListApi(generics.ListAPIView):
    """Every grid leader's term (current and past) in the grids under region {id}; POST on a grid records a
    new election (village staff and above): the current term ends the day before."""

    serializer_class = GridLeaderOutputSerializer

    def get_queryset(self) -> QuerySet[GridLeader]:
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no region id
            return GridLeader.objects.none()
        return selectors.grid_leader_list(user=self.request.user, region_id=self.kwargs["id"])

    @extend_schema(tags=TAGS)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=GridLeaderElectInputSerializer, responses={201: GridLeaderOutputSerializer}, tags=TAGS
    )
    def post(self, request: Request, id: int) -> Response:
        grid = selectors.grid_get_visible(user=request.user, grid_id=id)
        given = GridLeaderElectInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        resident = selectors.grid_leader_resident_get(
            user=request.user, grid=grid, resident_id=data["resident"]
        )
        # The service checks that the account holds the grid-leader role here (a missing id does not).
        user = User(pk=data["user"]) if data["user"] else None
        term = leader_services.grid_leader_elect(
            actor=request.user,
            grid=grid,
            resident=resident,
            elected_on=data["elected_on"],
            term_end=data["term_end"],
            user=user,
            idempotency_key=data["idempotency_key"],
            request=request._request,
        )
        term = GridLeader.objects.select_related("grid", "grid__parent", "resident", "user").get(pk=term.pk)
        return Response(GridLeaderOutputSerializer(term).data, status=status.HTTP_201_CREATED)


urlpatterns: list[URLPattern | URLResolver] = [
    path("work-log/", WorkLogListApi.as_view(), name="work_log_list"),
    path("work-log/<int:id>/", WorkLogDetailApi.as_view(), name="work_log_detail"),
    path("regions/<int:id>/grid-leaders/", GridLeaderListApi.as_view(), name="grid_leader_list"),
]

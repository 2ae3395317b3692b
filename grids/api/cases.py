"""REST API of the cases area of grids (mounted under /api/v1/grids/).

    GET  cases/                      the caller's cases: filters, sort, page, counts per status
    POST cases/                      file a case (JSON, or multipart with `photos`); idempotency key in the
                                     body (`idempotency_key`) or the Idempotency-Key header
    GET  cases/{id}/                 one case with its timeline (full for staff, public otherwise)
    POST cases/{id}/transitions/     {name, note, params}: one workflow transition (multipart for photos)
    POST cases/{id}/notes/           {note, is_public}: a note on the timeline

A case outside the caller's scope answers 404 exactly like a missing one. Refusals come through the
project's exception handler as {"code", "detail", "fields"}: 400 bad input, 403 not this actor, 409 a
transition the case's state does not allow or an idempotency key reused for a different case.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django.urls import URLPattern, URLResolver, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import DomainError
from grids import access as grids_access
from grids.models import (
    Case,
    CasePhoto,
    CaseStatus,
    HandlingLevel,
    Privacy,
    Satisfaction,
    Urgency,
    WarningLevel,
)
from grids.selectors import cases as case_selectors
from grids.services import cases as case_services
from grids.workflow import TRANSITIONS, Transition

TAGS = ["grids-cases"]


def _choice(choices: Any, **kwargs: Any) -> serializers.ChoiceField:
    """A ChoiceField whose enum is written inline in the schema (no shared component name to collide)."""

    @extend_schema_field({"type": "string", "enum": [value for value, _label in choices]})
    class InlineChoiceField(serializers.ChoiceField):
        pass

    return InlineChoiceField(choices=choices, **kwargs)


# ---------------------------------------------------------------------------------------------------------
# Output


class CaseRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class CaseResidentSerializer(serializers.Serializer):
    label = serializers.CharField(  # type: ignore[assignment]
        help_text=_("反映人：有权查看者为姓名，否则为匿名、保密或遮挡后的姓名")
    )
    id = serializers.IntegerField(allow_null=True, help_text=_("居民编号，仅有权查看反映人身份者可见"))


class CaseListItemOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    level = serializers.CharField()
    level_label = serializers.CharField(source="get_level_display")
    category = CaseRefSerializer()
    description = serializers.CharField()
    urgency = serializers.CharField()
    urgency_label = serializers.CharField(source="get_urgency_display")
    privacy = serializers.CharField()
    warning = serializers.CharField()
    grid = CaseRefSerializer()
    village = CaseRefSerializer(source="grid.parent")
    handling_region = CaseRefSerializer()
    resident = serializers.SerializerMethodField()
    assigned_unit = CaseRefSerializer(allow_null=True)
    filed_at = serializers.DateTimeField()
    sign_deadline = serializers.DateTimeField(allow_null=True)
    resolve_deadline = serializers.DateTimeField(allow_null=True)
    me_too_count = serializers.IntegerField()
    rehandle_count = serializers.IntegerField()

    @extend_schema_field(CaseResidentSerializer)
    def get_resident(self, obj: Case) -> dict[str, Any]:
        sees = getattr(obj, "sees_identity", False)
        return {"label": getattr(obj, "resident_label", ""), "id": obj.resident_id if sees else None}


class PaginatedCaseListOutputSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    status_counts = serializers.DictField(
        child=serializers.IntegerField(), help_text=_("各状态件数（状态筛选以外的条件下）")
    )
    results = CaseListItemOutputSerializer(many=True)


class CasePhotoOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    stage = serializers.CharField()
    url = serializers.SerializerMethodField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()

    def get_url(self, obj: CasePhoto) -> str:
        return obj.image.url


class TimelineEntryOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    at = serializers.DateTimeField()
    actor = serializers.CharField(help_text=_("操作人；公开视图中为空"))
    note = serializers.CharField()
    is_public = serializers.BooleanField()
    data = serializers.DictField()  # type: ignore[assignment]
    photos = CasePhotoOutputSerializer(many=True)


class CaseActionOutputSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    needs_note = serializers.BooleanField()


class CaseDetailOutputSerializer(CaseListItemOutputSerializer):
    address = serializers.CharField()
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    township = CaseRefSerializer(source="grid.parent.parent")
    assigned_user = serializers.SerializerMethodField()
    accepted_at = serializers.DateTimeField(allow_null=True)
    assigned_at = serializers.DateTimeField(allow_null=True)
    signed_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    followed_up_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    signed_on_time = serializers.BooleanField(allow_null=True)
    resolved_on_time = serializers.BooleanField(allow_null=True)
    result = serializers.CharField()
    satisfaction = serializers.CharField()
    transfer_count = serializers.IntegerField()
    escalation_count = serializers.IntegerField()
    duplicate_of = serializers.SerializerMethodField()
    routed_elsewhere_to = serializers.CharField()
    staff_view = serializers.BooleanField(help_text=_("是否为完整的办理视图（否则为公开视图）"))
    timeline = TimelineEntryOutputSerializer(many=True)
    photos = CasePhotoOutputSerializer(many=True, source="photos_shown")
    actions = CaseActionOutputSerializer(many=True, help_text=_("当前用户现在可以执行的办理操作"))

    @extend_schema_field(CaseRefSerializer(allow_null=True))
    def get_assigned_user(self, obj: Case) -> dict[str, Any] | None:
        user = obj.assigned_user
        return {"id": user.pk, "name": str(user)} if user is not None else None

    @extend_schema_field(OpenApiTypes.STR)
    def get_duplicate_of(self, obj: Case) -> str:
        return obj.duplicate_of.number if obj.duplicate_of_id and obj.duplicate_of else ""


def _detail_out(detail: case_selectors.CaseDetail) -> dict[str, Any]:
    case = detail.case
    case.sees_identity = detail.sees_identity  # type: ignore[attr-defined]
    case.resident_label = detail.resident_label  # type: ignore[attr-defined]
    case.staff_view = detail.staff_view  # type: ignore[attr-defined]
    case.timeline = detail.timeline  # type: ignore[attr-defined]
    case.photos_shown = detail.photos  # type: ignore[attr-defined]
    case.actions = [_action(t) for t in detail.actions]  # type: ignore[attr-defined]
    body = dict(CaseDetailOutputSerializer(case).data)
    if not detail.staff_view:
        # The public view names nobody: not the handler, not where the resident was sent.
        body["assigned_user"] = None
        body["routed_elsewhere_to"] = ""
    return body


def _action(transition: Transition) -> dict[str, Any]:
    return {"name": transition.name, "label": str(transition.label), "needs_note": transition.needs_note}


def _detail_response(request: Request, case: Case | int, code: int = status.HTTP_200_OK) -> Response:
    detail = case_selectors.case_detail(user=request.user, case=case)
    return Response(_detail_out(detail), status=code)


# ---------------------------------------------------------------------------------------------------------
# Input


class CaseListQuerySerializer(serializers.Serializer):
    status = serializers.ListField(child=_choice(CaseStatus.choices), required=False, default=list)
    level = _choice(HandlingLevel.choices, required=False)
    category = serializers.IntegerField(required=False, min_value=1)
    urgency = _choice(Urgency.choices, required=False)
    warning = _choice(WarningLevel.choices, required=False)
    privacy = _choice(Privacy.choices, required=False)
    region = serializers.IntegerField(required=False, min_value=1, help_text=_("网格、村、乡镇的区域编号"))
    filed_from = serializers.DateField(required=False)
    filed_to = serializers.DateField(required=False)
    q = serializers.CharField(required=False, allow_blank=True, max_length=50, default="")
    mine = _choice([(c, c) for c in case_selectors.MINE_CHOICES], required=False)
    sort = _choice(
        [(s, s) for s in case_selectors.SORTS], required=False, default=case_selectors.DEFAULT_SORT
    )
    page = serializers.IntegerField(required=False, min_value=1, default=1)
    page_size = serializers.IntegerField(
        required=False, min_value=1, max_value=case_selectors.PAGE_SIZE_MAX, default=case_selectors.PAGE_SIZE
    )


class CaseFileInputSerializer(serializers.Serializer):
    idempotency_key = serializers.CharField(
        max_length=64, required=False, help_text=_("防重复提交标识（也可放在 Idempotency-Key 请求头）")
    )
    category = serializers.IntegerField(min_value=1)
    description = serializers.CharField(max_length=2000)
    urgency = _choice(Urgency.choices, required=False, default=Urgency.NORMAL)
    privacy = _choice(Privacy.choices, required=False, default=Privacy.PUBLIC)
    grid = serializers.IntegerField(min_value=1)
    resident = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
    latitude = serializers.FloatField(required=False, allow_null=True, min_value=-90, max_value=90)
    longitude = serializers.FloatField(required=False, allow_null=True, min_value=-180, max_value=180)
    address = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    handle_in_grid = serializers.BooleanField(required=False, default=False)
    photos = serializers.ListField(
        child=serializers.FileField(), required=False, help_text=_("现场照片（multipart 上传，可多张）")
    )


class TransitionParamsSerializer(serializers.Serializer):
    unit = serializers.IntegerField(
        min_value=1, required=False, allow_null=True, help_text=_("派单：承办单位")
    )
    user = serializers.IntegerField(min_value=1, required=False, allow_null=True, help_text=_("派单：承办人"))
    result = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, help_text=_("办结：办理结果")
    )
    satisfaction = _choice(Satisfaction.choices, required=False, help_text=_("回访：满意度"))
    region = serializers.IntegerField(min_value=1, required=False, help_text=_("下派：区域编号"))
    original = serializers.IntegerField(min_value=1, required=False, help_text=_("标记重复：原件编号"))
    routed_to = serializers.CharField(
        max_length=100, required=False, allow_blank=True, help_text=_("非职责范围：转办去向")
    )


class CaseTransitionInputSerializer(serializers.Serializer):
    name = _choice([(name, str(t.label)) for name, t in TRANSITIONS.items()])
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    params = TransitionParamsSerializer(
        required=False, help_text=_("该操作的参数（multipart 时为 JSON 字符串）")
    )
    photos = serializers.ListField(
        child=serializers.FileField(), required=False, help_text=_("办结照片（multipart 上传）")
    )


class CaseNoteInputSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000)
    is_public = serializers.BooleanField(
        required=False, default=False, help_text=_("在公开的办理记录中显示（不得含个人信息）")
    )


# ---------------------------------------------------------------------------------------------------------
# Views


def _page_url(request: Request, page: int) -> str:
    query = request.query_params.copy()
    query["page"] = str(page)
    return request.build_absolute_uri(f"{request.path}?{urlencode(query, doseq=True)}")


class CaseListApi(APIView):
    """GET: the caller's cases, filtered, sorted and paginated, with counts per status. POST: file a case."""

    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        operation_id="grids_case_list",
        parameters=[CaseListQuerySerializer],
        responses=PaginatedCaseListOutputSerializer,
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        given = CaseListQuerySerializer(data=request.query_params)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        filters = case_selectors.CaseFilters(
            status=tuple(data["status"]),
            level=data.get("level"),
            category=data.get("category"),
            urgency=data.get("urgency"),
            warning=data.get("warning"),
            privacy=data.get("privacy"),
            region=data.get("region"),
            filed_from=data.get("filed_from"),
            filed_to=data.get("filed_to"),
            q=data["q"],
            mine=data.get("mine"),
        )
        page = case_selectors.case_list(
            user=request.user,
            filters=filters,
            sort=data["sort"],
            page=data["page"],
            page_size=data["page_size"],
        )
        body = {
            "count": page.total,
            "next": _page_url(request, page.page + 1) if page.page < page.pages else None,
            "previous": _page_url(request, page.page - 1) if page.page > 1 else None,
            "page": page.page,
            "pages": page.pages,
            "status_counts": page.status_counts,
            "results": CaseListItemOutputSerializer(page.rows, many=True).data,
        }
        return Response(body)

    @extend_schema(
        request={
            "application/json": CaseFileInputSerializer,
            "multipart/form-data": CaseFileInputSerializer,
        },
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=False,
                description=str(_("防重复提交标识（也可放在请求体 idempotency_key）")),
            )
        ],
        operation_id="grids_case_file",
        responses={201: CaseDetailOutputSerializer, 200: CaseDetailOutputSerializer},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        given = CaseFileInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        key = data.get("idempotency_key") or request.headers.get("Idempotency-Key", "")
        if not key:
            raise DomainError(
                "idempotency_key_required",
                _("请提供防重复提交标识（idempotency_key）。"),
                field="idempotency_key",
            )
        replay = Case.objects.filter(reporter_id=request.user.pk, idempotency_key=key.strip()).exists()
        case = case_services.case_file(
            actor=request.user,
            idempotency_key=key,
            category=data["category"],
            description=data["description"],
            urgency=data["urgency"],
            privacy=data["privacy"],
            grid=data["grid"],
            resident=data["resident"],
            latitude=data.get("latitude"),
            longitude=data.get("longitude"),
            address=data["address"],
            photos=request.FILES.getlist("photos") if request.FILES else (),
            handle_in_grid=data["handle_in_grid"],
        )
        return _detail_response(request, case.pk, status.HTTP_200_OK if replay else status.HTTP_201_CREATED)


class CaseDetailApi(APIView):
    """One case with its timeline: the full view for staff, the public view for others who may see it."""

    @extend_schema(operation_id="grids_case_detail", responses=CaseDetailOutputSerializer, tags=TAGS)
    def get(self, request: Request, id: int) -> Response:
        return _detail_response(request, id)


def _params_of(request: Request) -> Any:
    params = request.data.get("params")
    if isinstance(params, str):
        # In a multipart body `params` travels as a JSON string next to the files.
        try:
            params = json.loads(params) if params.strip() else {}
        except ValueError:
            raise DomainError("params_invalid", _("参数格式错误，应为 JSON 对象。"), field="params") from None
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise DomainError("params_invalid", _("参数格式错误，应为 JSON 对象。"), field="params")
    return params


class CaseTransitionApi(APIView):
    """Take one workflow transition on the case: {name, note, params}. Answers the case as it is after."""

    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        request={
            "application/json": CaseTransitionInputSerializer,
            "multipart/form-data": CaseTransitionInputSerializer,
        },
        responses=CaseDetailOutputSerializer,
        tags=TAGS,
    )
    def post(self, request: Request, id: int) -> Response:
        case = grids_access.case_get_visible(request.user, id)
        given = CaseTransitionInputSerializer(
            data={"name": request.data.get("name"), "note": request.data.get("note", "")}
        )
        given.is_valid(raise_exception=True)
        raw = _params_of(request)
        params_in = TransitionParamsSerializer(data=raw)
        if not params_in.is_valid():
            raise serializers.ValidationError({"params": params_in.errors})
        # Only what was sent: a transition refuses parameters it does not take.
        params = {key: value for key, value in params_in.validated_data.items() if key in raw}
        photos = request.FILES.getlist("photos") if request.FILES else []
        if photos:
            params["photos"] = photos
        case_services.case_transition(
            actor=request.user,
            case=case,
            name=given.validated_data["name"],
            note=given.validated_data["note"],
            **params,
        )
        return _detail_response(request, case.pk)


class CaseNoteApi(APIView):
    """Add a note to the case's timeline (not public unless is_public). Answers the case."""

    @extend_schema(request=CaseNoteInputSerializer, responses={201: CaseDetailOutputSerializer}, tags=TAGS)
    def post(self, request: Request, id: int) -> Response:
        case = grids_access.case_get_visible(request.user, id)
        given = CaseNoteInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        case_services.case_note_add(
            actor=request.user,
            case=case,
            note=given.validated_data["note"],
            is_public=given.validated_data["is_public"],
        )
        return _detail_response(request, case.pk, status.HTTP_201_CREATED)


urlpatterns: list[URLPattern | URLResolver] = [
    path("cases/", CaseListApi.as_view(), name="case_list"),
    path("cases/<int:id>/", CaseDetailApi.as_view(), name="case_detail"),
    path("cases/<int:id>/transitions/", CaseTransitionApi.as_view(), name="case_transition"),
    path("cases/<int:id>/notes/", CaseNoteApi.as_view(), name="case_note"),
]

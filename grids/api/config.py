"""REST API of the config area of grids (mounted under /api/v1/grids/): the county's case-handling
configuration.

The rows are county-wide, not regional: the category tree, the time limits, the calendar and the response
templates are read by anyone holding a role (phones need the tree and the calendar); the handling units
with their members and the routing table only by county admins. Every write is the county admin's; for
anyone else a write answers 404 like the pages. Objects are named in the body (or the query for a
DELETE), never in the path: there is no region to scope a path id by (tests/test_api_scope.py).

Input serializer → one gate → one service or selector → output serializer.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import URLPattern, URLResolver, path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import DomainError, NotFound
from governance import access
from grids.models import Urgency
from grids.selectors import config as selectors
from grids.services import config as services

TAGS = ["grids-config"]


def _choice(choices: Any, **kwargs: Any) -> serializers.ChoiceField:
    """A ChoiceField whose enum is written inline in the schema (no shared component name to collide)."""

    @extend_schema_field({"type": "string", "enum": [value for value, _label in choices]})
    class InlineChoiceField(serializers.ChoiceField):
        pass

    return InlineChoiceField(choices=choices, **kwargs)


def _reader_gate(user: Any) -> bool:
    """Whether `user` may read the county-wide reference rows: anyone holding a role (deny by default)."""
    return bool(access.assignments(user))


def _admin_gate(user: Any) -> None:
    if not access.is_county_admin(user):
        raise NotFound(_("未找到该页面，或者您无权访问。"))


# --- categories ----------------------------------------------------------------------------------------


# The category's sort_order is a PositiveSmallIntegerField: a larger one failed in the database (a 500).
SORT_ORDER_MAX = 32767


class CategoryOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    parent = serializers.IntegerField(source="parent_id", allow_null=True)  # type: ignore[assignment]
    duty = serializers.CharField()
    code = serializers.CharField()
    name = serializers.CharField()
    is_mediable = serializers.BooleanField()
    is_active = serializers.BooleanField()
    sort_order = serializers.IntegerField()


class CategoryCreateInputSerializer(serializers.Serializer):
    idempotency_key = serializers.CharField(
        max_length=64, help_text=gettext_lazy("防重复提交标识（如 UUID）")
    )
    parent = serializers.IntegerField(help_text=gettext_lazy("所属职责（顶级类别）编号"))  # type: ignore[assignment]
    name = serializers.CharField(max_length=40)
    code = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    is_mediable = serializers.BooleanField(required=False, allow_null=True, default=None)
    sort_order = serializers.IntegerField(required=False, min_value=0, max_value=SORT_ORDER_MAX, default=0)


class CategoryUpdateInputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(max_length=40, required=False)
    is_mediable = serializers.BooleanField(required=False)
    is_active = serializers.BooleanField(required=False)
    sort_order = serializers.IntegerField(required=False, min_value=0, max_value=SORT_ORDER_MAX)


class CategoryListApi(APIView):
    """The category tree as a flat list (duties have no parent), active and not. POST adds a
    sub-category, PATCH renames / (de)activates one named by `id` (county admin)."""

    @extend_schema(responses=CategoryOutputSerializer(many=True), tags=TAGS)
    def get(self, request: Request) -> Response:
        rows = selectors.categories_all() if _reader_gate(request.user) else []
        return Response(CategoryOutputSerializer(rows, many=True).data)

    @extend_schema(
        request=CategoryCreateInputSerializer, responses={201: CategoryOutputSerializer}, tags=TAGS
    )
    def post(self, request: Request) -> Response:
        _admin_gate(request.user)
        given = CategoryCreateInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        category = services.category_create(actor=request.user, **given.validated_data)
        return Response(CategoryOutputSerializer(category).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CategoryUpdateInputSerializer, responses=CategoryOutputSerializer, tags=TAGS)
    def patch(self, request: Request) -> Response:
        _admin_gate(request.user)
        given = CategoryUpdateInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = dict(given.validated_data)
        category = services.category_update(actor=request.user, category=data.pop("id"), **data)
        return Response(CategoryOutputSerializer(category).data)


# --- time limits ---------------------------------------------------------------------------------------


class TimeLimitOutputSerializer(serializers.Serializer):
    category = serializers.IntegerField(source="category.pk")
    category_name = serializers.CharField(source="category.name")
    urgency = serializers.CharField()
    sign_days = serializers.IntegerField()
    resolve_days = serializers.IntegerField()
    is_own = serializers.BooleanField(help_text=gettext_lazy("是否本类别自设（否则沿用上级或默认）"))


class TimeLimitInputSerializer(serializers.Serializer):
    category = serializers.IntegerField()
    urgency = _choice(Urgency.choices)
    sign_days = serializers.IntegerField(
        allow_null=True, help_text=gettext_lazy("签收时限（工作日）；与办结时限同为空则沿用")
    )
    resolve_days = serializers.IntegerField(allow_null=True, help_text=gettext_lazy("办结时限（工作日）"))


def _limit_rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for row in selectors.time_limit_table():
        for cell in row.cells:
            rows.append(
                {
                    "category": row.category,
                    "urgency": cell.urgency,
                    "sign_days": cell.effective[0],
                    "resolve_days": cell.effective[1],
                    "is_own": cell.own is not None,
                }
            )
    return rows


class TimeLimitListApi(APIView):
    """The effective time limits of every category and urgency (own, inherited from the duty, or the
    default). PUT sets a category's own limits for one urgency; both days null removes them (county admin)."""

    @extend_schema(responses=TimeLimitOutputSerializer(many=True), tags=TAGS)
    def get(self, request: Request) -> Response:
        rows = _limit_rows() if _reader_gate(request.user) else []
        return Response(TimeLimitOutputSerializer(rows, many=True).data)

    @extend_schema(
        request=TimeLimitInputSerializer, responses=TimeLimitOutputSerializer(many=True), tags=TAGS
    )
    def put(self, request: Request) -> Response:
        _admin_gate(request.user)
        given = TimeLimitInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        services.time_limit_set(actor=request.user, **given.validated_data)
        category_id = given.validated_data["category"]
        rows = [row for row in _limit_rows() if row["category"].pk == category_id]
        return Response(TimeLimitOutputSerializer(rows, many=True).data)


# --- calendar ------------------------------------------------------------------------------------------


class CalendarDayOutputSerializer(serializers.Serializer):
    date = serializers.DateField()
    is_workday = serializers.BooleanField()
    name = serializers.CharField()


class CalendarDayInputSerializer(serializers.Serializer):
    date = serializers.DateField()
    is_workday = serializers.BooleanField(help_text=gettext_lazy("true：周末调休上班；false：放假"))
    name = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")


CALENDAR_YEAR_MIN = 1900
CALENDAR_YEAR_MAX = 2100


def _query_date(request: Request, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(request.query_params.get(name, "")))
    except ValueError:
        raise DomainError("date_invalid", _("请输入有效的日期，如 2026-10-01。"), field=name) from None


class CalendarListApi(APIView):
    """The calendar's exceptions to the Monday–Friday week in `year` (default: this year). PUT records a
    holiday or a make-up working day; DELETE ?date= removes one (county admin)."""

    @extend_schema(
        parameters=[OpenApiParameter("year", int, required=False, description=gettext_lazy("年份"))],
        responses=CalendarDayOutputSerializer(many=True),
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        if not _reader_gate(request.user):
            return Response([])
        try:
            year = int(request.query_params.get("year") or timezone.localdate().year)
        except ValueError:
            raise DomainError("year_invalid", _("年份应为四位数字。"), field="year") from None
        # A date needs a year of 1..9999; beyond a plausible calendar the answer is a message, not a 500.
        if not CALENDAR_YEAR_MIN <= year <= CALENDAR_YEAR_MAX:
            raise DomainError(
                "year_invalid",
                _("年份应在 %(first)s 到 %(last)s 之间。")
                % {"first": CALENDAR_YEAR_MIN, "last": CALENDAR_YEAR_MAX},
                field="year",
            )
        return Response(CalendarDayOutputSerializer(selectors.calendar_year(year).rows, many=True).data)

    @extend_schema(request=CalendarDayInputSerializer, responses=CalendarDayOutputSerializer, tags=TAGS)
    def put(self, request: Request) -> Response:
        _admin_gate(request.user)
        given = CalendarDayInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        row = services.calendar_day_set(actor=request.user, **given.validated_data)
        return Response(CalendarDayOutputSerializer(row).data)

    @extend_schema(
        parameters=[OpenApiParameter("date", dt.date, required=True)],
        responses={204: None},
        tags=TAGS,
    )
    def delete(self, request: Request) -> Response:
        _admin_gate(request.user)
        services.calendar_day_remove(actor=request.user, date=_query_date(request, "date"))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- handling units ------------------------------------------------------------------------------------


class MemberOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    full_name = serializers.CharField()


class UnitOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    region = serializers.IntegerField(source="region_id")
    region_name = serializers.CharField(source="region.name")
    phone = serializers.CharField()
    is_active = serializers.BooleanField()
    members = MemberOutputSerializer(many=True, source="members.all")


class UnitCreateInputSerializer(serializers.Serializer):
    idempotency_key = serializers.CharField(max_length=64)
    name = serializers.CharField(max_length=60)
    region = serializers.IntegerField()
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")


class UnitUpdateInputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(max_length=60, required=False)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)


class MemberInputSerializer(serializers.Serializer):
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    unit = serializers.IntegerField()
    username = serializers.CharField(max_length=150)


def _unit_out(unit_id: int) -> dict[str, Any]:
    unit = selectors.unit_get(unit_id)
    if unit is None:
        raise NotFound(_("未找到该承办单位。"))
    return dict(UnitOutputSerializer(unit).data)


class UnitListApi(APIView):
    """The handling units with their members (county admin). POST adds one; PATCH changes one named by
    `id`."""

    @extend_schema(responses=UnitOutputSerializer(many=True), tags=TAGS)
    def get(self, request: Request) -> Response:
        _admin_gate(request.user)
        return Response(UnitOutputSerializer(selectors.units_all(), many=True).data)

    @extend_schema(request=UnitCreateInputSerializer, responses={201: UnitOutputSerializer}, tags=TAGS)
    def post(self, request: Request) -> Response:
        _admin_gate(request.user)
        given = UnitCreateInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        unit = services.unit_create(actor=request.user, **given.validated_data)
        return Response(_unit_out(unit.pk), status=status.HTTP_201_CREATED)

    @extend_schema(request=UnitUpdateInputSerializer, responses=UnitOutputSerializer, tags=TAGS)
    def patch(self, request: Request) -> Response:
        _admin_gate(request.user)
        given = UnitUpdateInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = dict(given.validated_data)
        unit = services.unit_update(actor=request.user, unit=data.pop("id"), **data)
        return Response(_unit_out(unit.pk))


class UnitMemberApi(APIView):
    """POST adds a member (by user name) to a unit; DELETE ?unit=&user= removes one (county admin)."""

    @extend_schema(request=MemberInputSerializer, responses={201: UnitOutputSerializer}, tags=TAGS)
    def post(self, request: Request) -> Response:
        _admin_gate(request.user)
        given = MemberInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        services.unit_member_add(
            actor=request.user,
            unit=data["unit"],
            username=data["username"],
            idempotency_key=data["idempotency_key"],
        )
        return Response(_unit_out(data["unit"]), status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[
            OpenApiParameter("unit", int, required=True),
            OpenApiParameter("user", int, required=True),
        ],
        responses=UnitOutputSerializer,
        tags=TAGS,
    )
    def delete(self, request: Request) -> Response:
        _admin_gate(request.user)
        try:
            unit_id = int(request.query_params.get("unit", ""))
            user_id = int(request.query_params.get("user", ""))
        except ValueError:
            raise NotFound(_("未找到该承办单位。")) from None
        services.unit_member_remove(actor=request.user, unit=unit_id, user=user_id)
        return Response(_unit_out(unit_id))


# --- routing -------------------------------------------------------------------------------------------


class RoutingRuleOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    category = serializers.IntegerField(source="category_id")
    category_name = serializers.CharField(source="category.name")
    region = serializers.IntegerField(source="region_id")
    region_name = serializers.CharField(source="region.name")
    unit = serializers.IntegerField(source="unit_id")
    unit_name = serializers.CharField(source="unit.name")


class RoutingRuleInputSerializer(serializers.Serializer):
    category = serializers.IntegerField()
    region = serializers.IntegerField()
    unit = serializers.IntegerField()


class RoutingRuleListApi(APIView):
    """The routing table (county admin). PUT sets the rule for a (category, region) pair, replacing any;
    DELETE ?id= removes one."""

    @extend_schema(responses=RoutingRuleOutputSerializer(many=True), tags=TAGS)
    def get(self, request: Request) -> Response:
        _admin_gate(request.user)
        return Response(RoutingRuleOutputSerializer(selectors.routing_rules_all(), many=True).data)

    @extend_schema(request=RoutingRuleInputSerializer, responses=RoutingRuleOutputSerializer, tags=TAGS)
    def put(self, request: Request) -> Response:
        _admin_gate(request.user)
        given = RoutingRuleInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        rule = services.routing_rule_set(actor=request.user, **given.validated_data)
        return Response(RoutingRuleOutputSerializer(selectors.routing_rules_all().get(pk=rule.pk)).data)

    @extend_schema(parameters=[OpenApiParameter("id", int, required=True)], responses={204: None}, tags=TAGS)
    def delete(self, request: Request) -> Response:
        _admin_gate(request.user)
        try:
            rule_id = int(request.query_params.get("id", ""))
        except ValueError:
            raise NotFound(_("未找到该派单规则。")) from None
        services.routing_rule_delete(actor=request.user, rule=rule_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- response templates --------------------------------------------------------------------------------


class TemplateOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    transition = serializers.CharField()
    category = serializers.IntegerField(source="category_id", allow_null=True)
    text = serializers.CharField()
    is_sent_to_resident = serializers.BooleanField()
    is_active = serializers.BooleanField()


class TemplateCreateInputSerializer(serializers.Serializer):
    idempotency_key = serializers.CharField(max_length=64)
    transition = _choice([(name, name) for name in services.TEMPLATE_TRANSITIONS])
    category = serializers.IntegerField(required=False, allow_null=True, default=None)
    text = serializers.CharField(max_length=500)
    is_sent_to_resident = serializers.BooleanField(required=False, default=False)
    is_active = serializers.BooleanField(required=False, default=True)


class TemplateUpdateInputSerializer(TemplateCreateInputSerializer):
    id = serializers.IntegerField()
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class TemplateListApi(APIView):
    """The response templates ("file" is the acknowledgement to the resident). POST adds one; PATCH
    replaces the fields of the one named by `id` (county admin)."""

    @extend_schema(responses=TemplateOutputSerializer(many=True), tags=TAGS)
    def get(self, request: Request) -> Response:
        rows = selectors.templates_all() if _reader_gate(request.user) else []
        return Response(TemplateOutputSerializer(rows, many=True).data)

    @extend_schema(
        request=TemplateCreateInputSerializer, responses={201: TemplateOutputSerializer}, tags=TAGS
    )
    def post(self, request: Request) -> Response:
        _admin_gate(request.user)
        given = TemplateCreateInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        row = services.template_save(actor=request.user, **given.validated_data)
        return Response(TemplateOutputSerializer(row).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=TemplateUpdateInputSerializer, responses=TemplateOutputSerializer, tags=TAGS)
    def patch(self, request: Request) -> Response:
        _admin_gate(request.user)
        given = TemplateUpdateInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = dict(given.validated_data)
        template_id = data.pop("id")
        data.pop("idempotency_key", None)
        row = services.template_save(actor=request.user, template=template_id, **data)
        return Response(TemplateOutputSerializer(row).data)


urlpatterns: list[URLPattern | URLResolver] = [
    path("config/categories/", CategoryListApi.as_view(), name="config-categories"),
    path("config/time-limits/", TimeLimitListApi.as_view(), name="config-time-limits"),
    path("config/calendar/", CalendarListApi.as_view(), name="config-calendar"),
    path("config/units/", UnitListApi.as_view(), name="config-units"),
    path("config/units/members/", UnitMemberApi.as_view(), name="config-unit-members"),
    path("config/routing/", RoutingRuleListApi.as_view(), name="config-routing"),
    path("config/templates/", TemplateListApi.as_view(), name="config-templates"),
]

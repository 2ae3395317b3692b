"""REST API of love classrooms, love workshops and red service stations (under /api/v1/canteens/community/).

Lists (GET, paginated like every list: ?page=) take the same filters as the pages: region (a township or
village id), site, date_from, date_to, and per list status / service / year / month / active / q. Writes
(POST, PUT) carry an idempotency key (body `idempotency_key` or the `Idempotency-Key` header) where they
create a row; a replay answers the first row. A class session and an hours entry are corrected (PATCH) or
deleted (DELETE) within their edit window (canteens.services.community.record_editable; else 409
record_locked). Anything the caller may not see or run answers 404.
"""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, URLResolver, path
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from canteens import access
from canteens.api.fields import HourMinuteField
from canteens.models import OrderStatus, SiteKind, VolunteerHours
from canteens.selectors import community as selectors
from canteens.selectors.community import ListFilters
from canteens.services import community as services
from common.errors import NotFound
from common.idempotency import idempotency_key_from

TAG = "canteens-community"
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="防重复提交标识（也可放在请求体 idempotency_key）",
)


# --- filters ------------------------------------------------------------------------------------------


class ListQuery(serializers.Serializer):
    region = serializers.IntegerField(required=False, help_text="乡镇或村（社区）id")
    site = serializers.IntegerField(required=False, help_text="阵地 id")
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)
    status = serializers.ChoiceField(choices=OrderStatus.choices, required=False, help_text="订单状态")
    service = serializers.IntegerField(required=False, help_text="驿站服务项目 id")
    year = serializers.IntegerField(required=False, min_value=2000, max_value=2100)
    month = serializers.IntegerField(required=False, min_value=1, max_value=12)
    active = serializers.BooleanField(required=False, allow_null=True, default=None)
    q = serializers.CharField(required=False, allow_blank=True, default="", max_length=50)


class MonthQuery(ListQuery):
    year = serializers.IntegerField(min_value=2000, max_value=2100, required=False, help_text="默认本月")
    month = serializers.IntegerField(min_value=1, max_value=12, required=False, help_text="默认本月")


def _year_month(filters: ListFilters) -> tuple[int, int]:
    today = timezone.localdate()
    return (filters.year or today.year, filters.month or today.month)


def _filters(request: Request, query: type[serializers.Serializer] = ListQuery) -> ListFilters:
    given = query(data=request.query_params)
    given.is_valid(raise_exception=True)
    data = given.validated_data
    return ListFilters(
        region=data.get("region"),
        site=data.get("site"),
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
        status=data.get("status") or "",
        service=data.get("service"),
        year=data.get("year"),
        month=data.get("month"),
        active=data.get("active"),
        q=(data.get("q") or "").strip(),
    )


def _page(request: Request, view: APIView, queryset: Any, out: type[serializers.Serializer]) -> Response:
    paginator = PageNumberPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(out(page, many=True).data)


def _valid(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _key(request: Request) -> str:
    return idempotency_key_from(request)


def _site(request: Request, site_id: int, kind: str | None) -> Any:
    if kind is None:
        return access.site_get_runnable(request.user, site_id)
    return services.site_runnable_of_kind(request.user, site_id, kind)


# --- output -------------------------------------------------------------------------------------------


class VolunteerOut(serializers.Serializer):
    id = serializers.IntegerField()
    region = serializers.IntegerField(source="region_id")
    region_name = serializers.CharField(source="region.name")
    resident = serializers.IntegerField(source="resident_id", allow_null=True)
    name = serializers.CharField()
    phone_masked = serializers.CharField(help_text="脱敏手机号，如 138****5678")
    speciality = serializers.CharField()
    is_active = serializers.BooleanField()


class VolunteerRowOut(VolunteerOut):
    session_count = serializers.IntegerField(help_text="授课次数")
    hours_total = serializers.DecimalField(max_digits=8, decimal_places=1, help_text="服务时长（小时）")


class SessionOut(serializers.Serializer):
    id = serializers.IntegerField()
    site = serializers.IntegerField(source="site_id")
    site_name = serializers.CharField(source="site.name")
    held_on = serializers.DateField()
    starts = HourMinuteField(allow_null=True)
    ends = HourMinuteField(allow_null=True)
    subject = serializers.CharField()
    teacher = serializers.IntegerField(source="teacher_id")
    teacher_name = serializers.CharField(source="teacher.name")
    children_count = serializers.IntegerField()
    attendees = serializers.SerializerMethodField()
    notes = serializers.CharField()

    def get_attendees(self, obj: Any) -> list[int]:
        return sorted(r.pk for r in obj.attendees.all())


class HoursOut(serializers.Serializer):
    id = serializers.IntegerField()
    volunteer = serializers.IntegerField(source="volunteer_id")
    volunteer_name = serializers.CharField(source="volunteer.name")
    site = serializers.IntegerField(source="site_id")
    session = serializers.IntegerField(source="session_id", allow_null=True)
    worked_on = serializers.DateField()
    hours = serializers.DecimalField(max_digits=4, decimal_places=1)
    activity = serializers.CharField()


class ClassroomTotalsOut(serializers.Serializer):
    site = serializers.IntegerField()
    sessions = serializers.IntegerField()
    child_visits = serializers.IntegerField(help_text="到课人次（各次到课人数之和）")
    named_children = serializers.IntegerField(help_text="登记姓名的儿童（去重）")
    hours = serializers.DecimalField(max_digits=8, decimal_places=1)
    teachers = serializers.IntegerField()


class ProductOut(serializers.Serializer):
    id = serializers.IntegerField()
    site = serializers.IntegerField(source="site_id")
    name = serializers.CharField()
    unit = serializers.CharField()
    piece_rate_fen = serializers.IntegerField()
    is_active = serializers.BooleanField()


class WorkerOut(serializers.Serializer):
    id = serializers.IntegerField()
    site = serializers.IntegerField(source="site_id")
    resident = serializers.IntegerField(source="resident_id")
    resident_name = serializers.CharField(source="resident.name")
    joined_on = serializers.DateField()
    left_on = serializers.DateField(allow_null=True)
    is_left_behind = serializers.BooleanField(help_text="是否标记为留守妇女")


class WorkerAddedOut(WorkerOut):
    warning = serializers.CharField(help_text="未标记为留守妇女时的提示（照常登记）")


class OrderOut(serializers.Serializer):
    id = serializers.IntegerField()
    site = serializers.IntegerField(source="site_id")
    product = serializers.IntegerField(source="product_id")
    product_name = serializers.CharField(source="product.name")
    customer = serializers.CharField()
    quantity = serializers.IntegerField()
    amount_fen = serializers.IntegerField()
    ordered_on = serializers.DateField()
    due_on = serializers.DateField(allow_null=True)
    delivered_on = serializers.DateField(allow_null=True)
    status = serializers.CharField()


class WageOut(serializers.Serializer):
    id = serializers.IntegerField()
    site = serializers.IntegerField(source="site_id")
    worker = serializers.IntegerField(source="worker_id")
    worker_name = serializers.CharField(source="worker.resident.name")
    year = serializers.IntegerField()
    month = serializers.IntegerField()
    pieces = serializers.IntegerField()
    amount_fen = serializers.IntegerField()
    paid_on = serializers.DateField()


class ServiceOut(serializers.Serializer):
    id = serializers.IntegerField()
    site = serializers.IntegerField(source="site_id")
    name = serializers.CharField()
    is_active = serializers.BooleanField()


class LogOut(serializers.Serializer):
    id = serializers.IntegerField()
    site = serializers.IntegerField(source="site_id")
    service = serializers.IntegerField(source="service_id")
    service_name = serializers.CharField(source="service.name")
    served_on = serializers.DateField()
    people_served = serializers.IntegerField()
    description = serializers.CharField()


class WorkshopMonthOut(serializers.Serializer):
    site = serializers.IntegerField(source="site.pk")
    site_name = serializers.CharField(source="site.name")
    orders_placed = serializers.IntegerField()
    orders_placed_fen = serializers.IntegerField()
    orders_delivered = serializers.IntegerField()
    orders_delivered_fen = serializers.IntegerField()
    orders_open = serializers.IntegerField()
    wages_paid = serializers.IntegerField()
    wages_fen = serializers.IntegerField()
    workers = serializers.IntegerField()


class ServiceCountOut(serializers.Serializer):
    service = serializers.CharField()
    entries = serializers.IntegerField()
    people_served = serializers.IntegerField()


class StationMonthOut(serializers.Serializer):
    site = serializers.IntegerField(source="site.pk")
    site_name = serializers.CharField(source="site.name")
    entries = serializers.IntegerField()
    people_served = serializers.IntegerField()
    by_service = serializers.SerializerMethodField()

    def get_by_service(self, obj: selectors.StationMonth) -> list[dict[str, Any]]:
        return [{"service": s, "entries": n, "people_served": p} for s, n, p in obj.by_service]


# --- input --------------------------------------------------------------------------------------------


class VolunteerIn(serializers.Serializer):
    site = serializers.IntegerField(help_text="在哪个阵地（的村）登记")
    name = serializers.CharField(max_length=50, allow_blank=True)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    speciality = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    resident = serializers.IntegerField(required=False, allow_null=True, default=None)
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class VolunteerUpdateIn(serializers.Serializer):
    name = serializers.CharField(max_length=50, allow_blank=True)
    phone = serializers.CharField(
        max_length=20, required=False, allow_blank=True, allow_null=True, default=None
    )
    speciality = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    is_active = serializers.BooleanField(default=True)


class SessionIn(serializers.Serializer):
    site = serializers.IntegerField()
    held_on = serializers.DateField()
    starts = serializers.TimeField(required=False, allow_null=True, default=None)
    ends = serializers.TimeField(required=False, allow_null=True, default=None)
    subject = serializers.CharField(max_length=100, allow_blank=True)
    teacher = serializers.IntegerField()
    children_count = serializers.IntegerField()
    attendees = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    notes = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    hours = serializers.CharField(
        max_length=8,
        required=False,
        allow_blank=True,
        allow_null=True,
        default=None,
        help_text="不填则按时长计",
    )
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class SessionPatchIn(serializers.Serializer):
    """A correction: only the fields sent change. `attendees` replaces the named children; `hours` null or
    "" takes the length of the times; left out, hours typed earlier stay and hours that were the length
    of the old times follow the new ones."""

    held_on = serializers.DateField(required=False)
    starts = serializers.TimeField(required=False, allow_null=True)
    ends = serializers.TimeField(required=False, allow_null=True)
    subject = serializers.CharField(max_length=100, allow_blank=True, required=False)
    teacher = serializers.IntegerField(required=False)
    children_count = serializers.IntegerField(required=False)
    attendees = serializers.ListField(child=serializers.IntegerField(), required=False)
    notes = serializers.CharField(max_length=200, required=False, allow_blank=True)
    hours = serializers.CharField(max_length=8, required=False, allow_blank=True, allow_null=True)


class HoursPatchIn(serializers.Serializer):
    """A correction of hours recorded on their own: only the fields sent change."""

    volunteer = serializers.IntegerField(required=False)
    worked_on = serializers.DateField(required=False)
    hours = serializers.CharField(max_length=8, required=False)
    activity = serializers.CharField(max_length=100, allow_blank=True, required=False)


class HoursIn(serializers.Serializer):
    site = serializers.IntegerField()
    volunteer = serializers.IntegerField()
    worked_on = serializers.DateField()
    hours = serializers.CharField(max_length=8)
    activity = serializers.CharField(max_length=100, allow_blank=True)
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class ProductIn(serializers.Serializer):
    site = serializers.IntegerField()
    name = serializers.CharField(max_length=60, allow_blank=True)
    unit = serializers.CharField(max_length=10, allow_blank=True)
    piece_rate_fen = serializers.IntegerField()
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class ProductUpdateIn(serializers.Serializer):
    name = serializers.CharField(max_length=60, allow_blank=True)
    unit = serializers.CharField(max_length=10, allow_blank=True)
    piece_rate_fen = serializers.IntegerField()
    is_active = serializers.BooleanField(default=True)


class WorkerIn(serializers.Serializer):
    site = serializers.IntegerField()
    resident = serializers.IntegerField()
    joined_on = serializers.DateField()
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class LeaveIn(serializers.Serializer):
    left_on = serializers.DateField()


class OrderIn(serializers.Serializer):
    site = serializers.IntegerField()
    product = serializers.IntegerField()
    customer = serializers.CharField(max_length=100, allow_blank=True)
    quantity = serializers.IntegerField()
    amount_fen = serializers.IntegerField()
    ordered_on = serializers.DateField()
    due_on = serializers.DateField(required=False, allow_null=True, default=None)
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class DeliverIn(serializers.Serializer):
    delivered_on = serializers.DateField()


class CancelIn(serializers.Serializer):
    reason = serializers.CharField(max_length=200, allow_blank=True)


class WageIn(serializers.Serializer):
    site = serializers.IntegerField()
    worker = serializers.IntegerField()
    year = serializers.IntegerField()
    month = serializers.IntegerField()
    pieces = serializers.IntegerField(default=0)
    amount_fen = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="不填则按计件"
    )
    product = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="按其计件工价"
    )
    paid_on = serializers.DateField()
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class ServiceIn(serializers.Serializer):
    site = serializers.IntegerField()
    name = serializers.CharField(max_length=40, allow_blank=True)
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class ServiceUpdateIn(serializers.Serializer):
    is_active = serializers.BooleanField()


class LogIn(serializers.Serializer):
    site = serializers.IntegerField()
    service = serializers.IntegerField()
    served_on = serializers.DateField()
    people_served = serializers.IntegerField()
    description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


# --- views --------------------------------------------------------------------------------------------


def _schema(op: str, *, query: type[serializers.Serializer] | None = None, **kwargs: Any) -> Any:
    params: list[Any] = [query] if query is not None else []
    if "request" in kwargs and kwargs.get("key", True):
        params.append(IDEMPOTENCY_HEADER)
    kwargs.pop("key", None)
    return extend_schema(tags=[TAG], operation_id=f"canteens_community_{op}", parameters=params, **kwargs)


class _PagedList(APIView):
    """A list answered a page at a time (`_page`): the schema then describes the page ({count, next,
    previous, results}), not a bare array."""

    pagination_class = PageNumberPagination


class VolunteerListApi(_PagedList):
    @_schema("volunteer_list", query=ListQuery, responses={200: VolunteerRowOut(many=True)})
    def get(self, request: Request) -> Response:
        return _page(
            request, self, selectors.volunteer_rows(request.user, _filters(request)), VolunteerRowOut
        )

    @_schema("volunteer_create", request=VolunteerIn, responses={201: VolunteerOut})
    def post(self, request: Request) -> Response:
        data = _valid(VolunteerIn, request.data)
        volunteer = services.volunteer_create(
            actor=request.user,
            idempotency_key=_key(request),
            site=_site(request, data["site"], None),
            name=data["name"],
            phone=data["phone"],
            speciality=data["speciality"],
            resident_id=data["resident"],
        )
        return Response(VolunteerOut(volunteer).data, status=status.HTTP_201_CREATED)


class VolunteerDetailApi(APIView):
    @_schema("volunteer_detail", responses={200: VolunteerOut})
    def get(self, request: Request, id: int) -> Response:
        return Response(VolunteerOut(selectors.volunteer_get_visible(request.user, id)).data)

    @_schema("volunteer_update", request=VolunteerUpdateIn, responses={200: VolunteerOut}, key=False)
    def put(self, request: Request, id: int) -> Response:
        volunteer = selectors.volunteer_get_runnable(request.user, id)
        data = _valid(VolunteerUpdateIn, request.data)
        volunteer = services.volunteer_update(actor=request.user, volunteer=volunteer, **data)
        return Response(VolunteerOut(volunteer).data)


class SessionListApi(_PagedList):
    @_schema("session_list", query=ListQuery, responses={200: SessionOut(many=True)})
    def get(self, request: Request) -> Response:
        sessions = selectors.session_list(request.user, _filters(request)).prefetch_related("attendees")
        return _page(request, self, sessions, SessionOut)

    @_schema("session_create", request=SessionIn, responses={201: SessionOut})
    def post(self, request: Request) -> Response:
        data = _valid(SessionIn, request.data)
        session = services.session_create(
            actor=request.user,
            idempotency_key=_key(request),
            site=_site(request, data["site"], SiteKind.CLASSROOM),
            held_on=data["held_on"],
            starts=data["starts"],
            ends=data["ends"],
            subject=data["subject"],
            teacher_id=data["teacher"],
            children_count=data["children_count"],
            attendee_ids=data["attendees"],
            notes=data["notes"],
            hours=data["hours"],
        )
        return Response(SessionOut(session).data, status=status.HTTP_201_CREATED)


class SessionDetailApi(APIView):
    @_schema("session_detail", responses={200: SessionOut})
    def get(self, request: Request, id: int) -> Response:
        return Response(SessionOut(selectors.session_get_visible(request.user, id)).data)

    @_schema("session_update", request=SessionPatchIn, responses={200: SessionOut}, key=False)
    def patch(self, request: Request, id: int) -> Response:
        session = selectors.session_get_runnable(request.user, id)
        data = _valid(SessionPatchIn, request.data)
        entered = selectors.session_hours_entered(session)
        session = services.session_update(
            actor=request.user,
            session=session,
            held_on=data.get("held_on", session.held_on),
            starts=data.get("starts", session.starts),
            ends=data.get("ends", session.ends),
            subject=data.get("subject", session.subject),
            teacher_id=data.get("teacher", session.teacher_id),
            children_count=data.get("children_count", session.children_count),
            attendee_ids=data.get("attendees", [c.pk for c in selectors.session_attendees(session)]),
            notes=data.get("notes", session.notes),
            hours=data.get("hours", entered),
        )
        return Response(SessionOut(session).data)

    @_schema("session_delete", responses={204: None}, key=False)
    def delete(self, request: Request, id: int) -> Response:
        session = selectors.session_get_runnable(request.user, id)
        services.session_delete(actor=request.user, session=session)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ClassroomTotalsApi(APIView):
    @_schema("classroom_totals", query=ListQuery, responses={200: ClassroomTotalsOut})
    def get(self, request: Request, id: int) -> Response:
        site = access.site_get_visible(request.user, id)
        if site.kind != SiteKind.CLASSROOM:
            raise NotFound(access.NOT_FOUND_MESSAGE)
        totals = selectors.classroom_totals(site, _filters(request))
        return Response(ClassroomTotalsOut({"site": site.pk, **totals.__dict__}).data)


class HoursListApi(_PagedList):
    @_schema("volunteer_hours_list", query=ListQuery, responses={200: HoursOut(many=True)})
    def get(self, request: Request) -> Response:
        return _page(request, self, selectors.hours_list(request.user, _filters(request)), HoursOut)

    @_schema("volunteer_hours_create", request=HoursIn, responses={201: HoursOut})
    def post(self, request: Request) -> Response:
        data = _valid(HoursIn, request.data)
        row: VolunteerHours = services.volunteer_hours_record(
            actor=request.user,
            idempotency_key=_key(request),
            site=_site(request, data["site"], None),
            volunteer_id=data["volunteer"],
            worked_on=data["worked_on"],
            hours=data["hours"],
            activity=data["activity"],
        )
        return Response(HoursOut(row).data, status=status.HTTP_201_CREATED)


class HoursDetailApi(APIView):
    @_schema("volunteer_hours_detail", responses={200: HoursOut})
    def get(self, request: Request, id: int) -> Response:
        return Response(HoursOut(selectors.hours_get_visible(request.user, id)).data)

    @_schema("volunteer_hours_update", request=HoursPatchIn, responses={200: HoursOut}, key=False)
    def patch(self, request: Request, id: int) -> Response:
        row = selectors.hours_get_runnable(request.user, id)
        data = _valid(HoursPatchIn, request.data)
        row = services.volunteer_hours_update(
            actor=request.user,
            row=row,
            volunteer_id=data.get("volunteer", row.volunteer_id),
            worked_on=data.get("worked_on", row.worked_on),
            hours=data.get("hours", row.hours),
            activity=data.get("activity", row.activity),
        )
        return Response(HoursOut(row).data)

    @_schema("volunteer_hours_delete", responses={204: None}, key=False)
    def delete(self, request: Request, id: int) -> Response:
        row = selectors.hours_get_runnable(request.user, id)
        services.volunteer_hours_delete(actor=request.user, row=row)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProductListApi(_PagedList):
    @_schema("product_list", query=ListQuery, responses={200: ProductOut(many=True)})
    def get(self, request: Request) -> Response:
        from canteens.models import WorkshopProduct

        filters = _filters(request)
        products = selectors.site_scoped(WorkshopProduct.objects.all(), request.user, filters)
        if filters.active is not None:
            products = products.filter(is_active=filters.active)
        return _page(request, self, products.order_by("site_id", "name"), ProductOut)

    @_schema("product_create", request=ProductIn, responses={201: ProductOut})
    def post(self, request: Request) -> Response:
        data = _valid(ProductIn, request.data)
        product = services.product_create(
            actor=request.user,
            idempotency_key=_key(request),
            site=_site(request, data["site"], SiteKind.WORKSHOP),
            name=data["name"],
            unit=data["unit"],
            piece_rate_fen=data["piece_rate_fen"],
        )
        return Response(ProductOut(product).data, status=status.HTTP_201_CREATED)


def _product(request: Request, id: int, *, runnable: bool) -> Any:
    from canteens.models import WorkshopProduct

    sites = access.sites_runnable(request.user) if runnable else access.sites_visible(request.user)
    found = WorkshopProduct.objects.filter(pk=id, site__in=sites).first()
    if found is None:
        raise NotFound(selectors.RECORD_NOT_FOUND)
    return found


class ProductDetailApi(APIView):
    @_schema("product_detail", responses={200: ProductOut})
    def get(self, request: Request, id: int) -> Response:
        return Response(ProductOut(_product(request, id, runnable=False)).data)

    @_schema("product_update", request=ProductUpdateIn, responses={200: ProductOut}, key=False)
    def put(self, request: Request, id: int) -> Response:
        product = _product(request, id, runnable=True)
        data = _valid(ProductUpdateIn, request.data)
        return Response(ProductOut(services.product_update(actor=request.user, product=product, **data)).data)


class WorkerListApi(_PagedList):
    @_schema("worker_list", query=ListQuery, responses={200: WorkerOut(many=True)})
    def get(self, request: Request) -> Response:
        return _page(request, self, selectors.worker_list(request.user, _filters(request)), WorkerOut)

    @_schema("worker_add", request=WorkerIn, responses={201: WorkerAddedOut})
    def post(self, request: Request) -> Response:
        data = _valid(WorkerIn, request.data)
        added = services.worker_add(
            actor=request.user,
            idempotency_key=_key(request),
            site=_site(request, data["site"], SiteKind.WORKSHOP),
            resident_id=data["resident"],
            joined_on=data["joined_on"],
        )
        worker = added.worker
        worker.is_left_behind = not added.warning  # type: ignore[attr-defined]
        body = dict(WorkerOut(worker).data) | {"warning": added.warning}
        return Response(body, status=status.HTTP_201_CREATED)


def _worker_visible(request: Request, id: int) -> Any:
    found = selectors.worker_list(request.user, ListFilters()).filter(pk=id).first()
    if found is None:
        raise NotFound(selectors.RECORD_NOT_FOUND)
    return found


class WorkerDetailApi(APIView):
    @_schema("worker_detail", responses={200: WorkerOut})
    def get(self, request: Request, id: int) -> Response:
        return Response(WorkerOut(_worker_visible(request, id)).data)


class WorkerLeaveApi(APIView):
    @_schema("worker_leave", request=LeaveIn, responses={200: WorkerOut}, key=False)
    def post(self, request: Request, id: int) -> Response:
        worker = selectors.worker_get_runnable(request.user, id)
        data = _valid(LeaveIn, request.data)
        services.worker_leave(actor=request.user, worker=worker, left_on=data["left_on"])
        return Response(WorkerOut(_worker_visible(request, id)).data)


class OrderListApi(_PagedList):
    @_schema("order_list", query=ListQuery, responses={200: OrderOut(many=True)})
    def get(self, request: Request) -> Response:
        return _page(request, self, selectors.order_list(request.user, _filters(request)), OrderOut)

    @_schema("order_create", request=OrderIn, responses={201: OrderOut})
    def post(self, request: Request) -> Response:
        data = _valid(OrderIn, request.data)
        order = services.order_create(
            actor=request.user,
            idempotency_key=_key(request),
            site=_site(request, data["site"], SiteKind.WORKSHOP),
            product_id=data["product"],
            customer=data["customer"],
            quantity=data["quantity"],
            amount_fen=data["amount_fen"],
            ordered_on=data["ordered_on"],
            due_on=data["due_on"],
        )
        return Response(OrderOut(order).data, status=status.HTTP_201_CREATED)


class OrderDetailApi(APIView):
    @_schema("order_detail", responses={200: OrderOut})
    def get(self, request: Request, id: int) -> Response:
        found = selectors.order_list(request.user, ListFilters()).filter(pk=id).first()
        if found is None:
            raise NotFound(selectors.RECORD_NOT_FOUND)
        return Response(OrderOut(found).data)


class OrderDeliverApi(APIView):
    @_schema("order_deliver", request=DeliverIn, responses={200: OrderOut}, key=False)
    def post(self, request: Request, id: int) -> Response:
        order = selectors.order_get_runnable(request.user, id)
        data = _valid(DeliverIn, request.data)
        order = services.order_deliver(actor=request.user, order=order, delivered_on=data["delivered_on"])
        return Response(OrderOut(order).data)


class OrderCancelApi(APIView):
    @_schema("order_cancel", request=CancelIn, responses={200: OrderOut}, key=False)
    def post(self, request: Request, id: int) -> Response:
        order = selectors.order_get_runnable(request.user, id)
        data = _valid(CancelIn, request.data)
        order = services.order_cancel(actor=request.user, order=order, reason=data["reason"])
        return Response(OrderOut(order).data)


class WageListApi(_PagedList):
    @_schema("wage_list", query=ListQuery, responses={200: WageOut(many=True)})
    def get(self, request: Request) -> Response:
        return _page(request, self, selectors.wage_list(request.user, _filters(request)), WageOut)

    @_schema("wage_create", request=WageIn, responses={201: WageOut})
    def post(self, request: Request) -> Response:
        data = _valid(WageIn, request.data)
        wage = services.wage_record(
            actor=request.user,
            idempotency_key=_key(request),
            site=_site(request, data["site"], SiteKind.WORKSHOP),
            worker_id=data["worker"],
            year=data["year"],
            month=data["month"],
            pieces=data["pieces"],
            amount_fen=data["amount_fen"],
            product_id=data["product"],
            paid_on=data["paid_on"],
        )
        return Response(WageOut(wage).data, status=status.HTTP_201_CREATED)


class ServiceListApi(_PagedList):
    @_schema("station_service_list", query=ListQuery, responses={200: ServiceOut(many=True)})
    def get(self, request: Request) -> Response:
        from canteens.models import StationService

        filters = _filters(request)
        rows = selectors.site_scoped(StationService.objects.all(), request.user, filters)
        if filters.active is not None:
            rows = rows.filter(is_active=filters.active)
        return _page(request, self, rows.order_by("site_id", "name"), ServiceOut)

    @_schema("station_service_create", request=ServiceIn, responses={201: ServiceOut})
    def post(self, request: Request) -> Response:
        data = _valid(ServiceIn, request.data)
        service = services.station_service_create(
            actor=request.user,
            idempotency_key=_key(request),
            site=_site(request, data["site"], SiteKind.RED_STATION),
            name=data["name"],
        )
        return Response(ServiceOut(service).data, status=status.HTTP_201_CREATED)


class ServiceDetailApi(APIView):
    @_schema("station_service_detail", responses={200: ServiceOut})
    def get(self, request: Request, id: int) -> Response:
        from canteens.models import StationService

        found = StationService.objects.filter(pk=id, site__in=access.sites_visible(request.user)).first()
        if found is None:
            raise NotFound(selectors.RECORD_NOT_FOUND)
        return Response(ServiceOut(found).data)

    @_schema("station_service_update", request=ServiceUpdateIn, responses={200: ServiceOut}, key=False)
    def put(self, request: Request, id: int) -> Response:
        service = selectors.service_get_runnable(request.user, id)
        data = _valid(ServiceUpdateIn, request.data)
        service = services.station_service_set_active(
            actor=request.user, service=service, is_active=data["is_active"]
        )
        return Response(ServiceOut(service).data)


class LogListApi(_PagedList):
    @_schema("service_log_list", query=ListQuery, responses={200: LogOut(many=True)})
    def get(self, request: Request) -> Response:
        return _page(request, self, selectors.log_list(request.user, _filters(request)), LogOut)

    @_schema("service_log_create", request=LogIn, responses={201: LogOut})
    def post(self, request: Request) -> Response:
        data = _valid(LogIn, request.data)
        log = services.service_log_record(
            actor=request.user,
            idempotency_key=_key(request),
            site=_site(request, data["site"], SiteKind.RED_STATION),
            service_id=data["service"],
            served_on=data["served_on"],
            people_served=data["people_served"],
            description=data["description"],
        )
        return Response(LogOut(log).data, status=status.HTTP_201_CREATED)


class WorkshopSummaryApi(APIView):
    @_schema("workshop_month_summary", query=MonthQuery, responses={200: WorkshopMonthOut(many=True)})
    def get(self, request: Request) -> Response:
        filters = _filters(request, MonthQuery)
        year, month = _year_month(filters)
        rows = selectors.workshop_month_summary(request.user, year, month, filters)
        return Response(WorkshopMonthOut(rows, many=True).data)


class StationSummaryApi(APIView):
    @_schema("station_month_summary", query=MonthQuery, responses={200: StationMonthOut(many=True)})
    def get(self, request: Request) -> Response:
        filters = _filters(request, MonthQuery)
        year, month = _year_month(filters)
        rows = selectors.station_month_summary(request.user, year, month, filters)
        return Response(StationMonthOut(rows, many=True).data)


urlpatterns: list[URLPattern | URLResolver] = [
    path("community/volunteers/", VolunteerListApi.as_view(), name="community_volunteers"),
    path("community/volunteers/<int:id>/", VolunteerDetailApi.as_view(), name="community_volunteer"),
    path("community/sessions/", SessionListApi.as_view(), name="community_sessions"),
    path("community/sessions/<int:id>/", SessionDetailApi.as_view(), name="community_session"),
    path(
        "community/classrooms/<int:id>/totals/",
        ClassroomTotalsApi.as_view(),
        name="community_classroom_totals",
    ),
    path("community/volunteer-hours/", HoursListApi.as_view(), name="community_hours"),
    path("community/volunteer-hours/<int:id>/", HoursDetailApi.as_view(), name="community_hour"),
    path("community/products/", ProductListApi.as_view(), name="community_products"),
    path("community/products/<int:id>/", ProductDetailApi.as_view(), name="community_product"),
    path("community/workers/", WorkerListApi.as_view(), name="community_workers"),
    path("community/workers/<int:id>/", WorkerDetailApi.as_view(), name="community_worker"),
    path("community/workers/<int:id>/leave/", WorkerLeaveApi.as_view(), name="community_worker_leave"),
    path("community/orders/", OrderListApi.as_view(), name="community_orders"),
    path("community/orders/<int:id>/", OrderDetailApi.as_view(), name="community_order"),
    path("community/orders/<int:id>/deliver/", OrderDeliverApi.as_view(), name="community_order_deliver"),
    path("community/orders/<int:id>/cancel/", OrderCancelApi.as_view(), name="community_order_cancel"),
    path("community/wages/", WageListApi.as_view(), name="community_wages"),
    path("community/station-services/", ServiceListApi.as_view(), name="community_services"),
    path("community/station-services/<int:id>/", ServiceDetailApi.as_view(), name="community_service"),
    path("community/service-logs/", LogListApi.as_view(), name="community_logs"),
    path("community/summaries/workshops/", WorkshopSummaryApi.as_view(), name="community_workshop_summary"),
    path("community/summaries/stations/", StationSummaryApi.as_view(), name="community_station_summary"),
]

"""REST API for sales imports (mounted under /api/v1/industry/).

POST a .xlsx to sales-imports/ (multipart: file, optional event, the key as `idempotency_key` or the
Idempotency-Key header); the job is queued and the task validates every row, then imports the whole sheet
or — when any row is bad — nothing, with a report. GET sales-imports/<id>/ is its status, progress,
counts and first 100 errors; sales-imports/<id>/errors/ pages through every error; POST
sales-imports/<id>/retry/ queues a failed job (or one a dead worker left running) again.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.urls import URLPattern, URLResolver, path, reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from common.idempotency import idempotency_key_from
from industry import access
from industry.models import SalesImportJob
from industry.selectors import imports as selectors
from industry.services import imports as services

ERRORS_IN_DETAIL = 100


class SalesImportOutputSerializer(serializers.ModelSerializer):
    # A plain string (the values listed in its description): as an enum it would collide with the other
    # `status` enums of the schema, which drf-spectacular names after the field.
    status = serializers.CharField(
        read_only=True,
        help_text=_(
            "状态：queued 排队中、validating 校验中、rejected 有误未导入、writing 写入中、"
            "done 已导入、failed 失败"
        ),
    )
    status_label = serializers.CharField(source="get_status_display")
    event_name = serializers.SerializerMethodField()
    uploaded_by = serializers.SerializerMethodField()
    is_finished = serializers.SerializerMethodField()
    percent = serializers.SerializerMethodField(help_text=_("进度（0–100）"))
    phase = serializers.SerializerMethodField(help_text=_("当前阶段：queued、validating、writing 或结束状态"))
    amount_yuan = serializers.SerializerMethodField(help_text=_("导入销售额（元，两位小数）"))
    error_count = serializers.SerializerMethodField(help_text=_("错误报告的条数"))
    can_retry = serializers.SerializerMethodField(help_text=_("失败或中断的任务可以重新导入"))
    page_url = serializers.SerializerMethodField()
    report_url = serializers.SerializerMethodField()

    class Meta:
        model = SalesImportJob
        fields = [
            "id",
            "original_name",
            "event",
            "event_name",
            "region_path",
            "uploaded_by",
            "status",
            "status_label",
            "is_finished",
            "phase",
            "percent",
            "total_rows",
            "processed_rows",
            "imported_rows",
            "rejected_rows",
            "amount_fen",
            "amount_yuan",
            "error_count",
            "failure_message",
            "can_retry",
            "created_at",
            "started_at",
            "finished_at",
            "page_url",
            "report_url",
        ]
        read_only_fields = fields

    def get_event_name(self, obj: SalesImportJob) -> str:
        return obj.event.name if obj.event is not None else ""

    def get_uploaded_by(self, obj: SalesImportJob) -> str:
        return str(obj.uploaded_by) if obj.uploaded_by is not None else ""

    def get_is_finished(self, obj: SalesImportJob) -> bool:
        return services.job_is_finished(obj)

    def get_percent(self, obj: SalesImportJob) -> int:
        return selectors.sales_import_progress(obj).percent

    def get_phase(self, obj: SalesImportJob) -> str:
        return selectors.sales_import_progress(obj).phase

    def get_amount_yuan(self, obj: SalesImportJob) -> str:
        return f"{Decimal(obj.amount_fen) / 100:.2f}"

    def get_error_count(self, obj: SalesImportJob) -> int:
        return selectors.sales_import_error_count(obj)

    def get_can_retry(self, obj: SalesImportJob) -> bool:
        return services.job_can_retry(obj)

    def get_page_url(self, obj: SalesImportJob) -> str:
        return reverse("industry:import-detail", args=[obj.pk])

    def get_report_url(self, obj: SalesImportJob) -> str:
        return reverse("industry:import-report", args=[obj.pk]) if self.get_error_count(obj) else ""


class SalesImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text=_("表中的行号"))
    column = serializers.CharField(help_text=_("列名（表中的写法）"))
    value = serializers.CharField(help_text=_("填写内容"))
    reason = serializers.CharField(help_text=_("原因"))


class SalesImportDetailOutputSerializer(SalesImportOutputSerializer):
    # The serializer metaclass moves declared fields out of the class, so this does not hide `.errors`.
    errors = serializers.SerializerMethodField(help_text=_("前 100 条错误；全部见 errors/"))  # type: ignore[assignment]

    class Meta(SalesImportOutputSerializer.Meta):
        fields = [*SalesImportOutputSerializer.Meta.fields, "errors"]
        read_only_fields = fields

    @extend_schema_field(SalesImportErrorSerializer(many=True))
    def get_errors(self, obj: SalesImportJob) -> list[dict[str, Any]]:
        return selectors.sales_import_errors(obj)[:ERRORS_IN_DETAIL]


class SalesImportListApi(generics.ListCreateAPIView):
    """Sales imports the caller may see, newest first; POST uploads a sales sheet."""

    class SalesImportInputSerializer(serializers.Serializer):
        file = serializers.FileField(help_text=_("销售记录 .xlsx 文件（模板见导入页面）"))
        event = serializers.IntegerField(
            required=False,
            allow_null=True,
            help_text=_("可选：本表所属展会节会的 id；表中可不填“展会节会”列"),
        )
        idempotency_key = serializers.CharField(
            max_length=64,
            required=False,
            help_text=_("防重复提交标识（也可用 Idempotency-Key 请求头）：同一标识再次提交时返回同一个任务"),
        )

    serializer_class = SalesImportOutputSerializer
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self) -> QuerySet[SalesImportJob]:
        return selectors.sales_import_job_list(actor=self.request.user)

    @extend_schema(tags=["industry"])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request={"multipart/form-data": SalesImportInputSerializer},
        responses={201: SalesImportOutputSerializer},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False)],
        tags=["industry"],
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        given = self.SalesImportInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        event_id = given.validated_data.get("event")
        event = access.event_get_runnable(request.user, event_id) if event_id else None
        job = services.sales_import_create(
            actor=request.user,
            idempotency_key=idempotency_key_from(request),
            upload=given.validated_data["file"],
            event=event,
        )
        job.refresh_from_db()
        return Response(SalesImportOutputSerializer(job).data, status=status.HTTP_201_CREATED)


class SalesImportDetailApi(generics.RetrieveAPIView):
    """One sales import: status, progress, counts and its first 100 errors."""

    serializer_class = SalesImportDetailOutputSerializer
    queryset = SalesImportJob.objects.none()  # only tells the schema what `id` is; reads use the selector
    lookup_field = "id"

    def get_object(self) -> SalesImportJob:
        return selectors.sales_import_job_get(actor=self.request.user, job_id=self.kwargs["id"])

    @extend_schema(tags=["industry"])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class SalesImportErrorsApi(generics.ListAPIView):
    """Every error of one sales import, in sheet order, paged."""

    serializer_class = SalesImportErrorSerializer
    queryset = SalesImportJob.objects.none()
    lookup_field = "id"

    def get_queryset(self) -> Any:
        job = selectors.sales_import_job_get(actor=self.request.user, job_id=self.kwargs["id"])
        return selectors.sales_import_errors(job)

    @extend_schema(tags=["industry"])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class SalesImportRetryApi(generics.GenericAPIView):
    """Queue a failed job, or one a dead worker left validating or writing, once more."""

    serializer_class = SalesImportOutputSerializer
    queryset = SalesImportJob.objects.none()
    lookup_field = "id"

    @extend_schema(request=None, responses={200: SalesImportOutputSerializer}, tags=["industry"])
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        job = selectors.sales_import_job_get(actor=request.user, job_id=kwargs["id"])
        job = services.sales_import_retry(actor=request.user, job=job)
        job.refresh_from_db()
        return Response(SalesImportOutputSerializer(job).data)


urlpatterns: list[URLPattern | URLResolver] = [
    path("sales-imports/", SalesImportListApi.as_view(), name="sales_import_list"),
    path("sales-imports/<int:id>/", SalesImportDetailApi.as_view(), name="sales_import_detail"),
    path("sales-imports/<int:id>/errors/", SalesImportErrorsApi.as_view(), name="sales_import_errors"),
    path("sales-imports/<int:id>/retry/", SalesImportRetryApi.as_view(), name="sales_import_retry"),
]

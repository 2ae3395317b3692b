"""REST API for list exports (mounted under /api/v1/governance/).

POST exports/ {kind, filters, full_personal_data, idempotency_key} asks for an Excel file of a list
(the same key again returns the same job); GET exports/<id>/ is the small status document the job page
polls for its progress bar; GET exports/<id>/download/ is the file once done (audited). A user sees and
downloads only their own exports: anyone else's answer 404.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse
from django.urls import URLPattern, URLResolver, path, reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from common.excel import XLSX_CONTENT_TYPE, xlsx_file_response
from governance.models import ExportJob, ExportKind, ExportStatus
from governance.selectors import exports as export_selectors
from governance.services import exports as export_services

_KINDS_TEXT = "、".join(f"{value}（{label}）" for value, label in ExportKind.choices)


# The schema shows the kinds as a plain string described in words: an enum named “kind” would collide
# with the region tree's own `kind` enum in the generated schema.
@extend_schema_field({"type": "string", "description": f"导出哪个名单：{_KINDS_TEXT}"})
class ExportKindField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=ExportKind.choices, **kwargs)


class ExportJobOutputSerializer(serializers.ModelSerializer):
    kind = ExportKindField(read_only=True)
    kind_label = serializers.CharField(source="get_kind_display")
    status_label = serializers.CharField(source="get_status_display")
    is_finished = serializers.BooleanField()
    percent = serializers.SerializerMethodField(help_text=_("进度（0–100）"))
    expires_at = serializers.SerializerMethodField(help_text=_("文件自动删除的时间（已完成时）"))
    page_url = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField(help_text=_("下载地址（已完成时）"))

    class Meta:
        model = ExportJob
        fields = [
            "id",
            "kind",
            "kind_label",
            "filters",
            "summary",
            "full_personal_data",
            "status",
            "status_label",
            "is_finished",
            "percent",
            "rows_done",
            "rows_total",
            "file_name",
            "failure_message",
            "created_at",
            "started_at",
            "finished_at",
            "expires_at",
            "page_url",
            "download_url",
        ]
        read_only_fields = fields

    def get_percent(self, obj: ExportJob) -> int:
        return export_selectors.export_job_percent(obj)

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_expires_at(self, obj: ExportJob) -> str | None:
        expires = export_selectors.export_job_expires_at(obj)
        return serializers.DateTimeField().to_representation(expires) if expires else None

    def get_page_url(self, obj: ExportJob) -> str:
        return reverse("governance:export_job_detail", args=[obj.pk])

    def get_download_url(self, obj: ExportJob) -> str:
        if obj.status != ExportStatus.DONE:
            return ""
        return reverse("v1:governance:export_job_download", args=[obj.pk])


class ExportJobListApi(generics.ListCreateAPIView):
    """The caller's own exports, newest first; POST asks for a new one."""

    class ExportJobInputSerializer(serializers.Serializer):
        kind = ExportKindField()
        filters = serializers.DictField(
            child=serializers.CharField(allow_blank=True),
            required=False,
            default=dict,
            help_text=_('名单页面的筛选条件，如 {"grid": "12", "tag": "low_income"}'),
        )
        full_personal_data = serializers.BooleanField(
            required=False, default=False, help_text=_("含完整身份证号、手机号、住址（仅户名单和居民名单）")
        )
        idempotency_key = serializers.CharField(
            max_length=64, help_text=_("防重复提交标识：同一标识再次提交时返回同一个任务")
        )

    serializer_class = ExportJobOutputSerializer

    def get_queryset(self) -> QuerySet[ExportJob]:
        return export_selectors.export_job_list(actor=self.request.user)

    @extend_schema(tags=["exports"])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=ExportJobInputSerializer, responses={201: ExportJobOutputSerializer}, tags=["exports"]
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        given = self.ExportJobInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        job = export_services.export_job_create(
            actor=request.user,
            kind=given.validated_data["kind"],
            filters=given.validated_data["filters"],
            full_personal_data=given.validated_data["full_personal_data"],
            idempotency_key=given.validated_data["idempotency_key"],
            request=request._request,
        )
        job.refresh_from_db()
        return Response(ExportJobOutputSerializer(job).data, status=status.HTTP_201_CREATED)


class ExportJobDetailApi(generics.RetrieveAPIView):
    """One of the caller's exports: status, progress and, once done, where to download it."""

    serializer_class = ExportJobOutputSerializer
    queryset = ExportJob.objects.none()  # only tells the schema what `id` is; reads go through the selector
    lookup_field = "id"

    def get_object(self) -> ExportJob:
        return export_selectors.export_job_get(actor=self.request.user, job_id=self.kwargs["id"])

    @extend_schema(tags=["exports"])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class ExportJobDownloadApi(generics.GenericAPIView):
    """The finished file (.xlsx). Only its requester gets it; every download is written to the audit log."""

    queryset = ExportJob.objects.none()
    lookup_field = "id"

    @extend_schema(
        responses={
            (200, XLSX_CONTENT_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description=_("Excel 文件")),
        },
        tags=["exports"],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> FileResponse:
        job = export_selectors.export_job_get(actor=request.user, job_id=kwargs["id"])
        handle = export_selectors.export_job_file_open(job)
        try:
            export_services.export_job_download_record(actor=request.user, job=job, request=request._request)
        except BaseException:
            handle.close()
            raise
        return xlsx_file_response(handle, filename=job.file_name)


urlpatterns: list[URLPattern | URLResolver] = [
    path("exports/", ExportJobListApi.as_view(), name="export_job_list"),
    path("exports/<int:id>/", ExportJobDetailApi.as_view(), name="export_job_detail"),
    path("exports/<int:id>/download/", ExportJobDownloadApi.as_view(), name="export_job_download"),
]

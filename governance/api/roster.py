"""REST API for roster imports (mounted under /api/v1/governance/).

POST a .xlsx to roster-imports/ (multipart: file, mode, idempotency_key, optional mapping); the job is
queued, and the task reads its header row first: when the headers are the template's (or a mapping was
given) it validates and imports, otherwise the job waits in "mapping" for POST
roster-imports/<id>/mapping/. GET roster-imports/<id>/ is the small status document the import page
polls for its progress bar.
"""

from __future__ import annotations

import json
from typing import Any

from django.db.models import QuerySet
from django.urls import URLPattern, URLResolver, path, reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from common.errors import DomainError
from governance.models import ImportJob, ImportMode, ImportStatus
from governance.selectors import roster as roster_selectors
from governance.services import roster as roster_services


class ImportJobOutputSerializer(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display")
    mode_label = serializers.CharField(source="get_mode_display")
    uploaded_by = serializers.SerializerMethodField()
    percent = serializers.SerializerMethodField(help_text=_("进度（0–100）"))
    written_rows = serializers.SerializerMethodField(help_text=_("写入阶段已写入的行数"))
    is_finished = serializers.BooleanField()
    page_url = serializers.SerializerMethodField()
    mapping_url = serializers.SerializerMethodField(help_text=_("待确认表头时，确认页面的地址"))
    report_url = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "original_name",
            "uploaded_by",
            "mode",
            "mode_label",
            "status",
            "status_label",
            "is_finished",
            "percent",
            "total_rows",
            "processed_rows",
            "written_rows",
            "valid_rows",
            "rejected_rows",
            "imported_households",
            "imported_residents",
            "failure_message",
            "headers",
            "column_mapping",
            "created_at",
            "started_at",
            "finished_at",
            "page_url",
            "mapping_url",
            "report_url",
        ]
        read_only_fields = fields

    def get_uploaded_by(self, obj: ImportJob) -> str:
        return str(obj.uploaded_by)

    def get_percent(self, obj: ImportJob) -> int:
        return roster_selectors.import_job_progress(obj).percent

    def get_written_rows(self, obj: ImportJob) -> int:
        return roster_selectors.import_job_progress(obj).written_rows

    def get_page_url(self, obj: ImportJob) -> str:
        return reverse("governance:roster_import_detail", args=[obj.pk])

    def get_mapping_url(self, obj: ImportJob) -> str:
        if obj.status != ImportStatus.MAPPING:
            return ""
        return reverse("governance:roster_import_mapping", args=[obj.pk])

    def get_report_url(self, obj: ImportJob) -> str:
        return reverse("governance:roster_import_report", args=[obj.pk]) if obj.errors else ""


def _mapping_parse(raw: Any) -> dict[str, str] | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise DomainError("mapping_invalid", _("列对应关系应为 JSON 对象。"), field="mapping") from None
    if not isinstance(raw, dict):
        raise DomainError("mapping_invalid", _("列对应关系应为 JSON 对象。"), field="mapping")
    return {str(k): str(v or "") for k, v in raw.items()}


class RosterImportListApi(generics.ListCreateAPIView):
    """Roster imports the caller may see, newest first; POST uploads a roster."""

    class RosterImportInputSerializer(serializers.Serializer):
        file = serializers.FileField(help_text=_("花名册 .xlsx 文件"))
        mode = serializers.ChoiceField(choices=ImportMode.choices, default=ImportMode.ALL_OR_NOTHING)
        idempotency_key = serializers.CharField(
            max_length=64, help_text=_("防重复提交标识：同一标识再次提交时返回同一个任务")
        )
        mapping = serializers.CharField(
            required=False,
            allow_blank=True,
            help_text=_("可选，JSON：{列序号（从0开始）: 字段}，字段为 household_number、grid、name 等"),
        )

    serializer_class = ImportJobOutputSerializer
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self) -> QuerySet[ImportJob]:
        return roster_selectors.import_job_list(actor=self.request.user)

    @extend_schema(tags=["roster"])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request={"multipart/form-data": RosterImportInputSerializer},
        responses={201: ImportJobOutputSerializer},
        tags=["roster"],
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        given = self.RosterImportInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        job = roster_services.roster_import_create(
            actor=request.user,
            upload=given.validated_data["file"],
            mode=ImportMode(given.validated_data["mode"]),
            idempotency_key=given.validated_data["idempotency_key"],
            mapping=_mapping_parse(given.validated_data.get("mapping")),
            request=request._request,
        )
        job.refresh_from_db()
        return Response(ImportJobOutputSerializer(job).data, status=status.HTTP_201_CREATED)


class RosterImportDetailApi(generics.RetrieveAPIView):
    """One roster import: status, progress and counts (what the import page polls)."""

    serializer_class = ImportJobOutputSerializer
    queryset = ImportJob.objects.none()  # only tells the schema what `id` is; reads go through the selector
    lookup_field = "id"

    def get_object(self) -> ImportJob:
        return roster_selectors.import_job_get(actor=self.request.user, job_id=self.kwargs["id"])

    @extend_schema(tags=["roster"])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class RosterImportMappingApi(generics.GenericAPIView):
    """Confirm which column holds which field, and queue the import."""

    class RosterMappingInputSerializer(serializers.Serializer):
        mapping = serializers.DictField(
            child=serializers.CharField(allow_blank=True),
            help_text=_("{列序号（从0开始）: 字段}；不导入的列可省略"),
        )

    serializer_class = ImportJobOutputSerializer
    queryset = ImportJob.objects.none()
    lookup_field = "id"

    @extend_schema(
        request=RosterMappingInputSerializer, responses={200: ImportJobOutputSerializer}, tags=["roster"]
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        given = self.RosterMappingInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        job = roster_selectors.import_job_get(actor=request.user, job_id=kwargs["id"])
        job = roster_services.roster_import_map(
            actor=request.user, job=job, mapping=dict(given.validated_data["mapping"])
        )
        job.refresh_from_db()
        return Response(ImportJobOutputSerializer(job).data)


urlpatterns: list[URLPattern | URLResolver] = [
    path("roster-imports/", RosterImportListApi.as_view(), name="roster_import_list"),
    path("roster-imports/<int:id>/", RosterImportDetailApi.as_view(), name="roster_import_detail"),
    path("roster-imports/<int:id>/mapping/", RosterImportMappingApi.as_view(), name="roster_import_mapping"),
]

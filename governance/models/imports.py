"""Long jobs the spine runs in Celery: roster imports (花名册导入) and list exports (导出).

Roster imports: one row per uploaded sheet, with its progress and its report. The job is the unit of
idempotency (one job per uploader and idempotency key, so a double-submitted upload makes one job) and
of auditing (one IMPORT entry per job, with counts).

Exports: one row per requested Excel file, with its progress and the file itself (private, under
MEDIA_ROOT, served only to its requester); one EXPORT audit entry when the file is made, and one
more for every download.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from governance.models.regions import Region


class ImportMode(models.TextChoices):
    VALID_ONLY = "valid_only", _("导入有效行，跳过有误的行")
    ALL_OR_NOTHING = "all_or_nothing", _("全部成功才导入")


class ImportStatus(models.TextChoices):
    MAPPING = "mapping", _("待确认表头")
    QUEUED = "queued", _("排队中")
    VALIDATING = "validating", _("正在校验")
    IMPORTING = "importing", _("正在导入")
    SUCCEEDED = "succeeded", _("导入完成")
    FAILED = "failed", _("导入失败")
    REJECTED = "rejected", _("未导入")


# Where a job ends: the page stops polling and shows the report.
FINISHED_STATUSES = frozenset({ImportStatus.SUCCEEDED, ImportStatus.FAILED, ImportStatus.REJECTED})


class ImportJob(models.Model):
    """An uploaded roster and what became of it.

    `column_mapping` maps a sheet column (0-based index, as a string key) to a roster field name;
    `errors` is the report: [{"row", "column", "value", "reason"}, ...] in sheet order.
    """

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("上传人"), on_delete=models.PROTECT, related_name="+"
    )
    # The uploader's outermost region (for scoping the job list and the audit entry).
    region = models.ForeignKey(Region, verbose_name=_("所属区域"), on_delete=models.PROTECT, related_name="+")
    file = models.FileField(_("文件"), upload_to="roster_imports/%Y/%m/")
    original_name = models.CharField(_("原文件名"), max_length=200)
    mode = models.CharField(_("导入方式"), max_length=20, choices=ImportMode.choices)
    status = models.CharField(
        _("状态"), max_length=20, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    idempotency_key = models.CharField(_("防重复提交标识"), max_length=64)
    sheet_name = models.CharField(_("工作表"), max_length=100, blank=True)
    header_row = models.PositiveIntegerField(_("表头所在行"), default=1)
    headers = models.JSONField(_("表头"), default=list, blank=True)
    column_mapping = models.JSONField(_("列对应关系"), default=dict, blank=True)
    total_rows = models.PositiveIntegerField(_("数据行数"), default=0)
    processed_rows = models.PositiveIntegerField(_("已校验行数"), default=0)
    valid_rows = models.PositiveIntegerField(_("有效行数"), default=0)
    rejected_rows = models.PositiveIntegerField(_("有误行数"), default=0)
    imported_households = models.PositiveIntegerField(_("新建户数"), default=0)
    imported_residents = models.PositiveIntegerField(_("导入居民数"), default=0)
    errors = models.JSONField(_("错误报告"), default=list, blank=True)
    failure_message = models.CharField(_("失败原因"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("花名册导入")
        verbose_name_plural = _("花名册导入")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["uploaded_by", "idempotency_key"], name="import_job_unique_idempotency_key"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=ImportStatus.values), name="import_job_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(mode__in=ImportMode.values), name="import_job_mode_valid"
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="import_job_status_idx")]

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES


class ExportKind(models.TextChoices):
    HOUSEHOLDS = "households", _("户名单")
    RESIDENTS = "residents", _("居民名单")
    PARTY_MEMBERS = "party_members", _("党员名册")
    AUDIT_LOG = "audit_log", _("审计日志")


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("正在导出")
    DONE = "done", _("已完成")
    FAILED = "failed", _("导出失败")
    # The file was deleted after EXPORT_KEEP_DAYS; the row stays as a record of the request.
    EXPIRED = "expired", _("已过期")


EXPORT_FINISHED_STATUSES = frozenset({ExportStatus.DONE, ExportStatus.FAILED, ExportStatus.EXPIRED})


class ExportJob(models.Model):
    """A list exported to Excel for one user, and what became of it.

    `filters` are the list's filters as the requester chose them ({name: value}, strings); the rows are
    selected when the job runs, in the requester's scope at that time. `file` lives under MEDIA_ROOT,
    which is never served directly: only the requester downloads it, through a view that checks so.
    """

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("导出人"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("导出内容"), max_length=20, choices=ExportKind.choices)
    filters = models.JSONField(_("筛选条件"), default=dict, blank=True)
    # The filters as the requester read them (“网格：第一网格；标签：低保户”), for the job lists.
    summary = models.CharField(_("筛选说明"), max_length=300, blank=True)
    full_personal_data = models.BooleanField(_("含完整个人信息"), default=False)
    status = models.CharField(
        _("状态"), max_length=20, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    rows_done = models.PositiveIntegerField(_("已导出行数"), default=0)
    rows_total = models.PositiveIntegerField(_("总行数"), default=0)
    file = models.FileField(_("文件"), upload_to="exports/%Y/%m/", blank=True)
    file_name = models.CharField(_("文件名"), max_length=120)
    failure_message = models.CharField(_("失败原因"), max_length=300, blank=True)
    # Where the export's audit entries are filed (set when the file is made).
    region_path = models.CharField(_("所属区域路径"), max_length=255, blank=True)
    # The address the export was requested from: the worker's audit entry carries it.
    requested_ip = models.GenericIPAddressField(_("请求 IP 地址"), null=True, blank=True)
    idempotency_key = models.CharField(_("防重复提交标识"), max_length=64)
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("导出任务")
        verbose_name_plural = _("导出任务")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["requested_by", "idempotency_key"], name="export_job_unique_idempotency_key"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=ExportStatus.values), name="export_job_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=ExportKind.values), name="export_job_kind_valid"
            ),
            # A finished file is never without its file, and a file never outlives its job's DONE.
            models.CheckConstraint(
                condition=models.Q(status=ExportStatus.DONE, file__gt="")
                | (~models.Q(status=ExportStatus.DONE) & models.Q(file="")),
                name="export_job_file_iff_done",
            ),
        ]
        indexes = [
            models.Index(fields=["requested_by", "created_at"], name="export_job_requester_idx"),
            models.Index(fields=["status", "finished_at"], name="export_job_status_idx"),
        ]

    def __str__(self) -> str:
        return self.file_name

    @property
    def is_finished(self) -> bool:
        return self.status in EXPORT_FINISHED_STATUSES

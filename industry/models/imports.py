"""Sales imports from Excel: a job per uploaded sheet, validated row by row in Celery with a progress bar;
a sheet with any bad row is refused whole with a report of every bad row, and nothing is written."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SalesImportStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    VALIDATING = "validating", _("校验中")
    REJECTED = "rejected", _("有误未导入")
    WRITING = "writing", _("写入中")
    DONE = "done", _("已导入")
    FAILED = "failed", _("失败")


class SalesImportJob(models.Model):
    uploaded_by = models.ForeignKey(
        "governance.User", verbose_name=_("上传人"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The event the sheet is for (the sheet may also name events itself, within the uploader's scope).
    event = models.ForeignKey(
        "industry.Event",
        verbose_name=_("展会节会"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    region_path = models.CharField(_("所属区域路径"), max_length=255, blank=True)
    file = models.FileField(_("文件"), upload_to="sales_imports/%Y/%m/")
    original_name = models.CharField(_("原文件名"), max_length=200)
    status = models.CharField(
        _("状态"), max_length=12, choices=SalesImportStatus.choices, default=SalesImportStatus.QUEUED
    )
    idempotency_key = models.CharField(_("防重复提交标识"), max_length=64, unique=True)
    total_rows = models.PositiveIntegerField(_("数据行数"), default=0)
    processed_rows = models.PositiveIntegerField(_("已处理行数"), default=0)
    imported_rows = models.PositiveIntegerField(_("已导入行数"), default=0)
    rejected_rows = models.PositiveIntegerField(_("有误行数"), default=0)
    amount_fen = models.BigIntegerField(_("导入销售额（分）"), default=0)
    errors = models.JSONField(_("错误报告"), default=list, blank=True)
    failure_message = models.CharField(_("失败原因"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("销售导入")
        verbose_name_plural = _("销售导入")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.original_name

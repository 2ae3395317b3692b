"""The grid work log: a grid leader's work that is not a case — outreach sessions, household visits,
mediation sessions, Party-branch meetings (whose minutes link the cases they discussed)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkKind(models.TextChoices):
    OUTREACH = "outreach", _("政策宣传")
    VISIT = "visit", _("入户走访")
    MEDIATION = "mediation", _("矛盾调解")
    MEETING = "meeting", _("支部会议")


class WorkLogEntry(models.Model):
    grid = models.ForeignKey(
        "governance.Region", verbose_name=_("网格"), on_delete=models.PROTECT, related_name="work_log"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("记录人"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("工作类型"), max_length=10, choices=WorkKind.choices)
    occurred_on = models.DateField(_("日期"), db_index=True)
    topic = models.CharField(_("主题"), max_length=100)
    summary = models.TextField(_("内容"), max_length=4000, blank=True)
    attendees_count = models.PositiveIntegerField(_("参加人数"), null=True, blank=True)
    # A household visit names the household visited.
    household = models.ForeignKey(
        "governance.Household",
        verbose_name=_("走访户"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Meeting minutes link the cases the meeting discussed.
    cases = models.ManyToManyField(
        "grids.Case", verbose_name=_("讨论的诉求"), blank=True, related_name="work_log"
    )
    idempotency_key = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("网格工作记录")
        verbose_name_plural = _("网格工作记录")
        ordering = ["-occurred_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["author", "idempotency_key"], name="work_log_idempotency"),
            models.CheckConstraint(
                condition=~models.Q(kind="visit") | models.Q(household__isnull=False),
                name="work_log_visit_names_household",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_on} {self.topic}"


class WorkLogPhoto(models.Model):
    entry = models.ForeignKey(WorkLogEntry, on_delete=models.CASCADE, related_name="photos")
    image = models.FileField(_("照片"), upload_to="worklog/%Y/%m/")
    width = models.PositiveIntegerField(_("宽"))
    height = models.PositiveIntegerField(_("高"))
    size_bytes = models.PositiveIntegerField(_("大小"))
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("工作记录照片")
        verbose_name_plural = _("工作记录照片")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.entry_id} #{self.pk}"

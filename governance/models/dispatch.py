"""Task messages that could not reach the broker (Redis down) when their transaction committed: kept in
the database, which did commit, and sent again by a beat task once the broker answers (common/dispatch.py).
Nothing queued on commit is lost while Redis is away; the tasks claim their work with a conditional
UPDATE, so a message that did arrive after all and is sent again does nothing the second time."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PendingTask(models.Model):
    task = models.CharField(_("任务"), max_length=120)
    args = models.JSONField(_("参数"), default=list, blank=True)
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)
    attempts = models.PositiveIntegerField(_("重发次数"), default=0)
    last_error = models.CharField(_("最近的错误"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("待发送任务")
        verbose_name_plural = _("待发送任务")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.task}{tuple(self.args)}"

"""Cross-cutting tables. IdempotencyRecord makes any write exactly-once (design.md §4.5): the first request
with a key stores its answer; a replay with the same key and the same body gets that answer back, a replay
with the same key and a different body is refused (409). See common/idempotency.py."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class IdempotencyRecord(models.Model):
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # What kind of write the key was used for ("points.redemption", "points.award_propose" …).
    scope = models.CharField(_("操作"), max_length=60)
    key = models.CharField(_("防重复提交标识"), max_length=64)
    # SHA-256 of the request's canonical body: the same key with another body is a client error.
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(_("应答状态"))
    response = models.JSONField(_("应答内容"), default=dict)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("防重复提交记录")
        verbose_name_plural = _("防重复提交记录")
        constraints = [
            models.UniqueConstraint(fields=["actor", "scope", "key"], name="idempotency_record_unique"),
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_record_age")]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"

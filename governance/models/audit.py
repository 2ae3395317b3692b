"""The audit log: append-only (a PostgreSQL trigger refuses UPDATE and DELETE), written by services."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    CREATE = "create", _("新增")
    UPDATE = "update", _("修改")
    DELETE = "delete", _("删除")
    VIEW_PERSONAL_DATA = "view_pii", _("查看个人信息")
    EXPORT = "export", _("导出")
    IMPORT = "import", _("导入")
    GRANT = "grant", _("授权")
    REVOKE = "revoke", _("撤销授权")
    MOVE = "move", _("区划调整")
    LOGIN = "login", _("登录")


class AuditEvent(models.Model):
    """Who did what to which object, when, from where; `changes` holds {field: [before, after]}.

    `region_path` is the path of the region the object belongs to, so the log itself can be scoped.
    """

    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    # No database constraint and no cascade: deleting a user must neither fail nor rewrite the log.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_name = models.CharField(_("操作人姓名"), max_length=150, blank=True)
    action = models.CharField(_("操作"), max_length=20, choices=AuditAction.choices)
    object_type = models.CharField(_("对象类型"), max_length=60)
    object_id = models.CharField(_("对象编号"), max_length=40, blank=True)
    object_repr = models.CharField(_("对象"), max_length=200, blank=True)
    region_path = models.CharField(_("所属区域路径"), max_length=255, blank=True)
    changes = models.JSONField(_("变更内容"), default=dict, blank=True)
    detail = models.CharField(_("说明"), max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)

    class Meta:
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
            models.Index(fields=["actor", "at"], name="audit_actor_at_idx"),
            models.Index(fields=["action", "at"], name="audit_action_at_idx"),
            models.Index(
                fields=["region_path"], name="audit_region_prefix_idx", opclasses=["varchar_pattern_ops"]
            ),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.get_action_display()} {self.object_repr}"

"""Grids are regions of level "grid" (governance.Region); their leaders are elected residents with terms."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class GridLeader(models.Model):
    """百户网格长: a resident elected to lead a grid for a term. Past terms stay as history."""

    grid = models.ForeignKey(
        "governance.Region", verbose_name=_("网格"), on_delete=models.PROTECT, related_name="grid_leaders"
    )
    resident = models.ForeignKey(
        "governance.Resident",
        verbose_name=_("居民"),
        on_delete=models.PROTECT,
        related_name="grid_leader_terms",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登录账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="grid_leader_terms",
    )
    elected_on = models.DateField(_("当选日期"))
    term_end = models.DateField(_("任期届满"))
    ended_on = models.DateField(_("卸任日期"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("百户网格长")
        verbose_name_plural = _("百户网格长")
        ordering = ["grid", "-elected_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["grid"],
                condition=models.Q(ended_on__isnull=True),
                name="grid_leader_one_current_per_grid",
            ),
            models.CheckConstraint(
                condition=models.Q(term_end__gt=models.F("elected_on")), name="grid_leader_term"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.grid} · {self.resident}"

"""The sales rollup: net sales of an event pre-aggregated by day, by channel and platform, by product and by
exhibitor, so the event dashboard and the year's overview read a few hundred rows instead of scanning the
sales records (issue 7). Kept by a PostgreSQL trigger (industry/migrations/0004, industry/rollup.py)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class SalesRollupGrain(models.TextChoices):
    DAY = "day", _("按日")
    CHANNEL = "channel", _("按渠道和平台")
    PRODUCT = "product", _("按产品")
    EXHIBITOR = "exhibitor", _("按参展主体")


class SalesRollup(models.Model):
    """The net sales of one event at one grain: a day (a reversal counts on its original's day), a channel
    with its platform ("" offline), a product, or an exhibitor. The columns of the other grains are NULL.

    Written only by the AFTER INSERT trigger on industry_salesrecord (never by Django code): amounts and
    quantities are the sums of the records, `records` counts an original +1 and a reversal -1. A row whose
    records were all reversed stays with zeros, as the direct GROUP BY shows such a group too.
    """

    event = models.ForeignKey(
        "industry.Event",
        verbose_name=_("展会节会"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # the unique index starts with event
    )
    grain = models.CharField(_("汇总维度"), max_length=10, choices=SalesRollupGrain.choices)
    day = models.DateField(_("销售日期"), null=True, blank=True)
    channel = models.CharField(_("渠道"), max_length=10, null=True, blank=True)
    platform = models.CharField(_("线上平台"), max_length=30, null=True, blank=True)
    product = models.ForeignKey(
        "industry.Product",
        verbose_name=_("产品"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    exhibitor = models.ForeignKey(
        "industry.Exhibitor",
        verbose_name=_("参展主体"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    amount_fen = models.BigIntegerField(_("销售额（分）"))
    quantity = models.DecimalField(_("数量"), max_digits=20, decimal_places=2)
    records = models.BigIntegerField(_("记录数"))

    class Meta:
        db_table = "industry_sales_rollup"
        verbose_name = _("销售汇总")
        verbose_name_plural = _("销售汇总")
        constraints = [
            # The key the trigger's INSERT ... ON CONFLICT names; NULLs equal, so a grain's row is unique.
            models.UniqueConstraint(
                fields=["event", "grain", "day", "channel", "platform", "product", "exhibitor"],
                nulls_distinct=False,
                name="industry_sales_rollup_key",
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        grain="day",
                        day__isnull=False,
                        channel__isnull=True,
                        platform__isnull=True,
                        product__isnull=True,
                        exhibitor__isnull=True,
                    )
                    | Q(
                        grain="channel",
                        day__isnull=True,
                        channel__isnull=False,
                        platform__isnull=False,
                        product__isnull=True,
                        exhibitor__isnull=True,
                    )
                    | Q(
                        grain="product",
                        day__isnull=True,
                        channel__isnull=True,
                        platform__isnull=True,
                        product__isnull=False,
                        exhibitor__isnull=True,
                    )
                    | Q(
                        grain="exhibitor",
                        day__isnull=True,
                        channel__isnull=True,
                        platform__isnull=True,
                        product__isnull=True,
                        exhibitor__isnull=False,
                    )
                ),
                name="industry_sales_rollup_grain",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} {self.grain} {self.amount_fen}"

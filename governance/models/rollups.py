"""Rollup facts (design.md §5): the base grain the dashboards read instead of the source tables.

MetricFact holds one summed value per (metric, day, region as it was when the events happened); a
higher level or a longer period is a GROUP BY on its columns. MetricMember holds the members behind a
distinct count (people served, households awarded) per month, so a distinct count is exact at every
level instead of a sum of children. The region ids are plain integers, not foreign keys: they record
where an event was at the time, and the facts are rewritten in bulk by governance/rollups/engine.py.

A level that does not apply is 0: grid 0 for a village-grain source (a canteen, a village's collective
income), village 0 for a record of a whole township (a town's tourism figures). That is why the key
carries the township: two townships' village-0 rows of one day must not collide.
"""

from __future__ import annotations

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils.translation import gettext_lazy as _

# On PostgreSQL a metric's name is stored as a value of this enum type (migration 0009): four bytes in
# every fact row and index entry instead of a varchar of up to 60, compared as a number. A full rebuild
# builds the facts' three B-trees over millions of rows, and with the varchar key that sort was most of
# its time (docs/benchmarks.md: 24–26 s against 10 s for 4.2 M facts). Reads and writes still use the
# names: a quoted name is an enum literal, a list of them needs `::rollup_metric[]`. A metric registered
# later is added to the type after every migrate (governance.apps: metric_type_sync).
METRIC_TYPE = "rollup_metric"


class MetricNameField(models.CharField):
    """A registered metric's name: the enum rollup_metric on PostgreSQL, a varchar elsewhere (the
    embedded SQLite demo stores the tables but runs no pass)."""

    def db_type(self, connection: BaseDatabaseWrapper) -> str | None:
        if connection.vendor == "postgresql":
            return METRIC_TYPE
        return super().db_type(connection)

    def cast_db_type(self, connection: BaseDatabaseWrapper) -> str | None:
        return self.db_type(connection)


class MetricFact(models.Model):
    pk = models.CompositePrimaryKey("metric", "day", "township_id", "village_id", "grid_id")
    metric = MetricNameField(_("指标"), max_length=60)
    day = models.DateField(_("日期"))
    county_id = models.IntegerField(_("县"))
    township_id = models.IntegerField(_("乡镇"))
    village_id = models.IntegerField(_("村（社区）"))
    grid_id = models.IntegerField(_("网格"), default=0, db_default=0)
    value = models.BigIntegerField(_("数值"))

    class Meta:
        verbose_name = _("指标日数据")
        verbose_name_plural = _("指标日数据")
        # The primary key serves the day-cell rewrites (metric, day) and the reads of a metric's days;
        # this one a village's (or a grid's) page without reading the rest of the county. A county's and
        # a township's pages read the coarser facts (VillageDayFact, VillageMonthFact), so the facts
        # carry no township index (migration 0012 dropped it: ~2 s of every rebuild's index builds).
        indexes = [
            models.Index(fields=["metric", "village_id", "day"], name="rollup_fact_village"),
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.day} {self.village_id}/{self.grid_id} = {self.value}"


class CoarseFact(models.Model):
    """The facts summed over the grids of each village (design.md §5's coarser facts): what a county's or a
    township's dashboard reads instead of the day × grid rows (a county year of points.issued is about a
    million of those, and about a hundred thousand of these per day grain, three thousand per month).

    PostgreSQL keeps them: statement-level triggers on the facts table add each statement's changes
    (migration 0010, governance/rollups/coarse.py), so they are exact at every commit, and the full
    rebuild builds them with the facts. A value may be left at 0 where facts were deleted.
    `rollup --verify` compares them with the facts."""

    metric = MetricNameField(_("指标"), max_length=60)
    county_id = models.IntegerField(_("县"))
    township_id = models.IntegerField(_("乡镇"))
    village_id = models.IntegerField(_("村（社区）"))
    value = models.BigIntegerField(_("数值"))

    class Meta:
        abstract = True


class VillageDayFact(CoarseFact):
    pk = models.CompositePrimaryKey("metric", "day", "township_id", "village_id")
    day = models.DateField(_("日期"))

    class Meta:
        verbose_name = _("村级指标日数据")
        verbose_name_plural = _("村级指标日数据")
        # No index but the primary key: a township's read of a few weeks' days walks the county's
        # rows of those days (a few hundred per metric and day) and skips the other townships'.

    def __str__(self) -> str:
        return f"{self.metric} {self.day} {self.village_id} = {self.value}"


class VillageMonthFact(CoarseFact):
    pk = models.CompositePrimaryKey("metric", "month", "township_id", "village_id")
    month = models.DateField(_("月份"))

    class Meta:
        verbose_name = _("村级指标月数据")
        verbose_name_plural = _("村级指标月数据")

    def __str__(self) -> str:
        return f"{self.metric} {self.month:%Y-%m} {self.village_id} = {self.value}"


class MetricMember(models.Model):
    """One member (a resident, a household, a product) counted by a distinct metric in a month."""

    pk = models.CompositePrimaryKey("metric", "month", "township_id", "village_id", "grid_id", "member_id")
    metric = MetricNameField(_("指标"), max_length=60)
    month = models.DateField(_("月份"))
    county_id = models.IntegerField(_("县"))
    township_id = models.IntegerField(_("乡镇"))
    village_id = models.IntegerField(_("村（社区）"))
    grid_id = models.IntegerField(_("网格"), default=0, db_default=0)
    member_id = models.BigIntegerField(_("对象"))

    class Meta:
        verbose_name = _("指标去重对象")
        verbose_name_plural = _("指标去重对象")
        # The primary key serves the county's and the incremental pass's reads (metric, month, …); a
        # village's distinct count reads its township's rows (a tenth of the county) and filters.
        indexes = [
            models.Index(fields=["metric", "township_id", "month"], name="rollup_member_township"),
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.month:%Y-%m} {self.member_id}"


class MemberYear(models.Model):
    """The members behind a distinct metric per calendar year at the county and at each township
    (design.md §5's coarser grain for distinct counts): a county's year — and each of its townships' —
    counts rows here (a person served in two villages of a township is one row there) instead of
    de-duplicating a year of monthly grid members (a county year of points.households_awarded is about
    300,000 of those). A township's villages are counted from the members (a tenth of the county's).

    `level` 1 county (parent 0), 2 township (parent: its county). `support` is the number of member
    rows (month, grid) behind the row; PostgreSQL keeps it with statement-level triggers on the members
    table (migration 0011, governance/rollups/coarse.py) and deletes a row when it reaches 0; the full
    rebuild builds it with the members; `rollup --verify` compares it with them."""

    # The primary key serves both reads: a region's own rows (metric, year, level, region) and a
    # county's townships (metric, year, level 2: every township row of the year is the county's).
    pk = models.CompositePrimaryKey("metric", "year", "level", "region_id", "parent_id", "member_id")
    metric = MetricNameField(_("指标"), max_length=60)
    year = models.SmallIntegerField(_("年份"))
    level = models.SmallIntegerField(_("层级"))
    region_id = models.IntegerField(_("区域"))
    parent_id = models.IntegerField(_("上级区域"))
    member_id = models.BigIntegerField(_("对象"))
    support = models.IntegerField(_("月度记录数"))

    class Meta:
        verbose_name = _("指标年度去重对象")
        verbose_name_plural = _("指标年度去重对象")

    def __str__(self) -> str:
        return f"{self.metric} {self.year} L{self.level}/{self.region_id} {self.member_id}"


class RollupWatermark(models.Model):
    """How far a source feed has been read: the last id (append-only tables) or the last updated_at
    (mutable ones). Advanced in the same transaction as the facts it accounts for."""

    feed = models.CharField(_("数据源"), max_length=80, primary_key=True)
    position = models.BigIntegerField(_("已读到的编号"), default=0)
    moment = models.DateTimeField(_("已读到的时间"), null=True, blank=True)
    # Ranges of ids at or below `position` no visible row held when it was read: handed to transactions
    # that had not committed yet (or rolled back). [[first, last, first missed (ISO time)], …]; each is
    # read again by every pass until its rows appear or ROLLUP_TIME_OVERLAP_SECONDS have passed.
    pending = models.JSONField(_("待补读编号"), default=list, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("汇总水位")
        verbose_name_plural = _("汇总水位")

    def __str__(self) -> str:
        return f"{self.feed} @ {self.position or self.moment}"


class RollupKind(models.TextChoices):
    INCREMENTAL = "incremental", _("增量汇总")
    NIGHTLY = "nightly", _("夜间重算")
    FULL = "full", _("全量重建")
    VERIFY = "verify", _("核对")


class RollupStatus(models.TextChoices):
    RUNNING = "running", _("运行中")
    OK = "ok", _("完成")
    SKIPPED = "skipped", _("已跳过（另一次运行中）")
    DIFFERENT = "different", _("核对不一致")
    FAILED = "failed", _("失败")


class RollupRun(models.Model):
    """One run of the rollup (or its verification): what the data-quality panel shows as the last
    rollup time and the last --verify result."""

    kind = models.CharField(_("类型"), max_length=12, choices=RollupKind.choices)
    status = models.CharField(
        _("状态"), max_length=10, choices=RollupStatus.choices, default=RollupStatus.RUNNING
    )
    started_at = models.DateTimeField(_("开始时间"))
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    detail = models.JSONField(_("详情"), default=dict, blank=True)

    class Meta:
        verbose_name = _("汇总运行记录")
        verbose_name_plural = _("汇总运行记录")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["kind", "-started_at"], name="rollup_run_kind_started")]

    def __str__(self) -> str:
        return f"{self.kind} {self.started_at:%Y-%m-%d %H:%M} {self.status}"

"""The metric registry: what each app counts, from which source rows, and how it aggregates.

Apps declare their metrics and sources in `<app>/metrics.py` by calling `register()`; the registry
imports the modules named in settings.ROLLUP_METRIC_MODULES (default DEFAULT_MODULES) once, on first
use. A metric is read by the selectors (governance/rollups/selectors.py); a source is what the engine
(governance/rollups/engine.py) recomputes facts from.

A source is one or more SQL parts. Every part selects, per source row:
    at         timestamptz  when the event happened (the region path is taken as it was then)
    day        date         the fact's day (a distinct source: the first day of the month)
    region_id  bigint       the grid (or village, or township) the row belongs to
then, for a summed source, one column per metric named m0, m1, … in the order of `metrics`, or, for a
distinct source, `member_id`. Each part's SQL carries `{filter}` in its WHERE clause, where the engine
puts the time ranges, the regions or the members it recomputes (TRUE for everything). Named
parameters: %(tz)s is the local time zone; the filter's own are generated.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from django.conf import settings
from django.utils.functional import Promise

DEFAULT_MODULES = ["grids.metrics", "points.metrics", "canteens.metrics", "industry.metrics"]

TimeAgg = Literal["sum", "last"]


@dataclass(frozen=True)
class Metric:
    """One figure on the dashboard. `time_agg` "sum": a period's value is the sum of its days; "last":
    the facts are daily net changes and a period's value is their running sum up to the period's end
    (a balance). A distinct metric is a COUNT(DISTINCT member) over the period's months."""

    name: str
    label: str | Promise
    unit: str | Promise
    source: str
    time_agg: TimeAgg = "sum"
    distinct: bool = False


@dataclass(frozen=True)
class Part:
    """One SELECT of a source (see the module docstring for its columns).

    `time_filter` restricts it to one range of days: a condition on its time column with {lo} and {hi}
    (the range's first day and the day after its last; local midnights as timestamptz when the source's
    `time_kind` is "timestamp", dates when "date"), which should let PostgreSQL use an index.
    `region_column` is the expression of its region id (the full rebuild filters by township through
    it); `member_column` the member's (a distinct source's incremental pass filters by it); `id_column`
    the id of its feed's rows (a source whose members only grow reads its new rows by it)."""

    sql: str
    time_filter: str
    region_column: str
    member_column: str = ""
    id_column: str = ""


@dataclass(frozen=True)
class Feed:
    """Where a source learns which of its facts changed: rows of `table` beyond a watermark.

    kind "id": append-only rows, read by id: `touched_sql` carries `{ids}` in its WHERE clause, where
    the engine puts the new ids (beyond the watermark) and the ids it is still waiting for, on
    `id_column`; kind "updated_at": mutable rows, read by their update time (`touched_sql` sees
    updated_at > %(since)s). `touched_sql` selects the fact days (a summed source) or the (month,
    member_id) pairs (a distinct source) those rows touch."""

    name: str
    table: str
    touched_sql: str
    kind: Literal["id", "updated_at"] = "id"
    id_column: str = "id"


@dataclass(frozen=True)
class Source:
    name: str
    metrics: tuple[str, ...]
    parts: tuple[Part, ...]
    feeds: tuple[Feed, ...]
    time_kind: Literal["timestamp", "date"] = "timestamp"
    distinct: bool = False
    # A distinct source whose rule no later row can take a member out of (a household "with an award
    # posting in the month" stays one after a reversal): its feed's new rows can only add (month, member)
    # pairs, so the incremental pass inserts the pairs of the new rows alone (ON CONFLICT DO NOTHING)
    # instead of recomputing the touched pairs from all their rows. It needs one id feed (append-only
    # rows) and each part's `id_column`. The nightly window and the full rebuild still recompute.
    members_only_grow: bool = False
    # A distinct source whose rows are a subset of a summed source's rows (the same joins, a narrower
    # filter) may say so, so that the full rebuild reads those rows once for both: (the summed source's
    # name, the column of that source's parts holding this source's member id, NULL for rows that are
    # not members). The rebuild then counts DISTINCT (month of day, region, that column) over the summed
    # source's rows where it is not NULL; every other pass and --verify use this source's own parts,
    # which must select exactly those members (tests/rollups prove the two agree).
    rebuilt_from: tuple[str, str] | None = None
    # What a reader should know about the rule (docs/rollups.md lists them).
    rule: str = ""


@dataclass
class Registry:
    metrics: dict[str, Metric] = field(default_factory=dict)
    sources: dict[str, Source] = field(default_factory=dict)
    loaded: bool = False


_REGISTRY = Registry()


def register(*, source: Source, metrics: Iterable[Metric]) -> None:
    """Declare a source and the metrics it feeds (called at import time of an app's metrics.py)."""
    metrics = list(metrics)
    names = tuple(m.name for m in metrics)
    if names != source.metrics:
        raise ValueError(f"source {source.name}: metrics {names} do not match {source.metrics}")
    if source.distinct and len(names) != 1:
        raise ValueError(f"distinct source {source.name} feeds exactly one metric")
    if source.members_only_grow and not (
        source.distinct
        and len(source.feeds) == 1
        and source.feeds[0].kind == "id"
        and all(part.id_column for part in source.parts)
    ):
        raise ValueError(
            f"source {source.name}: members_only_grow needs a distinct source, one id feed and each "
            "part's id_column"
        )
    if source.rebuilt_from is not None:
        base = _REGISTRY.sources.get(source.rebuilt_from[0])
        if not source.distinct or base is None or base.distinct or base.time_kind != source.time_kind:
            raise ValueError(
                f"source {source.name}: rebuilt_from names a summed source registered before it, of the "
                "same time kind, and only a distinct source may be rebuilt from one"
            )
    for metric in metrics:
        if metric.source != source.name or metric.distinct != source.distinct:
            raise ValueError(f"metric {metric.name} does not match its source {source.name}")
        _REGISTRY.metrics[metric.name] = metric
    _REGISTRY.sources[source.name] = source


def _load() -> Registry:
    if not _REGISTRY.loaded:
        for module in getattr(settings, "ROLLUP_METRIC_MODULES", DEFAULT_MODULES):
            importlib.import_module(module)
        _REGISTRY.loaded = True
    return _REGISTRY


def metrics() -> dict[str, Metric]:
    """Every declared metric by name."""
    return dict(_load().metrics)


def sources() -> dict[str, Source]:
    """Every declared source by name, in declaration order."""
    return dict(_load().sources)


def metric_get(name: str) -> Metric | None:
    return _load().metrics.get(name)


def source_of(metric_name: str) -> Source:
    registry = _load()
    return registry.sources[registry.metrics[metric_name].source]

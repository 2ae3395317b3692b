"""python manage.py rollup [--full] [--verify] [--since DATE] [--metric NAME]

Default: the incremental pass. --full: rebuild every fact township by township. --since DATE: recompute
the days from DATE to today. --verify: compare every fact (days ≥ --since) with a direct aggregate over
the source rows — and the sales rollup (industry/rollup.py, kept by a trigger, not by these passes) with
the sales records; prints each difference and exits 1, or prints one line and exits 0 when exact.
--metric NAME limits any of these to the source feeding that metric (all of that source's metrics).
Every pass except --verify takes the rollup lock; when another run holds it, it says so and exits 0.
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from governance.models import RollupStatus
from governance.rollups import engine, registry, runs


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"--since wants a date like 2026-01-31, not {value!r}") from error


class Command(BaseCommand):
    help = "Roll the source records up into the dashboard facts, or verify the facts (docs/rollups.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--full", action="store_true", help="rebuild every fact, township by township")
        parser.add_argument("--verify", action="store_true", help="compare the facts with the source rows")
        parser.add_argument("--since", type=_date, help="only days from this date (YYYY-MM-DD)")
        parser.add_argument("--metric", help="only the source of this metric, e.g. points.issued")

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("the rollups need PostgreSQL (DATABASE_URL=postgres://...)")
        metric = options["metric"]
        since = options["since"]
        if metric is not None and registry.metric_get(metric) is None:
            raise CommandError(f"unknown metric {metric!r}; known: {', '.join(sorted(registry.metrics()))}")
        if options["full"] and (since or options["verify"]):
            raise CommandError("--full rebuilds everything: use it without --since and --verify")
        if options["verify"]:
            self._verify(since=since, metric=metric)
            return
        if options["full"]:
            outcome = runs.full_inline(metric=metric)
        elif since is not None:
            outcome = runs.window(since=since, metric=metric)
        else:
            outcome = runs.incremental(metric=metric)
        if outcome["status"] == RollupStatus.SKIPPED:
            self.stdout.write("skipped: another rollup run holds the lock")
            return
        for name, figures in outcome.get("sources", {}).items():
            self.stdout.write(
                f"{name}: {figures['rows']} rows"
                + (f" from {figures['keys']} touched keys" if figures["keys"] else "")
                + (" (whole source)" if figures["full"] else "")
                + f" in {figures['seconds']:.3f} s"
            )
        self.stdout.write(f"done in {outcome['seconds']:.3f} s")

    def _verify(self, *, since: dt.date | None, metric: str | None) -> None:
        from industry.rollup import sales_rollup_verify

        result = engine.verify_recorded(since=since, metric=metric)
        # Checked whole (it has no --since) unless --metric names another app's metric.
        sales = sales_rollup_verify() if metric is None or metric.startswith("industry.") else []
        if result.is_exact and not sales:
            self.stdout.write(
                f"exact: {result.facts} facts and {result.members} member rows match the source rows"
                + (f" (days from {since})" if since else "")
                + f" in {result.seconds:.2f} s"
            )
            return
        for difference in result.differences:
            self.stdout.write(difference.line())
        for sales_difference in sales:
            self.stdout.write(sales_difference.line())
        self.stderr.write(
            f"{len(result.differences) + len(sales)} differences between the facts and the source rows"
        )
        sys.exit(1)

"""The sales rollup (industry_sales_rollup, industry.models.SalesRollup): how it is kept, checked and rebuilt.

Why a trigger and not the project's rollup engine (governance/rollups, design.md §5): the engine's facts are
(metric, grid, day) counts caught up by Celery beat, minutes behind, and an event's sales belong to no grid.
The dashboards must show an import's sales the moment the import's page says it is done. SalesRecord is
append-only (a correction is a new reversing record; UPDATE and DELETE are refused by a trigger, 0002), so
the rollup only ever has deltas to add: a statement-level AFTER INSERT trigger with a transition table adds
each statement's records in one grouped upsert (industry/migrations/0004). It is part of the inserting
transaction, so the rollup is exact at every commit, for page and API entries, COPY imports and
bulk_create seeds alike.

The grain: four grouping sets of one event's records, each with net amount, net quantity and net record
count (an original +1, a reversal -1):

- ``day``: the day the sale counts on (a reversal counts on its original's day, though dated later);
- ``channel``: channel and platform ("" offline);
- ``product`` and ``exhibitor``: the product and the exhibitor (one business at one event).

That is every figure of both dashboards: totals and channels from ``channel``, the line by day from
``day``, products, categories and kinds of products from ``product`` joined to the catalogue, exhibitors
(and businesses selling) from ``exhibitor`` joined to the businesses, an event's amount in the year's
overview from its ``channel`` rows, towns from the events. Categories, businesses and villages are read
through the small dimension tables at query time, so re-filing a product under another category moves its
history as the direct GROUP BY would. A finer single grain (event, day, exhibitor, product, channel,
platform) would not shrink: 200,000 records of 200 exhibitors and 1,000 products over ten days are almost
200,000 such keys. The four sets keep an event at days + channels + products + exhibitors rows (1,216 for
the benchmark's event) whatever the number of records.

Concurrent inserts of one event's sales upsert the same rows and so wait for each other's commit; the rows
are upserted in key order so two such transactions cannot deadlock on them.

On SQLite (the demo) there is no trigger: the rollup stays empty and the dashboards answer with the direct
GROUP BY (industry/selectors/dashboard.py, ``direct``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Case, IntegerField, Sum, Value, When
from django.db.models.functions import Coalesce

from industry.models import SalesRecord, SalesRollup

# The grouped upsert of the trigger (industry/migrations/0004), here for the rebuild.
ADD_SQL = """
INSERT INTO industry_sales_rollup AS r
    (event_id, grain, day, channel, platform, product_id, exhibitor_id, amount_fen, quantity, records)
SELECT s.event_id,
       CASE WHEN GROUPING(s.day) = 0 THEN 'day'
            WHEN GROUPING(s.channel) = 0 THEN 'channel'
            WHEN GROUPING(s.product_id) = 0 THEN 'product'
            ELSE 'exhibitor' END,
       s.day, s.channel, s.platform, s.product_id, s.exhibitor_id,
       SUM(s.amount_fen), SUM(s.quantity), SUM(s.records)
FROM (
    SELECT n.event_id, n.exhibitor_id, n.product_id, n.channel, n.platform, n.amount_fen, n.quantity,
           CASE WHEN n.reverses_id IS NULL THEN 1 ELSE -1 END AS records,
           CASE WHEN n.reverses_id IS NULL THEN n.sold_on
                ELSE (SELECT o.sold_on FROM industry_salesrecord o WHERE o.id = n.reverses_id) END AS day
    FROM {source} n
) s
GROUP BY GROUPING SETS ((s.event_id, s.day), (s.event_id, s.channel, s.platform),
                        (s.event_id, s.product_id), (s.event_id, s.exhibitor_id))
ORDER BY 1, 2, 3, 4, 5, 6, 7
ON CONFLICT (event_id, grain, day, channel, platform, product_id, exhibitor_id) DO UPDATE
SET amount_fen = r.amount_fen + EXCLUDED.amount_fen,
    quantity = r.quantity + EXCLUDED.quantity,
    records = r.records + EXCLUDED.records
"""

# (grain, day, channel, platform, product_id, exhibitor_id)
Key = tuple[str, Any, Any, Any, Any, Any]


@dataclass(frozen=True)
class RollupDifference:
    """One rollup row that is not what a direct GROUP BY over the sales records gives."""

    event_id: int
    key: Key
    stored: tuple[int, Decimal, int] | None  # (amount_fen, quantity, records); None: missing
    computed: tuple[int, Decimal, int] | None  # None: in the rollup only

    def line(self) -> str:
        grain, day, channel, platform, product_id, exhibitor_id = self.key
        where = {
            "day": f"day={day}",
            "channel": f"channel={channel} platform={platform!r}",
            "product": f"product={product_id}",
            "exhibitor": f"exhibitor={exhibitor_id}",
        }[grain]
        if self.stored is None:
            state = f"missing (source {self._figures(self.computed)})"
        elif self.computed is None:
            state = f"rollup only ({self._figures(self.stored)})"
        else:
            state = f"rollup {self._figures(self.stored)} vs source {self._figures(self.computed)}"
        return f"industry.sales_rollup event={self.event_id} {grain} {where}: {state}"

    @staticmethod
    def _figures(figures: tuple[int, Decimal, int] | None) -> str:
        amount, quantity, records = figures or (0, Decimal(0), 0)
        return f"amount_fen={amount} quantity={quantity} records={records}"


def is_kept() -> bool:
    """True where the trigger keeps the rollup (PostgreSQL); the dashboards read it only then."""
    return connection.vendor == "postgresql"


def sales_rollup_direct(
    event_ids: Iterable[int] | None = None,
) -> dict[tuple[int, Key], tuple[int, Decimal, int]]:
    """The rollup's rows as a direct GROUP BY over SalesRecord computes them (four queries), keyed by
    (event_id, (grain, day, channel, platform, product_id, exhibitor_id))."""
    sales = SalesRecord.objects.all()
    if event_ids is not None:
        sales = sales.filter(event_id__in=list(event_ids))
    records = Sum(
        Case(When(reverses__isnull=True, then=Value(1)), default=Value(-1), output_field=IntegerField())
    )
    figures = {"amount": Sum("amount_fen"), "qty": Coalesce(Sum("quantity"), Value(Decimal(0))), "n": records}
    out: dict[tuple[int, Key], tuple[int, Decimal, int]] = {}

    def put(event_id: int, key: Key, row: dict[str, Any]) -> None:
        out[(event_id, key)] = (int(row["amount"]), Decimal(row["qty"]), int(row["n"]))

    by_day = (
        sales.annotate(day=Coalesce("reverses__sold_on", "sold_on"))
        .values("event_id", "day")
        .annotate(**figures)
    )
    for row in by_day:
        put(row["event_id"], ("day", row["day"], None, None, None, None), row)
    for row in sales.values("event_id", "channel", "platform").annotate(**figures):
        put(row["event_id"], ("channel", None, row["channel"], row["platform"], None, None), row)
    for row in sales.values("event_id", "product_id").annotate(**figures):
        put(row["event_id"], ("product", None, None, None, row["product_id"], None), row)
    for row in sales.values("event_id", "exhibitor_id").annotate(**figures):
        put(row["event_id"], ("exhibitor", None, None, None, None, row["exhibitor_id"]), row)
    return out


def sales_rollup_stored(
    event_ids: Iterable[int] | None = None,
) -> dict[tuple[int, Key], tuple[int, Decimal, int]]:
    """The rollup's rows as stored, keyed like sales_rollup_direct()."""
    rows = SalesRollup.objects.all()
    if event_ids is not None:
        rows = rows.filter(event_id__in=list(event_ids))
    return {
        (
            row["event_id"],
            (
                row["grain"],
                row["day"],
                row["channel"],
                row["platform"],
                row["product_id"],
                row["exhibitor_id"],
            ),
        ): (int(row["amount_fen"]), Decimal(row["quantity"]), int(row["records"]))
        for row in rows.values(
            "event_id",
            "grain",
            "day",
            "channel",
            "platform",
            "product_id",
            "exhibitor_id",
            "amount_fen",
            "quantity",
            "records",
        )
    }


def sales_rollup_verify(event_ids: Iterable[int] | None = None) -> list[RollupDifference]:
    """Every difference between the rollup and a direct GROUP BY over the sales records (of `event_ids`, or
    all), ordered by event and key; an empty list when the rollup is exact. Read in one REPEATABLE READ
    snapshot would be stricter; run it where no sales are being written (the tests, `rollup --verify`)."""
    ids = None if event_ids is None else list(event_ids)
    with transaction.atomic():
        stored = sales_rollup_stored(ids)
        computed = sales_rollup_direct(ids)
    differences = [
        RollupDifference(event_id=key[0], key=key[1], stored=stored.get(key), computed=computed.get(key))
        for key in stored.keys() | computed.keys()
        if stored.get(key) != computed.get(key)
    ]
    differences.sort(key=lambda d: (d.event_id, tuple("" if v is None else str(v) for v in d.key)))
    return differences


def sales_rollup_rebuild() -> int:
    """Recompute the whole rollup from the sales records (a repair after a verification found a difference;
    never needed in normal running). Locks the sales table against inserts meanwhile. Returns the rows
    written. PostgreSQL only."""
    if not is_kept():
        raise RuntimeError("the sales rollup is kept on PostgreSQL only")
    with transaction.atomic(), connection.cursor() as cursor:
        # SHARE mode: inserts (which take ROW EXCLUSIVE) wait, readers do not.
        cursor.execute("LOCK TABLE industry_salesrecord IN SHARE MODE")
        cursor.execute("DELETE FROM industry_sales_rollup")
        cursor.execute(ADD_SQL.format(source="industry_salesrecord"))
        return int(cursor.rowcount)


__all__ = [
    "RollupDifference",
    "is_kept",
    "sales_rollup_direct",
    "sales_rollup_rebuild",
    "sales_rollup_stored",
    "sales_rollup_verify",
]

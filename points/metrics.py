"""The points app's rollup metrics (governance/rollups/registry.py), read from the ledger's postings on
household accounts, per grid (the household's grid) and day.

How a posting counts is points.selectors.reports' rule: a reversal counts under the kind of the
transaction it reverses, a returned item (a reversal naming no original, with a RedemptionReturn)
under redemption. So:
- issued    = Σ amount of award postings, net of reversed awards;
- redeemed  = Σ −amount of redemption postings, net of returns;
- balance   = Σ amount of every posting: the households' daily net change, read as a running sum
              ("last": the balance at the period's end);
- households_awarded = distinct households with an award posting in the month (a later reversal does
  not take the household out).
The day is the posting's created_at (as the report reads it). Postings are append-only: read by id.
Postings have no index on created_at; the day's rows are found through their transactions' indexed
created_at (a posting is written in its transaction's statement, so the two times are microseconds
apart: an hour's slack on the transaction's time, the exact bound on the posting's).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from governance.models import Household
from governance.rollups.registry import Feed, Metric, Part, Source, register
from points.models import Account, LedgerTransaction, Posting, RedemptionReturn

POSTINGS = Posting._meta.db_table
TRANSACTIONS = LedgerTransaction._meta.db_table
ACCOUNTS = Account._meta.db_table
HOUSEHOLDS = Household._meta.db_table
RETURNS = RedemptionReturn._meta.db_table

DAY = "(p.created_at AT TIME ZONE %(tz)s)::date"
MONTH = "date_trunc('month', p.created_at AT TIME ZONE %(tz)s)::date"
TIME_FILTER = (
    "t.created_at >= {lo} - interval '1 hour' AND t.created_at < {hi} + interval '1 hour' "
    "AND p.created_at >= {lo} AND p.created_at < {hi}"
)
EFFECTIVE_KIND = (
    "CASE WHEN t.kind <> 'reversal' THEN t.kind WHEN t.reverses_id IS NOT NULL THEN o.kind "
    "WHEN rr.id IS NOT NULL THEN 'redemption' ELSE 'adjustment' END"
)

register(
    source=Source(
        name="points.postings",
        metrics=("points.issued", "points.redeemed", "points.balance"),
        parts=(
            Part(
                sql=(
                    f"SELECT p.created_at AS at, {DAY} AS day, h.grid_id AS region_id, "  # noqa: S608
                    f"CASE WHEN {EFFECTIVE_KIND} = 'award' THEN p.amount ELSE 0 END AS m0, "
                    f"CASE WHEN {EFFECTIVE_KIND} = 'redemption' THEN -p.amount ELSE 0 END AS m1, "
                    "p.amount AS m2, "
                    # points.households_awarded's member, for the full rebuild that reads these rows once
                    # for both sources (its rebuilt_from): NULL unless an award posting of points.
                    "CASE WHEN t.kind = 'award' AND p.amount > 0 THEN a.household_id END "
                    "AS awarded_household "
                    f"FROM {POSTINGS} p JOIN {TRANSACTIONS} t ON t.id = p.transaction_id "
                    f"JOIN {ACCOUNTS} a ON a.id = p.account_id AND a.kind = 'household' "
                    f"JOIN {HOUSEHOLDS} h ON h.id = a.household_id "
                    f"LEFT JOIN {TRANSACTIONS} o ON o.id = t.reverses_id "
                    f"LEFT JOIN {RETURNS} rr ON rr.transaction_id = t.id "
                    "WHERE {filter}"
                ),
                time_filter=TIME_FILTER,
                region_column="h.grid_id",
            ),
        ),
        feeds=(
            Feed(
                name="points.postings",
                table=POSTINGS,
                id_column="p.id",
                touched_sql=(
                    f"SELECT DISTINCT {DAY} FROM {POSTINGS} p "  # noqa: S608
                    "WHERE {ids}"
                ),
            ),
        ),
        rule="Posting on a household account, by Posting.created_at",
    ),
    metrics=[
        Metric("points.issued", _("发放积分"), _("分"), source="points.postings"),
        Metric("points.redeemed", _("兑换积分"), _("分"), source="points.postings"),
        Metric("points.balance", _("积分余额"), _("分"), source="points.postings", time_agg="last"),
    ],
)

register(
    source=Source(
        name="points.households_awarded",
        metrics=("points.households_awarded",),
        distinct=True,
        parts=(
            Part(
                sql=(
                    f"SELECT p.created_at AS at, {MONTH} AS day, h.grid_id AS region_id, "  # noqa: S608
                    "a.household_id AS member_id "
                    f"FROM {POSTINGS} p "
                    f"JOIN {TRANSACTIONS} t ON t.id = p.transaction_id AND t.kind = 'award' "
                    f"JOIN {ACCOUNTS} a ON a.id = p.account_id AND a.kind = 'household' "
                    f"JOIN {HOUSEHOLDS} h ON h.id = a.household_id "
                    "WHERE p.amount > 0 AND {filter}"
                ),
                time_filter=TIME_FILTER,
                region_column="h.grid_id",
                member_column="a.household_id",
                id_column="p.id",
            ),
        ),
        feeds=(
            Feed(
                name="points.households_awarded",
                table=POSTINGS,
                id_column="p.id",
                touched_sql=(
                    f"SELECT DISTINCT {MONTH}, a.household_id FROM {POSTINGS} p "  # noqa: S608
                    f"JOIN {TRANSACTIONS} t ON t.id = p.transaction_id AND t.kind = 'award' "
                    f"JOIN {ACCOUNTS} a ON a.id = p.account_id AND a.kind = 'household' "
                    "WHERE {ids} AND p.amount > 0"
                ),
            ),
        ),
        rule="household with an award posting in the month",
        # A reversal is a new transaction of kind 'reversal': it never takes a household out, and
        # postings are append-only, so a pass adds the new award postings' (month, household) pairs.
        members_only_grow=True,
        # Its rows are points.postings' award postings of points: the full rebuild reads the 10 million
        # postings once for both.
        rebuilt_from=("points.postings", "awarded_household"),
    ),
    metrics=[
        Metric(
            "points.households_awarded",
            _("获奖农户"),
            _("户"),
            source="points.households_awarded",
            distinct=True,
        ),
    ],
)

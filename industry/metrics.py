"""The industry app's rollup metrics (governance/rollups/registry.py).

Sales (industry.selectors.dashboard's rule): every SalesRecord counts, a reversal with its negative
amount and −1 record, on its original's day (a reversal may be dated later). An event sits in a
township, but a sale is placed at the exhibitor business's village (Business.region; grid 0), so a
town's and a village's sales both roll up from the same facts.
- sales_fen: Σ amount_fen; sales_records: records still standing (+1 / −1);
- product_kinds: distinct products per month with a standing original record (not reversed) — the
  same as "net sales above zero", since a reversal exactly cancels its original.
Tourism (TourismRecord): visits and tourism_income_fen on the month's first day, at the record's region
(a village or a whole township: village 0) or, for a joint community's brand, at its lead village — both
count, as industry.selectors.tourism totals them. Tourism records are edited in place: read by
updated_at.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from governance.rollups.registry import Feed, Metric, Part, Source, register
from industry.models import Business, Exhibitor, JointCommunity, SalesRecord, TourismRecord

SALES = SalesRecord._meta.db_table
EXHIBITORS = Exhibitor._meta.db_table
BUSINESSES = Business._meta.db_table
TOURISM = TourismRecord._meta.db_table
COMMUNITIES = JointCommunity._meta.db_table
AT = "(({col})::timestamp AT TIME ZONE %(tz)s)"
SALE_DAY = "COALESCE(o.sold_on, r.sold_on)"
MONTH = "date_trunc('month', {col})::date"

register(
    source=Source(
        name="industry.sales",
        metrics=("industry.sales_fen", "industry.sales_records"),
        time_kind="date",
        parts=(
            Part(
                sql=(
                    f"SELECT {AT.format(col=SALE_DAY)} AS at, {SALE_DAY} AS day, b.region_id AS region_id, "  # noqa: S608
                    "r.amount_fen AS m0, CASE WHEN r.reverses_id IS NULL THEN 1 ELSE -1 END AS m1 "
                    f"FROM {SALES} r LEFT JOIN {SALES} o ON o.id = r.reverses_id "
                    f"JOIN {EXHIBITORS} x ON x.id = r.exhibitor_id "
                    f"JOIN {BUSINESSES} b ON b.id = x.business_id "
                    "WHERE {filter}"
                ),
                time_filter=f"{SALE_DAY} >= {{lo}} AND {SALE_DAY} < {{hi}}",
                region_column="b.region_id",
            ),
        ),
        feeds=(
            Feed(
                name="industry.sales",
                table=SALES,
                id_column="r.id",
                touched_sql=(
                    f"SELECT DISTINCT {SALE_DAY} FROM {SALES} r "  # noqa: S608
                    f"LEFT JOIN {SALES} o ON o.id = r.reverses_id "
                    "WHERE {ids}"
                ),
            ),
        ),
        rule="SalesRecord on its original's sold_on, at the exhibitor business's village",
    ),
    metrics=[
        Metric("industry.sales_fen", _("展会销售额"), _("分"), source="industry.sales"),
        Metric("industry.sales_records", _("销售记录"), _("笔"), source="industry.sales"),
    ],
)

register(
    source=Source(
        name="industry.product_kinds",
        metrics=("industry.product_kinds",),
        distinct=True,
        time_kind="date",
        parts=(
            Part(
                sql=(
                    f"SELECT {AT.format(col='r.sold_on')} AS at, {MONTH.format(col='r.sold_on')} AS day, "  # noqa: S608
                    "b.region_id AS region_id, r.product_id AS member_id "
                    f"FROM {SALES} r JOIN {EXHIBITORS} x ON x.id = r.exhibitor_id "
                    f"JOIN {BUSINESSES} b ON b.id = x.business_id "
                    "WHERE r.reverses_id IS NULL "
                    f"AND NOT EXISTS (SELECT 1 FROM {SALES} v WHERE v.reverses_id = r.id) "
                    "AND {filter}"
                ),
                time_filter="r.sold_on >= {lo} AND r.sold_on < {hi}",
                region_column="b.region_id",
                member_column="r.product_id",
            ),
        ),
        feeds=(
            Feed(
                name="industry.product_kinds",
                table=SALES,
                id_column="r.id",
                touched_sql=(
                    f"SELECT DISTINCT {MONTH.format(col=SALE_DAY)}, r.product_id FROM {SALES} r "  # noqa: S608
                    f"LEFT JOIN {SALES} o ON o.id = r.reverses_id "
                    "WHERE {ids}"
                ),
            ),
        ),
        rule="distinct products with a standing original sale in the month",
    ),
    metrics=[
        Metric(
            "industry.product_kinds",
            _("展销产品种类"),
            _("种"),
            source="industry.product_kinds",
            distinct=True,
        ),
    ],
)

_TOURISM_REGION = "COALESCE(tr.region_id, jc.lead_region_id)"

register(
    source=Source(
        name="industry.tourism",
        metrics=("industry.visits", "industry.tourism_income_fen"),
        time_kind="date",
        parts=(
            Part(
                sql=(
                    f"SELECT {AT.format(col='tr.month')} AS at, tr.month AS day, "  # noqa: S608
                    f"{_TOURISM_REGION} AS region_id, "
                    "tr.visits AS m0, tr.income_fen AS m1 "
                    f"FROM {TOURISM} tr LEFT JOIN {COMMUNITIES} jc ON jc.id = tr.community_id "
                    "WHERE {filter}"
                ),
                time_filter="tr.month >= {lo} AND tr.month < {hi}",
                region_column=_TOURISM_REGION,
            ),
        ),
        feeds=(
            Feed(
                name="industry.tourism",
                table=TOURISM,
                kind="updated_at",
                touched_sql=f"SELECT DISTINCT month FROM {TOURISM} WHERE updated_at > %(since)s",  # noqa: S608
            ),
        ),
        rule="TourismRecord on its month's first day; edited in place (updated_at)",
    ),
    metrics=[
        Metric("industry.visits", _("游客接待量"), _("人次"), source="industry.tourism"),
        Metric("industry.tourism_income_fen", _("旅游综合收入"), _("分"), source="industry.tourism"),
    ],
)

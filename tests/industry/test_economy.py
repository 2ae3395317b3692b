"""The village collective economy: the service (amounts by source in 元, blank removes, exactly once, audit,
scope), thresholds (a year's own, the latest earlier year's, the built-in default) and the selectors'
exact totals, year-on-year change and flags on the small county of tests/industry/factories_places.py,
in a constant number of queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from common.errors import DomainError, NotFound
from governance.models import AuditEvent
from industry.models import CollectiveIncome, CollectiveThreshold
from industry.selectors import economy as selectors
from industry.services import economy as services
from tests.industry.factories_places import key, places_world, user

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(demo_county):
    return places_world(demo_county)


def _table(username: str, year: int = 2025, **filters):
    return {v.name: v for v in selectors.income_table(user(username), year=year, **filters)}


def test_totals_change_and_flags_for_a_year(world):
    rows = _table("county_admin")
    assert set(rows) == {"东风村", "新华村", "民营社区", "石花村", "红星社区", "花圃村", "堰河村"}
    xinhua = rows["新华村"]
    assert (xinhua.total, xinhua.last_total, xinhua.change) == (9_000_050, 8_000_000, 1_000_050)
    assert xinhua.src_land_rent == 6_000_000
    assert xinhua.src_services == 3_000_050
    assert xinhua.src_tourism is None
    assert round(xinhua.change_pct, 6) == 12.500625
    assert selectors.status_of_rank(xinhua.status_rank) == "weak"  # under the default 100,000 元
    dongfeng = rows["东风村"]
    assert (dongfeng.total, dongfeng.change, dongfeng.change_pct) == (20_000_000, 10_000_000, 100.0)
    assert selectors.status_of_rank(dongfeng.status_rank) == "ordinary"  # no strong line by default
    shihua = rows["石花村"]
    assert (shihua.total, shihua.last_total, shihua.change) == (9_500_000, 12_000_000, -2_500_000)
    assert round(shihua.change_pct, 4) == -20.8333
    hongxing = rows["红星社区"]
    assert (hongxing.total, hongxing.reported, hongxing.last_total, hongxing.change) == (0, 1, None, None)
    assert selectors.status_of_rank(hongxing.status_rank) == "weak"
    minying = rows["民营社区"]
    assert (minying.total, minying.reported) == (0, 0)
    assert selectors.status_of_rank(minying.status_rank) == "unreported"


def test_filters_and_sorting(world):
    r = world.r
    assert list(_table("county_admin", township_id=r["城关镇"].pk)) == ["新华村", "东风村", "红星社区"]
    assert sorted(_table("county_admin", weak_only=True)) == sorted(["新华村", "红星社区", "石花村"])
    assert sorted(_table("county_admin", source="land_rent")) == sorted(["新华村", "东风村", "石花村"])
    ordered = [v.name for v in selectors.income_table(user("county_admin"), year=2025, sort="-total")]
    assert ordered[:4] == ["东风村", "石花村", "新华村", "红星社区"]
    by_change = [v.name for v in selectors.income_table(user("county_admin"), year=2025, sort="change_pct")]
    assert by_change[:3] == ["石花村", "新华村", "东风村"]  # None last
    assert list(_table("county_admin", q="东风")) == ["东风村"]


def test_thresholds_own_year_inherited_and_default(world):
    assert selectors.threshold_for(2025).weak_below_fen == 10_000_000
    assert selectors.threshold_for(2025).is_default
    services.threshold_set(
        actor=world.admin,
        idempotency_key=key(),
        year=2024,
        weak_below_yuan="95,000",
        strong_from_yuan="150000",
    )
    inherited = selectors.threshold_for(2025)
    assert (inherited.weak_below_fen, inherited.strong_from_fen, inherited.from_year) == (
        9_500_000,
        15_000_000,
        2024,
    )
    assert inherited.is_inherited
    assert selectors.threshold_for(2023).is_default
    rows = _table("county_admin")
    flags = {name: selectors.status_of_rank(v.status_rank) for name, v in rows.items()}
    assert flags == {
        "新华村": "weak",
        "东风村": "strong",
        "红星社区": "weak",
        "石花村": "ordinary",  # exactly on the line is not below it
        "民营社区": "unreported",
        "花圃村": "unreported",
        "堰河村": "unreported",
    }
    services.threshold_set(actor=world.admin, idempotency_key=key(), year=2025, weak_below_yuan="200000.01")
    assert selectors.threshold_for(2025).strong_from_fen is None
    assert {n for n, v in _table("county_admin").items() if v.status_rank == 1} == {
        "新华村",
        "东风村",
        "红星社区",
        "石花村",
    }


def test_threshold_rules_and_gate(world):
    with pytest.raises(DomainError) as error:
        services.threshold_set(
            actor=world.admin,
            idempotency_key=key(),
            year=2025,
            weak_below_yuan="100000",
            strong_from_yuan="90000",
        )
    assert (error.value.code, error.value.field, str(error.value.message)) == (
        "threshold_order",
        "strong_from_yuan",
        "强村标准须高于薄弱村标准。",
    )
    with pytest.raises(DomainError) as error:
        services.threshold_set(actor=world.admin, idempotency_key=key(), year=2025, weak_below_yuan="0")
    assert error.value.code == "bad_threshold"
    with pytest.raises(NotFound):
        services.threshold_set(
            actor=user("township_admin"), idempotency_key=key(), year=2025, weak_below_yuan="1"
        )
    assert CollectiveThreshold.objects.count() == 0


def test_township_summary_exact(world):
    summary = selectors.township_summary(user("county_admin"), year=2025)
    rows = {row.region.name: row for row in summary.townships}
    chengguan = rows["城关镇"]
    assert (chengguan.villages, chengguan.reported, chengguan.weak, chengguan.strong) == (3, 3, 2, 0)
    assert (chengguan.total_fen, chengguan.average_fen, chengguan.median_fen) == (
        29_000_050,
        9_666_683,
        9_000_050,
    )
    shihua = rows["石花镇"]
    assert (shihua.villages, shihua.reported, shihua.weak, shihua.total_fen, shihua.median_fen) == (
        2,
        1,
        1,
        9_500_000,
        9_500_000,
    )
    assert (rows["紫金镇"].reported, rows["紫金镇"].average_fen, rows["紫金镇"].median_fen) == (0, None, None)
    overall = summary.overall
    assert overall is not None
    assert (overall.villages, overall.reported, overall.weak, overall.total_fen) == (7, 4, 3, 38_500_050)
    assert (overall.average_fen, overall.median_fen) == (9_625_013, 9_250_025)


def test_summary_and_table_scope(world):
    township = selectors.township_summary(user("township_admin"), year=2025)
    assert [row.region.name for row in township.townships] == ["城关镇"]
    assert township.overall.total_fen == 29_000_050
    assert list(_table("village_secretary")) == ["新华村"]
    assert list(_table("grid_leader")) == []
    assert selectors.township_summary(user("grid_leader"), year=2025).townships == []


def test_constant_number_of_queries(world, demo_county):
    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            list(selectors.income_table(user("county_admin"), year=2025))
            selectors.township_summary(user("county_admin"), year=2025)
        return len(captured)

    before = count()
    for name in ("花圃村", "堰河村", "民营社区"):
        services.collective_income_set(
            actor=world.admin,
            idempotency_key=key(),
            village=world.r[name],
            year=2025,
            amounts_yuan={"land_rent": "1", "services": "2", "other": "3"},
        )
    assert count() == before


def test_set_income_blank_removes_and_audit(world):
    village = world.r["新华村"]
    result = services.collective_income_set(
        actor=user("village_secretary"),
        idempotency_key="edit-1",
        village=village,
        year=2025,
        amounts_yuan={"land_rent": "¥61,000.10", "services": "", "subsidy": "0"},
    )
    assert result.amounts_fen == {"land_rent": 6_100_010, "subsidy": 0}
    assert result.total_fen == 6_100_010
    stored = dict(
        CollectiveIncome.objects.filter(village=village, year=2025).values_list("source", "amount_fen")
    )
    assert stored == {"land_rent": 6_100_010, "subsidy": 0}
    event = (
        AuditEvent.objects.filter(object_type="industry.collectiveincome", object_id=f"{village.pk}/2025")
        .order_by("pk")
        .last()
    )
    assert event.changes == {
        "land_rent": [6_000_000, 6_100_010],
        "services": [3_000_050, None],
        "subsidy": [None, 0],
        "idempotency_key": [None, "edit-1"],
    }
    assert event.region_path == village.path


def test_set_income_exactly_once(world):
    village = world.r["民营社区"]
    actor = user("county_admin")
    args = {"actor": actor, "idempotency_key": "once", "village": village, "year": 2025}
    services.collective_income_set(**args, amounts_yuan={"land_rent": "5"})
    audits = AuditEvent.objects.count()
    again = services.collective_income_set(**args, amounts_yuan={"land_rent": "5"})
    assert again.amounts_fen == {"land_rent": 500}
    assert AuditEvent.objects.count() == audits
    with pytest.raises(DomainError) as error:
        services.collective_income_set(**args, amounts_yuan={"land_rent": "6"})
    assert error.value.code == "idempotency_key_reused"


def test_set_income_refuses_bad_figures(world):
    village = world.r["新华村"]
    for typed, code in (
        ("-1", "bad_amount"),
        ("1.234", "bad_amount"),
        ("abc", "bad_amount"),
        ("1000000001", "amount_too_large"),
    ):
        with pytest.raises(DomainError) as error:
            services.collective_income_set(
                actor=world.admin,
                idempotency_key=key(),
                village=village,
                year=2025,
                amounts_yuan={"tourism": typed},
            )
        assert (error.value.code, error.value.field) == (code, "amount_tourism")
    with pytest.raises(DomainError) as error:
        services.collective_income_set(
            actor=world.admin, idempotency_key=key(), village=village, year=1999, amounts_yuan={}
        )
    assert error.value.code == "bad_year"
    with pytest.raises(DomainError) as error:
        services.collective_income_set(
            actor=world.admin, idempotency_key=key(), village=world.r["城关镇"], year=2025, amounts_yuan={}
        )
    assert error.value.code == "not_a_village"


def test_scope_of_writes(world):
    r = world.r
    # A village secretary records their own village only; a township admin not another township's.
    with pytest.raises(NotFound):
        services.collective_income_set(
            actor=user("village_secretary"),
            idempotency_key=key(),
            village=r["东风村"],
            year=2025,
            amounts_yuan={},
        )
    with pytest.raises(NotFound):
        services.collective_income_set(
            actor=user("township_admin"),
            idempotency_key=key(),
            village=r["石花村"],
            year=2025,
            amounts_yuan={},
        )
    with pytest.raises(NotFound):
        services.collective_income_set(
            actor=user("grid_leader"), idempotency_key=key(), village=r["新华村"], year=2025, amounts_yuan={}
        )
    services.collective_income_set(
        actor=user("township_admin"),
        idempotency_key=key(),
        village=r["东风村"],
        year=2025,
        amounts_yuan={"other": "1"},
    )
    assert CollectiveIncome.objects.get(village=r["东风村"], year=2025).amount_fen == 100


def test_village_years(world):
    years = selectors.village_years(world.r["新华村"], until=2025)
    assert [y.year for y in years] == [2025, 2024, 2023]
    assert (years[0].total_fen, years[0].last_total_fen, years[0].change_fen) == (
        9_000_050,
        8_000_000,
        1_000_050,
    )
    assert (years[1].total_fen, years[1].last_total_fen, years[1].status) == (8_000_000, None, "weak")
    assert (years[2].reported, years[2].status) == (False, "unreported")

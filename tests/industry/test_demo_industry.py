"""The demo county's industry (industry/demo.py) is written in bulk, not through the services: these tests
hold it to gucheng.md §3's figures exactly — 6 chains with their Party branches, the ten 2022 expos whose
sales net to 320,000,000 yuan with 1,000+ kinds of products, the 堰河 joint community's 500,000+ visits and
200,000,000 yuan a year, 12 featured towns, five development types, three years of every village's
collective income — and to what the services would keep (corrections as exact reversals, sales within
their event's days, online sales with a platform, scope: the 城关镇 admin sees its town's expo only).
The seed is deterministic and a second run changes nothing."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from typing import Any

import pytest
from django.db import connection, models, transaction
from django.db.models import Count, F, Q, Sum

from governance import demo_data as data
from governance.demo import seed_demo_county
from governance.models import (
    Household,
    PartyOrganisation,
    PartyOrgKind,
    Region,
    RegionLevel,
    Resident,
    ResidentStatus,
    User,
)
from industry import demo as industry_demo
from industry.access import events_visible
from industry.models import (
    Business,
    BusinessKind,
    ChainParticipation,
    CollectiveIncome,
    CollectiveThreshold,
    DesignationKind,
    DevelopmentType,
    Employment,
    Event,
    HouseholdProject,
    IndustryChain,
    JointCommunity,
    JointKind,
    JointMember,
    JointResult,
    Product,
    RegionDesignation,
    SalesChannel,
    SalesRecord,
    TourismRecord,
)
from industry.services.sales_rules import AMOUNT_MAX_FEN

pytestmark = pytest.mark.django_db

PASSWORD = "xiangzhi-demo"
CHAINS = {"茶叶", "食用菌", "油茶", "畜牧水产", "黄桃", "中药材"}
EXPOS_2022 = {
    "五山镇年货节",
    "紫金镇开茶节",
    "冷集镇黄桃节",
    "盛康镇稻虾节",
    "赵湾乡蜂蜜文化节",
    "茨河镇鲟鱼美食节",
    "城关镇农民丰收节",
    "庙滩镇香菇节",
    "石花镇奎面文化节",
    "南河镇油茶文化节",
}
TOTAL_2022_FEN = 32_000_000_000
YANHE_INCOME_FEN = 20_000_000_000


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """The test-scale county with its industry, built once for the module inside a transaction rolled back
    afterwards (each test's own transaction nests inside it as a savepoint)."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            seed_demo_county(password=PASSWORD, scale="test")
            yield
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def test_skeleton_scale_adds_no_industry():
    seed_demo_county(password=PASSWORD)
    assert IndustryChain.objects.count() == 0
    assert Business.objects.count() == 0
    assert Event.objects.count() == 0
    assert SalesRecord.objects.count() == 0


def _fingerprint() -> str:
    """The industry rows by what they say, not by their ids (which depend on what a database held)."""
    tables = [
        Business.objects.values_list("kind", "name", "region__code", "credit_code", "household__number"),
        ChainParticipation.objects.values_list(
            "chain__name", "link__name", "business__name", "area_mu", "output_value_fen", "jobs"
        ),
        Product.objects.values_list(
            "code", "name", "category", "origin_region__code", "producer__name", "unit"
        ),
        Event.objects.values_list("name", "kind", "region__code", "starts_on", "ends_on", "town_product"),
        SalesRecord.objects.values_list(
            "event__name",
            "event__starts_on",
            "exhibitor__business__name",
            "exhibitor__booth",
            "product__code",
            "channel",
            "platform",
            "sold_on",
            "quantity",
            "amount_fen",
            "reverses__amount_fen",
            "reason",
            "source",
        ),
        HouseholdProject.objects.values_list(
            "household__grid__code", "household__number", "kind", "title", "scale", "started_on", "ended_on"
        ),
        Employment.objects.values_list(
            "resident__name", "resident__birth_date", "kind", "started_on", "ended_on"
        ),
        CollectiveIncome.objects.values_list("village__code", "year", "source", "amount_fen"),
        TourismRecord.objects.values_list("month", "region__code", "community__name", "visits", "income_fen"),
        RegionDesignation.objects.values_list("region__code", "kind", "theme", "designated_year"),
        JointMember.objects.values_list("community__name", "region__code", "business__name"),
        JointResult.objects.values_list(
            "community__name", "year", "jobs", "income_fen", "households_benefited"
        ),
    ]
    digest = hashlib.sha256()
    for rows in tables:
        for row in sorted(rows, key=repr):
            digest.update(repr(row).encode())
    return digest.hexdigest()


def test_copy_and_executemany_write_the_same_industry_every_time():
    """Deterministic: two seeds into an empty county give the same rows, one through COPY and one through
    the prepared INSERT that SQLite (`make demo`) runs."""
    fingerprints = []
    for use_copy in (True, False):
        with transaction.atomic():
            seed_demo_county(password=PASSWORD, scale="test", use_copy=use_copy)
            assert SalesRecord.objects.aggregate(n=Sum("amount_fen"))["n"] > TOTAL_2022_FEN
            fingerprints.append(_fingerprint())
            transaction.set_rollback(True)
        assert not SalesRecord.objects.exists()
    assert fingerprints[0] == fingerprints[1]


def test_six_chains_each_with_its_party_branch(seeded):
    assert connection.vendor == "postgresql"
    chains = IndustryChain.objects.select_related("base_region", "party_branch").order_by("sort_order")
    assert [c.name for c in chains] == [name for name, _town in data.INDUSTRY_CHAINS]
    assert set(chains.values_list("name", flat=True)) == CHAINS
    for chain, (name, town) in zip(chains, data.INDUSTRY_CHAINS, strict=True):
        assert chain.base_region is not None
        assert chain.base_region.name == town
        assert chain.party_branch is not None
        assert chain.party_branch.kind == PartyOrgKind.CHAIN_BRANCH
        assert chain.party_branch.name == f"{town}{name}产业链党支部"
        kinds = set(chain.links.values_list("kind", flat=True))
        assert {"production", "processing", "sales"} <= kinds, name
        assert ChainParticipation.objects.filter(chain=chain).exists(), name
    # The six branches are all of the county's chain branches: none left without its chain.
    assert PartyOrganisation.objects.filter(kind=PartyOrgKind.CHAIN_BRANCH).count() == 6


def test_businesses_of_every_kind_in_villages(seeded):
    counts = dict(Business.objects.values_list("kind").annotate(n=Count("id")))
    assert set(counts) == set(BusinessKind.values)
    villages = Region.objects.filter(level=RegionLevel.VILLAGE)
    # One village collective in every village; every business sits in a village.
    assert counts[BusinessKind.VILLAGE_COLLECTIVE] == villages.count()
    assert set(
        Business.objects.filter(kind=BusinessKind.VILLAGE_COLLECTIVE).values_list("region_id", flat=True)
    ) == set(villages.values_list("id", flat=True))
    assert not Business.objects.exclude(region__level=RegionLevel.VILLAGE).exists()
    # A household business is its household's, in the household's village.
    for business in Business.objects.filter(kind=BusinessKind.HOUSEHOLD).select_related("household__grid"):
        assert business.household is not None
        assert business.household.grid.path.startswith(Region.objects.get(pk=business.region_id).path)
    # Participations carry their scale.
    assert not ChainParticipation.objects.filter(Q(output_value_fen__lte=0) | Q(jobs=0)).exists()


def test_ten_2022_expos_one_per_town(seeded):
    events = Event.objects.filter(starts_on__year=2022).select_related("region")
    assert events.count() == 10
    assert set(events.values_list("name", flat=True)) == EXPOS_2022
    assert {e.region.name for e in events} == {name for name, *_rest in data.TOWNSHIP_LAYOUT}
    for event in events:
        assert event.region.level == RegionLevel.TOWNSHIP
        assert event.series == "五谷情深·味在谷城"
        assert event.town_product
        assert event.organiser
        assert event.venue
        assert event.ends_on.year == 2022
        assert event.ends_on >= event.starts_on
    by_name = {e.name: e for e in events}
    # Each festival in its product's season.
    assert by_name["五山镇年货节"].starts_on.month == 1
    assert by_name["紫金镇开茶节"].starts_on.month == 3
    assert by_name["盛康镇稻虾节"].starts_on.month == 5
    assert by_name["冷集镇黄桃节"].starts_on.month == 8
    # Later years have events too (the year picker), none of them in 2022's series count.
    later = Event.objects.filter(starts_on__year__gt=2022)
    assert set(later.values_list("starts_on__year", flat=True)) == {2023, 2024, 2025}


def test_the_township_admin_sees_its_towns_expo_the_county_admin_all(seeded):
    chengguan = User.objects.get(username="township_admin")
    county = User.objects.get(username="county_admin")
    seen = events_visible(chengguan).filter(starts_on__year=2022)
    assert list(seen.values_list("name", flat=True)) == ["城关镇农民丰收节"]
    assert events_visible(county).filter(starts_on__year=2022).count() == 10
    assert events_visible(county).count() == Event.objects.count()


def test_2022_sales_net_exactly_320_million_yuan_with_1000_plus_products(seeded):
    sales = SalesRecord.objects.filter(event__starts_on__year=2022)
    assert sales.aggregate(n=Sum("amount_fen"))["n"] == TOTAL_2022_FEN
    per_event = dict(sales.values_list("event__name").annotate(n=Sum("amount_fen")))
    assert per_event == {spec.name: spec.total_yuan * 100 for spec in industry_demo.EVENTS_2022}
    sold = sales.filter(reverses__isnull=True).values("product").distinct().count()
    assert sold >= 1000
    assert sold == Product.objects.count()  # every product of the catalogue was sold in 2022
    # Offline and online, the online ones naming their platform.
    channels = dict(sales.values_list("channel").annotate(n=Sum("amount_fen")))
    assert set(channels) == {SalesChannel.OFFLINE, SalesChannel.ONLINE}
    assert not sales.filter(channel=SalesChannel.ONLINE, platform="").exists()
    assert not sales.filter(channel=SalesChannel.OFFLINE).exclude(platform="").exists()
    assert len(set(sales.filter(channel=SalesChannel.ONLINE).values_list("platform", flat=True))) >= 4
    # Every sale within its event's days, by an exhibitor of that event, within the sales rules' range.
    assert not SalesRecord.objects.filter(
        Q(sold_on__lt=F("event__starts_on")) | Q(sold_on__gt=F("event__ends_on"))
    ).exists()
    assert not SalesRecord.objects.exclude(exhibitor__event_id=F("event_id")).exists()
    assert not SalesRecord.objects.filter(amount_fen__gt=AMOUNT_MAX_FEN).exists()
    assert not SalesRecord.objects.filter(amount_fen__lt=-AMOUNT_MAX_FEN).exists()


def test_corrections_are_exact_reversals_followed_by_the_right_record(seeded):
    reversals = list(
        SalesRecord.objects.filter(reverses__isnull=False).select_related("reverses").order_by("id")
    )
    assert len(reversals) == industry_demo.PLANS["test"].corrections == 3
    for reversal in reversals:
        original = reversal.reverses
        assert original.reverses_id is None
        assert reversal.amount_fen == -original.amount_fen < 0
        assert reversal.quantity == -original.quantity
        assert (reversal.event_id, reversal.exhibitor_id, reversal.product_id) == (
            original.event_id,
            original.exhibitor_id,
            original.product_id,
        )
        assert (reversal.channel, reversal.platform) == (original.channel, original.platform)
        assert reversal.reason
        assert original.event.starts_on.year == 2022
        # The right figures follow as a new record of the same exhibitor.
        corrected = SalesRecord.objects.get(pk=reversal.pk + 1)
        assert corrected.reverses_id is None
        assert corrected.exhibitor_id == original.exhibitor_id
        assert (corrected.product_id, corrected.channel, corrected.amount_fen) != (
            original.product_id,
            original.channel,
            original.amount_fen,
        )
    reasons = [r.reason for r in reversals]
    assert reasons == [reason for _what, reason in industry_demo.CORRECTIONS]


def test_yanhe_joint_community_8_villages_500000_visits_200_million_yuan(seeded):
    community = JointCommunity.objects.select_related("party_organisation", "lead_region").get(
        name="堰河茶旅联建共同体"
    )
    assert community.kind == JointKind.VILLAGE_VILLAGE
    assert community.brand == "茶旅文化"
    assert community.lead_region.name == data.YANHE
    committee = community.party_organisation
    assert committee is not None
    assert committee.name == data.YANHE_JOINT_COMMITTEE
    members = set(JointMember.objects.filter(community=community).values_list("region_id", flat=True))
    assert len(members) == 8
    assert members == set(committee.villages.values_list("id", flat=True))
    assert not JointMember.objects.filter(community=community, region__isnull=True).exists()
    by_year: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for record in TourismRecord.objects.filter(community=community):
        figures = by_year[record.month.year]
        figures[0] += 1
        figures[1] += record.visits
        figures[2] += record.income_fen
    assert sorted(by_year) == [2022, 2023, 2024, 2025]
    for year, (months, visits, income) in by_year.items():
        assert months == 12, year
        assert visits >= 500_000, year
        assert income == YANHE_INCOME_FEN, year
    assert set(JointResult.objects.filter(community=community).values_list("year", flat=True)) == {
        2022,
        2023,
        2024,
        2025,
    }
    # A village–enterprise community too, with a business among its members.
    other = JointCommunity.objects.filter(kind=JointKind.VILLAGE_ENTERPRISE)
    assert other.exists()
    assert JointMember.objects.filter(community__in=other, business__isnull=False).exists()


def test_12_featured_towns_featured_villages_and_five_development_types(seeded):
    towns = RegionDesignation.objects.filter(kind=DesignationKind.FEATURED_TOWN)
    assert towns.count() == 12
    assert not towns.exclude(region__level=RegionLevel.TOWNSHIP).exists()
    assert towns.values("region").distinct().count() == 10
    themes = {(d.region.name, d.theme) for d in towns.select_related("region")}
    assert {
        ("五山镇", "茶旅小镇"),
        ("赵湾乡", "蜜旅小镇"),
        ("城关镇", "电商小镇"),
        ("茨河镇", "鲟游小镇"),
    } <= themes
    villages = RegionDesignation.objects.filter(kind=DesignationKind.FEATURED_VILLAGE)
    assert villages.filter(region__name=data.YANHE).exists()
    assert villages.filter(region__name="花圃村").exists()
    types = RegionDesignation.objects.filter(kind=DesignationKind.DEVELOPMENT_TYPE)
    assert set(types.values_list("theme", flat=True)) == set(DevelopmentType.values)
    village_count = Region.objects.filter(level=RegionLevel.VILLAGE).count()
    assert types.values("region").distinct().count() == types.count() == village_count
    # Featured places report tourism per month.
    regions = TourismRecord.objects.filter(region__isnull=False)
    assert regions.filter(region__name="五山镇").count() == 48
    assert regions.filter(region__name="花圃村").count() == 48


def test_every_village_has_collective_income_for_three_years_some_weak(seeded):
    villages = set(Region.objects.filter(level=RegionLevel.VILLAGE).values_list("id", flat=True))
    years: dict[int, set[int]] = defaultdict(set)
    totals: dict[tuple[int, int], int] = Counter()
    for village_id, year, amount in CollectiveIncome.objects.values_list("village_id", "year", "amount_fen"):
        years[village_id].add(year)
        totals[(village_id, year)] += amount
    assert set(years) == villages
    assert all({2023, 2024, 2025} <= found for found in years.values())
    thresholds = dict(CollectiveThreshold.objects.values_list("year", "weak_below_fen"))
    assert thresholds == {2022: 10_000_000, 2023: 10_000_000, 2024: 10_000_000, 2025: 10_000_000}
    for year in (2023, 2024, 2025):
        weak = [v for v in villages if totals[(v, year)] < thresholds[year]]
        assert 2 <= len(weak) < len(villages) // 2, year
    # Incomes are by source, whole yuan, positive.
    assert not CollectiveIncome.objects.filter(amount_fen__lte=0).exists()
    assert all(amount % 100 == 0 for amount in CollectiveIncome.objects.values_list("amount_fen", flat=True))


def test_most_households_have_a_project_most_working_age_residents_work(seeded):
    households = Household.objects.count()
    with_project = (
        HouseholdProject.objects.filter(ended_on__isnull=True).values("household").distinct().count()
    )
    assert 0.85 <= with_project / households < 0.97
    at_home = Resident.objects.filter(
        status=ResidentStatus.RESIDENT,
        birth_date__gt=industry_demo._years_before(data.AS_OF, 60),
        birth_date__lte=industry_demo._years_before(data.AS_OF, 16),
    )
    working = Employment.objects.filter(ended_on__isnull=True, resident__in=at_home)
    assert 0.8 <= working.values("resident").distinct().count() / at_home.count() < 0.95
    # No work starts before its resident is of working age, nor after the demo's day.
    assert not Employment.objects.filter(started_on__gt=data.AS_OF).exists()
    for started, birth in Employment.objects.values_list("started_on", "resident__birth_date"):
        assert started >= industry_demo._years_before(birth, -16)


class _Recorder:
    """A writer that keeps the rows instead of writing them (build()'s one other effect is its audit row)."""

    use_copy = True

    def __init__(self) -> None:
        self.rows: dict[type[models.Model], list[dict[str, Any]]] = defaultdict(list)
        self.counts: Counter[str] = Counter()

    def add(self, model: type[models.Model], row: dict[str, Any]) -> None:
        self.rows[model].append(dict(row))
        self.counts[model._meta.label_lower] += 1

    def flush(self, model: type[models.Model] | None = None) -> None:
        return None


def _plan_again() -> _Recorder:
    recorder = _Recorder()
    users = {u.username: u for u in User.objects.filter(username__in=["county_admin", "township_admin"])}
    county = Region.objects.get(parent=None, name=data.COUNTY_NAME)
    industry_demo._Builder(county=county, users=users, scale="test", writer=recorder).build(lambda _m: None)
    return recorder


def test_the_seed_is_deterministic_and_a_second_run_is_a_no_op(seeded):
    before = {
        model: model.objects.count()
        for model in (IndustryChain, Business, Product, Event, SalesRecord, TourismRecord, CollectiveIncome)
    }
    county = Region.objects.get(parent=None, name=data.COUNTY_NAME)
    users = {u.username: u for u in User.objects.all()}
    written = industry_demo.seed_demo_industry(
        county=county, users=users, scale="test", say=lambda _m: None, use_copy=True
    )
    assert written == 0
    assert before == {model: model.objects.count() for model in before}
    # The same generator on the same county plans the same rows twice, and the rows it plans are the ones
    # in the database (ids aside: the plan continues after the rows written).
    first, second = _plan_again(), _plan_again()
    assert first.rows == second.rows
    planned = [(r["sold_on"], r["amount_fen"], r["channel"], r["platform"]) for r in first.rows[SalesRecord]]
    stored = list(
        SalesRecord.objects.order_by("id").values_list("sold_on", "amount_fen", "channel", "platform")
    )
    assert planned == stored
    assert [(r["code"], r["name"]) for r in first.rows[Product]] == list(
        Product.objects.order_by("id").values_list("code", "name")
    )
    assert (
        sum(r["amount_fen"] for r in first.rows[SalesRecord] if r["sold_on"].year == 2022) == TOTAL_2022_FEN
    )

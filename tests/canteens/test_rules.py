"""Price rules: validated with canteens.split (a rule that does not add up is refused with its message next
to the field), guest rules, effective dating, the rule in force (slot-specific beats all-slot; latest start
on or before the day; expired rules skipped), scope and exactly once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from canteens.models import FundingShare, PriceRule
from canteens.selectors.rules import price_rule_in_force, price_rule_shares
from canteens.services import rules as services
from canteens.split import Share, meal_split
from common.errors import Conflict, DomainError, NotFound
from tests.canteens.factories import (
    SPLIT_60,
    SPLIT_70,
    SPLIT_80,
    SPLIT_GUEST,
    SPLIT_LOW,
    CanteenWorld,
    canteen_world,
    enrol_from,
    key,
)

pytestmark = pytest.mark.django_db

STANDARD = [
    Share("resident", fixed_fen=150),
    Share("government", share_bp=6000),
    Share("community", share_bp=3000),
    Share("donation", share_bp=1000),
]


@pytest.fixture
def world(demo_county) -> CanteenWorld:
    return canteen_world(demo_county)


def today() -> dt.date:
    return timezone.localdate()


def make(world: CanteenWorld, **kwargs) -> PriceRule:
    params: dict[str, Any] = {
        "actor": world.admin,
        "idempotency_key": key(),
        "site": world.site,
        "tier": world.tiers["age-70-79"],
        "slot": "",
        "effective_from": today(),
        "effective_to": None,
        "price_fen": 400,
        "shares": STANDARD,
    }
    params.update(kwargs)
    return services.price_rule_create(**params)


def split_of(rule: PriceRule) -> dict[str, int]:
    return meal_split(rule.price_fen, price_rule_shares(rule), rule.remainder_funder)


def test_world_rules_split_exactly(world):
    expected = {
        "age-70-79": SPLIT_70,
        "age-80-89": SPLIT_80,
        "age-60-69": SPLIT_60,
        "low-income": SPLIT_LOW,
        "guest": SPLIT_GUEST,
    }
    for code, split in expected.items():
        tier_id = None if code == "guest" else world.tiers[code].pk
        rule = price_rule_in_force(world.site.pk, tier_id, "lunch", today())
        assert rule is not None
        assert rule.pk == world.rules[code].pk
        assert split_of(rule) == split


def test_rule_in_force_is_one_statement(world):
    with CaptureQueriesContext(connection) as queries:
        rule = price_rule_in_force(world.site.pk, world.tiers["age-70-79"].pk, "dinner", today())
        assert rule is not None
        assert price_rule_shares(rule) == STANDARD_ORDERED
    assert len(queries) == 1


STANDARD_ORDERED = [
    Share("government", None, 6000, None),
    Share("community", None, 3000, None),
    Share("donation", None, 1000, None),
    Share("resident", 150, None, None),
]


def test_slot_specific_beats_all_slot_and_latest_start_wins(world):
    tier = world.tiers["age-70-79"]
    lunch = make(
        world,
        slot="lunch",
        price_fen=500,
        effective_from=enrol_from() + dt.timedelta(days=10),
        shares=[Share("resident", fixed_fen=200), Share("government", share_bp=10_000)],
    )
    newer_all = make(world, price_fen=450, effective_from=today())
    assert price_rule_in_force(world.site.pk, tier.pk, "lunch", today()).pk == lunch.pk
    assert price_rule_in_force(world.site.pk, tier.pk, "dinner", today()).pk == newer_all.pk
    yesterday = today() - dt.timedelta(days=1)
    assert price_rule_in_force(world.site.pk, tier.pk, "dinner", yesterday).pk == world.rules["age-70-79"].pk
    # Before the lunch rule started, the all-slot rule applies at lunch too.
    assert (
        price_rule_in_force(world.site.pk, tier.pk, "lunch", enrol_from()).pk == world.rules["age-70-79"].pk
    )
    assert split_of(price_rule_in_force(world.site.pk, tier.pk, "lunch", today())) == {
        "government": 300,
        "community": 0,
        "donation": 0,
        "resident": 200,
    }


def test_expired_rules_are_skipped_and_none_before_any_rule(world):
    tier = world.tiers["age-90"]
    assert price_rule_in_force(world.site.pk, tier.pk, "lunch", today()) is None
    rule = make(world, tier=tier, effective_from=enrol_from())
    services.price_rule_end(actor=world.admin, rule=rule, effective_to=today() - dt.timedelta(days=1))
    assert price_rule_in_force(world.site.pk, tier.pk, "lunch", today() - dt.timedelta(days=1)).pk == rule.pk
    assert price_rule_in_force(world.site.pk, tier.pk, "lunch", today()) is None
    assert price_rule_in_force(world.site.pk, tier.pk, "lunch", enrol_from() - dt.timedelta(days=1)) is None
    assert price_rule_in_force(world.other_site.pk, world.tiers["age-70-79"].pk, "lunch", today()) is None


@pytest.mark.parametrize(
    ("shares", "extra", "code", "field", "message"),
    [
        (
            [
                Share("resident", fixed_fen=150),
                Share("government", share_bp=6000),
                Share("community", share_bp=3000),
            ],
            {},
            "shares_not_100",
            "shares",
            "各方分担比例合计 90%，应为 100%。",
        ),
        (
            [Share("resident", fixed_fen=500), Share("government", share_bp=10_000)],
            {},
            "fixed_over_price",
            "shares",
            "固定金额合计 5.00 元，超过餐价 4.00 元。",
        ),
        (
            [Share("government", share_bp=10_000, cap_fen=100)],
            {"remainder_funder": "government"},
            "remainder_capped",
            "remainder_funder",
            "兜底方政府补贴自身有封顶，无法承担封顶截下的部分。",
        ),
        (
            STANDARD,
            {"donation_fallback": "donation"},
            "bad_fallback",
            "donation_fallback",
            "捐赠不足时的兜底方不能是社会捐赠。",
        ),
        ([], {}, "shares_required", "shares", "请至少设置一个出资方。"),
        (STANDARD, {"price_fen": 0}, "bad_price", "price", "餐价须在 0.01 元到 1000 元之间。"),
        (STANDARD, {"price_fen": 100_001}, "bad_price", "price", "餐价须在 0.01 元到 1000 元之间。"),
        (
            STANDARD,
            {"effective_to": dt.date(2000, 1, 1)},
            "rule_dates",
            "effective_to",
            "失效日期不能早于生效日期。",
        ),
        (STANDARD, {"slot": "supper"}, "bad_slot", "slot", "请选择餐次。"),
        (
            STANDARD,
            {"tier": None},
            "guest_subsidised",
            "shares",
            "非登记就餐按全价由本人支付，不能设置补贴。",
        ),
    ],
)
def test_bad_rules_are_refused_and_nothing_written(world, shares, extra, code, field, message):
    before = (PriceRule.objects.count(), FundingShare.objects.count())
    with pytest.raises(DomainError) as raised:
        make(world, shares=shares, **extra)
    assert (raised.value.code, raised.value.field, str(raised.value.message)) == (code, field, message)
    assert (PriceRule.objects.count(), FundingShare.objects.count()) == before


def test_same_start_is_a_conflict(world):
    with pytest.raises(Conflict) as raised:
        make(world, effective_from=enrol_from())
    assert raised.value.code == "rule_same_start"
    assert raised.value.field == "effective_from"


def test_rules_are_set_by_township_or_county_admin_only(world):
    for username in ("canteen_manager", "cook", "township_admin", "minying_secretary"):
        with pytest.raises(NotFound):
            make(world, actor=world.users[username])
    assert make(world, actor=world.users["county_admin"]).created_by_id == world.users["county_admin"].pk
    with pytest.raises(DomainError) as raised:
        make(world, site=world.classroom)
    assert raised.value.code == "not_canteen"


def test_rule_create_is_exactly_once(world):
    k = key()
    first = make(world, idempotency_key=k)
    assert make(world, idempotency_key=k).pk == first.pk
    assert FundingShare.objects.filter(rule=first).count() == 4
    with pytest.raises(Conflict):
        make(world, idempotency_key=k, price_fen=500)


def test_split_preview_with_the_fund_short(world):
    parts, shortfall = services.split_preview(
        price_fen=400,
        shares=STANDARD,
        remainder_funder="community",
        donation_fallback="government",
        donation_available_fen=10,
    )
    assert (parts, shortfall) == ({"government": 165, "community": 75, "donation": 10, "resident": 150}, 15)


def test_a_second_guest_rule_on_the_same_day_is_refused_by_the_service_before_the_database(world):
    """The guest rule's tier is NULL; canteens_rule_unique_start holds it on PostgreSQL only
    (nulls_distinct=False), so the service looks first: the refusal comes without an INSERT tried."""
    guest = [Share("resident", fixed_fen=600)]
    first = make(world, tier=None, slot="lunch", price_fen=600, shares=guest)
    before = (PriceRule.objects.count(), FundingShare.objects.count())
    with CaptureQueriesContext(connection) as queries, pytest.raises(Conflict) as raised:
        make(world, tier=None, slot="lunch", price_fen=650, shares=[Share("resident", fixed_fen=650)])
    assert (raised.value.code, raised.value.field, str(raised.value.message)) == (
        "rule_same_start",
        "effective_from",
        f"“非登记就餐 · 午餐”在 {today():%Y-%m-%d} 已有一条餐价规则，不能重复设置；"
        "请换一个生效日期，或先结束原来的规则。",
    )
    assert not [
        q for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "canteens_pricerule"')
    ]
    assert (PriceRule.objects.count(), FundingShare.objects.count()) == before
    # Another slot, another day, or a tier the same day are other rules.
    assert make(world, tier=None, slot="dinner", price_fen=600, shares=guest).pk != first.pk
    assert make(
        world,
        tier=None,
        slot="lunch",
        price_fen=600,
        shares=guest,
        effective_from=today() - dt.timedelta(days=1),
    )
    with pytest.raises(Conflict) as again:
        make(world, tier=world.tiers["age-70-79"], slot="", effective_from=enrol_from())
    assert str(again.value.message).startswith(f"“70–79 岁 · 全部餐次”在 {enrol_from():%Y-%m-%d} 已有")


def test_the_database_still_refuses_a_duplicate_guest_rule_on_postgresql(world):
    """What the service's check stands in for on SQLite: the UNIQUE with nulls_distinct=False."""
    existing = world.rules["guest"]
    with pytest.raises(IntegrityError), transaction.atomic():
        PriceRule.objects.create(
            site=existing.site,
            tier=None,
            slot=existing.slot,
            effective_from=existing.effective_from,
            price_fen=700,
            created_by=world.admin,
        )

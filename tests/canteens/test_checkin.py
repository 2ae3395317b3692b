"""meal_checkin and the corrections, on the shared canteen world (tests/canteens/factories.py): exact
splits, the fund draw and its shortfall warning, refusals with their Chinese messages and nothing
written, replays, and corrections dated into the first open period."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from canteens.models import (
    ClaimStatus,
    CorrectionStatus,
    DonationFund,
    FundMovement,
    FundMovementKind,
    Meal,
    MealCorrection,
    Settlement,
    VerifyMethod,
)
from canteens.services import meals as services
from canteens.services.funds import fund_verify
from common.errors import Conflict, DomainError, NotFound
from governance.models import AuditEvent
from tests.canteens.factories import (
    FUND_BALANCE,
    SPLIT_70,
    SPLIT_80,
    SPLIT_GUEST,
    SPLIT_LOW,
    CanteenWorld,
    canteen_world,
    key,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(demo_county) -> CanteenWorld:
    return canteen_world(demo_county)


def today() -> dt.date:
    return timezone.localdate()


def checkin(world: CanteenWorld, name: str, slot: str = "lunch", **kwargs) -> services.MealResult:
    actor = kwargs.pop("actor", world.manager)
    return services.meal_checkin(
        actor=actor,
        idempotency_key=kwargs.pop("idempotency_key", key()),
        site_id=kwargs.pop("site_id", world.site.pk),
        slot=slot,
        served_on=kwargs.pop("served_on", today()),
        resident_id=world.elders[name].pk if name else None,
        verified_by=kwargs.pop("verified_by", VerifyMethod.CARD_QR),
        **kwargs,
    )


def balance(world: CanteenWorld) -> int:
    assert world.fund is not None
    return DonationFund.objects.get(pk=world.fund.pk).balance_fen


def parts(meal: Meal) -> dict[str, int]:
    return {
        "resident": meal.resident_fen,
        "government": meal.government_fen,
        "community": meal.community_fen,
        "donation": meal.donation_fen,
    }


def test_checkin_posts_the_exact_split_and_draws_the_donation_part(world):
    result = checkin(world, "吴桂兰")
    assert result.price_fen == 400
    assert result.parts == SPLIT_70
    assert result.warning == ""
    assert result.donation_shortfall_fen == 0
    assert result.fund_id == world.fund.pk
    meal = Meal.objects.get(pk=result.id)
    assert parts(meal) == SPLIT_70
    assert meal.price_fen == 400
    assert meal.enrolment_id == world.enrolments["吴桂兰"].pk
    assert meal.tier_id == world.tiers["age-70-79"].pk
    assert meal.rule_id == world.rules["age-70-79"].pk
    assert meal.verified_by == "card_qr"
    assert meal.mode == "dine_in"
    assert meal.government_level == "county"
    assert balance(world) == FUND_BALANCE - 25
    draw = FundMovement.objects.get(meal=meal)
    assert (draw.kind, draw.amount_fen, draw.fund_id) == (FundMovementKind.MEAL_DRAW, -25, world.fund.pk)
    assert AuditEvent.objects.filter(object_type="canteens.meal", object_id=str(meal.pk)).count() == 1
    assert fund_verify() == []


def test_each_tier_gets_its_own_rule(world):
    assert checkin(world, "吴德厚", "breakfast").parts == SPLIT_80
    # 低保: government 70 % of 350 = 245, capped at 200; the 45 cut goes to community (the remainder funder).
    assert checkin(world, "吴秀芝", "dinner").parts == SPLIT_LOW
    assert balance(world) == FUND_BALANCE - 30 - 35


def test_guest_pays_the_full_guest_price_and_draws_nothing(world):
    result = checkin(world, "", is_guest=True, guest_name="过路客人", verified_by="")
    assert result.parts == SPLIT_GUEST
    assert result.price_fen == 600
    meal = Meal.objects.get(pk=result.id)
    assert (meal.is_guest, meal.guest_name, meal.resident_id, meal.tier_id) == (True, "过路客人", None, None)
    assert meal.verified_by == "guest"
    assert balance(world) == FUND_BALANCE
    # A non-enrolled resident may eat as a guest, even twice in a slot (no subsidy, no UNIQUE).
    first = checkin(world, "吴建军", is_guest=True, verified_by="")
    second = checkin(world, "吴建军", is_guest=True, verified_by="")
    assert first.id != second.id
    assert first.parts == SPLIT_GUEST


def test_not_enrolled_elder_is_refused_with_a_message_and_nothing_written(world):
    meals, movements, audits = Meal.objects.count(), FundMovement.objects.count(), AuditEvent.objects.count()
    with pytest.raises(Conflict) as caught:
        checkin(world, "吴建军")
    assert caught.value.code == "not_enrolled"
    day = today()
    assert str(caught.value.message) == (
        f"吴建军在{day.month}月{day.day}日没有本食堂的有效就餐登记，不能按补贴价就餐；可按非登记就餐全价收费。"
    )
    assert (Meal.objects.count(), FundMovement.objects.count(), AuditEvent.objects.count()) == (
        meals,
        movements,
        audits,
    )
    assert balance(world) == FUND_BALANCE


def test_second_meal_in_the_same_slot_is_refused(world):
    checkin(world, "吴桂兰")
    with pytest.raises(Conflict) as caught:
        checkin(world, "吴桂兰")
    assert caught.value.code == "meal_exists"
    assert str(caught.value.message) == "吴桂兰今天的午餐已登记，不能重复登记。"
    assert Meal.objects.filter(resident=world.elders["吴桂兰"]).count() == 1
    assert balance(world) == FUND_BALANCE - 25
    # Another slot the same day is fine.
    checkin(world, "吴桂兰", "dinner")
    assert Meal.objects.filter(resident=world.elders["吴桂兰"]).count() == 2


def test_replay_with_the_same_key_returns_the_same_meal(world):
    same = key()
    first = checkin(world, "吴桂兰", idempotency_key=same)
    again = checkin(world, "吴桂兰", idempotency_key=same)
    assert again.id == first.id
    assert again.replayed is True
    assert first.replayed is False
    assert again.parts == SPLIT_70
    assert again.fund_id == world.fund.pk
    assert Meal.objects.count() == 1
    assert balance(world) == FUND_BALANCE - 25
    with pytest.raises(Conflict) as caught:
        checkin(world, "吴德厚", idempotency_key=same)
    assert caught.value.code == "idempotency_key_reused"


def test_fund_shortfall_moves_to_the_fallback_funder_with_a_warning(world):
    DonationFund.objects.filter(pk=world.fund.pk).update(balance_fen=10)
    # (the stored balance is now off its movements on purpose; fund_verify says so)
    result = checkin(world, "吴桂兰")
    assert result.donation_fen == 10
    assert result.donation_shortfall_fen == 15
    assert result.community_fen == 75 + 15
    assert result.resident_fen + result.government_fen + result.community_fen + result.donation_fen == 400
    assert result.warning == "捐赠资金余额不足，本餐有 0.15 元改由社区（村集体）补贴承担。"
    assert balance(world) == 0
    empty = checkin(world, "吴德厚")
    assert (empty.donation_fen, empty.donation_shortfall_fen, empty.community_fen) == (0, 30, 120)
    assert FundMovement.objects.filter(meal_id=empty.id).count() == 0
    replay = services.meal_result_of(Meal.objects.get(pk=empty.id))
    assert replay.warning == "捐赠资金余额不足，本餐有 0.30 元改由社区（村集体）补贴承担。"
    assert [m.fund_id for m in fund_verify()] == [world.fund.pk]


def test_township_fund_is_used_when_the_canteen_has_none(world):
    from canteens.services.enrolments import enrolment_create
    from canteens.services.funds import donation_fund_ensure, donation_record

    other = world.other_site  # 新华村 (城关镇): no canteen fund
    admin = world.users["township_admin"]
    resident = world.people.residents["李德明"]  # born 1955-11-20
    day = today()
    age = day.year - 1955 - (1 if (day.month, day.day) < (11, 20) else 0)
    tier = world.tiers["age-70-79"] if age < 80 else world.tiers["age-80-89"]
    enrolment_create(
        actor=admin, idempotency_key=key(), site=other, resident=resident, tier=tier, starts_on=day
    )
    _rule(admin, other, tier)
    fund = donation_fund_ensure(actor=admin, township=world.regions["城关镇"])
    donation_record(
        actor=admin,
        idempotency_key=key(),
        fund=fund,
        donor_name="城关爱心人士",
        donor_kind="person",
        kind="money",
        amount_fen=1000,
        received_on=today(),
        receipt_number="CG-0001",
    )
    result = services.meal_checkin(
        actor=admin,
        idempotency_key=key(),
        site_id=other.pk,
        slot="lunch",
        served_on=today(),
        resident_id=resident.pk,
        verified_by=VerifyMethod.ID_TAIL,
    )
    assert result.parts == {"government": 200, "community": 0, "donation": 200, "resident": 100}
    assert result.fund_id == fund.pk
    assert DonationFund.objects.get(pk=fund.pk).balance_fen == 800
    assert fund_verify() == []


def _rule(admin, site, tier):
    from canteens.services import rules as rule_services
    from canteens.split import Share

    return rule_services.price_rule_create(
        actor=admin,
        idempotency_key=key(),
        site=site,
        tier=tier,
        slot="",
        effective_from=today() - dt.timedelta(days=30),
        effective_to=None,
        price_fen=500,
        shares=[
            Share("resident", fixed_fen=100),
            Share("government", share_bp=5000),
            Share("donation", share_bp=5000),
        ],
        remainder_funder="government",
        donation_fallback="government",
    )


def test_checkin_prices_by_the_rule_in_force_for_the_slot(world):
    """The check-in's one read picks the rule as price_rule_in_force does: a rule for the very slot beats
    the all-slot rule; a tier (or the guests) with no rule in force is refused, nothing written."""
    from canteens.models import PriceRule
    from canteens.services import rules as rule_services
    from canteens.split import Share

    rule_services.price_rule_create(
        actor=world.admin,
        idempotency_key=key(),
        site=world.site,
        tier=world.tiers["age-70-79"],
        slot="lunch",
        effective_from=today() - dt.timedelta(days=10),
        effective_to=None,
        price_fen=500,
        shares=[Share("resident", fixed_fen=200), Share("government", share_bp=10_000)],
    )
    lunch = checkin(world, "吴桂兰", "lunch")
    assert (lunch.price_fen, lunch.parts) == (
        500,
        {"government": 300, "community": 0, "donation": 0, "resident": 200},
    )
    assert (lunch.donation_shortfall_fen, lunch.fund_id, lunch.warning) == (0, None, "")
    assert checkin(world, "吴桂兰", "dinner").parts == SPLIT_70
    assert balance(world) == FUND_BALANCE - 25

    yesterday = today() - dt.timedelta(days=1)
    PriceRule.objects.filter(pk=world.rules["age-80-89"].pk).update(effective_to=yesterday)
    PriceRule.objects.filter(pk=world.rules["guest"].pk).update(effective_to=yesterday)
    meals, audits = Meal.objects.count(), AuditEvent.objects.count()
    with pytest.raises(Conflict) as caught:
        checkin(world, "吴德厚", "lunch")
    assert (caught.value.code, str(caught.value.message)) == (
        "no_rule",
        f"{today().month}月{today().day}日的午餐没有适用于该老人补贴档次的价格规则，请先设置餐价。",
    )
    with pytest.raises(Conflict) as caught:
        checkin(world, "", is_guest=True, verified_by="")
    assert (caught.value.code, str(caught.value.message)) == (
        "no_guest_rule",
        "本食堂没有设置非登记就餐的价格，不能接待非登记就餐。",
    )
    # Yesterday both rules were still in force.
    assert checkin(world, "吴德厚", "lunch", served_on=yesterday).parts == SPLIT_80
    assert Meal.objects.count() == meals + 1
    assert AuditEvent.objects.count() == audits + 1
    assert balance(world) == FUND_BALANCE - 25 - 30
    assert fund_verify() == []


def test_deliverer_named_by_id_must_be_an_active_user(world):
    cook = world.users["cook"]
    result = checkin(world, "吴德厚", mode="delivery", deliverer_id=cook.pk, verified_by="staff_known")
    assert Meal.objects.get(pk=result.id).deliverer_id == cook.pk
    meals, audits = Meal.objects.count(), AuditEvent.objects.count()
    for deliverer_id in (cook.pk + 100_000, world.users["township_admin"].pk):
        if deliverer_id == world.users["township_admin"].pk:
            type(cook).objects.filter(pk=deliverer_id).update(is_active=False)
        with pytest.raises(DomainError) as caught:
            checkin(world, "吴桂兰", mode="delivery", deliverer_id=deliverer_id)
        assert (caught.value.code, caught.value.field, str(caught.value.message)) == (
            "bad_deliverer",
            "deliverer",
            "未找到该送餐人。",
        )
    assert (Meal.objects.count(), AuditEvent.objects.count()) == (meals, audits)
    assert balance(world) == FUND_BALANCE - 30


def test_refusals_with_messages(world):
    with pytest.raises(DomainError) as caught:
        checkin(world, "吴桂兰", slot="supper")
    assert (caught.value.code, caught.value.field, str(caught.value.message)) == (
        "bad_slot",
        "slot",
        "请选择餐次。",
    )
    with pytest.raises(DomainError) as caught:
        checkin(world, "吴桂兰", served_on=today() + dt.timedelta(days=1))
    assert str(caught.value.message) == "就餐日期不能晚于今天。"
    with pytest.raises(DomainError) as caught:
        checkin(world, "吴桂兰", mode="delivery")
    assert (caught.value.field, str(caught.value.message)) == ("deliverer_name", "送餐上门请填写送餐人。")
    with pytest.raises(NotFound):
        checkin(world, "吴桂兰", actor=world.users["township_admin"])  # another township
    with pytest.raises(NotFound):
        checkin(world, "吴桂兰", actor=world.users["minying_secretary"])  # reads only
    with pytest.raises(NotFound):
        checkin(world, "吴桂兰", site_id=world.classroom.pk)  # not a canteen
    # Before the enrolment started: not enrolled on that day.
    with pytest.raises(Conflict) as caught:
        checkin(world, "吴桂兰", served_on=world.enrolments["吴桂兰"].starts_on - dt.timedelta(days=1))
    assert caught.value.code == "not_enrolled"
    assert Meal.objects.count() == 0
    assert balance(world) == FUND_BALANCE


def test_granted_cook_may_check_in_and_delivery_keeps_the_deliverer(world):
    result = checkin(
        world,
        "吴德厚",
        actor=world.users["cook"],
        mode="delivery",
        deliverer_name="志愿者小李",
        verified_by="staff_known",
    )
    meal = Meal.objects.get(pk=result.id)
    assert (meal.mode, meal.deliverer_name, meal.verified_by) == ("delivery", "志愿者小李", "staff_known")


def test_approved_month_is_locked_for_new_meals(world):
    day = today()
    Settlement.objects.create(
        site=world.site, year=day.year, month=day.month, status=ClaimStatus.APPROVED, claim_number="BT-X"
    )
    with pytest.raises(Conflict) as caught:
        checkin(world, "吴桂兰")
    assert caught.value.code == "period_locked"
    assert str(caught.value.message) == f"{day.year}年{day.month}月的补贴申报已审核锁定，不能再登记该月就餐。"


def test_correction_reverses_the_meal_and_returns_the_draw(world):
    result = checkin(world, "吴桂兰")
    meal = Meal.objects.get(pk=result.id)
    with pytest.raises(DomainError):
        services.meal_correction_request(actor=world.manager, meal=meal, reason=" ")
    correction = services.meal_correction_request(actor=world.manager, meal=meal, reason="登记错人")
    with pytest.raises(Conflict):
        services.meal_correction_request(actor=world.manager, meal=meal, reason="又一次")
    with pytest.raises(NotFound):
        services.meal_correction_apply(actor=world.users["township_admin"], correction=correction)
    reversal = services.meal_correction_apply(actor=world.admin, correction=correction)
    assert reversal.reverses_id == meal.pk
    assert reversal.served_on == meal.served_on
    assert parts(reversal) == {k: -v for k, v in SPLIT_70.items()}
    assert reversal.price_fen == -400
    meal.refresh_from_db()
    assert meal.voided_at is not None
    correction.refresh_from_db()
    assert (correction.status, correction.reversal_id, correction.decided_by_id) == (
        CorrectionStatus.APPLIED,
        reversal.pk,
        world.admin.pk,
    )
    assert balance(world) == FUND_BALANCE
    back = FundMovement.objects.get(kind=FundMovementKind.MEAL_RETURN)
    assert (back.amount_fen, back.meal_id) == (25, reversal.pk)
    assert fund_verify() == []
    with pytest.raises(Conflict):
        services.meal_correction_apply(actor=world.admin, correction=correction)
    # The slot is free again.
    again = checkin(world, "吴桂兰")
    assert again.parts == SPLIT_70


def test_correction_of_an_approved_month_lands_in_the_first_open_month(world):
    served = dt.date(today().year - 1, 11, 20)
    result = checkin(world, "吴桂兰", served_on=served)
    for month in (11, 12):
        Settlement.objects.create(
            site=world.site,
            year=served.year,
            month=month,
            status=ClaimStatus.APPROVED,
            claim_number=f"BT{world.site.pk}{served.year}{month:02d}",
        )
    correction = services.meal_correction_request(
        actor=world.manager, meal=Meal.objects.get(pk=result.id), reason="重复登记"
    )
    reversal = services.meal_correction_apply(actor=world.manager, correction=correction)
    assert reversal.served_on == dt.date(served.year + 1, 1, 1)
    assert services.correction_date(world.site.pk, dt.date(served.year, 10, 3)) == dt.date(served.year, 10, 3)


def test_reject_keeps_the_meal(world):
    result = checkin(world, "吴桂兰")
    correction = services.meal_correction_request(
        actor=world.manager, meal=Meal.objects.get(pk=result.id), reason="看错了"
    )
    rejected = services.meal_correction_reject(actor=world.admin, correction=correction, reason="记录无误")
    assert rejected.status == CorrectionStatus.REJECTED
    assert Meal.objects.get(pk=result.id).voided_at is None
    assert MealCorrection.objects.filter(status=CorrectionStatus.OPEN).count() == 0


def test_meal_rows_are_append_only_in_the_database(world):
    result = checkin(world, "吴桂兰")
    from django.db import transaction
    from django.db.utils import DatabaseError

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE canteens_meal SET price_fen = 1 WHERE id = %s", [result.id])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the benchmark's database (SQLite: the demo)")
def test_checkin_is_a_few_plain_statements(world):
    """The hot path: no ORM query building per meal (the benchmark's check-in through the API)."""
    from django.db import connection as conn
    from django.test.utils import CaptureQueriesContext

    checkin(world, "吴德厚", "breakfast")  # prepares the statements on this connection
    with CaptureQueriesContext(conn) as queries:
        checkin(world, "吴桂兰")
    statements = [q["sql"] for q in queries.captured_queries]
    # The savepoint pair of the test's transaction around the service's eight: the idempotency record,
    # the context (site, enrolment, rule in force with its shares, fund … in one prepared read), the gate,
    # the fund's conditional draw, the meal, its fund movement, the audit row, the idempotency answer.
    kinds = [" ".join(sql.split()[:3]) for sql in statements]
    assert len(statements) == 10, "\n".join(statements)
    assert kinds[1].startswith("INSERT INTO common_idempotencyrecord"), kinds
    assert kinds[3].startswith("EXECUTE governance_assignments"), kinds
    assert kinds[4] == "UPDATE canteens_donationfund SET", kinds
    assert kinds[5] == "INSERT INTO canteens_meal", kinds
    assert kinds[6] == "INSERT INTO canteens_fundmovement", kinds
    assert kinds[7] == "INSERT INTO governance_auditevent", kinds
    assert kinds[8] == "UPDATE common_idempotencyrecord SET", kinds
    assert "canteens_checkin_context" in statements[2], statements[2]
    assert not any("canteens_pricerule" in sql for sql in statements[3:]), statements

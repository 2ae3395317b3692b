"""Monthly settlement: the figures equal the sum of the meal rows exactly; an approved claim is locked (the
service's Conflict and the database trigger); submit refused with open corrections; approve/return gates."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest
from django.db import DatabaseError, connection, transaction

from canteens.models import ClaimStatus, CorrectionStatus, Meal, MealCorrection, Settlement, SettlementLine
from canteens.services import settlements as services
from common.errors import Conflict, DomainError, NotFound
from governance.models import AuditEvent
from tests.canteens.factories import SPLIT_70, SPLIT_80, SPLIT_GUEST, SPLIT_LOW, canteen_world, key
from tests.canteens.settlement_meals import SLOTS, last_month, meal_row, random_month, reversal_write

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(demo_county):
    return canteen_world(demo_county)


def _compute(world, year, month, actor=None):
    return services.settlement_compute(
        actor=actor or world.manager, idempotency_key=key(), site=world.site, year=year, month=month
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_totals_equal_the_sum_of_the_meal_entries(world, seed):
    year, month = last_month()
    written = random_month(world, year, month, seed=seed)
    # A meal of another month and of another canteen must not count.
    Meal.objects.bulk_create(
        [
            meal_row(
                world,
                served_on=dt.date(year, month, 1) - dt.timedelta(days=1),
                slot="lunch",
                parts=SPLIT_70,
                elder="吴桂兰",
            ),
            meal_row(
                world,
                served_on=dt.date(year, month, 2),
                slot="lunch",
                parts=SPLIT_GUEST,
                site_id=world.other_site.pk,
            ),
        ]
    )
    settlement = _compute(world, year, month)
    rows = written.rows
    sign = {m.pk: (-1 if m.reverses_id else 1) for m in rows}
    settlement.refresh_from_db()
    assert settlement.claim_number == f"BT{world.site.pk}{year}{month:02d}"
    assert settlement.status == ClaimStatus.DRAFT
    assert settlement.meals == sum(sign.values())
    assert settlement.guest_meals == sum(sign[m.pk] for m in rows if m.is_guest)
    assert settlement.price_fen == sum(m.price_fen for m in rows)
    assert settlement.resident_fen == sum(m.resident_fen for m in rows)
    assert settlement.government_county_fen == sum(
        m.government_fen for m in rows if m.government_level == "county"
    )
    assert settlement.government_township_fen == sum(
        m.government_fen for m in rows if m.government_level == "township"
    )
    assert settlement.community_fen == sum(m.community_fen for m in rows)
    assert settlement.donation_fen == sum(m.donation_fen for m in rows)
    standing = {m.resident_id for m in written.meals if not m.is_guest and m.voided_at is None}
    assert settlement.elders == len(standing)

    expected: dict[tuple[str, int | None], list[int]] = defaultdict(lambda: [0] * 6)
    for m in rows:
        line = expected[(m.slot, m.tier_id)]
        for i, v in enumerate(
            (sign[m.pk], m.price_fen, m.resident_fen, m.government_fen, m.community_fen, m.donation_fen)
        ):
            line[i] += v
    got = {
        (line.slot, line.tier_id): [
            line.meals,
            line.price_fen,
            line.resident_fen,
            line.government_fen,
            line.community_fen,
            line.donation_fen,
        ]
        for line in SettlementLine.objects.filter(settlement=settlement)
    }
    assert got == dict(expected)


def test_fixed_month_exact_lines_and_recompute(world):
    year, month = last_month()
    d1, d2 = dt.date(year, month, 1), dt.date(year, month, 2)
    meals = Meal.objects.bulk_create(
        [
            meal_row(world, served_on=d1, slot="lunch", parts=SPLIT_70, elder="吴桂兰"),
            meal_row(world, served_on=d2, slot="lunch", parts=SPLIT_70, elder="吴桂兰"),
            meal_row(world, served_on=d1, slot="lunch", parts=SPLIT_80, elder="吴德厚", level="township"),
            meal_row(world, served_on=d1, slot="dinner", parts=SPLIT_LOW, elder="吴秀芝"),
            meal_row(world, served_on=d1, slot="dinner", parts=SPLIT_GUEST),
        ]
    )
    settlement = _compute(world, year, month)
    assert (settlement.meals, settlement.guest_meals, settlement.elders) == (5, 1, 3)
    assert settlement.price_fen == 2200
    assert settlement.resident_fen == 150 + 150 + 100 + 50 + 600
    assert settlement.government_county_fen == 150 + 150 + 200
    assert settlement.government_township_fen == 180
    assert settlement.community_fen == 75 + 75 + 90 + 115
    assert settlement.donation_fen == 25 + 25 + 30 + 35
    lines = {
        (line.slot, line.tier_id): (line.meals, line.price_fen, line.government_fen)
        for line in settlement.lines.all()
    }
    t = world.tiers
    assert lines == {
        ("lunch", t["age-70-79"].pk): (2, 800, 300),
        ("lunch", t["age-80-89"].pk): (1, 400, 180),
        ("dinner", t["low-income"].pk): (1, 400, 200),
        ("dinner", None): (1, 600, 0),
    }
    # A correction in the same month cancels the meal: the lines change on recompute, the elder goes.
    reversal_write(meals[2], world.manager.pk)
    settlement = _compute(world, year, month)
    assert (settlement.meals, settlement.elders, settlement.price_fen) == (4, 2, 1800)
    assert settlement.government_township_fen == 0
    lines = {(line.slot, line.tier_id): line.meals for line in settlement.lines.all()}
    assert lines[("lunch", t["age-80-89"].pk)] == 0
    assert Settlement.objects.filter(site=world.site).count() == 1
    assert (
        AuditEvent.objects.filter(object_type="canteens.settlement", object_id=str(settlement.pk)).count()
        == 2
    )


def test_empty_month_and_bad_periods(world):
    year, month = last_month()
    settlement = _compute(world, year, month)
    assert (settlement.meals, settlement.price_fen, settlement.lines.count()) == (0, 0, 0)
    future = dt.date.today().replace(day=28) + dt.timedelta(days=10)
    with pytest.raises(DomainError) as error:
        _compute(world, future.year, future.month)
    assert error.value.code == "period_future"
    with pytest.raises(DomainError) as error:
        _compute(world, year, 13)
    assert error.value.field == "month"
    with pytest.raises(NotFound):
        _compute(world, year, month, actor=world.users["township_admin"])  # 城关镇: another township


def _submitted(world):
    year, month = last_month()
    Meal.objects.bulk_create(
        [
            meal_row(world, served_on=dt.date(year, month, 3), slot=s, parts=SPLIT_70, elder="吴桂兰")
            for s in SLOTS
        ]
    )
    settlement = _compute(world, year, month)
    return services.settlement_submit(actor=world.manager, idempotency_key=key(), settlement=settlement)


def test_submit_refused_with_open_corrections_then_allowed(world):
    year, month = last_month()
    meals = Meal.objects.bulk_create(
        [
            meal_row(world, served_on=dt.date(year, month, 3), slot=s, parts=SPLIT_70, elder="吴桂兰")
            for s in SLOTS
        ]
    )
    for meal in meals[:2]:
        MealCorrection.objects.create(meal=meal, reason="误登记", requested_by=world.manager)
    settlement = _compute(world, year, month)
    with pytest.raises(Conflict) as error:
        services.settlement_submit(actor=world.manager, idempotency_key=key(), settlement=settlement)
    assert error.value.code == "open_corrections"
    assert "2 条就餐更正未处理" in str(error.value.message)
    settlement.refresh_from_db()
    assert settlement.status == ClaimStatus.DRAFT
    assert settlement.submitted_at is None
    MealCorrection.objects.update(status=CorrectionStatus.REJECTED)
    submitted = services.settlement_submit(actor=world.manager, idempotency_key=key(), settlement=settlement)
    assert submitted.status == ClaimStatus.SUBMITTED
    assert submitted.submitted_by == world.manager
    assert submitted.price_fen == 1200


def test_submit_refused_before_the_month_ends(world):
    today = dt.date.today()
    settlement = _compute(world, today.year, today.month)
    with pytest.raises(Conflict) as error:
        services.settlement_submit(actor=world.manager, idempotency_key=key(), settlement=settlement)
    assert error.value.code == "period_not_over"


def test_submitted_cannot_be_recomputed_and_submit_replays(world):
    k = key()
    year, month = last_month()
    Meal.objects.bulk_create(
        [meal_row(world, served_on=dt.date(year, month, 3), slot="lunch", parts=SPLIT_70, elder="吴桂兰")]
    )
    settlement = _compute(world, year, month)
    first = services.settlement_submit(actor=world.manager, idempotency_key=k, settlement=settlement)
    again = services.settlement_submit(actor=world.manager, idempotency_key=k, settlement=settlement)
    assert again.pk == first.pk
    assert again.status == ClaimStatus.SUBMITTED
    with pytest.raises(Conflict) as error:
        _compute(world, year, month)
    assert error.value.code == "settlement_submitted"
    with pytest.raises(Conflict):
        services.settlement_submit(actor=world.manager, idempotency_key=key(), settlement=settlement)


def test_approve_and_return_gates(world):
    settlement = _submitted(world)
    u = world.users
    for who in ("canteen_manager", "cook", "minying_secretary"):
        with pytest.raises(DomainError) as error:
            services.settlement_approve(actor=u[who], idempotency_key=key(), settlement=settlement)
        assert (error.value.status, error.value.code) == (403, "approve_forbidden"), who
    for who in ("township_admin", "village_secretary"):
        with pytest.raises(NotFound):
            services.settlement_approve(actor=u[who], idempotency_key=key(), settlement=settlement)
    with pytest.raises(DomainError) as error:
        services.settlement_return(
            actor=world.admin, idempotency_key=key(), settlement=settlement, reason="  "
        )
    assert error.value.field == "reason"
    returned = services.settlement_return(
        actor=world.admin, idempotency_key=key(), settlement=settlement, reason="请附签字页"
    )
    assert (returned.status, returned.return_reason, returned.decided_by) == (
        ClaimStatus.RETURNED,
        "请附签字页",
        world.admin,
    )
    with pytest.raises(Conflict) as error:
        services.settlement_approve(actor=world.admin, idempotency_key=key(), settlement=settlement)
    assert error.value.code == "settlement_not_submitted"
    # Returned: the canteen recomputes and submits again; the county approves.
    _compute(world, settlement.year, settlement.month)
    services.settlement_submit(actor=world.manager, idempotency_key=key(), settlement=settlement)
    approved = services.settlement_approve(
        actor=u["county_admin"], idempotency_key=key(), settlement=settlement
    )
    assert approved.status == ClaimStatus.APPROVED
    assert approved.return_reason == ""


def test_an_approved_claim_is_locked(world):
    settlement = _submitted(world)
    services.settlement_approve(actor=world.admin, idempotency_key=key(), settlement=settlement)
    with pytest.raises(Conflict) as error:
        _compute(world, settlement.year, settlement.month)
    assert error.value.code == "settlement_locked"
    with pytest.raises(Conflict):
        services.settlement_return(
            actor=world.admin, idempotency_key=key(), settlement=settlement, reason="x"
        )
    # The database refuses too, whatever the code path.
    for sql in (
        "UPDATE canteens_settlement SET price_fen = price_fen + 1, resident_fen = resident_fen + 1 "
        "WHERE id = %s",
        "UPDATE canteens_settlement SET status = 'draft' WHERE id = %s",
        "DELETE FROM canteens_settlement WHERE id = %s",
        "UPDATE canteens_settlementline SET meals = meals + 1 WHERE settlement_id = %s",
        "DELETE FROM canteens_settlementline WHERE settlement_id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="locked"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [settlement.pk])
    with pytest.raises(DatabaseError, match="locked"), transaction.atomic():
        SettlementLine.objects.create(
            settlement=settlement,
            slot="breakfast",
            tier=None,
            meals=1,
            price_fen=0,
            resident_fen=0,
            government_fen=0,
            community_fen=0,
            donation_fen=0,
        )
    settlement.refresh_from_db()
    assert (settlement.status, settlement.price_fen, settlement.lines.count()) == (
        ClaimStatus.APPROVED,
        1200,
        3,
    )

"""Canteen reports: budget vs. spent vs. remaining per funder with the projection, per-canteen figures and
the people benefiting, exact values."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Sum

from canteens.models import Budget, ClassAttendance, ClassSession, Meal
from canteens.selectors import reports
from canteens.services.budgets import budget_set
from common.errors import DomainError, NotFound
from tests.canteens.factories import SPLIT_70, SPLIT_80, SPLIT_GUEST, canteen_world, key
from tests.canteens.settlement_meals import meal_row, reversal_write

pytestmark = pytest.mark.django_db
TODAY = dt.date(2025, 3, 31)  # day 90 of 365


@pytest.fixture
def world(demo_county):
    return canteen_world(demo_county)


def test_budget_vs_spent_projection_and_beneficiaries(world):
    d = dt.date(2025, 2, 10)
    meals = Meal.objects.bulk_create(
        [
            meal_row(world, served_on=d, slot="lunch", parts=SPLIT_70, elder="吴桂兰"),
            meal_row(world, served_on=d, slot="dinner", parts=SPLIT_70, elder="吴桂兰"),
            meal_row(world, served_on=d, slot="lunch", parts=SPLIT_80, elder="吴德厚"),
            meal_row(world, served_on=d, slot="lunch", parts=SPLIT_GUEST),
            meal_row(world, served_on=dt.date(2024, 12, 31), slot="lunch", parts=SPLIT_70, elder="吴秀芝"),
        ]
    )
    reversal_write(meals[1], world.manager.pk)
    budget_set(
        actor=world.admin,
        idempotency_key=key(),
        site=world.site,
        year=2025,
        funder="government",
        amount_yuan="10.00",
    )
    budget_set(
        actor=world.admin,
        idempotency_key=key(),
        site=world.site,
        year=2025,
        funder="community",
        amount_fen=100_000,
    )
    session = ClassSession.objects.create(
        site=world.classroom,
        held_on=d,
        subject="作业辅导",
        teacher=_teacher(world),
        children_count=3,
        created_by=world.manager,
    )
    ClassAttendance.objects.create(session=session, resident=world.people.residents["周明"])
    ClassAttendance.objects.create(session=session, resident=world.elders["吴桂兰"])  # counted once

    report = reports.canteen_report(world.admin, year=2025, today=TODAY)
    assert [s.site.pk for s in report.sites] == [world.site.pk]
    f = report.sites[0].figures
    assert (f.meals, f.elders, f.price_fen) == (3, 2, 400 + 400 + 600)
    assert (f.resident_fen, f.government_fen, f.community_fen, f.donation_fen) == (850, 330, 165, 55)
    assert f.cost_per_meal_fen == 467  # 1400 / 3 = 466.67
    assert f.balance_fen == 0
    gov, community, donation, _resident = report.sites[0].funders
    assert (gov.budget_fen, gov.spent_fen, gov.remaining_fen) == (1000, 330, 670)
    assert gov.projected_fen == 1338  # 330 × 365 / 90 = 1338.3
    assert gov.gap_fen == 338
    assert gov.runs_out_on == dt.date(2025, 1, 1) + dt.timedelta(days=1000 * 90 // 330)  # 272 days: 30 Sep
    assert gov.runs_out_on == dt.date(2025, 9, 30)
    assert (community.budget_fen, community.gap_fen, community.runs_out_on) == (100_000, 0, None)
    assert donation.budget_fen is None
    assert donation.gap_fen == 0
    assert report.gap_fen == 338
    assert report.beneficiaries == 3  # 吴桂兰, 吴德厚 (meals), 周明 (class); not the guest, not 2024
    # Another township's admin sees none of it.
    other = reports.canteen_report(world.users["township_admin"], year=2025, today=TODAY)
    assert [s.site.pk for s in other.sites] == [world.other_site.pk]
    assert other.total.meals == 0
    assert other.beneficiaries == 0
    assert (
        Meal.objects.filter(site=world.site, served_on__year=2025).aggregate(s=Sum("price_fen"))["s"] == 1400
    )


def _teacher(world):
    from canteens.models import Volunteer

    return Volunteer.objects.create(region=world.regions["民营社区"], name="志愿者小李")


def test_budget_set_refusals(world):
    with pytest.raises(NotFound):
        budget_set(
            actor=world.manager,
            idempotency_key=key(),
            site=world.site,
            year=2025,
            funder="government",
            amount_yuan="1",
        )
    with pytest.raises(DomainError) as error:
        budget_set(
            actor=world.admin,
            idempotency_key=key(),
            site=world.site,
            year=2025,
            funder="government",
            amount_yuan="-5",
        )
    assert error.value.field == "amount_yuan"
    with pytest.raises(DomainError) as error:
        budget_set(
            actor=world.admin,
            idempotency_key=key(),
            site=world.site,
            year=2025,
            funder="nobody",
            amount_yuan="5",
        )
    assert error.value.field == "funder"
    k = key()
    first = budget_set(
        actor=world.admin,
        idempotency_key=k,
        site=world.site,
        year=2025,
        funder="donation",
        amount_yuan="¥1,200.50",
    )
    again = budget_set(
        actor=world.admin,
        idempotency_key=k,
        site=world.site,
        year=2025,
        funder="donation",
        amount_yuan="¥1,200.50",
    )
    assert first.pk == again.pk
    assert first.amount_fen == 120_050
    budget_set(
        actor=world.admin, idempotency_key=key(), site=world.site, year=2025, funder="donation", amount_fen=5
    )
    assert list(Budget.objects.values_list("funder", "amount_fen")) == [("donation", 5)]

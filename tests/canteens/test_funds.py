"""The donation fund's ledger invariants: the balance equals the sum of its movements (fund_verify finds
any fund where it does not), movements are append-only in the database, and the balance never goes
below zero (CHECK)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.db.utils import DatabaseError

from canteens.models import DonationFund, FundMovement
from canteens.services.funds import FundMismatch, fund_move, fund_verify
from tests.canteens.factories import FUND_BALANCE, CanteenWorld, canteen_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(demo_county) -> CanteenWorld:
    return canteen_world(demo_county)


def test_fund_verify_finds_a_balance_off_its_movements(world):
    assert fund_verify() == []
    DonationFund.objects.filter(pk=world.fund.pk).update(balance_fen=FUND_BALANCE + 1)
    assert fund_verify() == [
        FundMismatch(world.fund.pk, "民营社区爱心食堂捐赠资金", FUND_BALANCE + 1, FUND_BALANCE)
    ]


def test_fund_move_keeps_balance_and_movements_together(world):
    with transaction.atomic():
        after = fund_move(
            fund_id=world.fund.pk, kind="adjustment", amount_fen=-2_500, actor_id=world.admin.pk
        )
    assert after == FUND_BALANCE - 2_500
    assert DonationFund.objects.get(pk=world.fund.pk).balance_fen == FUND_BALANCE - 2_500
    assert fund_verify() == []


def test_the_balance_never_goes_below_zero(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        fund_move(fund_id=world.fund.pk, kind="adjustment", amount_fen=-(FUND_BALANCE + 1), actor_id=None)
    assert DonationFund.objects.get(pk=world.fund.pk).balance_fen == FUND_BALANCE
    assert FundMovement.objects.filter(fund=world.fund).count() == 1


def test_movements_are_append_only(world):
    movement = FundMovement.objects.get(fund=world.fund)
    with pytest.raises(DatabaseError), transaction.atomic():
        FundMovement.objects.filter(pk=movement.pk).update(amount_fen=1)
    with pytest.raises(DatabaseError), transaction.atomic():
        FundMovement.objects.filter(pk=movement.pk).delete()

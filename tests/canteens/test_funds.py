"""The donation fund's ledger invariants: the balance equals the sum of its movements (fund_verify finds
any fund where it does not), movements are append-only in the database, and the balance never goes
below zero (CHECK)."""

from __future__ import annotations

import logging

import pytest
from celery.schedules import crontab
from django.db import IntegrityError, connection, transaction
from django.db.utils import DatabaseError

from canteens.models import DonationFund, FundMovement
from canteens.services.funds import FundMismatch, fund_move, fund_verify
from canteens.tasks import fund_verify_task
from config.celery import app
from governance.models import AuditAction, AuditEvent
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


# ---------------------------------------------------------------------------------------------------------
# The nightly verification task (canteens.tasks.fund_verify_task, beat entry canteens-fund-verify)


def test_the_nightly_verification_of_a_clean_ledger_logs_no_error_and_writes_nothing(world, caplog):
    before = AuditEvent.objects.count()
    with caplog.at_level(logging.INFO, logger="canteens.funds"):
        assert fund_verify_task() == {"ok": True, "funds": []}
    assert [r.levelname for r in caplog.records] == ["INFO"]
    assert AuditEvent.objects.count() == before


def test_the_nightly_verification_alerts_and_audits_a_broken_balance(world, caplog):
    # The stored balance is not trigger protected (only the movements are): a raw UPDATE, as a careless
    # hand in psql would do, puts it off its movements without a movement.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE canteens_donationfund SET balance_fen = balance_fen + 500 WHERE id = %s",
            [world.fund.pk],
        )
    township_fund = DonationFund.objects.create(
        township=world.regions["石花镇"], name="石花镇爱心食堂捐赠资金"
    )
    before = AuditEvent.objects.count()
    with caplog.at_level(logging.INFO, logger="canteens.funds"):
        assert fund_verify_task() == {"ok": False, "funds": [world.fund.pk]}
    (record,) = caplog.records
    assert record.levelname == "ERROR"
    assert record.getMessage() == (
        "canteens fund verification: 1 donation fund(s) differ from their movements: "
        f"fund #{world.fund.pk} stored {FUND_BALANCE + 500} fen, movements {FUND_BALANCE} fen"
    )
    # No personal data and no free text in the log line: ids and amounts only.
    assert "民营" not in record.getMessage()
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.latest("id")
    assert (event.action, event.object_type, event.object_id, event.actor_id) == (
        AuditAction.UPDATE,
        "canteens.donationfund",
        str(world.fund.pk),
        None,
    )
    assert event.region_path == world.site.region.path
    assert event.changes == {"balance_fen": [FUND_BALANCE, FUND_BALANCE + 500]}
    assert event.detail == (
        f"每晚核对：捐赠资金余额 {FUND_BALANCE + 500} 分与流水合计 {FUND_BALANCE} 分不符，"
        "相差 500 分，请核查。"
    )
    # Nothing repaired, and the township's empty fund (no movements, balance 0) agrees.
    assert DonationFund.objects.get(pk=world.fund.pk).balance_fen == FUND_BALANCE + 500
    assert township_fund.pk not in [m.fund_id for m in fund_verify()]


@pytest.mark.django_db(transaction=True)  # the scheduler closes the connection as beat does
def test_the_fund_verification_is_scheduled_nightly_for_beat():
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import DatabaseScheduler

    assert app.conf.beat_schedule["canteens-fund-verify"] == {
        "task": "canteens.fund_verify",
        "schedule": crontab(hour=3, minute=10),
    }
    assert app.tasks["canteens.fund_verify"].name == fund_verify_task.name
    DatabaseScheduler(app=app)  # what `celery beat` does when it starts
    entry = PeriodicTask.objects.get(name="canteens-fund-verify")
    assert (entry.task, entry.crontab.minute, entry.crontab.hour, entry.enabled) == (
        "canteens.fund_verify",
        "10",
        "3",
        True,
    )

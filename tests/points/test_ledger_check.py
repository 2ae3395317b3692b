# ruff: noqa: F811, PT018 -- the points_world fixture is imported by name; compact exact checks
"""The verification job: one SQL pass, every difference named, an ERROR log, the command's exit code."""

from __future__ import annotations

import logging

import pytest
from django.core.management import CommandError, call_command

from config.celery import app
from points.ledger import system_account
from points.models import Account, AccountKind, Item, LedgerCheck, LedgerTransaction, Posting, TransactionKind
from points.services.ledger_check import ledger_check_latest, ledger_verify
from points.tasks import ledger_verify as ledger_verify_task
from tests.points.factories import points_give, points_world  # noqa: F401

pytestmark = pytest.mark.django_db


def test_a_consistent_ledger_passes(points_world, caplog):
    points_give(points_world, "王家", 30)
    points_give(points_world, "赵家", 12)
    with caplog.at_level(logging.INFO, logger="points.ledger_check"):
        check = ledger_verify()
    accounts = Account.objects.count()
    assert (check.is_ok, check.accounts_checked, check.differences) == (True, accounts, [])
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert ledger_check_latest() == check


def test_every_difference_is_named_and_logged_at_error(points_world, caplog):
    points_give(points_world, "王家", 30)
    wang = points_world.accounts["王家"]
    Account.objects.filter(pk=wang.pk).update(balance=31)  # a balance moved without postings
    # An unbalanced transaction (the deferred trigger would refuse it at COMMIT; the test never commits).
    stray = LedgerTransaction.objects.create(
        kind=TransactionKind.ADJUSTMENT, township=points_world.regions["城关镇"], memo="错账"
    )
    Posting.objects.create(
        transaction=stray,
        account=system_account(points_world.regions["城关镇"], AccountKind.ISSUANCE),
        amount=4,
    )
    empty = LedgerTransaction.objects.create(
        kind=TransactionKind.ADJUSTMENT, township=points_world.regions["城关镇"], memo="空交易"
    )
    oil = points_world.items["食用油"]
    Item.objects.filter(pk=oil.pk).update(on_hand=2)
    with caplog.at_level(logging.ERROR, logger="points.ledger_check"):
        check = ledger_verify()
    assert check.is_ok is False
    found = {(d["kind"], d["id"], d["stored"], d["expected"]) for d in check.differences}
    assert found == {
        ("balance_mismatch", wang.pk, 31, 30),
        ("transaction_unbalanced", stray.pk, 4, 0),
        ("transaction_empty", empty.pk, 0, 2),
        ("postings_total", None, 4, 0),
        ("stock_mismatch", oil.pk, 2, 1),
    }
    texts = [d["text"] for d in check.differences]
    assert f"账户 #{wang.pk}（household）记录余额 31 分，分录合计 30 分" in texts
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "5 difference(s)" in errors[0].getMessage()
    assert LedgerCheck.objects.get(pk=check.pk).differences == check.differences
    # Balance the stray leg again: Django's test teardown fires the deferred trigger (SET CONSTRAINTS ALL
    # IMMEDIATE), which would otherwise refuse the unbalanced transaction.
    Posting.objects.create(transaction=stray, account=wang, amount=-4)


def test_command_exits_non_zero_naming_each_difference(points_world, capsys):
    points_give(points_world, "王家", 30)
    call_command("points_verify")
    assert "积分账务核对一致" in capsys.readouterr().out
    Account.objects.filter(pk=points_world.accounts["王家"].pk).update(balance=29)
    with pytest.raises(CommandError, match="1 处差异"):
        call_command("points_verify")
    err = capsys.readouterr().err
    assert f"账户 #{points_world.accounts['王家'].pk}（household）记录余额 29 分，分录合计 30 分" in err


def test_beat_task_runs_the_check_hourly(points_world):
    assert app.conf.beat_schedule["points-ledger-verify"]["task"] == "points.ledger_verify"
    assert app.conf.beat_schedule["points-expire-due"]["task"] == "points.expire_due"
    result = ledger_verify_task()
    assert result["ok"] is True and result["differences"] == 0

# ruff: noqa: F811, PT018, PT012 -- the points_world fixture is imported by name; compact exact checks
"""points.ledger: exact balances, refusals (Python and database), reversals, pending, the balance read."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from common.errors import Conflict, DomainError, NotFound
from points.ledger import (
    CARD_CODE_LENGTH,
    account_balance,
    account_for_household,
    ledger_post,
    ledger_reverse,
    pending_add,
    pending_release,
    store_sink,
    system_account,
)
from points.models import Account, AccountKind, LedgerTransaction, Posting, TransactionKind
from points.selectors.ledger import account_statement, household_balance
from tests.points.factories import points_give, points_world, township_of  # noqa: F401

pytestmark = pytest.mark.django_db


def _redeem(world, household: str, points: int) -> LedgerTransaction:
    return ledger_post(
        township=township_of(world, household),
        kind=TransactionKind.REDEMPTION,
        memo="兑换",
        legs=[(world.accounts[household], -points), (store_sink(world.stores["城关镇"]), points)],
        actor=world.users["township_admin"],
    )


def test_household_account_is_opened_once_with_a_card_code(points_world):
    account = points_world.accounts["王家"]
    assert account.kind == AccountKind.HOUSEHOLD
    assert account.township_id == points_world.regions["城关镇"].pk
    assert len(account.card_code) == CARD_CODE_LENGTH
    again = account_for_household(points_world.households["王家"])
    assert again.pk == account.pk and again.card_code == account.card_code
    assert Account.objects.filter(household=points_world.households["王家"]).count() == 1


def test_system_accounts_one_per_township_and_kind(points_world):
    township = points_world.regions["城关镇"]
    issuance = system_account(township, AccountKind.ISSUANCE)
    assert system_account(township, AccountKind.ISSUANCE).pk == issuance.pk
    assert system_account(township, AccountKind.EXPIRY).pk != issuance.pk
    with pytest.raises(DomainError) as refused:
        system_account(points_world.regions["新华村"], AccountKind.ISSUANCE)
    assert refused.value.code == "not_a_township"
    sink = store_sink(points_world.stores["城关镇"])
    assert (sink.kind, sink.township_id) == (AccountKind.STORE_SINK, township.pk)
    assert store_sink(points_world.stores["城关镇"]).pk == sink.pk


def test_exact_balances_after_award_and_redemption(points_world):
    points_give(points_world, "王家", 100)
    _redeem(points_world, "王家", 30)
    issuance = system_account(points_world.regions["城关镇"], AccountKind.ISSUANCE)
    sink = store_sink(points_world.stores["城关镇"])
    assert points_world.account("王家").balance == 70
    assert account_balance(issuance) == -100
    assert account_balance(sink) == 30
    # System accounts store no balance (a CHECK pins it at 0): no row every award or receipt must lock.
    assert Account.objects.get(pk=issuance.pk).balance == Account.objects.get(pk=sink.pk).balance == 0
    assert sum(Posting.objects.values_list("amount", flat=True)) == 0


def test_overdraft_is_refused_and_nothing_is_written(points_world):
    points_give(points_world, "王家", 20)
    before = (LedgerTransaction.objects.count(), Posting.objects.count())
    with pytest.raises(Conflict) as refused:
        _redeem(points_world, "王家", 21)
    assert refused.value.code == "insufficient_points"
    assert refused.value.status == 409
    assert str(refused.value.message) == "积分不足：该户可用积分 20 分，本次需要 21 分。"
    assert (refused.value.extra["balance"], refused.value.extra["needed"]) == (20, 21)
    assert (LedgerTransaction.objects.count(), Posting.objects.count()) == before
    assert points_world.account("王家").balance == 20


@pytest.mark.parametrize(
    ("amounts", "code"),
    [
        ((10, -9), "ledger_unbalanced"),
        ((10, 0, -10), "ledger_amount_zero"),
        ((10,), "ledger_legs_missing"),
        ((10.0, -10), "ledger_amount_not_integer"),
        ((True, -1), "ledger_amount_not_integer"),
    ],
)
def test_bad_legs_are_refused_in_python(points_world, amounts, code):
    accounts = [
        system_account(points_world.regions["城关镇"], AccountKind.ISSUANCE),
        points_world.accounts["王家"],
        points_world.accounts["李家"],
    ]
    with pytest.raises(DomainError) as refused:
        ledger_post(
            township=points_world.regions["城关镇"],
            kind=TransactionKind.ADJUSTMENT,
            memo="错账",
            legs=list(zip(accounts, amounts, strict=False)),
            actor=None,
        )
    assert refused.value.code == code
    assert LedgerTransaction.objects.count() == 0


def test_unbalanced_postings_are_refused_by_the_trigger(points_world):
    entry = LedgerTransaction.objects.create(
        kind=TransactionKind.ADJUSTMENT, township=points_world.regions["城关镇"], memo="绕过服务"
    )
    with pytest.raises(IntegrityError, match="does not balance"), transaction.atomic():
        Posting.objects.create(transaction=entry, account=points_world.accounts["王家"], amount=5)
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_postings_cannot_be_updated_or_deleted(points_world):
    points_give(points_world, "王家", 10)
    posting = Posting.objects.filter(account=points_world.accounts["王家"]).get()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Posting.objects.filter(pk=posting.pk).update(amount=1000)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Posting.objects.filter(pk=posting.pk).delete()
    assert Posting.objects.get(pk=posting.pk).amount == 10


def test_database_check_keeps_a_household_balance_at_or_above_zero(points_world):
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=points_world.accounts["王家"].pk).update(balance=-1)


def test_reversal_restores_and_happens_once(points_world):
    award = points_give(points_world, "王家", 40)
    reversal = ledger_reverse(transaction=award, actor=points_world.users["township_admin"], memo="误报冲正")
    assert (reversal.kind, reversal.reverses_id, reversal.memo) == (
        TransactionKind.REVERSAL,
        award.pk,
        "误报冲正",
    )
    assert sorted(reversal.postings.values_list("amount", flat=True)) == [-40, 40]
    assert points_world.account("王家").balance == 0
    with pytest.raises(Conflict) as twice:
        ledger_reverse(transaction=award, actor=points_world.users["township_admin"], memo="再冲")
    assert twice.value.code == "already_reversed"
    with pytest.raises(Conflict) as of_reversal:
        ledger_reverse(transaction=reversal, actor=points_world.users["township_admin"], memo="冲冲正")
    assert of_reversal.value.code == "reversal_not_reversible"
    assert LedgerTransaction.objects.filter(kind=TransactionKind.REVERSAL).count() == 1


def test_reversal_that_would_overdraw_is_refused(points_world):
    award = points_give(points_world, "王家", 50)
    _redeem(points_world, "王家", 45)
    with pytest.raises(Conflict) as refused:
        ledger_reverse(transaction=award, actor=None, memo="")
    assert refused.value.code == "insufficient_points"
    assert points_world.account("王家").balance == 5
    assert not LedgerTransaction.objects.filter(reverses=award).exists()


def test_pending_add_and_release(points_world):
    account = points_world.accounts["王家"]
    pending_add(account, 15)
    pending_add(account, 5)
    pending_release(account, 8)
    assert (points_world.account("王家").pending, points_world.account("王家").balance) == (12, 0)
    with pytest.raises(Conflict) as short:
        pending_release(account, 13)
    assert short.value.code == "pending_short"
    with pytest.raises(DomainError):
        pending_add(account, 0)
    with pytest.raises(DomainError):
        pending_add(account, -3)
    assert points_world.account("王家").pending == 12


def test_household_balance_costs_one_indexed_query(points_world):
    points_give(points_world, "王家", 100)
    pending_add(points_world.accounts["王家"], 7)
    user = points_world.users["grid_leader"]
    with CaptureQueriesContext(connection) as queries:
        assert household_balance(user, points_world.households["王家"]) == (100, 7)
    assert len(queries.captured_queries) == 1
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + queries.captured_queries[0]["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Scan using points_account_household_id_key" in plan
    assert "Seq Scan on points_account" not in plan
    assert "Seq Scan on points_posting" not in plan and "points_posting" not in plan


def test_household_balance_is_scoped(points_world):
    points_give(points_world, "王家", 9)
    household = points_world.households["王家"]
    for username in (
        "county_admin",
        "township_admin",
        "village_secretary",
        "grid_leader",
        "viewer",
        "till_clerk",
    ):
        assert household_balance(points_world.users[username], household) == (9, 0), username
    for username in (
        "grid_leader_2",
        "shihua_admin",
        "canteen_manager",
        "mediator",
        "nobody",
        "dongjie_secretary",
    ):
        with pytest.raises(NotFound):
            household_balance(points_world.users[username], household)
    # A household that has never had an account reads as zero, not as missing.
    assert household_balance(points_world.users["county_admin"], points_world.households["旧户"]) == (0, 0)


def test_account_statement_pages_postings_newest_first(points_world):
    for points in range(1, 26):
        points_give(points_world, "王家", points, memo=f"第{points}笔")
    household, account, page = account_statement(
        points_world.users["village_secretary"], points_world.households["王家"]
    )
    assert account.pk == points_world.accounts["王家"].pk
    assert [p.amount for p in page.object_list] == list(range(25, 5, -1))
    assert page.object_list[0].transaction.memo == "第25笔"
    assert page.paginator.count == 25
    _h, _a, second = account_statement(points_world.users["village_secretary"], household, page=2)
    assert [p.amount for p in second.object_list] == [5, 4, 3, 2, 1]
    with pytest.raises(NotFound):
        account_statement(points_world.users["shihua_admin"], household)

"""redemption_create / redemption_return: exact balances, stock and receipts; every refusal; concurrency
(same household, last unit); replay; returns."""

from __future__ import annotations

import re
import threading

import pytest
from django.db import connection
from django.db.models import Sum

from common.errors import Conflict, DomainError, NotFound
from common.models import IdempotencyRecord
from governance.models import AuditEvent
from points.ledger import account_balance, store_sink
from points.models import (
    Account,
    AccountKind,
    DayStatus,
    Item,
    LedgerTransaction,
    Posting,
    Redemption,
    RedemptionDay,
    RedemptionLine,
    RedemptionReturn,
    StockKind,
    StockMovement,
    TownshipPolicy,
    TransactionKind,
)
from points.services.redemptions import redemption_create, redemption_return
from tests.points.till_factories import TillWorld, key, till_world_build


@pytest.fixture
def world(demo_county) -> TillWorld:
    return till_world_build(demo_county)


def balance(household) -> int:
    return Account.objects.get(household=household).balance


def on_hand(item: Item) -> int:
    return Item.objects.get(pk=item.pk).on_hand


def redeem(
    world: TillWorld, lines, *, household="王家", user="township_admin", store="城关", k=None, day=True
):
    return redemption_create(
        actor=world.users[user],
        idempotency_key=k or key(),
        store=world.stores[store],
        household=world.households[household],
        lines=[(world.items[name], quantity) for name, quantity in lines],
        day=world.day if day else None,
    )


def assert_ledger_consistent() -> None:
    """Every transaction sums to zero; every household's stored balance equals its postings, every system
    account stores none; stock equals movements."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT transaction_id FROM points_posting GROUP BY 1 HAVING SUM(amount) <> 0")
        assert cursor.fetchall() == []
    for account in Account.objects.all():
        postings = Posting.objects.filter(account=account).aggregate(s=Sum("amount"))["s"] or 0
        stored = account.balance if account.kind == AccountKind.HOUSEHOLD else account_balance(account)
        assert stored == postings
        if account.kind != AccountKind.HOUSEHOLD:
            assert account.balance == 0
    for item in Item.objects.all():
        assert item.on_hand == (
            StockMovement.objects.filter(item=item).aggregate(s=Sum("quantity"))["s"] or 0
        )
        assert item.on_hand >= 0


# --- the happy path -----------------------------------------------------------------------------------


def test_a_redemption_debits_the_household_credits_the_sink_takes_the_stock_and_writes_the_receipt(world):
    sink_before = account_balance(store_sink(world.stores["城关"]))
    receipt = redeem(world, [("大米", 2), ("洗衣粉", 1)])

    assert receipt.total_points == 2 * 30 + 10
    assert balance(world.households["王家"]) == 100 - 70
    assert account_balance(store_sink(world.stores["城关"])) == sink_before + 70
    assert on_hand(world.items["大米"]) == 3
    assert on_hand(world.items["洗衣粉"]) == 0
    assert re.fullmatch(r"DH\d{8}\d{6}", receipt.receipt_number)
    assert receipt.receipt_number.endswith(f"{receipt.pk:06d}")
    assert receipt.day_id == world.day.pk
    lines = list(receipt.lines.order_by("item_id").values_list("item__name", "quantity", "unit_points"))
    assert lines == [("大米", 2, 30), ("洗衣粉", 1, 10)]
    tx = receipt.transaction
    assert tx.kind == TransactionKind.REDEMPTION
    assert sorted(tx.postings.values_list("amount", flat=True)) == [-70, 70]
    movements = list(
        StockMovement.objects.filter(redemption=receipt).order_by("item_id").values_list("kind", "quantity")
    )
    assert movements == [(StockKind.REDEMPTION, -2), (StockKind.REDEMPTION, -1)]
    assert AuditEvent.objects.filter(object_type="points.redemption", object_id=str(receipt.pk)).count() == 1
    assert_ledger_consistent()


def test_the_same_item_twice_on_one_receipt_is_one_line(world):
    receipt = redeem(world, [("大米", 1), ("大米", 2)])
    assert list(receipt.lines.values_list("quantity", "unit_points")) == [(3, 30)]
    assert balance(world.households["王家"]) == 10


def test_receipt_numbers_are_unique_and_increasing(world):
    first = redeem(world, [("大米", 1)])
    second = redeem(world, [("大米", 1)], household="李家")
    assert first.receipt_number < second.receipt_number


def test_a_clerk_granted_the_store_can_redeem_there(world):
    receipt = redeem(world, [("大米", 1)], user="clerk")
    assert receipt.created_by == world.users["clerk"]


def test_spending_exactly_the_whole_balance_is_allowed(world):
    redeem(world, [("食用油", 2)])
    assert balance(world.households["王家"]) == 0


# --- replay -------------------------------------------------------------------------------------------


def test_a_replay_with_the_same_key_and_body_returns_the_first_receipt_and_spends_nothing(world):
    k = key()
    first = redeem(world, [("大米", 1)], k=k)
    again = redeem(world, [("大米", 1)], k=k)
    assert again.pk == first.pk
    assert again.receipt_number == first.receipt_number
    assert balance(world.households["王家"]) == 70
    assert on_hand(world.items["大米"]) == 4
    assert Redemption.objects.count() == 1
    record = IdempotencyRecord.objects.get(key=k)
    assert record.status_code == 201
    assert record.response["redemption_id"] == first.pk


def test_the_same_key_with_another_body_is_refused(world):
    k = key()
    redeem(world, [("大米", 1)], k=k)
    with pytest.raises(Conflict) as caught:
        redeem(world, [("大米", 2)], k=k)
    assert caught.value.code == "idempotency_key_reused"
    assert balance(world.households["王家"]) == 70


def test_a_refused_request_leaves_its_key_free_for_a_corrected_retry(world):
    k = key()
    with pytest.raises(Conflict):
        redeem(world, [("大米", 6)], k=k)
    assert not IdempotencyRecord.objects.filter(key=k).exists()
    receipt = redeem(world, [("大米", 1)], k=k)
    assert receipt.total_points == 30


# --- refusals -----------------------------------------------------------------------------------------


def _refused(world, exc_type, code, **kwargs):
    before = (
        Redemption.objects.count(),
        balance(world.households["王家"]),
        LedgerTransaction.objects.count(),
    )
    with pytest.raises(exc_type) as caught:
        redeem(world, **kwargs)
    assert caught.value.code == code
    after = (Redemption.objects.count(), balance(world.households["王家"]), LedgerTransaction.objects.count())
    assert after == before
    return caught.value


def test_not_enough_points_is_refused_with_the_balance_and_the_total(world):
    # 李家 has 40: two bags of rice cost 60.
    error = _refused(world, Conflict, "insufficient_points", lines=[("大米", 2)], household="李家")
    assert error.status == 409
    assert str(error.message) == "积分不足：可用 40 分，需要 60 分。"


def test_stock_short_is_refused_with_what_is_left(world):
    error = _refused(world, Conflict, "out_of_stock", lines=[("洗衣粉", 2)])
    assert str(error.message) == "库存不足：洗衣粉只剩 1 袋。"
    assert on_hand(world.items["洗衣粉"]) == 1


def test_below_the_townships_minimum_balance_is_refused(world):
    TownshipPolicy.objects.create(township=world.regions["城关镇"], min_balance_to_redeem=50)
    error = _refused(world, Conflict, "below_min_balance", lines=[("洗衣粉", 1)], household="李家")
    assert str(error.message) == "未达兑换起点：可用 40 分，满 50 分才能兑换。"
    # 王家 (100) is above it.
    assert redeem(world, [("洗衣粉", 1)]).total_points == 10


def test_an_inactive_item_is_refused(world):
    error = _refused(world, Conflict, "item_inactive", lines=[("香皂", 1)])
    assert str(error.message) == "香皂已下架，不能兑换。"


def test_another_stores_item_is_refused(world):
    _refused(world, Conflict, "item_not_in_store", lines=[("毛巾", 1)])


@pytest.mark.parametrize("quantity", [0, -1])
def test_a_quantity_below_one_is_refused(world, quantity):
    _refused(world, DomainError, "bad_quantity", lines=[("大米", quantity)])


def test_an_empty_receipt_is_refused(world):
    _refused(world, DomainError, "no_lines", lines=[])


def test_a_missing_key_is_refused(world):
    _refused(world, DomainError, "idempotency_key_missing", lines=[("大米", 1)], k=" ")


def test_a_scheduled_day_and_a_closed_day_are_refused(world):
    RedemptionDay.objects.filter(pk=world.day.pk).update(status=DayStatus.SCHEDULED)
    error = _refused(world, Conflict, "day_not_open", lines=[("大米", 1)])
    assert str(error.message) == "兑换日还没有开始，请先开始兑换。"
    RedemptionDay.objects.filter(pk=world.day.pk).update(status=DayStatus.CLOSED)
    error = _refused(world, Conflict, "day_closed", lines=[("大米", 1)])
    assert str(error.message) == "兑换日已结束，不能再兑换。"


def test_a_household_of_another_township_is_not_found(world):
    _refused(world, NotFound, "not_found", lines=[("大米", 1)], household="孙家")


def test_an_inactive_household_is_refused(world):
    from tests.points.till_factories import fund

    fund(world.households["旧户"], 50)
    with pytest.raises(Conflict) as caught:
        redeem(world, [("大米", 1)], household="旧户")
    assert caught.value.code == "household_inactive"


@pytest.mark.parametrize(
    "user", ["shihua_admin", "village_secretary", "grid_leader", "county_admin", "viewer_none"]
)
def test_who_may_not_run_this_till_gets_not_found(world, user):
    if user == "viewer_none":
        from governance.services.roles import user_create

        world.users[user] = user_create(username="nobody", password="x")
    _refused(world, NotFound, "not_found", lines=[("大米", 1)], user=user)


def test_a_clerk_of_one_store_cannot_run_another(world):
    with pytest.raises(NotFound):
        redeem(world, [("毛巾", 1)], user="clerk", store="石花", household="孙家", day=False)


def test_a_revoked_clerk_cannot_run_the_till(world):
    from points.services.stores import store_clerk_revoke

    assert store_clerk_revoke(
        actor=world.users["township_admin"], store=world.stores["城关"], user=world.users["clerk"]
    )
    with pytest.raises(NotFound):
        redeem(world, [("大米", 1)], user="clerk")


# --- returns ------------------------------------------------------------------------------------------


def test_a_return_gives_the_points_back_and_the_stock_back(world):
    receipt = redeem(world, [("大米", 3)])
    line = receipt.lines.get()
    returned = redemption_return(
        actor=world.users["township_admin"], idempotency_key=key(), line=line, quantity=2, reason="米袋破损"
    )
    assert balance(world.households["王家"]) == 100 - 90 + 60
    assert on_hand(world.items["大米"]) == 5 - 3 + 2
    assert RedemptionLine.objects.get(pk=line.pk).returned_quantity == 2
    assert returned.transaction.kind == TransactionKind.REVERSAL
    assert sorted(returned.transaction.postings.values_list("amount", flat=True)) == [-60, 60]
    movement = StockMovement.objects.filter(redemption=receipt, kind=StockKind.RETURN).get()
    assert (movement.quantity, movement.reason) == (2, "米袋破损")
    assert_ledger_consistent()


def test_more_than_bought_cannot_come_back(world):
    receipt = redeem(world, [("大米", 2)])
    line = receipt.lines.get()
    admin = world.users["township_admin"]
    redemption_return(actor=admin, idempotency_key=key(), line=line, quantity=1, reason="多拿了")
    with pytest.raises(Conflict) as caught:
        redemption_return(actor=admin, idempotency_key=key(), line=line, quantity=2, reason="多拿了")
    assert caught.value.code == "return_too_many"
    assert str(caught.value.message) == "最多还能退 1 袋。"
    redemption_return(actor=admin, idempotency_key=key(), line=line, quantity=1, reason="多拿了")
    assert balance(world.households["王家"]) == 100
    assert on_hand(world.items["大米"]) == 5


def test_a_return_needs_a_quantity_and_a_reason(world):
    line = redeem(world, [("大米", 1)]).lines.get()
    admin = world.users["township_admin"]
    with pytest.raises(DomainError) as caught:
        redemption_return(actor=admin, idempotency_key=key(), line=line, quantity=0, reason="x")
    assert caught.value.code == "bad_quantity"
    with pytest.raises(DomainError) as caught:
        redemption_return(actor=admin, idempotency_key=key(), line=line, quantity=1, reason="  ")
    assert caught.value.code == "reason_required"
    assert RedemptionReturn.objects.count() == 0


def test_a_return_replayed_happens_once(world):
    line = redeem(world, [("大米", 2)]).lines.get()
    admin = world.users["township_admin"]
    k = key()
    first = redemption_return(actor=admin, idempotency_key=k, line=line, quantity=1, reason="退")
    again = redemption_return(actor=admin, idempotency_key=k, line=line, quantity=1, reason="退")
    assert again.pk == first.pk
    assert balance(world.households["王家"]) == 70
    assert RedemptionLine.objects.get(pk=line.pk).returned_quantity == 1


def test_a_return_by_someone_outside_the_store_is_not_found(world):
    line = redeem(world, [("大米", 1)]).lines.get()
    with pytest.raises(NotFound):
        redemption_return(
            actor=world.users["shihua_admin"], idempotency_key=key(), line=line, quantity=1, reason="x"
        )


# --- concurrency --------------------------------------------------------------------------------------


def _race(calls) -> tuple[list[Redemption], list[BaseException]]:
    barrier = threading.Barrier(len(calls))
    done: list[Redemption] = []
    failures: list[BaseException] = []

    def run(call) -> None:
        try:
            barrier.wait()
            done.append(call())
        except BaseException as failure:
            failures.append(failure)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return done, failures


@pytest.mark.django_db(transaction=True)
def test_two_tills_serving_the_same_household_at_once_exactly_one_succeeds(demo_county):
    world = till_world_build(demo_county)
    # 李家 has 40: each receipt costs 30; only one can be paid.
    done, failures = _race(
        [
            lambda: redeem(world, [("大米", 1)], household="李家"),
            lambda: redeem(world, [("大米", 1)], household="李家"),
        ]
    )
    assert len(done) == 1
    assert len(failures) == 1
    assert isinstance(failures[0], Conflict)
    assert failures[0].code == "insufficient_points"
    assert str(failures[0].message) == "积分不足：可用 10 分，需要 30 分。"
    assert balance(world.households["李家"]) == 10
    assert on_hand(world.items["大米"]) == 4
    assert_ledger_consistent()


@pytest.mark.django_db(transaction=True)
def test_two_households_taking_the_last_unit_at_once_exactly_one_succeeds(demo_county):
    world = till_world_build(demo_county)
    done, failures = _race(
        [lambda: redeem(world, [("洗衣粉", 1)]), lambda: redeem(world, [("洗衣粉", 1)], household="李家")]
    )
    assert len(done) == 1
    assert len(failures) == 1
    assert isinstance(failures[0], Conflict)
    assert failures[0].code == "out_of_stock"
    assert str(failures[0].message) == "库存不足：洗衣粉只剩 0 袋。"
    assert on_hand(world.items["洗衣粉"]) == 0
    assert balance(world.households["王家"]) + balance(world.households["李家"]) == 140 - 10
    assert_ledger_consistent()


@pytest.mark.django_db(transaction=True)
def test_a_double_tap_sent_twice_at_once_spends_once(demo_county):
    world = till_world_build(demo_county)
    k = key()
    done, failures = _race(
        [lambda: redeem(world, [("大米", 1)], k=k), lambda: redeem(world, [("大米", 1)], k=k)]
    )
    assert failures == []
    assert done[0].pk == done[1].pk
    assert balance(world.households["王家"]) == 70
    assert Redemption.objects.count() == 1
    assert_ledger_consistent()


@pytest.mark.django_db(transaction=True)
def test_two_returns_of_the_last_unit_at_once_only_one_comes_back(demo_county):
    world = till_world_build(demo_county)
    line = redeem(world, [("大米", 1)]).lines.get()
    admin = world.users["township_admin"]
    done, failures = _race(
        [
            lambda: redemption_return(actor=admin, idempotency_key=key(), line=line, quantity=1, reason="退"),
            lambda: redemption_return(actor=admin, idempotency_key=key(), line=line, quantity=1, reason="退"),
        ]
    )
    assert len(done) == 1
    assert len(failures) == 1
    assert isinstance(failures[0], Conflict)
    assert failures[0].code == "return_too_many"
    assert balance(world.households["王家"]) == 100
    assert on_hand(world.items["大米"]) == 5
    assert_ledger_consistent()

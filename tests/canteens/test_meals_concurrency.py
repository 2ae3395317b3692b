"""Check-ins racing on real PostgreSQL (threads, each on its own connection, committed transactions):
one subsidised meal per elder, slot and day however many counters tap at once; the donation fund never
goes below zero and always equals the sum of its movements; twins with one idempotency key write once."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection
from django.utils import timezone

from canteens.models import DonationFund, FundMovement, Meal
from canteens.services import meals as services
from canteens.services.funds import fund_verify
from common.errors import Conflict
from tests.canteens.factories import CanteenWorld, canteen_world, key

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(demo_county) -> CanteenWorld:
    return canteen_world(demo_county)


def _race(
    calls: list[Callable[[], services.MealResult]],
) -> tuple[list[services.MealResult], list[BaseException]]:
    barrier = threading.Barrier(len(calls))
    done: list[services.MealResult] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def run(call: Callable[[], services.MealResult]) -> None:
        try:
            barrier.wait()
            result = call()
            with lock:
                done.append(result)
        except BaseException as failure:
            with lock:
                failures.append(failure)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return done, failures


def _checkin(world: CanteenWorld, name: str, slot: str, actor_name: str, idempotency_key: str | None = None):
    def call() -> services.MealResult:
        return services.meal_checkin(
            actor=world.users[actor_name],
            idempotency_key=idempotency_key or key(),
            site_id=world.site.pk,
            slot=slot,
            served_on=timezone.localdate(),
            resident_id=world.elders[name].pk,
            verified_by="name",
        )

    return call


def test_eight_counters_tapping_the_same_elder_record_one_meal(world):
    actors = ["canteen_manager", "cook", "shihua_admin", "county_admin"] * 2
    done, failures = _race([_checkin(world, "吴桂兰", "lunch", actor) for actor in actors])
    assert len(done) == 1
    assert len(failures) == 7
    assert all(isinstance(failure, Conflict) for failure in failures), failures
    assert {failure.code for failure in failures} == {"meal_exists"}
    assert {str(failure.message) for failure in failures} == {"吴桂兰今天的午餐已登记，不能重复登记。"}
    assert Meal.objects.filter(resident=world.elders["吴桂兰"]).count() == 1
    assert DonationFund.objects.get(pk=world.fund.pk).balance_fen == 10_000 - 25
    assert FundMovement.objects.filter(meal__isnull=False).count() == 1
    assert fund_verify() == []


def test_twins_with_one_key_write_once_and_both_get_the_meal(world):
    same = key()
    done, failures = _race([_checkin(world, "吴德厚", "dinner", "canteen_manager", same) for _ in range(4)])
    assert failures == []
    assert len({result.id for result in done}) == 1
    assert Meal.objects.count() == 1


def test_the_fund_never_goes_below_zero_under_concurrent_draws(world):
    # 100 fen left; each 70–79 / 80–89 / 低保 meal wants 25 / 30 / 35: 3 elders × 3 slots = 270 wanted.
    DonationFund.objects.filter(pk=world.fund.pk).update(balance_fen=0)
    # Bring the stored balance back in line with the movements: a draw equal to the seed, recorded properly.
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO canteens_fundmovement (fund_id, kind, amount_fen, memo, created_at) "
            "VALUES (%s, 'adjustment', %s, 'test', now())",
            [world.fund.pk, -10_000 + 100],
        )
    DonationFund.objects.filter(pk=world.fund.pk).update(balance_fen=100)
    assert fund_verify() == []
    calls = [
        _checkin(world, name, slot, actor)
        for name in ("吴桂兰", "吴德厚", "吴秀芝")
        for slot, actor in (("breakfast", "canteen_manager"), ("lunch", "cook"), ("dinner", "shihua_admin"))
    ]
    done, failures = _race(calls)
    assert failures == []
    assert len(done) == 9
    fund = DonationFund.objects.get(pk=world.fund.pk)
    # The fund gives what it has, meal by meal, in the order the locks were granted: all 100 fen go out.
    assert fund.balance_fen == 0
    assert sum(result.donation_fen for result in done) == 100
    assert sum(result.donation_shortfall_fen for result in done) == 3 * (25 + 30 + 35) - 100
    for result in done:
        assert result.price_fen == 400
        assert sum(result.parts.values()) == 400
        assert (result.warning != "") == (result.donation_shortfall_fen > 0)
    assert fund_verify() == []

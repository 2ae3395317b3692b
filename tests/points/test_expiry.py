"""Annual clearing of old points (积分清零, points.services.expiry): posted as one transaction per township
and year (households → the township's expiry account), exact amounts, spending counted against the oldest
points first, never below zero, idempotent, and each township cleared on its own policy date."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from common.errors import DomainError
from points.ledger import account_balance, ledger_post, store_sink, system_account
from points.models import (
    Account,
    AccountKind,
    ExpiryMode,
    LedgerTransaction,
    Posting,
    TownshipPolicy,
    TransactionKind,
)
from points.services.expiry import expiry_memo, points_expire, points_expire_due
from tests.points.factories import PointsWorld, points_give, points_world, township_of  # noqa: F401

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(year: int, month: int, day: int) -> time_machine.travel:
    return time_machine.travel(dt.datetime(year, month, day, 10, 0, tzinfo=SHANGHAI), tick=False)


def give_on(world: PointsWorld, household: str, points: int, when: tuple[int, int, int]) -> None:
    with at(*when):
        points_give(world, household, points, memo=f"{when[0]}年奖励")


def spend_on(world: PointsWorld, household: str, points: int, when: tuple[int, int, int]) -> None:
    """A redemption at the household's township store, posted on `when`."""
    township = township_of(world, household)
    store = world.stores["城关镇"] if township.name == "城关镇" else world.stores["石花镇"]
    with at(*when):
        ledger_post(
            township=township,
            kind=TransactionKind.REDEMPTION,
            memo="兑换",
            legs=[(world.accounts[household], -points), (store_sink(store), points)],
            actor=world.users["township_admin"],
        )


@pytest.fixture
def history(points_world: PointsWorld) -> PointsWorld:  # noqa: F811
    w = points_world
    # 王家: 30 old, 20 recent, spent 10 → 20 of the old points are unspent.
    give_on(w, "王家", 30, (2024, 3, 1))
    give_on(w, "王家", 20, (2025, 5, 1))
    spend_on(w, "王家", 10, (2025, 6, 1))
    # 李家: its old points were all spent.
    give_on(w, "李家", 15, (2024, 2, 1))
    spend_on(w, "李家", 15, (2024, 12, 1))
    # 张家: 50 old, 45 spent → the last 5 go, to exactly zero.
    give_on(w, "张家", 50, (2023, 5, 1))
    spend_on(w, "张家", 45, (2025, 2, 1))
    # 赵家 (东街社区, same township): recent points only.
    give_on(w, "赵家", 10, (2025, 2, 1))
    # 孙家 (石花镇): old points in another township.
    give_on(w, "孙家", 40, (2023, 1, 10))
    return w


def balances(world: PointsWorld) -> dict[str, int]:
    return {name: world.account(name).balance for name in ("王家", "李家", "张家", "赵家", "孙家")}


def test_clearing_posts_old_unspent_points_to_the_expiry_account(history):
    township = history.regions["城关镇"]
    entry = points_expire(township, dt.date(2026, 1, 1))
    assert entry is not None
    assert entry.kind == TransactionKind.EXPIRY
    assert entry.memo == expiry_memo(2026) == "2026年度积分清零"
    assert entry.township_id == township.pk
    sink = system_account(township, AccountKind.EXPIRY)
    legs = {(p.account_id, p.amount) for p in Posting.objects.filter(transaction=entry)}
    assert legs == {
        (history.accounts["王家"].pk, -20),
        (history.accounts["张家"].pk, -5),
        (sink.pk, 25),
    }
    assert balances(history) == {"王家": 20, "李家": 0, "张家": 0, "赵家": 10, "孙家": 40}
    assert account_balance(sink) == 25
    # Household balances still equal their postings (system accounts store none), nothing below zero.
    for account in Account.objects.all():
        stored = account.balance if account.kind == AccountKind.HOUSEHOLD else account_balance(account)
        assert stored == sum(account.postings.values_list("amount", flat=True))
    assert not Account.objects.filter(kind=AccountKind.HOUSEHOLD, balance__lt=0).exists()


def test_clearing_counts_earlier_clearings_as_spent(history):
    township = history.regions["城关镇"]
    points_expire(township, dt.date(2026, 1, 1))
    with at(2026, 3, 1):
        points_give(history, "王家", 7)
    # The 2027 run clears what was credited before 2026: 王家's 2025 points (20), not the 2026 ones;
    # the 20 cleared in 2026 are not cleared twice.
    entry = points_expire(township, dt.date(2027, 1, 1))
    assert entry is not None
    legs = {(p.account_id, p.amount) for p in Posting.objects.filter(transaction=entry)}
    sink = system_account(township, AccountKind.EXPIRY)
    assert legs == {(history.accounts["王家"].pk, -20), (history.accounts["赵家"].pk, -10), (sink.pk, 30)}
    assert balances(history) == {"王家": 7, "李家": 0, "张家": 0, "赵家": 0, "孙家": 40}
    assert account_balance(sink) == 55


def test_clearing_is_idempotent_per_township_and_year(history):
    township = history.regions["城关镇"]
    first = points_expire(township, dt.date(2026, 1, 1))
    again = points_expire(township, dt.date(2026, 6, 30))
    assert first is not None
    assert again is not None
    assert again.pk == first.pk
    assert LedgerTransaction.objects.filter(kind=TransactionKind.EXPIRY).count() == 1
    assert balances(history) == {"王家": 20, "李家": 0, "张家": 0, "赵家": 10, "孙家": 40}


def test_nothing_to_clear_posts_nothing(history):
    # The 城关镇 run of 2024 clears points credited before 2023: none is that old.
    assert points_expire(history.regions["城关镇"], dt.date(2024, 1, 1)) is None
    assert not LedgerTransaction.objects.filter(kind=TransactionKind.EXPIRY).exists()


def test_clearing_is_refused_for_a_region_that_is_not_a_township(history):
    with pytest.raises(DomainError) as refused:
        points_expire(history.regions["新华村"], dt.date(2026, 1, 1))
    assert refused.value.code == "not_a_township"


def test_clearing_never_takes_a_household_below_zero(points_world):  # noqa: F811
    give_on(points_world, "王家", 12, (2023, 4, 1))
    spend_on(points_world, "王家", 12, (2025, 4, 1))
    assert points_expire(points_world.regions["城关镇"], dt.date(2026, 1, 1)) is None
    assert points_world.account("王家").balance == 0


def test_due_clearing_respects_each_townships_date(history):
    TownshipPolicy.objects.filter(township=history.regions["石花镇"]).update(
        expiry_mode=ExpiryMode.ANNUAL, clearing_month=3, clearing_day=15
    )
    TownshipPolicy.objects.filter(township=history.regions["城关镇"]).update(clearing_month=1, clearing_day=2)
    with at(2026, 1, 1):
        assert points_expire_due() == []  # neither township's 2026 clearing date has come
    assert not LedgerTransaction.objects.filter(kind=TransactionKind.EXPIRY).exists()
    with at(2026, 1, 2):
        chengguan = points_expire_due()
    assert len(chengguan) == 1
    assert LedgerTransaction.objects.get(pk=chengguan[0]).township_id == history.regions["城关镇"].pk
    assert balances(history) == {"王家": 20, "李家": 0, "张家": 0, "赵家": 10, "孙家": 40}
    with at(2026, 3, 14):
        assert points_expire_due() == chengguan  # 城关镇 found again, 石花镇 not yet due
    with at(2026, 3, 15):
        both = points_expire_due()
    assert len(both) == 2
    assert chengguan[0] in both
    shihua = LedgerTransaction.objects.get(pk=next(pk for pk in both if pk != chengguan[0]))
    assert shihua.township_id == history.regions["石花镇"].pk
    assert shihua.memo == "2026年度积分清零"
    assert balances(history) == {"王家": 20, "李家": 0, "张家": 0, "赵家": 10, "孙家": 0}
    assert LedgerTransaction.objects.filter(kind=TransactionKind.EXPIRY).count() == 2


def test_a_township_without_expiry_is_never_cleared(history):
    with at(2026, 12, 31):
        points_expire_due()
    assert history.account("孙家").balance == 40
    assert not LedgerTransaction.objects.filter(
        kind=TransactionKind.EXPIRY, township=history.regions["石花镇"]
    ).exists()

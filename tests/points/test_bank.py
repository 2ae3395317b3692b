# ruff: noqa: PT018 -- compact exact checks
"""THE BANK TEST (issue 5): many threads hammer the real services on real PostgreSQL, then every
invariant of the ledger must hold exactly.

16 threads × N random operations over 50 households and 10 scarce items: propose → review → post awards
(points.services.awards), redeem (points.services.redemptions.redemption_create), reverse (a till return
— redemption_return — or ledger_reverse of a posted award), and replay an earlier request with the same
idempotency key (sometimes while its twin is still running in another thread). Expected refusals
(insufficient points, out of stock, caps, already reversed …) are DomainErrors and are counted, never
failures; anything else (a deadlock, an IntegrityError, a 500) fails the test.

After it: all postings sum to zero; every stored balance equals its postings (the verification job finds
no difference); no balance or stock below zero and every on-hand equals its stock movements; points issued
− redeemed − expired = the sum of household balances, with issued and redeemed also recomputed from the
awards and the receipts; and each replay had exactly one effect (it returned the first result's id, and
every key maps to exactly one award or receipt).

Sizes: `make test` runs 16 × 250 (the default); the hardening run is 16 × 1,000:
    POINTS_BANK_OPS=1000 .venv/bin/pytest -p no:xdist -m bank tests/points/test_bank.py
POINTS_BANK_THREADS changes the thread count (default 16).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import close_old_connections
from django.db.models import Sum
from django.utils import timezone

from common.errors import DomainError
from common.models import IdempotencyRecord
from governance.models import Household
from points.ledger import account_for_household, ledger_reverse, system_balances
from points.models import (
    Account,
    AccountKind,
    Award,
    AwardStatus,
    Item,
    LedgerTransaction,
    Redemption,
    RedemptionLine,
    RedemptionReturn,
    Rule,
    RuleCategory,
    StockMovement,
    TransactionKind,
)
from points.services.ledger_check import ledger_differences
from tests.points.factories import item_make, key_new, points_world_make

THREADS = int(os.environ.get("POINTS_BANK_THREADS", "16"))
OPS = int(os.environ.get("POINTS_BANK_OPS", "250"))
HOUSEHOLDS = 50
ITEMS = 10
FAR_FUTURE = timezone.make_aware(dt.datetime(2099, 1, 1))


@dataclass
class Shared:
    lock: threading.Lock = field(default_factory=threading.Lock)
    # (kind, actor username, key, kwargs, first result id)
    sent: list[tuple[str, str, str, dict[str, Any], int]] = field(default_factory=list)
    replays: list[tuple[str, int, int]] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)


def _world(demo_county):
    world = points_world_make(demo_county)
    grids = [world.regions[name] for name in ("第一网格", "第二网格", "东街第一网格")]
    households = list(
        Household.objects.filter(pk__in=[world.households[k].pk for k in ("王家", "李家", "张家", "赵家")])
    )
    for n in range(HOUSEHOLDS - len(households)):
        households.append(Household.objects.create(grid=grids[n % 3], number=f"BANK-{n:03d}", address="测试"))
    for household in households:
        account_for_household(household)
    # Uncapped items (one per household, rule and month) so that awards flow, besides the capped ones.
    for n, points in enumerate((3, 7, 12, 25)):
        Rule.objects.create(
            region=world.regions["谷城县"],
            code=f"BK{n}",
            name=f"银行测试{n}",
            category=RuleCategory.OTHER,
            points=points,
        )
    store = world.stores["城关镇"]
    items = list(Item.objects.filter(store=store))
    for n in range(ITEMS - len(items)):
        items.append(item_make(store, f"稀缺商品{n}", "件", 5 + 3 * n, 6 + n))
    return world, households, items


def _run_thread(index: int, world, households, items, shared: Shared) -> None:
    from points.services.awards import award_post, award_propose, award_review
    from points.services.redemptions import redemption_create, redemption_return

    rng = random.Random(1000 + index)
    users = {name: world.users[name] for name in ("county_admin", "township_admin", "village_secretary")}
    rules = [*Rule.objects.filter(code__startswith="BK"), world.rules["庭院整洁"], world.rules["乱倒垃圾"]]
    store = world.stores["城关镇"]

    def award(key: str, kwargs: dict[str, Any]) -> int:
        found = award_propose(actor=users["county_admin"], idempotency_key=key, **kwargs)
        return found.pk

    def redeem(key: str, kwargs: dict[str, Any]) -> int:
        return redemption_create(actor=users["township_admin"], idempotency_key=key, store=store, **kwargs).pk

    senders = {"award": award, "redeem": redeem}
    for _op in range(OPS):
        roll = rng.random()
        try:
            if roll < 0.32:
                kwargs = {
                    "household": rng.choice(households),
                    "rule": rng.choice(rules),
                    "occurred_on": timezone.localdate() - dt.timedelta(days=rng.randrange(360)),
                }
                key = key_new()
                award_id = award(key, kwargs)
                with shared.lock:
                    shared.sent.append(("award", "county_admin", key, kwargs, award_id))
                found = Award.objects.get(pk=award_id)
                award_review(actor=users["township_admin"], award=found, approve=True)
                award_post(award_id=award_id, now=FAR_FUTURE)
                shared.outcomes["award"] += 1
            elif roll < 0.64:
                kwargs = {
                    "household": rng.choice(households),
                    "lines": [(item, rng.randint(1, 2)) for item in rng.sample(items, rng.randint(1, 2))],
                }
                key = key_new()
                redemption_id = redeem(key, kwargs)
                with shared.lock:
                    shared.sent.append(("redeem", "township_admin", key, kwargs, redemption_id))
                shared.outcomes["redeem"] += 1
            elif roll < 0.72:
                line = (
                    RedemptionLine.objects.filter(returned_quantity__lt=models_f("quantity"))
                    .order_by("?")
                    .first()
                )
                if line is None:
                    shared.outcomes["skip"] += 1
                    continue
                redemption_return(
                    actor=users["township_admin"],
                    idempotency_key=key_new(),
                    line=line,
                    quantity=1,
                    reason="退货",
                )
                shared.outcomes["return"] += 1
            elif roll < 0.78:
                entry = (
                    LedgerTransaction.objects.filter(kind=TransactionKind.AWARD, reversed_by__isnull=True)
                    .order_by("?")
                    .first()
                )
                if entry is None:
                    shared.outcomes["skip"] += 1
                    continue
                ledger_reverse(transaction=entry, actor=users["township_admin"], memo="误报冲正")
                shared.outcomes["reverse"] += 1
            else:
                with shared.lock:
                    if not shared.sent:
                        shared.outcomes["skip"] += 1
                        continue
                    kind, _actor, key, kwargs, first_id = rng.choice(shared.sent)
                again = senders[kind](key, kwargs)
                with shared.lock:
                    shared.replays.append((kind, first_id, again))
                shared.outcomes["replay"] += 1
        except DomainError as error:
            shared.outcomes[f"refused:{error.code}"] += 1
        except Exception as error:
            with shared.lock:
                shared.failures.append(f"{type(error).__name__}: {error}")
    close_old_connections()


def models_f(name: str):
    from django.db.models import F

    return F(name)


@pytest.mark.bank
@pytest.mark.django_db(transaction=True)
def test_bank(demo_county):
    world, households, items = _world(demo_county)
    shared = Shared()
    started = time.monotonic()
    threads = [
        threading.Thread(target=_run_thread, args=(i, world, households, items, shared))
        for i in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    print(
        f"\nbank: {THREADS} × {OPS} ops in {elapsed:.1f} s; outcomes {dict(sorted(shared.outcomes.items()))}"
    )

    assert shared.failures == [], shared.failures[:10]
    assert sum(shared.outcomes.values()) > THREADS * OPS * 0.9
    assert shared.outcomes["award"] > 0 and shared.outcomes["redeem"] > 0 and shared.outcomes["replay"] > 0

    # The verification job: balances = postings, transactions balanced, postings total zero, no negatives.
    checked, differences = ledger_differences()
    assert differences == []
    assert checked == Account.objects.count()
    assert not Account.objects.filter(kind=AccountKind.HOUSEHOLD, balance__lt=0).exists()
    assert not Account.objects.filter(pending__lt=0).exists()
    for item in Item.objects.all():
        moved = StockMovement.objects.filter(item=item).aggregate(total=Sum("quantity"))["total"] or 0
        assert item.on_hand == moved >= 0, item.name

    # issued − redeemed − expired = sum of household balances, each side also from the domain tables.
    # (System accounts store no balance: theirs is the sum of their postings.)
    issued, redeemed, expired = (
        -system_balances(kind=AccountKind.ISSUANCE),
        system_balances(kind=AccountKind.STORE_SINK),
        system_balances(kind=AccountKind.EXPIRY),
    )
    assert not Account.objects.exclude(kind=AccountKind.HOUSEHOLD).exclude(balance=0).exists()
    households_total = (
        Account.objects.filter(kind=AccountKind.HOUSEHOLD).aggregate(total=Sum("balance"))["total"] or 0
    )
    assert issued - redeemed - expired == households_total
    receipts = Redemption.objects.aggregate(total=Sum("total_points"))["total"] or 0
    returned = sum(
        r.transaction.postings.filter(amount__gt=0, account__kind=AccountKind.HOUSEHOLD).aggregate(
            total=Sum("amount")
        )["total"]
        or 0
        for r in RedemptionReturn.objects.select_related("transaction")
    )
    assert redeemed == receipts - returned
    posted = Award.objects.filter(status=AwardStatus.POSTED).select_related("transaction")
    awarded = sum(
        a.transaction.postings.filter(account__kind=AccountKind.HOUSEHOLD).aggregate(total=Sum("amount"))[
            "total"
        ]
        or 0
        for a in posted
    )
    reversed_awards = sum(
        r.postings.filter(account__kind=AccountKind.HOUSEHOLD).aggregate(total=Sum("amount"))["total"] or 0
        for r in LedgerTransaction.objects.filter(
            kind=TransactionKind.REVERSAL, reverses__kind=TransactionKind.AWARD
        )
    )
    assert issued == awarded + reversed_awards
    assert not Account.objects.filter(pending__gt=0).exists()  # every approved award was posted

    # Each replay had exactly one effect: it answered the first result, and each key made one object.
    assert all(first == again for _kind, first, again in shared.replays), [
        r for r in shared.replays if r[1] != r[2]
    ][:5]
    award_keys = [key for kind, _u, key, _kw, _id in shared.sent if kind == "award"]
    assert Award.objects.filter(idempotency_key__in=award_keys).count() == len(award_keys)
    redeem_records = IdempotencyRecord.objects.filter(scope="points.redemption")
    assert redeem_records.count() == Redemption.objects.count()
    assert sorted(r.response["redemption_id"] for r in redeem_records) == sorted(
        Redemption.objects.values_list("pk", flat=True)
    )

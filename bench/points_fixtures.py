"""The redemption scenario's data (bench/fixtures.py calls prepare_redemptions after its own):

in the benchmark's own tree (基准测试镇, outside the demo county), a store 基准积分超市 with ITEMS items of
1 point each and stock enough for any run, an open redemption day today, HOUSEHOLDS households in
基准测试网格 each funded with FUNDS points (posted from the township's issuance account through
points.ledger.ledger_post, so the ledger's invariants hold), and the log-in bench_till, township admin of
基准测试镇, who runs the till. Idempotent: a second call only re-opens today's day and tops nothing up
unless a household has fallen below half its funds.

Returns the ids points_redeem.lua is formatted with: {till_store_id}, {till_day_id}, {till_item_first},
{till_item_last}, {till_household_first}, {till_household_last}.
"""

from __future__ import annotations

from typing import Any

TILL_USER = "bench_till"
HOUSEHOLDS = 2000
ITEMS = 20
FUNDS = 1_000_000
STOCK = 100_000_000


def prepare_redemptions() -> dict[str, Any]:
    from django.conf import settings
    from django.db import transaction
    from django.utils import timezone

    from governance.models import Household, Region, User
    from governance.roles import Role
    from governance.services import roles as role_services
    from points.ledger import card_code_new, ledger_post, store_sink, system_account
    from points.models import (
        Account,
        AccountKind,
        DayStatus,
        Item,
        RedemptionDay,
        StockKind,
        StockMovement,
        Store,
        TransactionKind,
    )

    township = Region.objects.get(name="基准测试镇", parent__name="基准测试县")
    grid = Region.objects.get(name="基准测试网格", parent__name="基准测试村", parent__parent=township)
    with transaction.atomic():
        user = User.objects.filter(username=TILL_USER).first()
        if user is None:
            user = role_services.user_create(
                username=TILL_USER, password=settings.DEMO_PASSWORD, full_name="基准收银员"
            )
        role_services.role_assign(user=user, role=Role.TOWNSHIP_ADMIN, region=township)
        store, _created = Store.objects.get_or_create(
            region=township, name="基准积分超市", defaults={"township": township}
        )
        store_sink(store)
        for n in range(ITEMS):
            item, created = Item.objects.get_or_create(
                store=store, name=f"基准商品{n + 1:02d}", defaults={"unit": "件", "points_price": 1}
            )
            if created:
                StockMovement.objects.create(
                    item=item,
                    kind=StockKind.PURCHASE,
                    quantity=STOCK,
                    source="基准测试",
                    value_fen=STOCK * 100,
                )
                Item.objects.filter(pk=item.pk).update(on_hand=STOCK)
        day, _created = RedemptionDay.objects.get_or_create(
            store=store,
            date=timezone.localdate(),
            defaults={"title": "基准兑换日", "status": DayStatus.OPEN, "opened_at": timezone.now()},
        )
        if day.status != DayStatus.OPEN:
            RedemptionDay.objects.filter(pk=day.pk).update(status=DayStatus.OPEN, closed_at=None)
        have = Household.objects.filter(grid=grid, number__startswith="JZ-").count()
        if have < HOUSEHOLDS:
            Household.objects.bulk_create(
                Household(grid=grid, number=f"JZ-{n:05d}", address="基准测试网格")
                for n in range(have, HOUSEHOLDS)
            )
        households = list(Household.objects.filter(grid=grid, number__startswith="JZ-").order_by("pk"))
        opened = set(Account.objects.filter(household__in=households).values_list("household_id", flat=True))
        Account.objects.bulk_create(
            Account(kind=AccountKind.HOUSEHOLD, township=township, household=h, card_code=card_code_new())
            for h in households
            if h.pk not in opened
        )
        low = list(Account.objects.filter(household__in=households, balance__lt=FUNDS // 2).order_by("pk"))
        if low:
            issuance = system_account(township, AccountKind.ISSUANCE)
            legs = [(account, FUNDS - account.balance) for account in low]
            ledger_post(
                township=township,
                kind=TransactionKind.AWARD,
                memo="基准测试积分",
                legs=[(issuance, -sum(amount for _a, amount in legs)), *legs],
                actor=None,
            )
    item_ids = list(Item.objects.filter(store=store).order_by("pk").values_list("pk", flat=True))
    return {
        "till_store_id": str(store.pk),
        "till_day_id": str(day.pk),
        "till_item_first": str(item_ids[0]),
        "till_item_last": str(item_ids[-1]),
        "till_household_first": str(households[0].pk),
        "till_household_last": str(households[-1].pk),
    }

"""The stock services and the stores selectors: exact on-hand after stock in and adjustments, the stock
ledger's running on-hand, the stock value in money, refusals with their Chinese messages, exactly-once
replays, and the database CHECK that keeps on-hand at or above zero (on real PostgreSQL).

World (tests/points/till_factories.py): 城关镇积分超市 大米 30 分/袋 × 5 (in at ¥12.50 each), 食用油 × 2,
洗衣粉 × 1, 香皂 (下架) × 3; 石花镇积分超市 毛巾 × 4.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from common.errors import Conflict, DomainError, NotFound
from governance.models import AuditAction
from points.models import DayStatus, Item, StockKind, StockMovement
from points.selectors import stores as selectors
from points.services import days as day_services
from points.services import stores as services
from tests.points.till_factories import TillWorld, key, till_world_build

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(demo_county) -> TillWorld:
    return till_world_build(demo_county)


def on_hand(item: Item) -> int:
    return Item.objects.get(pk=item.pk).on_hand


def movements_sum(item: Item) -> int:
    return sum(StockMovement.objects.filter(item=item).values_list("quantity", flat=True))


def test_stock_in_and_adjustments_give_exact_on_hand_and_ledger(world):
    admin, rice = world.users["township_admin"], world.items["大米"]
    movement = services.stock_in(
        actor=admin,
        idempotency_key=key(),
        item=rice,
        kind="donation",
        quantity=7,
        source="爱心企业 谷城粮油",
        value_fen=services.yuan_to_fen("87.50"),
    )
    assert (movement.kind, movement.quantity, movement.source, movement.value_fen) == (
        "donation",
        7,
        "爱心企业 谷城粮油",
        8750,
    )
    assert on_hand(rice) == 12
    services.stock_adjust(actor=admin, idempotency_key=key(), item=rice, quantity=-3, reason="受潮损坏 3 袋")
    services.stock_adjust(actor=admin, idempotency_key=key(), item=rice, quantity=1, reason="盘盈 1 袋")
    assert on_hand(rice) == 10
    assert movements_sum(rice) == 10
    ledger = selectors.item_stock_ledger(rice)
    # Newest first, each with the on-hand after it.
    assert [(m.kind, m.quantity, m.on_hand_after) for m in ledger] == [
        ("adjustment", 1, 10),
        ("adjustment", -3, 9),
        ("donation", 7, 12),
        ("purchase", 5, 5),
    ]
    assert [m.value_display for m in ledger] == ["", "", "¥87.50", "¥62.50"]
    # Only the newest rows, with the running figure still counted over the whole history.
    assert [(m.quantity, m.on_hand_after) for m in selectors.item_stock_ledger(rice, limit=2)] == [
        (1, 10),
        (-3, 9),
    ]


def test_stock_value_is_on_hand_at_the_average_cost(world):
    admin, rice = world.users["township_admin"], world.items["大米"]
    # 5 at ¥12.50 (factory) + 3 donated worth ¥20.00 → ¥82.50 for 8 → ¥10.3125 each.
    services.stock_in(
        actor=admin,
        idempotency_key=key(),
        item=rice,
        kind="donation",
        quantity=3,
        source="村民",
        value_fen=2000,
    )
    # A donation without a value does not change the average (nothing to average), but adds stock.
    services.stock_in(
        actor=admin, idempotency_key=key(), item=rice, kind="donation", quantity=2, source="村民"
    )
    assert on_hand(rice) == 10
    item = selectors.item_with_value(rice)
    assert item.stock_value_fen == 10313  # 10 × 8250 / 8 = 10312.5 → rounded half up
    assert item.stock_value_display == "¥103.13"
    assert item.points_value == 300
    rows = {row.store.name: row for row in selectors.store_rows(admin)}
    assert set(rows) == {"城关镇积分超市"}
    row = rows["城关镇积分超市"]
    # 大米 10313 + 食用油 2 × 1250 + 洗衣粉 1 × 1250 + 香皂 3 × 1250.
    assert (row.item_count, row.active_item_count, row.on_hand, row.stock_value_fen) == (4, 3, 16, 17813)
    assert row.stock_value_display == "¥178.13"
    assert row.can_manage is True
    assert [d.pk for d in row.days] == [world.day.pk]
    assert selectors.value_of_stock(0, 1000, 10) == 0
    assert selectors.value_of_stock(5, 0, 0) == 0


def test_store_list_is_scoped(world):
    county = {row.store.name for row in selectors.store_rows(world.users["county_admin"])}
    assert county == {"城关镇积分超市", "石花镇积分超市"}
    shihua = selectors.store_rows(world.users["shihua_admin"])
    assert [(r.store.name, r.can_manage) for r in shihua] == [("石花镇积分超市", True)]
    # The village secretary sees the township's store (their households redeem there) but manages nothing.
    secretary = selectors.store_rows(world.users["village_secretary"])
    assert [(r.store.name, r.can_manage) for r in secretary] == [("城关镇积分超市", False)]
    clerk = selectors.store_rows_for_api(world.users["clerk"])
    assert [(r.store.name, r.can_manage) for r in clerk] == [("城关镇积分超市", False)]
    assert selectors.store_rows_for_api(world.users["village_secretary"]) == []


def test_replay_with_the_same_key_writes_once(world):
    admin, oil = world.users["township_admin"], world.items["食用油"]
    same = key()
    first = services.stock_in(
        actor=admin,
        idempotency_key=same,
        item=oil,
        kind="purchase",
        quantity=4,
        source="供销社",
        value_fen=4000,
    )
    again = services.stock_in(
        actor=admin,
        idempotency_key=same,
        item=oil,
        kind="purchase",
        quantity=4,
        source="供销社",
        value_fen=4000,
    )
    assert again.pk == first.pk
    assert on_hand(oil) == 6
    adjust_key = key()
    one = services.stock_adjust(actor=admin, idempotency_key=adjust_key, item=oil, quantity=-2, reason="漏油")
    two = services.stock_adjust(actor=admin, idempotency_key=adjust_key, item=oil, quantity=-2, reason="漏油")
    assert one.pk == two.pk
    assert on_hand(oil) == 4
    assert StockMovement.objects.filter(item=oil).count() == 3


def test_refusals_leave_stock_untouched(world):
    admin, soap = world.users["township_admin"], world.items["洗衣粉"]
    cases = [
        (dict(kind="adjustment", quantity=1, source="x"), "bad_kind", "请选择采购入库或捐赠入库。"),
        (dict(kind="purchase", quantity=0, source="x"), "bad_quantity", "数量须是 1 到 100000 的整数。"),
        (
            dict(kind="purchase", quantity=100_001, source="x"),
            "bad_quantity",
            "数量须是 1 到 100000 的整数。",
        ),
        (dict(kind="purchase", quantity=2, source="  "), "source_required", "请填写来源（供货商或捐赠人）。"),
        (
            dict(kind="purchase", quantity=2, source="x", value_fen=-1),
            "bad_value",
            "金额格式不对，例如 12.50。",
        ),
    ]
    for kwargs, code, message in cases:
        with pytest.raises(DomainError) as caught:
            services.stock_in(actor=admin, idempotency_key=key(), item=soap, **kwargs)
        assert (caught.value.code, str(caught.value.message)) == (code, message)
    with pytest.raises(DomainError) as caught:
        services.stock_adjust(actor=admin, idempotency_key=key(), item=soap, quantity=0, reason="x")
    assert str(caught.value.message) == "调整数量须是不为 0 的整数。"
    with pytest.raises(DomainError) as caught:
        services.stock_adjust(actor=admin, idempotency_key=key(), item=soap, quantity=-1, reason=" ")
    assert str(caught.value.message) == "请填写调整原因。"
    with pytest.raises(Conflict) as conflict:
        services.stock_adjust(actor=admin, idempotency_key=key(), item=soap, quantity=-2, reason="盘亏")
    assert conflict.value.status == 409
    assert str(conflict.value.message) == "库存不足：洗衣粉只剩 1 袋，不能减少 2 袋。"
    with pytest.raises(DomainError) as caught:
        services.stock_in(actor=admin, idempotency_key="", item=soap, kind="purchase", quantity=1, source="x")
    assert str(caught.value.message) == "缺少防重复提交标识，请刷新页面后重新提交。"
    for text in ("12.345", "-1", "abc", "12元"):
        with pytest.raises(DomainError):
            services.yuan_to_fen(text)
    assert [services.yuan_to_fen(t) for t in ("12.5", "¥1,200", "0.01", " ", None)] == [
        1250,
        120000,
        1,
        None,
        None,
    ]
    assert on_hand(soap) == 1
    assert StockMovement.objects.filter(item=soap).count() == 1


def test_out_of_scope_actors_get_404_and_nothing_is_written(world):
    rice = world.items["大米"]
    for username in ("shihua_admin", "village_secretary", "grid_leader", "clerk"):
        with pytest.raises(NotFound):
            services.stock_in(
                actor=world.users[username],
                idempotency_key=key(),
                item=rice,
                kind="purchase",
                quantity=1,
                source="x",
            )
        with pytest.raises(NotFound):
            services.stock_adjust(
                actor=world.users[username], idempotency_key=key(), item=rice, quantity=1, reason="x"
            )
        with pytest.raises(NotFound):
            selectors.item_get_managed(world.users[username], rice.pk)
    # The county admin may.
    services.stock_in(
        actor=world.users["county_admin"],
        idempotency_key=key(),
        item=rice,
        kind="purchase",
        quantity=1,
        source="县",
    )
    assert on_hand(rice) == 6


def test_the_database_refuses_negative_on_hand(world):
    rice = world.items["大米"]
    with pytest.raises(IntegrityError), transaction.atomic():
        Item.objects.filter(pk=rice.pk).update(on_hand=-1)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockMovement.objects.create(item=rice, kind=StockKind.ADJUSTMENT, quantity=-1, reason="")
    with pytest.raises(IntegrityError), transaction.atomic():
        StockMovement.objects.create(item=rice, kind=StockKind.PURCHASE, quantity=-1, source="x")
    assert on_hand(rice) == 5


def test_clerk_find_and_grant_within_scope(world):
    from governance.models import User
    from governance.services import roles as role_services

    admin, store = world.users["township_admin"], world.stores["城关"]
    helper = role_services.user_create(
        username="13800001234", password="x-long-password-1", full_name="李收银"
    )
    assert selectors.clerk_find(store, " 13800001234 ") == helper
    assert services.store_clerk_grant(actor=admin, store=store, user=helper) is True
    assert services.store_clerk_grant(actor=admin, store=store, user=helper) is False
    assert [u.username for u in selectors.store_clerks(store)] == ["13800001234", "clerk"]
    with pytest.raises(DomainError) as caught:
        selectors.clerk_find(store, "shihua_admin")
    assert str(caught.value.message) == "该账号属于其他乡镇，不能在本超市收银。"
    with pytest.raises(DomainError) as caught:
        selectors.clerk_find(store, "no-such-user")
    assert str(caught.value.message) == "没有找到该账号，请核对用户名或手机号。"
    # A village secretary of the township may be granted (their role lies inside it).
    assert selectors.clerk_find(store, "village_secretary") == User.objects.get(username="village_secretary")
    assert services.store_clerk_revoke(actor=admin, store=store, user=helper) is True
    assert [u.username for u in selectors.store_clerks(store)] == ["clerk"]
    with pytest.raises(NotFound):
        services.store_clerk_grant(actor=world.users["shihua_admin"], store=store, user=helper)


def test_days_schedule_open_close(world):
    admin, store = world.users["township_admin"], world.stores["城关"]
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    same = key()
    day = day_services.day_schedule(actor=admin, idempotency_key=same, store=store, date=tomorrow, title="")
    assert (
        day_services.day_schedule(actor=admin, idempotency_key=same, store=store, date=tomorrow).pk == day.pk
    )
    assert day.title == f"{tomorrow.month}月{tomorrow.day}日兑换日"
    with pytest.raises(DomainError) as caught:
        day_services.day_schedule(actor=admin, idempotency_key=key(), store=store, date=tomorrow)
    assert str(caught.value.message) == "这一天已经安排了兑换日。"
    with pytest.raises(Conflict):
        day_services.day_open(actor=admin, day=day)
    current, earlier = selectors.store_days(store)
    assert [d.pk for d in current] == [world.day.pk, day.pk]
    day_services.day_close(actor=admin, day=world.day)
    current, earlier = selectors.store_days(store)
    assert [d.pk for d in current] == [day.pk]
    assert [(d.pk, d.status, d.receipts) for d in earlier] == [(world.day.pk, DayStatus.CLOSED, 0)]


def test_audit_entries_carry_the_key(world):
    from governance.models import AuditEvent

    admin, rice = world.users["township_admin"], world.items["大米"]
    the_key = key()
    movement = services.stock_adjust(
        actor=admin, idempotency_key=the_key, item=rice, quantity=-1, reason="鼠咬"
    )
    event = AuditEvent.objects.get(object_type="points.stockmovement", object_id=str(movement.pk))
    assert event.action == AuditAction.CREATE
    assert event.changes["idempotency_key"] == [None, the_key]

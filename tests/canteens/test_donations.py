"""donation_record and the fund: credits with exact balances and movements, refusals with their Chinese
messages and nothing written, replays, scope, and the public thank-you list."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from canteens.models import Donation, DonationFund, FundMovement, FundMovementKind
from canteens.selectors.funds import fund_movements, funds_visible, thanks_list
from canteens.services.funds import donation_fund_ensure, donation_record, fund_verify
from common.errors import Conflict, DomainError, NotFound
from governance.models import AuditEvent
from tests.canteens.factories import FUND_BALANCE, CanteenWorld, canteen_world, key

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(demo_county) -> CanteenWorld:
    return canteen_world(demo_county)


def donate(world: CanteenWorld, **kwargs) -> Donation:
    values: dict[str, Any] = {
        "actor": world.manager,
        "idempotency_key": key(),
        "fund": world.fund,
        "donor_name": "谷城爱心商会",
        "donor_kind": "enterprise",
        "kind": "money",
        "amount_fen": 50_000,
        "received_on": timezone.localdate(),
        "receipt_number": "JZ-2026-0002",
        "purpose": "老人助餐",
    }
    values.update(kwargs)
    return donation_record(**values)


def balance(world: CanteenWorld) -> int:
    assert world.fund is not None
    return DonationFund.objects.get(pk=world.fund.pk).balance_fen


def test_money_donation_credits_the_fund_with_a_movement(world):
    donation = donate(world)
    assert balance(world) == FUND_BALANCE + 50_000
    movement = FundMovement.objects.get(donation=donation)
    assert (movement.kind, movement.amount_fen, movement.fund_id) == (
        FundMovementKind.DONATION,
        50_000,
        world.fund.pk,
    )
    assert movement.memo == "谷城爱心商会捐赠"
    assert AuditEvent.objects.filter(object_type="canteens.donation", object_id=str(donation.pk)).count() == 1
    assert fund_verify() == []
    rows = fund_movements(world.fund)
    assert [(row.amount_fen, row.balance_fen) for row in rows] == [(50_000, 60_000), (10_000, 10_000)]


def test_goods_donation_needs_a_description(world):
    with pytest.raises(DomainError) as caught:
        donate(world, kind="goods")
    assert (caught.value.field, str(caught.value.message)) == (
        "goods_description",
        "捐赠物资请写明物资明细。",
    )
    goods = donate(
        world, kind="goods", goods_description="大米 20 袋", amount_fen=120_000, receipt_number="WZ-1"
    )
    assert goods.goods_description == "大米 20 袋"
    assert balance(world) == FUND_BALANCE + 120_000


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"amount_fen": 0}, "amount", "捐赠金额至少 0.01 元。"),
        ({"amount_fen": -500}, "amount", "捐赠金额至少 0.01 元。"),
        ({"amount_fen": 10_000_000_001}, "amount", "捐赠金额超过 1 亿元，请核对。"),
        ({"donor_name": " "}, "donor_name", "请填写捐赠方；不愿留名请选“匿名”。"),
        ({"receipt_number": ""}, "receipt_number", "请填写收据编号。"),
        ({"received_on": dt.date.today() + dt.timedelta(days=2)}, "received_on", "捐赠日期不能晚于今天。"),
    ],
)
def test_bad_input_is_refused_next_to_the_field_and_nothing_written(world, changes, field, message):
    before = (Donation.objects.count(), FundMovement.objects.count(), balance(world))
    with pytest.raises(DomainError) as caught:
        donate(world, **changes)
    assert (caught.value.field, str(caught.value.message)) == (field, message)
    assert (Donation.objects.count(), FundMovement.objects.count(), balance(world)) == before


def test_receipt_number_is_unique(world):
    donate(world)
    with pytest.raises(Conflict) as caught:
        donate(world)
    assert str(caught.value.message) == "收据编号 JZ-2026-0002 已登记过，请核对。"
    assert balance(world) == FUND_BALANCE + 50_000


def test_replay_returns_the_first_donation(world):
    same = key()
    first = donate(world, idempotency_key=same)
    again = donate(world, idempotency_key=same)
    assert again.pk == first.pk
    assert balance(world) == FUND_BALANCE + 50_000


def test_anonymous_donor_and_scope(world):
    anonymous = donate(world, donor_kind="anonymous", donor_name="", is_public=False, receipt_number="NM-1")
    assert anonymous.donor_name == "匿名"
    with pytest.raises(NotFound):
        donate(world, actor=world.users["township_admin"], receipt_number="X-1")
    with pytest.raises(NotFound):
        donate(world, actor=world.users["minying_secretary"], receipt_number="X-2")
    assert list(funds_visible(world.users["township_admin"])) == []
    assert list(funds_visible(world.users["minying_secretary"])) == [world.fund]


def test_township_fund_is_set_up_once_by_the_township_admin(world):
    with pytest.raises(NotFound):
        donation_fund_ensure(actor=world.manager, township=world.regions["石花镇"])
    fund = donation_fund_ensure(actor=world.admin, township=world.regions["石花镇"])
    assert fund.name == "石花镇爱心食堂捐赠资金"
    assert donation_fund_ensure(actor=world.admin, township=world.regions["石花镇"]).pk == fund.pk
    with pytest.raises(DomainError):
        donation_fund_ensure(actor=world.admin, township=world.regions["民营社区"])


def test_thanks_list_names_only_consenting_donors(world):
    donate(
        world,
        donor_name="张先生",
        donor_kind="person",
        is_public=False,
        receipt_number="P-1",
        amount_fen=20_000,
    )
    donate(world, donor_name="谷城爱心商会", receipt_number="P-2", amount_fen=30_000)
    fund, rows = thanks_list(world.site)
    assert fund == world.fund
    assert [(row.donor, row.amount_fen) for row in rows] == [
        ("谷城爱心商会", 30_000),
        ("爱心人士（匿名）", 20_000),
        ("爱心企业", 10_000),
    ]
    page = Client().get(f"/canteens/{world.site.pk}/thanks/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "谷城爱心商会" in html
    assert "张先生" not in html
    assert "爱心人士（匿名）" in html
    assert "¥300.00" in html
    assert "感谢 3 笔爱心捐赠，共 600.00 元" in html
    assert Client().get("/canteens/999999/thanks/").status_code == 404
    assert Client().get(f"/canteens/{world.classroom.pk}/thanks/").status_code == 404

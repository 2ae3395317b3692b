"""Sales records: an event's totals equal the sum of its records after corrections (create, reverse,
correct, replay); the ledger's PostgreSQL trigger; bad input refused with the Chinese message and nothing
written (service, page and API); who may post."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Sum
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from common.errors import Conflict, DomainError, NotFound
from governance.models import AuditEvent, User
from industry.models import SalesRecord
from industry.selectors.events import event_totals
from industry.services import sales as services
from tests.industry.factories import (
    CG_TOTAL,
    SH_OFFLINE,
    SH_ONLINE,
    SH_TOTAL,
    IndustryWorld,
    industry_world,
    key,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(demo_county) -> IndustryWorld:
    return industry_world(demo_county)


def sums(event) -> tuple[int, int, int]:
    """(total, offline, online) summed straight from the ledger."""
    rows = SalesRecord.objects.filter(event=event)

    def total(**kw) -> int:
        return rows.filter(**kw).aggregate(t=Sum("amount_fen"))["t"] or 0

    return total(), total(channel="offline"), total(channel="online")


def post(world: IndustryWorld, booth: str, code: str, fen: int, *, k: str | None = None, **kw) -> SalesRecord:
    exhibitor = world.exhibitors[booth]
    actor = kw.pop("actor", world.shihua_admin if booth.startswith("B") else world.chengguan_admin)
    values: dict[str, Any] = {
        "channel": "offline",
        "platform": "",
        "sold_on": exhibitor.event.starts_on,
        "quantity": Decimal("1"),
    }
    values.update(kw)
    return services.sales_record_create(
        actor=actor,
        idempotency_key=k or key(),
        event=exhibitor.event,
        exhibitor=exhibitor,
        product=world.products[code],
        amount_fen=fen,
        **values,
    )


def test_totals_equal_the_sum_of_records_after_corrections(world):
    sh, cg = world.shihua_event, world.chengguan_event
    admin = world.shihua_admin
    assert sums(sh) == (SH_TOTAL, SH_OFFLINE, SH_ONLINE)

    # Create: one offline, one online (replayed with the same key: one record).
    k1, k2 = key(), key()
    a = post(world, "B01", "GC-FUN-0001", 50_000, k=k1)
    b = post(world, "B02", "GC-PRO-0001", 12_345, k=k2, channel="online", platform="拼多多")
    assert post(world, "B01", "GC-FUN-0001", 50_000, k=k1).pk == a.pk
    assert post(world, "B02", "GC-PRO-0001", 12_345, k=k2, channel="online", platform="拼多多").pk == b.pk
    assert sums(sh) == (SH_TOTAL + 62_345, SH_OFFLINE + 50_000, SH_ONLINE + 12_345)

    # Reverse S1 (120,000 offline), replayed with the same key: one reversal.
    rk = key()
    reversal = services.sales_record_reverse(
        actor=admin, idempotency_key=rk, record=world.sales["S1"], reason="重复录入"
    )
    again = services.sales_record_reverse(
        actor=admin, idempotency_key=rk, record=world.sales["S1"], reason="重复录入"
    )
    assert again.pk == reversal.pk
    assert (reversal.amount_fen, reversal.quantity, reversal.reverses_id) == (
        -120_000,
        Decimal("-10.00"),
        world.sales["S1"].pk,
    )
    assert sums(sh) == (SH_TOTAL + 62_345 - 120_000, SH_OFFLINE + 50_000 - 120_000, SH_ONLINE + 12_345)

    # Correct S2 (65,050 online 抖音) to 60,000 on 快手, replayed: one reversal and one new record.
    ck = key()
    args = {
        "actor": admin,
        "idempotency_key": ck,
        "record": world.sales["S2"],
        "reason": "平台录错",
        "exhibitor": world.exhibitors["B01"],
        "product": world.products["GC-FUN-0001"],
        "channel": "online",
        "platform": "快手",
        "sold_on": sh.starts_on,
        "quantity": Decimal("5"),
        "amount_fen": 60_000,
    }
    rev2, new2 = services.sales_record_correct(**args)
    rev2b, new2b = services.sales_record_correct(**args)
    assert (rev2b.pk, new2b.pk) == (rev2.pk, new2.pk)
    assert (rev2.amount_fen, new2.amount_fen, new2.platform) == (-65_050, 60_000, "快手")

    expected_total = SH_TOTAL + 62_345 - 120_000 - 65_050 + 60_000
    expected_offline = SH_OFFLINE + 50_000 - 120_000
    expected_online = SH_ONLINE + 12_345 - 65_050 + 60_000
    assert sums(sh) == (expected_total, expected_offline, expected_online)
    assert (expected_total, expected_offline, expected_online) == (168_345, 80_000, 88_345)
    totals = event_totals(sh)
    assert (totals.total_fen, totals.offline_fen, totals.online_fen) == (168_345, 80_000, 88_345)
    assert totals.platforms == [("快手", 60_000), ("淘宝", 16_000), ("拼多多", 12_345)]
    assert totals.records == 4 + 2 + 1 + 2
    # The other event is untouched.
    assert sums(cg) == (CG_TOTAL, CG_TOTAL, 0)
    assert event_totals(cg).total_fen == CG_TOTAL
    # Every write audited once: 2 creates, 1 reversal, a correction's reversal and new record.
    assert AuditEvent.objects.filter(object_type="industry.salesrecord", action="create").count() == 5


def test_same_key_with_another_sale_is_a_conflict(world):
    k = key()
    post(world, "B01", "GC-FUN-0001", 10_000, k=k)
    with pytest.raises(Conflict) as caught:
        post(world, "B01", "GC-FUN-0001", 10_001, k=k)
    assert caught.value.status == 409
    assert caught.value.code == "idempotency_key_reused"
    assert SalesRecord.objects.filter(idempotency_key=k).count() == 1


def test_a_reversal_and_a_reversed_record_are_not_reversed(world):
    admin = world.shihua_admin
    reversal = services.sales_record_reverse(
        actor=admin, idempotency_key=key(), record=world.sales["S3"], reason="退货"
    )
    with pytest.raises(Conflict) as caught:
        services.sales_record_reverse(
            actor=admin, idempotency_key=key(), record=world.sales["S3"], reason="再退"
        )
    assert (caught.value.status, str(caught.value.message)) == (
        409,
        "这条销售记录已经冲正过了，不能重复冲正。",
    )
    with pytest.raises(Conflict) as caught:
        services.sales_record_reverse(actor=admin, idempotency_key=key(), record=reversal, reason="撤销冲正")
    assert (caught.value.status, str(caught.value.message)) == (409, "这是一条冲正记录，不能再冲正。")
    with pytest.raises(DomainError) as caught:
        services.sales_record_reverse(
            actor=admin, idempotency_key=key(), record=world.sales["S4"], reason=" "
        )
    assert (caught.value.field, str(caught.value.message)) == ("reason", "请填写更正原因。")
    assert SalesRecord.objects.filter(reverses__isnull=False).count() == 1


def test_correct_is_all_or_nothing(world):
    before = SalesRecord.objects.count()
    with pytest.raises(DomainError) as caught:
        services.sales_record_correct(
            actor=world.shihua_admin,
            idempotency_key=key(),
            record=world.sales["S1"],
            reason="金额录错",
            exhibitor=world.exhibitors["B01"],
            product=world.products["GC-FUN-0001"],
            channel="online",
            platform="",
            sold_on=world.shihua_event.starts_on,
            quantity=Decimal("10"),
            amount_fen=100_000,
        )
    assert str(caught.value.message) == "线上销售请填写销售平台，例如抖音、淘宝。"
    assert SalesRecord.objects.count() == before
    assert not SalesRecord.objects.filter(reverses=world.sales["S1"]).exists()


def test_the_trigger_refuses_update_and_delete(world):
    record = world.sales["S1"]
    with pytest.raises(DatabaseError, match="append-only: UPDATE refused"), transaction.atomic():
        SalesRecord.objects.filter(pk=record.pk).update(amount_fen=1)
    with (
        pytest.raises(DatabaseError, match="append-only: DELETE refused"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM industry_salesrecord WHERE id = %s", [record.pk])
    record.refresh_from_db()
    assert record.amount_fen == 120_000


def test_the_trigger_refuses_a_reversal_that_does_not_negate(world):
    record = world.sales["S1"]
    fields = {
        "event": record.event,
        "exhibitor": record.exhibitor,
        "product": record.product,
        "channel": record.channel,
        "platform": record.platform,
        "sold_on": record.sold_on,
        "reverses": record,
        "reason": "手工冲正",
        "idempotency_key": key(),
    }
    with pytest.raises(IntegrityError, match="must negate exactly"), transaction.atomic():
        SalesRecord.objects.create(quantity=Decimal("-10"), amount_fen=-100_000, **fields)
    with pytest.raises(IntegrityError, match="must negate exactly"), transaction.atomic():
        SalesRecord.objects.create(quantity=Decimal("-9"), amount_fen=-120_000, **fields)
    reversal = SalesRecord.objects.create(quantity=Decimal("-10"), amount_fen=-120_000, **fields)
    fields.update(reverses=reversal, idempotency_key=key())
    with pytest.raises(IntegrityError, match="cannot be reversed"), transaction.atomic():
        SalesRecord.objects.create(quantity=Decimal("10"), amount_fen=120_000, **fields)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"amount_yuan": "0"}, "amount_yuan", "销售额应为大于 0 的金额（元），最多两位小数，例如 1200.50。"),
        (
            {"amount_yuan": "-12"},
            "amount_yuan",
            "销售额应为大于 0 的金额（元），最多两位小数，例如 1200.50。",
        ),
        (
            {"amount_yuan": "12.345"},
            "amount_yuan",
            "销售额应为大于 0 的金额（元），最多两位小数，例如 1200.50。",
        ),
        ({"channel": "online", "platform": ""}, "platform", "线上销售请填写销售平台，例如抖音、淘宝。"),
        ({"sold_on": "outside"}, "sold_on", "销售日期应在展会节会举办期间（{start} 至 {end}）。"),
        ({"exhibitor": "other"}, "exhibitor", "该参展主体不属于本次展会节会。"),
    ],
)
def test_bad_input_refused_with_the_message_and_nothing_written(world, change, field, message):
    event = world.shihua_event
    start, end = event.starts_on, event.ends_on
    message = message.format(
        start=f"{start.year}年{start.month}月{start.day}日", end=f"{end.year}年{end.month}月{end.day}日"
    )
    body = {
        "exhibitor": world.exhibitors["B01"].pk,
        "product": world.products["GC-FUN-0001"].pk,
        "channel": "offline",
        "platform": "",
        "sold_on": start.isoformat(),
        "quantity": "2",
        "amount_yuan": "88.50",
    }
    body.update(change)
    if body["sold_on"] == "outside":
        body["sold_on"] = (start - dt.timedelta(days=1)).isoformat()
    if body["exhibitor"] == "other":
        body["exhibitor"] = world.exhibitors["A01"].pk
    before = SalesRecord.objects.count()

    # The API.
    api = APIClient()
    api.force_authenticate(world.shihua_admin)
    response = api.post(
        f"/api/v1/industry/events/{event.pk}/sales/", body, format="json", HTTP_IDEMPOTENCY_KEY=key()
    )
    assert response.status_code == 400
    assert response.json()["detail"] == message
    assert response.json()["fields"] == {field: [message]}

    # The page: the message next to the field, what was typed kept.
    page = Client()
    page.force_login(world.shihua_admin)
    response = page.post(reverse("industry:sale-create", args=[event.pk]), {**body, "idempotency_key": key()})
    assert response.status_code == 400
    assert response.context["form"].errors[field] == [message]
    html = response.content.decode()
    assert f'value="{body["amount_yuan"]}"' in html
    assert SalesRecord.objects.count() == before


def test_service_refuses_the_same_things(world):
    event = world.shihua_event
    base = {
        "actor": world.shihua_admin,
        "event": event,
        "exhibitor": world.exhibitors["B01"],
        "product": world.products["GC-FUN-0001"],
        "channel": "offline",
        "platform": "",
        "sold_on": event.starts_on,
        "quantity": Decimal("1"),
        "amount_fen": 100,
    }
    cases = [
        ({"amount_fen": 0}, "amount_yuan"),
        ({"amount_fen": -5}, "amount_yuan"),
        ({"channel": "online"}, "platform"),
        ({"sold_on": event.ends_on + dt.timedelta(days=1)}, "sold_on"),
        ({"exhibitor": world.exhibitors["A01"]}, "exhibitor"),
        ({"quantity": Decimal("1.234")}, "quantity"),
        ({"channel": "邮购"}, "channel"),
    ]
    before = SalesRecord.objects.count()
    for change, field in cases:
        with pytest.raises(DomainError) as caught:
            services.sales_record_create(idempotency_key=key(), **{**base, **change})
        assert caught.value.field == field, change
    assert SalesRecord.objects.count() == before


def test_who_may_post(world):
    cg_event, sh_event = world.chengguan_event, world.shihua_event
    # The 城关镇 admin cannot post at 石花镇's event; the organiser only at the one granted.
    with pytest.raises(NotFound):
        post(world, "B01", "GC-FUN-0001", 100, actor=world.chengguan_admin)
    record = post(world, "B01", "GC-FUN-0001", 100, actor=world.organiser)
    assert record.recorded_by == world.organiser
    with pytest.raises(NotFound):
        post(world, "A01", "GC-TEA-0001", 100, actor=world.organiser)
    with pytest.raises(NotFound):
        services.sales_record_reverse(
            actor=world.organiser, idempotency_key=key(), record=world.sales["C1"], reason="x"
        )
    # A village secretary reads nothing of a town's event and posts nothing.
    secretary = User.objects.get(username="village_secretary")
    with pytest.raises(NotFound):
        post(world, "A01", "GC-TEA-0001", 100, actor=secretary)
    assert SalesRecord.objects.filter(event=cg_event).count() == 1
    assert SalesRecord.objects.filter(event=sh_event).count() == 5


def test_api_create_replay_reverse_and_correct(world):
    event = world.shihua_event
    api = APIClient()
    api.force_authenticate(world.organiser)
    url = f"/api/v1/industry/events/{event.pk}/sales/"
    body = {
        "exhibitor": world.exhibitors["B02"].pk,
        "product_code": "gc-pro-0001",
        "channel": "线上",
        "platform": "抖音",
        "sold_on": event.starts_on.strftime("%Y年%m月%d日"),
        "quantity": "3",
        "amount_yuan": "1,200.50",
    }
    first = api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="api-key-1")
    assert first.status_code == 201
    created = first.json()
    assert (
        created["amount_fen"],
        created["channel"],
        created["platform"],
        created["product_code"],
        created["source"],
    ) == (
        120_050,
        "online",
        "抖音",
        "GC-PRO-0001",
        "api",
    )
    replay = api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="api-key-1")
    assert replay.json()["id"] == created["id"]
    conflict = api.post(
        url, {**body, "amount_yuan": "1200.51"}, format="json", HTTP_IDEMPOTENCY_KEY="api-key-1"
    )
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "idempotency_key_reused"
    missing_key = api.post(url, body, format="json")
    assert (missing_key.status_code, missing_key.json()["code"]) == (400, "idempotency_key_missing")

    reverse_url = f"/api/v1/industry/sales/{created['id']}/reverse/"
    reversed_ = api.post(reverse_url, {"reason": "重复"}, format="json", HTTP_IDEMPOTENCY_KEY="api-key-2")
    assert reversed_.status_code == 201
    assert (reversed_.json()["amount_fen"], reversed_.json()["reverses"]) == (-120_050, created["id"])
    again = api.post(reverse_url, {"reason": "重复"}, format="json", HTTP_IDEMPOTENCY_KEY="api-key-3")
    assert (again.status_code, again.json()["detail"]) == (409, "这条销售记录已经冲正过了，不能重复冲正。")

    correct_url = f"/api/v1/industry/sales/{world.sales['S3'].pk}/correct/"
    corrected = api.post(
        correct_url,
        {"reason": "金额录错", "amount_yuan": "280"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="api-key-4",
    )
    assert corrected.status_code == 201
    pair = corrected.json()
    assert (pair["reversal"]["amount_fen"], pair["record"]["amount_fen"], pair["record"]["quantity"]) == (
        -30_000,
        28_000,
        "20.00",
    )
    listing = api.get(url, {"channel": "offline"}).json()
    assert sum(row["amount_fen"] for row in listing["results"]) == SH_OFFLINE - 30_000 + 28_000
    detail = api.get(f"/api/v1/industry/events/{event.pk}/").json()
    assert (detail["total_fen"], detail["offline_fen"], detail["online_fen"]) == (
        SH_TOTAL - 2_000,
        SH_OFFLINE - 2_000,
        SH_ONLINE,
    )
    sale = api.get(f"/api/v1/industry/sales/{world.sales['S3'].pk}/").json()
    assert sale["reversed_by"] == pair["reversal"]["id"]

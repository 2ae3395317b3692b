"""The sales pages: the overview, an event's list (filters, struck-through reversals, sort, Excel), the
entry form (keeps exhibitor, channel and date after a save; errors next to the field), reverse and
correct."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from industry.models import SalesRecord
from industry.services import sales as services
from tests.industry.factories import IndustryWorld, industry_world, key, today

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(demo_county) -> IndustryWorld:
    return industry_world(demo_county)


def client_for(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password="xiangzhi-demo")
    return client


def test_overview_offers_entry_for_events_running_today(world):
    response = client_for("township_admin").get(reverse("industry:sales"))
    assert [e.name for e in response.context["running"]] == ["城关镇农旅展览会"]
    assert f'data-testid="entry-{world.chengguan_event.pk}"' in response.content.decode()
    # The 石花 festival is over: listed with its records, no entry button.
    response = client_for("shihua_admin").get(reverse("industry:sales"))
    assert response.context["running"] == []
    assert [e.name for e in response.context["page"]] == ["石花镇香菇节"]


def test_entry_saves_and_keeps_exhibitor_channel_and_day(world):
    client = client_for("township_admin")
    event = world.chengguan_event
    url = reverse("industry:sale-create", args=[event.pk])
    page = client.get(url)
    assert page.context["value"]["sold_on"] == today().isoformat()
    assert page.context["value"]["channel"] == "offline"
    body = {
        "idempotency_key": key(),
        "exhibitor": world.exhibitors["A02"].pk,
        "product": world.products["GC-TEA-0002"].pk,
        "channel": "online",
        "platform": "抖音",
        "amount_yuan": "1,234.50",
        "quantity": "3",
        "sold_on": today().isoformat(),
    }
    response = client.post(url, body)
    assert response.status_code == 302
    record = SalesRecord.objects.get(idempotency_key=body["idempotency_key"])
    assert (record.amount_fen, record.quantity, record.channel, record.platform, record.source) == (
        123_450,
        3,
        "online",
        "抖音",
        "page",
    )
    assert response["Location"] == (
        f"{url}?exhibitor={world.exhibitors['A02'].pk}&channel=online&platform=%E6%8A%96%E9%9F%B3"
        f"&sold_on={today().isoformat()}"
    )
    # A double tap (the same key again) writes nothing more.
    assert client.post(url, body).status_code == 302
    assert SalesRecord.objects.filter(event=event).count() == 2
    following = client.get(response["Location"])
    value = following.context["value"]
    assert (str(value["exhibitor"]), value["channel"], value["platform"], value["sold_on"]) == (
        str(world.exhibitors["A02"].pk),
        "online",
        "抖音",
        today().isoformat(),
    )
    assert value["amount_yuan"] == ""
    assert following.context["totals"].total_fen == 80_000 + 123_450
    assert [r.pk for r in following.context["recent"]] == [record.pk, world.sales["C1"].pk]
    html = following.content.decode()
    assert "已录入：谷城新华食品有限公司 · 玉皇剑 ¥1,234.50。" in html


def test_entry_errors_show_next_to_each_field_and_keep_the_input(world):
    client = client_for("township_admin")
    url = reverse("industry:sale-create", args=[world.chengguan_event.pk])
    body = {
        "idempotency_key": key(),
        "exhibitor": "",
        "product": "",
        "channel": "online",
        "platform": "",
        "amount_yuan": "12.345",
        "quantity": "-1",
        "sold_on": "2001-01-01",
    }
    response = client.post(url, body)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["exhibitor"] == ["请选择参展主体。"]
    assert errors["product"] == ["请从农产品目录中选择产品。"]
    assert errors["platform"] == ["线上销售请填写销售平台，例如抖音、淘宝。"]
    assert errors["amount_yuan"] == ["销售额应为大于 0 的金额（元），最多两位小数，例如 1200.50。"]
    assert errors["quantity"] == ["数量应为不小于 0 的数字，最多两位小数。"]
    assert errors["sold_on"][0].startswith("销售日期应在展会节会举办期间")
    html = response.content.decode()
    assert 'value="12.345"' in html
    assert 'value="-1"' in html
    assert 'value="2001-01-01"' in html
    assert f'value="{body["idempotency_key"]}"' in html
    assert SalesRecord.objects.filter(event=world.chengguan_event).count() == 1


def test_sales_list_filters_struck_reversals_and_excel(world):
    admin = world.shihua_admin
    reversal = services.sales_record_reverse(
        actor=admin, idempotency_key=key(), record=world.sales["S1"], reason="重复录入"
    )
    client = client_for("shihua_admin")
    url = reverse("industry:event-sales", args=[world.shihua_event.pk])
    response = client.get(url)
    rows = list(response.context["page"])
    # The reversal sits right under the record it reverses.
    order = [r.pk for r in rows]
    assert order.index(reversal.pk) == order.index(world.sales["S1"].pk) + 1
    sums = response.context["sums"]
    assert (sums.total_fen, sums.offline_fen, sums.online_fen, sums.records, sums.reversals) == (
        111_050,
        30_000,
        81_050,
        5,
        1,
    )
    html = response.content.decode()
    assert f'data-testid="reversed-{world.sales["S1"].pk}"' in html
    assert "ie-row--reversed" in html
    assert "-¥1,200.00" in html
    # Filters: channel, platform, exhibitor, category, day.
    online = client.get(url, {"channel": "online"}).context["sums"]
    assert online.total_fen == 81_050
    assert client.get(url, {"platform": "淘宝"}).context["sums"].total_fen == 16_000
    assert client.get(url, {"exhibitor": world.exhibitors["B02"].pk}).context["sums"].total_fen == 46_000
    assert client.get(url, {"category": "fungi"}).context["sums"].total_fen == 65_050
    day2 = world.shihua_event.starts_on.toordinal() + 1
    assert client.get(url, {"day": date.fromordinal(day2).isoformat()}).context["sums"].total_fen == 46_000
    assert [r.amount_fen for r in client.get(url, {"sort": "-amount"}).context["page"]][:2] == [
        120_000,
        65_050,
    ]
    export = client.get(url, {"channel": "offline", "export": "xlsx"})
    sheet = load_workbook(io.BytesIO(b"".join(export.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("记录号", "销售日期", "参展主体")
    assert sorted(float(r[9]) for r in rows[1:]) == [-1200.0, 300.0, 1200.0]


def test_reverse_page_with_reason_and_next(world):
    client = client_for("township_admin")
    record = world.sales["C1"]
    entry = reverse("industry:sale-create", args=[world.chengguan_event.pk])
    url = reverse("industry:sale-reverse", args=[record.pk])
    page = client.get(url, {"next": entry})
    assert page.status_code == 200
    response = client.post(url, {"idempotency_key": key(), "reason": "", "next": entry})
    assert response.status_code == 400
    assert response.context["error"] == "请填写更正原因。"
    response = client.post(url, {"idempotency_key": key(), "reason": "录错展位", "next": entry})
    assert response.status_code == 302
    assert response["Location"] == entry
    reversal = SalesRecord.objects.get(reverses=record)
    assert (reversal.amount_fen, reversal.reason) == (-80_000, "录错展位")
    # A second attempt is refused with the Chinese message; an outside next is ignored.
    response = client.post(url, {"idempotency_key": key(), "reason": "再来", "next": "https://example.com/"})
    assert response.status_code == 400
    assert response.context["error"] == "这条销售记录已经冲正过了，不能重复冲正。"
    assert response.context["next"] == reverse("industry:event-sales", args=[world.chengguan_event.pk])
    # Another town's record: 404.
    assert client.get(reverse("industry:sale-reverse", args=[world.sales["S1"].pk])).status_code == 404


def test_correct_page_reverses_and_posts_the_right_figures(world):
    client = client_for("shihua_admin")
    record = world.sales["S4"]  # 160.00 on 淘宝
    url = reverse("industry:sale-correct", args=[record.pk])
    page = client.get(url)
    assert page.context["value"]["amount_yuan"] == "160.00"
    assert page.context["value"]["platform"] == "淘宝"
    body = {
        "idempotency_key": key(),
        "reason": "",
        "exhibitor": record.exhibitor_id,
        "product": record.product_id,
        "channel": "online",
        "platform": "京东",
        "amount_yuan": "180",
        "quantity": "9",
        "sold_on": record.sold_on.isoformat(),
    }
    response = client.post(url, body)
    assert response.status_code == 400
    assert response.context["form"].errors["reason"] == ["请填写更正原因。"]
    body["reason"] = "平台和金额录错"
    response = client.post(url, body)
    assert response.status_code == 302
    reversal = SalesRecord.objects.get(reverses=record)
    new = SalesRecord.objects.filter(event=world.shihua_event).order_by("-pk").first()
    assert (reversal.amount_fen, new.amount_fen, new.platform, new.quantity) == (-16_000, 18_000, "京东", 9)
    # A corrected record cannot be corrected again.
    assert client.get(url).status_code == 404

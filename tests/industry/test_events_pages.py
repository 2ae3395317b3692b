"""The events and catalogue pages: list with filters, sort, pages and Excel; create and edit; an event's page;
exhibitors; organisers; products. Scope: a township admin sees its town's events and exhibitors only,
another town's answer 404 (pages and API)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from governance.models import AuditEvent
from industry.models import Event, EventUserObjectPermission, Exhibitor, Product
from tests.industry.factories import IndustryWorld, industry_world, key, today

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(demo_county) -> IndustryWorld:
    return industry_world(demo_county)


def client_for(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password="xiangzhi-demo")
    return client


def test_county_admin_sees_every_event_with_totals(world):
    response = client_for("county_admin").get(reverse("industry:events"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "城关镇农旅展览会" in html
    assert "石花镇香菇节" in html
    assert "¥2,310.50" in html  # 石花: 231,050 fen
    assert "¥800.00" in html
    assert response.context["page"].paginator.count == 2


def test_township_admin_sees_its_town_only(world):
    client = client_for("township_admin")  # 城关镇
    response = client.get(reverse("industry:events"))
    assert [e.name for e in response.context["page"]] == ["城关镇农旅展览会"]
    other = world.shihua_event.pk
    for name in (
        "industry:event-detail",
        "industry:event-sales",
        "industry:event-exhibitors",
        "industry:event-edit",
    ):
        assert client.get(reverse(name, args=[other])).status_code == 404, name
    assert client.get(reverse("industry:sale-create", args=[other])).status_code == 404
    own = client.get(reverse("industry:event-detail", args=[world.chengguan_event.pk]))
    assert own.status_code == 200
    assert [x.business.name for x in own.context["exhibitors"]] == [
        "新华茶叶专业合作社",
        "谷城新华食品有限公司",
    ]
    # The API agrees: list, detail, exhibitors, sales.
    api = client
    body = api.get("/api/v1/industry/events/").json()
    assert [row["name"] for row in body["results"]] == ["城关镇农旅展览会"]
    assert api.get(f"/api/v1/industry/events/{other}/").status_code == 404
    assert api.get(f"/api/v1/industry/events/{other}/exhibitors/").status_code == 404
    assert api.get(f"/api/v1/industry/events/{other}/sales/").status_code == 404
    rows = api.get(f"/api/v1/industry/events/{world.chengguan_event.pk}/exhibitors/").json()["results"]
    assert [(r["booth"], r["business_name"], r["total_fen"]) for r in rows] == [
        ("A01", "新华茶叶专业合作社", 80_000),
        ("A02", "谷城新华食品有限公司", 0),
    ]
    assert api.get(f"/api/v1/industry/sales/{world.sales['S1'].pk}/").status_code == 404


def test_village_secretary_sees_no_town_event(world):
    response = client_for("village_secretary").get(reverse("industry:events"))
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 0
    assert (
        client_for("village_secretary")
        .get(reverse("industry:event-detail", args=[world.chengguan_event.pk]))
        .status_code
        == 404
    )


def test_list_filters_sort_and_excel(world):
    client = client_for("county_admin")
    url = reverse("industry:events")
    town = world.regions["石花镇"].pk
    assert [e.name for e in client.get(url, {"town": town}).context["page"]] == ["石花镇香菇节"]
    assert [e.name for e in client.get(url, {"kind": "expo"}).context["page"]] == ["城关镇农旅展览会"]
    assert [e.name for e in client.get(url, {"sort": "-total"}).context["page"]] == [
        "石花镇香菇节",
        "城关镇农旅展览会",
    ]
    assert [e.name for e in client.get(url, {"q": "香菇"}).context["page"]] == ["石花镇香菇节"]
    year = world.shihua_event.starts_on.year
    assert client.get(url, {"year": year - 5}).context["page"].paginator.count == 0
    response = client.get(url, {"sort": "-total", "export": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "名称"
    assert rows[1][0] == "石花镇香菇节"
    assert float(rows[1][10]) == 2310.5
    assert AuditEvent.objects.filter(action="export", object_type="industry.event").count() == 1


def test_create_event_page_errors_keep_input_then_saves(world):
    client = client_for("township_admin")
    url = reverse("industry:event-create")
    page = client.get(url)
    assert [label for _v, label in page.context["form"].fields["region"].choices] == ["请选择", "城关镇"]
    start = today() + dt.timedelta(days=10)
    data = {
        "idempotency_key": key(),
        "kind": "festival",
        "name": "城关镇桃花节",
        "region": world.regions["城关镇"].pk,
        "starts_on": start.isoformat(),
        "ends_on": (start - dt.timedelta(days=1)).isoformat(),
        "town_product": "桃花",
    }
    response = client.post(url, data)
    assert response.status_code == 400
    assert response.context["form"].errors["ends_on"] == ["结束日期不能早于开始日期。"]
    assert 'value="城关镇桃花节"' in response.content.decode()
    assert not Event.objects.filter(name="城关镇桃花节").exists()
    data["ends_on"] = (start + dt.timedelta(days=2)).isoformat()
    response = client.post(url, data)
    event = Event.objects.get(name="城关镇桃花节")
    assert response.status_code == 302
    assert response["Location"] == reverse("industry:event-detail", args=[event.pk])
    assert client.post(url, data).status_code == 302  # the same key again: the same event, not a second
    assert Event.objects.filter(name="城关镇桃花节").count() == 1
    # Another town's region is not offered and not accepted.
    data.update(idempotency_key=key(), name="石花镇某节", region=world.regions["石花镇"].pk)
    response = client.post(url, data)
    assert response.status_code == 400
    assert "region" in response.context["form"].errors


def test_edit_event_refuses_dates_that_leave_sales_out(world):
    client = client_for("shihua_admin")
    event = world.shihua_event
    url = reverse("industry:event-edit", args=[event.pk])
    data = {
        "kind": "festival",
        "name": event.name,
        "starts_on": (event.starts_on + dt.timedelta(days=1)).isoformat(),
        "ends_on": event.ends_on.isoformat(),
    }
    response = client.post(url, data)
    assert response.status_code == 400
    assert response.context["form"].errors["starts_on"] == [
        "已有销售记录的日期不在新的举办期间内，请先核对日期。"
    ]
    data.update(starts_on=event.starts_on.isoformat(), town_product="花菇", venue="石花镇政府广场")
    assert client.post(url, data).status_code == 302
    event.refresh_from_db()
    assert (event.town_product, event.venue) == ("花菇", "石花镇政府广场")


def test_detail_shows_totals_platforms_top_products_and_links(world):
    response = client_for("shihua_admin").get(reverse("industry:event-detail", args=[world.shihua_event.pk]))
    totals = response.context["totals"]
    assert (totals.total_fen, totals.offline_fen, totals.online_fen) == (231_050, 150_000, 81_050)
    assert totals.platforms == [("抖音", 65_050), ("淘宝", 16_000)]
    assert [(p.code, p.amount_fen) for p in response.context["top"]] == [
        ("GC-FUN-0001", 185_050),
        ("GC-PRO-0001", 46_000),
    ]
    keys = [link["key"] for link in response.context["links"]]
    assert keys[:2] == ["go-entry", "go-sales"]
    assert "go-exhibitors" in keys
    html = response.content.decode()
    assert "¥2,310.50" in html
    assert 'data-testid="grant"' in html


def test_exhibitors_search_add_and_remove(world):
    client = client_for("township_admin")
    event = world.chengguan_event
    url = reverse("industry:event-exhibitors", args=[event.pk])
    # Searching shows businesses the admin sees that do not exhibit yet: 民营社区's are another town's.
    response = client.get(url, {"q": "合作社"})
    assert [b.name for b in response.context["candidates"]] == []
    response = client.get(url, {"q": "农场"})
    farm = world.businesses["新华家庭农场"]
    assert [b.name for b in response.context["candidates"]] == ["新华家庭农场"]
    response = client.post(url, {"idempotency_key": key(), "business": farm.pk, "booth": "A01"})
    assert response.status_code == 400
    assert response.context["error"].message == "展位 A01 已有参展主体。"
    response = client.post(url, {"idempotency_key": key(), "business": farm.pk, "booth": "A03"})
    assert response.status_code == 302
    added = Exhibitor.objects.get(event=event, business=farm)
    assert added.booth == "A03"
    # Another town's business cannot be added even by id.
    other = world.businesses["石花香菇专业合作社"]
    response = client.post(url, {"idempotency_key": key(), "business": other.pk, "booth": "A09"})
    assert response.status_code == 400
    assert not Exhibitor.objects.filter(event=event, business=other).exists()
    # Removing: one without sales goes; one with sales stays with the Chinese message.
    client.post(reverse("industry:exhibitor-remove", args=[added.pk]))
    assert not Exhibitor.objects.filter(pk=added.pk).exists()
    response = client.post(
        reverse("industry:exhibitor-remove", args=[world.exhibitors["A01"].pk]), follow=True
    )
    assert "该参展主体已有销售记录，不能移除。" in response.content.decode()
    assert Exhibitor.objects.filter(pk=world.exhibitors["A01"].pk).exists()
    # Another town's exhibitor: 404.
    assert (
        client.post(reverse("industry:exhibitor-remove", args=[world.exhibitors["B02"].pk])).status_code
        == 404
    )


def test_grant_organiser_by_username(world):
    client = client_for("township_admin")
    event = world.chengguan_event
    url = reverse("industry:event-organiser-grant", args=[event.pk])
    response = client.post(url, {"user": "no-such-user"})
    assert response.status_code == 400
    assert response.context["grant_form"].errors["user"] == ["没有用户名为“no-such-user”的账号。"]
    assert client.post(url, {"user": "expo_organiser"}).status_code == 302
    assert EventUserObjectPermission.objects.filter(content_object=event, user=world.organiser).exists()
    # The organiser now runs both events it was granted, and sees nothing else.
    organiser = client_for("expo_organiser")
    assert organiser.get(reverse("industry:sale-create", args=[event.pk])).status_code == 200
    revoke = reverse("industry:event-organiser-revoke", args=[event.pk, world.organiser.pk])
    assert client.post(revoke).status_code == 302
    assert organiser.get(reverse("industry:sale-create", args=[event.pk])).status_code == 404
    # The other town's event cannot be granted by this admin.
    other = reverse("industry:event-organiser-grant", args=[world.shihua_event.pk])
    assert client.post(other, {"user": "expo_organiser"}).status_code == 404


def test_organiser_runs_only_its_event(world):
    client = client_for("expo_organiser")
    response = client.get(reverse("industry:events"))
    assert [e.name for e in response.context["page"]] == ["石花镇香菇节"]
    assert client.get(reverse("industry:sale-create", args=[world.shihua_event.pk])).status_code == 200
    assert client.get(reverse("industry:event-edit", args=[world.shihua_event.pk])).status_code == 200
    assert client.get(reverse("industry:event-detail", args=[world.chengguan_event.pk])).status_code == 404
    assert client.get(reverse("industry:sale-create", args=[world.chengguan_event.pk])).status_code == 404
    # An organiser may not grant others.
    detail = client.get(reverse("industry:event-detail", args=[world.shihua_event.pk]))
    assert detail.context["can_grant"] is False


def test_products_list_filters_excel_and_create(world):
    client = client_for("township_admin")
    url = reverse("industry:products")
    response = client.get(url)
    assert [p.code for p in response.context["page"]] == [
        "GC-FUN-0001",
        "GC-PRO-0001",
        "GC-TEA-0001",
        "GC-TEA-0002",
    ]
    # Sales shown are those at events the reader sees: 城关镇's admin sees only its own event's.
    totals = {p.code: p.total_fen for p in response.context["page"]}
    assert totals == {"GC-FUN-0001": 0, "GC-PRO-0001": 0, "GC-TEA-0001": 80_000, "GC-TEA-0002": 0}
    assert [p.code for p in client.get(url, {"category": "tea"}).context["page"]] == [
        "GC-TEA-0001",
        "GC-TEA-0002",
    ]
    assert [p.code for p in client.get(url, {"chain": world.chains["食用菌"].pk}).context["page"]] == [
        "GC-FUN-0001"
    ]
    assert [p.code for p in client.get(url, {"township": world.regions["石花镇"].pk}).context["page"]] == [
        "GC-FUN-0001",
        "GC-PRO-0001",
    ]
    assert [p.code for p in client.get(url, {"q": "毛尖"}).context["page"]] == ["GC-TEA-0001"]
    export = client.get(url, {"category": "tea", "export": "xlsx"})
    rows = list(
        load_workbook(io.BytesIO(b"".join(export.streaming_content))).active.iter_rows(values_only=True)
    )
    assert [r[0] for r in rows[1:]] == ["GC-TEA-0001", "GC-TEA-0002"]

    create = reverse("industry:product-create")
    page = client.get(create, {"category": "tea"})
    assert page.context["suggestions"]["tea"] == "GC-TEA-0003"
    response = client.post(
        create,
        {
            "idempotency_key": key(),
            "category": "tea",
            "name": "",
            "code": "",
            "unit": "盒",
            "origin_region": world.regions["新华村"].pk,
            "chain": world.chains["茶叶"].pk,
            "producer": "93420625MA4XH00014",
        },
    )
    assert response.status_code == 400
    assert response.context["form"].errors["name"] == ["请填写此项。"]
    response = client.post(
        create,
        {
            "idempotency_key": key(),
            "category": "tea",
            "name": "新华红茶",
            "code": "",
            "unit": "盒",
            "origin_region": world.regions["新华村"].pk,
            "chain": world.chains["茶叶"].pk,
            "producer": "93420625MA4XH00014",
        },
    )
    product = Product.objects.get(name="新华红茶")
    assert response.status_code == 302
    assert (product.code, product.producer, product.chain) == (
        "GC-TEA-0003",
        world.businesses["新华茶叶专业合作社"],
        world.chains["茶叶"],
    )
    # A taken code is refused next to the field.
    response = client.post(
        create,
        {"idempotency_key": key(), "category": "tea", "name": "重复", "code": "gc-tea-0001", "unit": "斤"},
    )
    assert response.context["form"].errors["code"] == ["产品编码 GC-TEA-0001 已被使用。"]


def test_product_detail_and_edit(world):
    product = world.products["GC-FUN-0001"]
    county = client_for("county_admin")
    response = county.get(reverse("industry:product-detail", args=[product.pk]))
    assert [(row.event.name, row.amount_fen) for row in response.context["by_event"]] == [
        ("石花镇香菇节", 185_050)
    ]
    assert response.context["total_fen"] == 185_050
    # The code of a product with sales does not change.
    response = county.post(
        reverse("industry:product-edit", args=[product.pk]),
        {"category": "fungi", "name": "石花花菇", "code": "GC-FUN-0009", "unit": "斤"},
    )
    assert response.context["form"].errors["code"] == ["该产品已有销售记录，编码不能再改。"]
    response = county.post(
        reverse("industry:product-edit", args=[product.pk]),
        {"category": "fungi", "name": "石花花菇", "code": "GC-FUN-0001", "unit": "斤"},
    )
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.name == "石花花菇"
    # A village secretary reads the catalogue but does not keep it.
    secretary = client_for("village_secretary")
    assert secretary.get(reverse("industry:products")).status_code == 200
    assert secretary.get(reverse("industry:product-create")).status_code == 404
    assert secretary.get(reverse("industry:product-detail", args=[product.pk])).context["by_event"] == []

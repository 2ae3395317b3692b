"""The collective economy pages: the year's table (filters, sort, pages, Excel), the township summary,
a village over the years, the entry form (errors next to the field, what was typed kept), thresholds
(county admin only), and scope (another village or township: 404)."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from industry.models import CollectiveIncome, CollectiveThreshold
from tests.industry.factories_places import PASSWORD, places_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(demo_county):
    return places_world(demo_county)


def client_for(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


def names(response) -> list[str]:
    return [row[0][1].text for row in response.context["table"]]


def test_table_for_a_year_with_filters_and_sort(world):
    client = client_for("county_admin")
    page = client.get("/industry/economy/?year=2025")
    assert page.status_code == 200
    assert names(page) == ["新华村", "东风村", "红星社区", "民营社区", "石花村", "堰河村", "花圃村"]
    first = dict((column.key or column.label, cell.text) for column, cell in page.context["table"][0])
    assert first["total"] == "9.00"
    assert first["last_total"] == "8.00"
    assert first["change"] == "+1.00"
    assert first["change_pct"] == "+12.5％"
    assert first["status"] == "薄弱村"
    assert "低于 10.00 万元为薄弱村，未设强村标准（县里尚未设定，按默认标准）" in page.content.decode()
    assert page.context["overall"].weak == 3
    weak = client.get(f"/industry/economy/?year=2025&weak=on&township={world.r['城关镇'].pk}")
    assert names(weak) == ["新华村", "红星社区"]
    by_total = client.get("/industry/economy/?year=2025&sort=-total")
    assert names(by_total)[:2] == ["东风村", "石花村"]
    assert 'aria-sort="descending"' in by_total.content.decode()
    tourism = client.get("/industry/economy/?year=2025&source=tourism")
    assert names(tourism) == ["东风村"]


def test_excel_export_in_yuan(world):
    response = client_for("county_admin").get(
        f"/industry/economy/?year=2025&township={world.r['城关镇'].pk}&export=xlsx"
    )
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("乡镇", "村（社区）", "合计（元）")
    assert rows[1][:4] == ("城关镇", "新华村", 90000.5, 60000)
    assert rows[1][-4:] == (80000, 10000.5, 12.5, "薄弱村")
    assert len(rows) == 4


def test_township_summary_page(world):
    page = client_for("county_admin").get("/industry/economy/townships/?year=2025")
    assert page.status_code == 200
    cells = {item["row"].region.name: item for item in page.context["rows"]}
    assert (cells["城关镇"]["total"], cells["城关镇"]["average"], cells["城关镇"]["median"]) == (
        "29.00",
        "9.67",
        "9.00",
    )
    assert page.context["overall_cells"] == {"total": "38.50", "average": "9.63", "median": "9.25"}
    export = client_for("county_admin").get("/industry/economy/townships/?year=2025&export=xlsx")
    rows = list(
        load_workbook(io.BytesIO(b"".join(export.streaming_content))).active.iter_rows(values_only=True)
    )
    assert rows[-1] == ("合计", 7, 4, 3, 0, 385000.5, 96250.13, 92500.25)


def test_village_page_and_scope(world):
    r = world.r
    secretary = client_for("village_secretary")
    page = secretary.get(f"/industry/economy/villages/{r['新华村'].pk}/")
    assert page.status_code == 200
    assert [row["year"].year for row in page.context["rows"]][:3] == [2025, 2024, 2023]
    assert page.context["rows"][0]["total"] == "¥90,000.50"
    assert page.context["rows"][0]["change"] == "+¥10,000.50"
    assert page.context["can_record"] is True
    assert secretary.get(f"/industry/economy/villages/{r['东风村'].pk}/").status_code == 404
    assert (
        client_for("township_admin").get(f"/industry/economy/villages/{r['石花村'].pk}/").status_code == 404
    )
    assert client_for("grid_leader").get("/industry/economy/").status_code == 404
    assert names(secretary.get("/industry/economy/?year=2025")) == ["新华村"]


def test_entry_form_saves_and_keeps_what_was_typed(world):
    village = world.r["东风村"]
    client = client_for("township_admin")
    form = client.get(f"/industry/economy/villages/{village.pk}/edit/?year=2025")
    assert form.status_code == 200
    assert form.context["form"].initial["amount_land_rent"] == "150000.00"
    key = form.context["form"].initial["idempotency_key"]
    bad = client.post(
        f"/industry/economy/villages/{village.pk}/edit/",
        {"idempotency_key": key, "year": "2025", "amount_land_rent": "150000", "amount_tourism": "12.345"},
    )
    assert bad.status_code == 200
    assert bad.context["form"].errors["amount_tourism"] == ["金额应为不小于 0 的数字（元），最多两位小数。"]
    assert 'value="12.345"' in bad.content.decode()
    done = client.post(
        f"/industry/economy/villages/{village.pk}/edit/",
        {"idempotency_key": key, "year": "2025", "amount_land_rent": "150000", "amount_tourism": "12.34"},
    )
    assert done.status_code == 302
    stored = dict(
        CollectiveIncome.objects.filter(village=village, year=2025).values_list("source", "amount_fen")
    )
    assert stored == {"land_rent": 15_000_000, "tourism": 1234}
    # A township admin cannot record for another township's village.
    assert client.get(f"/industry/economy/villages/{world.r['石花村'].pk}/edit/").status_code == 404


def test_thresholds_page_county_admin_only(world):
    client = client_for("county_admin")
    page = client.get("/industry/economy/thresholds/")
    key = page.context["form"].initial["idempotency_key"]
    bad = client.post(
        "/industry/economy/thresholds/",
        {"idempotency_key": key, "year": "2025", "weak_below_yuan": "100000", "strong_from_yuan": "50000"},
    )
    assert bad.context["form"].errors["strong_from_yuan"] == ["强村标准须高于薄弱村标准。"]
    client.post(
        "/industry/economy/thresholds/",
        {"idempotency_key": key, "year": "2025", "weak_below_yuan": "95000", "strong_from_yuan": "150000"},
    )
    assert CollectiveThreshold.objects.get(year=2025).strong_from_fen == 15_000_000
    table = client.get("/industry/economy/?year=2025")
    assert "低于 9.50 万元为薄弱村，达到 15.00 万元为强村" in table.content.decode()
    assert client_for("township_admin").get("/industry/economy/thresholds/").status_code == 404

"""Tourism figures: the month grid (exactly once, audited, every bad cell refused at once), who may record
for a village, a town or a brand, who sees which records, the year's list with its filters, totals and
Excel file, the pages, and the API."""

from __future__ import annotations

import datetime as dt
import io
import uuid

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from common.errors import DomainError, NotFound
from governance.models import AuditEvent, Region, User
from governance.roles import Role
from industry.models import JointCommunity, JointKind, TourismRecord
from industry.selectors import tourism as selectors
from industry.services import tourism as services
from tests.industry.factories import user_ensure

pytestmark = pytest.mark.django_db


def key() -> str:
    return uuid.uuid4().hex


@pytest.fixture
def world(demo_county) -> dict:
    r = demo_county
    shihua = user_ensure("shihua_admin", "石花管理员", Role.TOWNSHIP_ADMIN, r["石花镇"])
    xinhua_brand = JointCommunity.objects.create(
        kind=JointKind.VILLAGE_VILLAGE, name="新华联建共同体", brand="新华茶旅", lead_region=r["新华村"]
    )
    minying_brand = JointCommunity.objects.create(
        kind=JointKind.VILLAGE_ENTERPRISE, name="民营村企联建", brand="", lead_region=r["民营社区"]
    )
    return {
        "r": r,
        "county": User.objects.get(username="county_admin"),
        "chengguan": User.objects.get(username="township_admin"),
        "secretary": User.objects.get(username="village_secretary"),
        "shihua": shihua,
        "xinhua_brand": xinhua_brand,
        "minying_brand": minying_brand,
    }


def subject(*, region: Region | None = None, community: JointCommunity | None = None):
    return services.tourism_subject(region=region, community=community)


def audits(record: TourismRecord) -> list[tuple[str, dict]]:
    rows = AuditEvent.objects.filter(object_type="industry.tourismrecord", object_id=str(record.pk))
    return [
        (e.action, {k: v for k, v in e.changes.items() if k != "idempotency_key"})
        for e in rows.order_by("pk")
    ]


# --- the month grid -------------------------------------------------------------------------------------


def test_year_grid_saves_audits_and_happens_once(world):
    xinhua = subject(region=world["r"]["新华村"])
    grid_key = key()
    rows = {1: ("1,200", "35000"), 2: ("800", "¥21,000.50"), 3: ("", "")}
    saved = services.tourism_year_save(
        actor=world["secretary"], idempotency_key=grid_key, subject=xinhua, year=2024, rows=rows
    )
    assert [(r.month, r.visits, r.income_fen) for r in saved] == [
        (dt.date(2024, 1, 1), 1200, 3_500_000),
        (dt.date(2024, 2, 1), 800, 2_100_050),
    ]
    assert audits(saved[0]) == [("create", {"visits": [None, 1200], "income_fen": [None, 3_500_000]})]
    event = AuditEvent.objects.get(object_type="industry.tourismrecord", object_id=str(saved[0].pk))
    assert event.region_path == world["r"]["新华村"].path
    # A double submit saves once.
    again = services.tourism_year_save(
        actor=world["secretary"], idempotency_key=grid_key, subject=xinhua, year=2024, rows=rows
    )
    assert [r.pk for r in again] == [r.pk for r in saved]
    assert AuditEvent.objects.filter(object_type="industry.tourismrecord").count() == 2
    # A change writes only the month that changed; a blank row keeps what is there.
    services.tourism_year_save(
        actor=world["chengguan"],
        idempotency_key=key(),
        subject=xinhua,
        year=2024,
        rows={1: ("1200", "35000.00"), 2: ("900", "21000.50")},
    )
    february = TourismRecord.objects.get(region=world["r"]["新华村"], month=dt.date(2024, 2, 1))
    assert (february.visits, february.recorded_by_id) == (900, world["chengguan"].pk)
    assert audits(february)[-1] == ("update", {"visits": [800, 900]})
    assert len(audits(saved[0])) == 1
    services.tourism_year_save(
        actor=world["secretary"], idempotency_key=key(), subject=xinhua, year=2024, rows={}
    )
    assert TourismRecord.objects.filter(region=world["r"]["新华村"]).count() == 2


def test_grid_refuses_every_bad_cell_at_once_and_writes_nothing(world):
    this_year = timezone.localdate().year
    with pytest.raises(DomainError) as caught:
        services.tourism_year_save(
            actor=world["county"],
            idempotency_key=key(),
            subject=subject(region=world["r"]["新华村"]),
            year=2024,
            rows={1: ("abc", "100"), 2: ("100", ""), 3: ("-5", "1.005"), 4: ("12", "300")},
        )
    assert caught.value.code == "bad_rows"
    assert caught.value.extra["errors"] == {
        "visits_1": "游客接待量应为不小于 0 的整数（人次）。",
        "income_2": "请填写旅游综合收入。",
        "visits_3": "游客接待量应为不小于 0 的整数（人次）。",
        "income_3": "旅游综合收入应为不小于 0 的金额（元），最多两位小数，例如 350000.50。",
    }
    assert str(caught.value.message) == "有 4 处填写有误，请按提示改正后再保存。"
    assert not TourismRecord.objects.exists()
    with pytest.raises(DomainError) as future:
        services.tourism_year_save(
            actor=world["county"],
            idempotency_key=key(),
            subject=subject(region=world["r"]["新华村"]),
            year=this_year + 1,
            rows={1: ("1", "1")},
        )
    assert future.value.code == "bad_year"
    next_month = (timezone.localdate().replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    with pytest.raises(DomainError) as ahead:
        services.tourism_month_set(
            actor=world["county"],
            idempotency_key=key(),
            subject=subject(region=world["r"]["新华村"]),
            month=next_month,
            visits=1,
            income_fen=100,
        )
    assert (ahead.value.code, ahead.value.field) == ("future_month", "month")


def test_who_may_record_for_which_subject(world):
    r = world["r"]
    xinhua, minying = subject(region=r["新华村"]), subject(region=r["民营社区"])
    brand, other_brand = subject(community=world["xinhua_brand"]), subject(community=world["minying_brand"])

    def save(user, what):
        return services.tourism_month_set(
            actor=user, idempotency_key=key(), subject=what, month="2024-05", visits="10", income_yuan="100"
        )

    assert save(world["secretary"], xinhua).visits == 10
    assert save(world["chengguan"], subject(region=r["城关镇"])).income_fen == 10_000
    assert save(world["chengguan"], brand).community_id == world["xinhua_brand"].pk
    assert save(world["county"], other_brand).community_id == world["minying_brand"].pk
    for user, what in (
        (world["secretary"], minying),
        (world["secretary"], brand),  # a brand is its joint community's: township or county admins
        (world["chengguan"], minying),
        (world["chengguan"], other_brand),
        (world["shihua"], xinhua),
        (User.objects.get(username="grid_leader"), xinhua),
    ):
        with pytest.raises(NotFound):
            save(user, what)
    with pytest.raises(DomainError) as both:
        services.tourism_subject(region=r["新华村"], community=world["xinhua_brand"])
    assert both.value.code == "subject_required"
    with pytest.raises(DomainError) as county:
        services.tourism_subject(region=r["谷城县"])
    assert county.value.code == "bad_subject"


def _records(world) -> dict[str, TourismRecord]:
    r, month = world["r"], dt.date(2024, 3, 1)
    return {
        "新华村": TourismRecord.objects.create(
            region=r["新华村"], month=month, visits=100, income_fen=10_000
        ),
        "城关镇": TourismRecord.objects.create(
            region=r["城关镇"], month=month, visits=1_000, income_fen=90_000
        ),
        "民营社区": TourismRecord.objects.create(
            region=r["民营社区"], month=month, visits=200, income_fen=20_000
        ),
        "新华茶旅": TourismRecord.objects.create(
            community=world["xinhua_brand"], month=month, visits=5_000, income_fen=800_000
        ),
        "新华茶旅4": TourismRecord.objects.create(
            community=world["xinhua_brand"], month=dt.date(2024, 4, 1), visits=4_000, income_fen=700_000
        ),
        "民营": TourismRecord.objects.create(
            community=world["minying_brand"], month=month, visits=300, income_fen=30_000
        ),
    }


def test_who_sees_which_records(world):
    made = _records(world)

    def seen(user) -> set[str]:
        ids = set(selectors.tourism_records_visible(user).values_list("pk", flat=True))
        return {name for name, record in made.items() if record.pk in ids}

    assert seen(world["county"]) == set(made)
    assert seen(world["chengguan"]) == {"新华村", "城关镇", "新华茶旅", "新华茶旅4"}
    assert seen(world["secretary"]) == {"新华村", "新华茶旅", "新华茶旅4"}
    assert seen(world["shihua"]) == {"民营社区", "民营"}
    assert seen(User.objects.get(username="grid_leader")) == set()


def test_year_list_totals_and_filters(world):
    _records(world)
    year = selectors.tourism_year(world["county"], year=2024)
    assert [(r.name, r.kind, r.town, r.months, r.visits, r.income_fen) for r in year.rows] == [
        ("新华茶旅", "community", "城关镇", 2, 9_000, 1_500_000),
        ("城关镇", "region", "城关镇", 1, 1_000, 90_000),
        ("民营村企联建", "community", "石花镇", 1, 300, 30_000),
        ("民营社区", "region", "石花镇", 1, 200, 20_000),
        ("新华村", "region", "城关镇", 1, 100, 10_000),
    ]
    assert (year.visits, year.income_fen) == (10_600, 1_650_000)
    assert [(m.month.month, m.visits) for m in year.months if m.visits] == [(3, 6_600), (4, 4_000)]
    brands = selectors.tourism_year(world["county"], year=2024, kind="community", sort="income")
    assert [r.name for r in brands.rows] == ["新华茶旅", "民营村企联建"]
    shihua = selectors.tourism_year(
        world["county"], year=2024, township_id=world["r"]["石花镇"].pk, sort="name"
    )
    assert [r.name for r in shihua.rows] == ["民营村企联建", "民营社区"]
    assert selectors.tourism_year(world["chengguan"], year=2024).visits == 10_100


# --- pages ------------------------------------------------------------------------------------------------


def client_for(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password="xiangzhi-demo")
    return client


def test_list_page_and_its_excel(world):
    _records(world)
    client = client_for("county_admin")
    page = client.get("/industry/tourism/", {"year": 2024})
    assert page.status_code == 200
    html = page.content.decode()
    assert "新华茶旅" in html
    assert 'data-testid="total-visits">10,600<' in html
    assert 'id="chart-tourism"' in html
    filtered = client.get(
        "/industry/tourism/", {"year": 2024, "kind": "region", "town": world["r"]["石花镇"].pk}
    )
    assert [row["row"].name for row in filtered.context["rows"]] == ["民营社区"]
    response = client.get("/industry/tourism/", {"year": 2024, "export": "xlsx"})
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0] == (
        "村镇 / 联建品牌",
        "类别",
        "所在乡镇",
        "已填报月数",
        "游客接待量（人次）",
        "旅游综合收入（元）",
    )
    assert rows[1] == ("新华茶旅", "联建品牌", "城关镇", 2, 9000, 15000)
    assert rows[-1][0] == "合计"
    assert rows[-1][4:] == (10_600, 16500)
    assert client_for("grid_leader").get("/industry/tourism/").status_code == 404


def test_edit_page_keeps_what_was_typed_and_saves(world):
    client = client_for("village_secretary")
    village = world["r"]["新华村"]
    url = f"/industry/tourism/region/{village.pk}/edit/"
    form = client.get(url, {"year": 2024})
    assert form.status_code == 200
    grid_key = form.context["idempotency_key"]
    bad = client.post(
        url,
        {"idempotency_key": grid_key, "year": 2024, "visits_1": "1200", "income_1": "3.5万", "visits_2": "9"},
    )
    assert bad.status_code == 400
    html = bad.content.decode()
    assert 'value="3.5万"' in html
    assert 'data-testid="error-income_1"' in html
    assert 'data-testid="error-income_2">请填写旅游综合收入。<' in html
    assert not TourismRecord.objects.exists()
    good = client.post(
        url,
        {"idempotency_key": grid_key, "year": 2024, "visits_1": "1200", "income_1": "35000", "visits_2": ""},
    )
    assert good.status_code == 302
    assert good["Location"] == f"/industry/tourism/region/{village.pk}/?year=2024"
    record = TourismRecord.objects.get()
    assert (record.month, record.visits, record.income_fen) == (dt.date(2024, 1, 1), 1200, 3_500_000)
    view = client.get(good["Location"])
    assert 'data-testid="year-visits">1,200' in view.content.decode()
    assert client.get(f"/industry/tourism/region/{world['r']['民营社区'].pk}/edit/").status_code == 404
    assert client.get(f"/industry/tourism/brand/{world['xinhua_brand'].pk}/edit/").status_code == 404
    assert client.get(f"/industry/tourism/brand/{world['xinhua_brand'].pk}/").status_code == 200


def test_brand_page_year_on_year_and_picker(world):
    r = world["r"]
    TourismRecord.objects.create(
        community=world["xinhua_brand"], month=dt.date(2023, 5, 1), visits=800, income_fen=1
    )
    TourismRecord.objects.create(
        community=world["xinhua_brand"], month=dt.date(2024, 5, 1), visits=1_000, income_fen=2
    )
    client = client_for("township_admin")
    page = client.get(f"/industry/tourism/brand/{world['xinhua_brand'].pk}/", {"year": 2024})
    assert page.context["data"].visits_change_percent == 25.0
    assert "同比 25.0％" in page.content.decode()
    picker = client.get("/industry/tourism/new/")
    values = {value for items in picker.context["groups"].values() for value, _label in items}
    assert f"region:{r['新华村'].pk}" in values
    assert f"region:{r['民营社区'].pk}" not in values
    assert picker.context["communities"] == [(f"community:{world['xinhua_brand'].pk}", "新华茶旅")]
    chosen = client.post(
        "/industry/tourism/new/", {"subject": f"community:{world['xinhua_brand'].pk}", "year": 2024}
    )
    assert chosen["Location"] == f"/industry/tourism/brand/{world['xinhua_brand'].pk}/edit/?year=2024"
    refused = client.post("/industry/tourism/new/", {"subject": f"region:{r['民营社区'].pk}", "year": 2024})
    assert refused.status_code == 400


# --- the API ----------------------------------------------------------------------------------------------


def api_for(user: User) -> APIClient:
    client = APIClient()
    token, _created = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def test_api_upsert_replay_put_and_scope(world):
    api = api_for(world["chengguan"])
    body = {"community": world["xinhua_brand"].pk, "month": "2024-06", "visits": 5000, "income_fen": 123_456}
    first = api.post("/api/v1/industry/tourism-records/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 200, first.json()
    made = first.json()
    assert (made["month"], made["brand"], made["visits"], made["income_fen"]) == (
        "2024-06",
        "新华茶旅",
        5000,
        123_456,
    )
    assert made["scope_region"] == world["r"]["新华村"].pk
    again = api.post("/api/v1/industry/tourism-records/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert again.json()["id"] == made["id"]
    reused = api.post(
        "/api/v1/industry/tourism-records/", body | {"visits": 1}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert reused.status_code == 409
    put = api.put(
        f"/api/v1/industry/tourism-records/{made['id']}/",
        {"visits": 5100, "income_fen": 123_456, "note": "补录", "idempotency_key": "k-2"},
        format="json",
    )
    assert (put.status_code, put.json()["visits"], put.json()["note"]) == (200, 5100, "补录")
    assert TourismRecord.objects.count() == 1
    listed = api.get(
        "/api/v1/industry/tourism-records/", {"year": 2024, "community": world["xinhua_brand"].pk}
    )
    assert [row["id"] for row in listed.json()["results"]] == [made["id"]]
    # Out of scope answers like a missing one.
    shihua = api_for(world["shihua"])
    missing = shihua.get("/api/v1/industry/tourism-records/2147483000/")
    outside = shihua.get(f"/api/v1/industry/tourism-records/{made['id']}/")
    assert (outside.status_code, outside.json()) == (404, missing.json())
    put_outside = shihua.put(
        f"/api/v1/industry/tourism-records/{made['id']}/",
        {"visits": 1, "income_fen": 1, "idempotency_key": "k-3"},
        format="json",
    )
    assert put_outside.status_code == 404
    assert shihua.get("/api/v1/industry/tourism-records/").json()["results"] == []
    posted_outside = shihua.post(
        "/api/v1/industry/tourism-records/", body | {"idempotency_key": "k-4"}, format="json"
    )
    posted_missing = shihua.post(
        "/api/v1/industry/tourism-records/",
        body | {"community": 2147483000, "idempotency_key": "k-5"},
        format="json",
    )
    assert (posted_outside.status_code, posted_outside.json()) == (404, posted_missing.json())
    # A reader who may not record gets 404 for a write too (the secretary reads the brand's records).
    secretary = api_for(world["secretary"])
    assert secretary.get(f"/api/v1/industry/tourism-records/{made['id']}/").status_code == 200
    assert (
        secretary.put(
            f"/api/v1/industry/tourism-records/{made['id']}/",
            {"visits": 1, "income_fen": 1, "idempotency_key": "k-6"},
            format="json",
        ).status_code
        == 404
    )
    bad = api.post(
        "/api/v1/industry/tourism-records/",
        {
            "region": world["r"]["新华村"].pk,
            "month": "2024-13",
            "visits": 1,
            "income_fen": 1,
            "idempotency_key": "k-7",
        },
        format="json",
    )
    assert (bad.status_code, bad.json()["code"]) == (400, "bad_month")

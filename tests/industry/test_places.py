"""Places: designations (county admin adds and removes; a kind on the wrong level and a development type
that is not one of the five are refused with a Chinese message), the overview's counts per kind and theme,
the key figures of the regions holding one (exact, one query), the fragment others include, the pages
(filters, sort, Excel) and the API."""

from __future__ import annotations

import io

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from common.errors import DomainError, NotFound
from governance.models import AuditEvent, User
from industry.models import DesignationKind, RegionDesignation
from industry.selectors import places as selectors
from industry.services import places as services
from tests.industry.factories_places import PASSWORD, key, places_world, user

pytestmark = pytest.mark.django_db

TYPES_MESSAGE = "村庄发展类型只能是：红色美丽村、绿色发展村、乡风文明村、和谐善治村、生态宜居村。"


@pytest.fixture
def world(demo_county):
    made = places_world(demo_county)
    admin = made.admin
    r = made.r
    for region, kind, theme in (
        ("城关镇", DesignationKind.FEATURED_TOWN, "电商小镇"),
        ("城关镇", DesignationKind.FEATURED_TOWN, "茶旅小镇"),
        ("石花镇", DesignationKind.FEATURED_TOWN, "茶旅小镇"),
        ("新华村", DesignationKind.DEVELOPMENT_TYPE, "红色美丽村"),
        ("东风村", DesignationKind.DEVELOPMENT_TYPE, "red_beautiful"),
        ("石花村", DesignationKind.DEVELOPMENT_TYPE, "liveable"),
        ("新华村", DesignationKind.FEATURED_VILLAGE, "茶叶特色村"),
    ):
        services.designation_add(actor=admin, idempotency_key=key(), region=r[region], kind=kind, theme=theme)
    return made


def client_for(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


def api_for(username: str) -> APIClient:
    client = APIClient()
    token, _created = Token.objects.get_or_create(user=User.objects.get(username=username))
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def test_add_rules(world):
    r, admin = world.r, world.admin
    stored = RegionDesignation.objects.get(region=r["新华村"], kind=DesignationKind.DEVELOPMENT_TYPE)
    assert stored.theme == "red_beautiful"  # the Chinese name is stored as its value
    cases = [
        (
            {"region": r["城关镇"], "kind": "development_type", "theme": "红色村"},
            "wrong_level",
            "特色村和村庄发展类型须命名在村（社区）上。",
        ),
        (
            {"region": r["新华村"], "kind": "development_type", "theme": "红色村"},
            "bad_development_type",
            TYPES_MESSAGE,
        ),
        (
            {"region": r["新华村"], "kind": "featured_town", "theme": "茶旅小镇"},
            "wrong_level",
            "特色乡镇须命名在乡镇上。",
        ),
        (
            {"region": r["城关镇"], "kind": "featured_town", "theme": " "},
            "theme_required",
            "请填写名称或主题，例如 茶旅小镇。",
        ),
        (
            {"region": r["城关镇"], "kind": "featured_town", "theme": "电商小镇"},
            "already_designated",
            "该区域已有这个命名。",
        ),
        ({"region": r["城关镇"], "kind": "nonsense", "theme": "x"}, "bad_kind", "请选择命名类别。"),
    ]
    for kwargs, code, message in cases:
        with pytest.raises(DomainError) as error:
            services.designation_add(actor=admin, idempotency_key=key(), **kwargs)
        assert (error.value.code, str(error.value.message)) == (code, message), kwargs
    with pytest.raises(NotFound):
        services.designation_add(
            actor=user("township_admin"),
            idempotency_key=key(),
            region=r["城关镇"],
            kind="featured_town",
            theme="蜜旅小镇",
        )
    assert RegionDesignation.objects.count() == 7


def test_add_exactly_once_and_remove_with_audit(world):
    r, admin = world.r, world.admin
    first = services.designation_add(
        actor=admin,
        idempotency_key="d-1",
        region=r["石花镇"],
        kind="featured_town",
        theme="鲟游小镇",
        designated_year=2021,
    )
    again = services.designation_add(
        actor=admin,
        idempotency_key="d-1",
        region=r["石花镇"],
        kind="featured_town",
        theme="鲟游小镇",
        designated_year=2021,
    )
    assert first.pk == again.pk
    with pytest.raises(NotFound):
        services.designation_remove(actor=user("township_admin"), designation=first)
    services.designation_remove(actor=admin, designation=first)
    assert not RegionDesignation.objects.filter(pk=first.pk).exists()
    actions = list(
        AuditEvent.objects.filter(object_type="industry.regiondesignation", object_id=str(first.pk))
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["create", "delete"]


def test_overview_counts(world):
    kinds = {k.kind: k for k in selectors.overview(user("county_admin"))}
    towns = kinds[DesignationKind.FEATURED_TOWN]
    assert (towns.designations, towns.regions) == (3, 2)
    assert [(t.theme, t.regions) for t in towns.themes] == [("茶旅小镇", 2), ("电商小镇", 1)]
    types = kinds[DesignationKind.DEVELOPMENT_TYPE]
    assert [(t.label, t.regions) for t in types.themes] == [
        ("红色美丽村", 2),
        ("绿色发展村", 0),
        ("乡风文明村", 0),
        ("和谐善治村", 0),
        ("生态宜居村", 1),
    ]
    township = {k.kind: k for k in selectors.overview(user("township_admin"))}
    assert township[DesignationKind.FEATURED_TOWN].designations == 2
    assert [(t.theme, t.regions) for t in township[DesignationKind.DEVELOPMENT_TYPE].themes][:1] == [
        ("red_beautiful", 2)
    ]
    assert sum(k.designations for k in selectors.overview(user("grid_leader"))) == 0


def test_key_figures_of_villages_and_towns(world):
    villages = {
        d.region.name: d
        for d in selectors.designations_list(
            user("county_admin"),
            kind=DesignationKind.DEVELOPMENT_TYPE,
            theme="red_beautiful",
            income_year=2025,
        )
    }
    xinhua = villages["新华村"]
    # 2 of 3 households in the register; residents 在籍 + 外出务工 (one moved out is not counted).
    assert (xinhua.households, xinhua.residents, xinhua.income_last_fen, xinhua.participations) == (
        2,
        2,
        9_000_050,
        1,
    )
    dongfeng = villages["东风村"]
    assert (dongfeng.households, dongfeng.residents, dongfeng.income_last_fen, dongfeng.participations) == (
        0,
        0,
        20_000_000,
        0,
    )
    towns = {
        (d.region.name, d.theme): d
        for d in selectors.designations_list(user("county_admin"), kind=DesignationKind.FEATURED_TOWN)
    }
    chengguan = towns[("城关镇", "茶旅小镇")]
    assert (chengguan.villages, chengguan.businesses, chengguan.events) == (3, 1, 1)
    shihua = towns[("石花镇", "茶旅小镇")]
    assert (shihua.villages, shihua.businesses, shihua.events) == (2, 1, 0)
    with CaptureQueriesContext(connection) as captured:
        list(selectors.designations_list(user("county_admin"), kind=DesignationKind.DEVELOPMENT_TYPE))
    with CaptureQueriesContext(connection) as captured_one:
        list(
            selectors.designations_list(
                user("county_admin"), kind=DesignationKind.DEVELOPMENT_TYPE, theme="liveable"
            )
        )
    assert len(captured) == len(captured_one)


def test_fragment_renders_the_designations(world):
    html = render_to_string(
        "industry/places/_region_designations.html",
        {"designations": selectors.designations_for_region(world.r["新华村"])},
    )
    assert "红色美丽村" in html
    assert "茶叶特色村" in html
    assert render_to_string("industry/places/_region_designations.html", {"designations": []}).strip() == ""


def test_pages(world):
    client = client_for("county_admin")
    overview = client.get("/industry/places/")
    assert overview.status_code == 200
    assert "/industry/places/featured_town/%E8%8C%B6%E6%97%85%E5%B0%8F%E9%95%87/" in overview.content.decode()
    theme = client.get("/industry/places/featured_town/茶旅小镇/")
    assert [row[0][1].text for row in theme.context["table"]] == ["城关镇", "石花镇"]
    by_villages = client.get("/industry/places/featured_town/?sort=-villages")
    assert by_villages.context["table"][0][0][1].text == "城关镇"
    red = client.get("/industry/places/development_type/red_beautiful/")
    assert [row[0][1].text for row in red.context["table"]] == ["新华村", "东风村"]
    assert client.get("/industry/places/development_type/红色村/").status_code == 404
    assert client.get("/industry/places/nonsense/").status_code == 404
    export = client.get("/industry/places/development_type/red_beautiful/?export=xlsx")
    rows = list(
        load_workbook(io.BytesIO(b"".join(export.streaming_content))).active.iter_rows(values_only=True)
    )
    assert rows[1][:5] == ("新华村", "城关镇", "红色美丽村", None, 2)
    # The county admin adds one through the form; a bad development type stays in the form with its message.
    form = client.get("/industry/places/new/?kind=development_type")
    key_ = form.context["form"].initial["idempotency_key"]
    bad = client.post(
        "/industry/places/new/",
        {
            "idempotency_key": key_,
            "kind": "development_type",
            "region": world.r["红星社区"].pk,
            "theme": "红色村",
        },
    )
    assert bad.context["form"].errors["theme"] == [TYPES_MESSAGE]
    assert 'value="红色村"' in bad.content.decode()
    good = client.post(
        "/industry/places/new/",
        {
            "idempotency_key": key_,
            "kind": "development_type",
            "region": world.r["红星社区"].pk,
            "theme": "乡风文明村",
        },
    )
    assert good.status_code == 302
    assert good["Location"] == "/industry/places/development_type/civilised/"
    designation = RegionDesignation.objects.get(region=world.r["红星社区"])
    assert client.post(f"/industry/places/designations/{designation.pk}/remove/").status_code == 302
    assert not RegionDesignation.objects.filter(pk=designation.pk).exists()
    # Others: the township admin reads its own township's only and cannot add.
    township = client_for("township_admin")
    assert [
        row[0][1].text for row in township.get("/industry/places/featured_town/茶旅小镇/").context["table"]
    ] == ["城关镇"]
    assert township.get("/industry/places/new/").status_code == 404
    assert client_for("grid_leader").get("/industry/places/").status_code == 404


def test_api(world):
    api = api_for("county_admin")
    listed = api.get("/api/v1/industry/designations/?kind=development_type").json()
    assert [(d["region_name"], d["label"]) for d in listed["results"]] == [
        ("新华村", "红色美丽村"),
        ("东风村", "红色美丽村"),
        ("石花村", "生态宜居村"),
    ]
    bad = api.post(
        "/api/v1/industry/designations/",
        {
            "region": world.r["新华村"].pk,
            "kind": "development_type",
            "theme": "小康村",
            "idempotency_key": "a-1",
        },
        format="json",
    )
    assert bad.status_code == 400
    assert bad.json() == {
        "code": "bad_development_type",
        "detail": TYPES_MESSAGE,
        "fields": {"theme": [TYPES_MESSAGE]},
    }
    made = api.post(
        "/api/v1/industry/designations/",
        {
            "region": world.r["新华村"].pk,
            "kind": "development_type",
            "theme": "green_development",
            "idempotency_key": "a-2",
        },
        format="json",
    )
    assert made.status_code == 201
    assert made.json()["label"] == "绿色发展村"
    township = api_for("township_admin")
    refused = township.post(
        "/api/v1/industry/designations/",
        {"region": world.r["新华村"].pk, "kind": "featured_village", "theme": "x", "idempotency_key": "a-3"},
        format="json",
    )
    assert refused.status_code == 404
    assert township.delete(f"/api/v1/industry/designations/{made.json()['id']}/").status_code == 404
    assert api.delete(f"/api/v1/industry/designations/{made.json()['id']}/").status_code == 204
    under = api.get(f"/api/v1/industry/designations/?region={world.r['石花镇'].pk}").json()["results"]
    assert sorted(d["label"] for d in under) == ["生态宜居村", "茶旅小镇"]

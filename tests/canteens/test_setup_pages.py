"""The setup pages and API: tiers (county admin), enrolment (search, enrol with the tier checked, meal card
with QR, end, list with filters and Excel), price rules (the form with the four funders, preview, a rule
that does not add up refused with the message next to the funders), scope (another township: 404); where
the hub and a site's page lead, per role (exact hrefs, each one opening for that user)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from canteens.models import Enrolment, FundingShare, PriceRule, Site, SiteKind, SubsidyTier
from canteens.services import sites as site_services
from governance.models import AuditAction, AuditEvent, User
from tests.canteens.factories import PASSWORD, SPLIT_70, CanteenWorld, canteen_world, enrol_from, key

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(demo_county) -> CanteenWorld:
    return canteen_world(demo_county)


def client_for(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


def api_for(username: str) -> APIClient:
    client = APIClient()
    token, _created = Token.objects.get_or_create(user=User.objects.get(username=username))
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def today() -> dt.date:
    return timezone.localdate()


# --- tiers ----------------------------------------------------------------------------------------------


def test_tiers_pages_for_the_county_admin_only(world):
    client = client_for("county_admin")
    page = client.get("/canteens/tiers/")
    assert [t.code for t in page.context["tiers"]] == [
        "age-60-69",
        "age-70-79",
        "age-80-89",
        "age-90",
        "low-income",
        "disability",
    ]
    assert "70–79 岁" in page.content.decode()
    form_key = client.get("/canteens/tiers/new/").context["form"].initial["idempotency_key"]
    bad = client.post(
        "/canteens/tiers/new/",
        {"idempotency_key": form_key, "name": "百岁", "code": "age-100", "min_age": "100", "max_age": "90"},
    )
    assert bad.context["form"].errors["max_age"] == ["最高年龄不能小于最低年龄。"]
    ok = client.post(
        "/canteens/tiers/new/",
        {
            "idempotency_key": form_key,
            "name": "留守老人",
            "code": "left-behind",
            "tag": "left_behind_elderly",
            "sort_order": "70",
        },
    )
    assert ok.status_code == 302
    tier = SubsidyTier.objects.get(code="left-behind")
    assert (tier.name, tier.tag, tier.min_age) == ("留守老人", "left_behind_elderly", None)
    edit = client.post(
        f"/canteens/tiers/{tier.pk}/edit/",
        {"name": "留守老人", "code": "left-behind", "tag": "left_behind_elderly", "sort_order": "70"},
    )
    assert edit.status_code == 302
    tier.refresh_from_db()
    assert tier.is_active is False
    for username in ("shihua_admin", "canteen_manager"):
        assert client_for(username).get("/canteens/tiers/").status_code == 404
        assert client_for(username).get(f"/canteens/tiers/{tier.pk}/edit/").status_code == 404


def test_tiers_ensure_is_idempotent(world):
    from canteens.defaults import tiers_ensure

    SubsidyTier.objects.filter(code="age-90").update(name="九十岁以上")
    tiers = tiers_ensure()
    assert SubsidyTier.objects.count() == 6
    assert tiers["age-90"].name == "九十岁以上"


# --- enrolment ------------------------------------------------------------------------------------------


def test_enrolment_flow_search_enrol_card_end(world):
    client = client_for("canteen_manager")
    site = world.site
    search = client.get(f"/canteens/{site.pk}/enrolments/new/?q=孙")
    names = [(c.resident.name, c.age) for c in search.context["candidates"]]
    assert names == [
        ("孙大爷", today().year - 1946 - ((today().month, today().day) < (4, 4))),
        ("孙奶奶", today().year - 1948 - ((today().month, today().day) < (8, 8))),
    ]
    sun = world.people.residents["孙奶奶"]
    page = client.get(f"/canteens/{site.pk}/enrolments/new/?resident={sun.pk}")
    form = page.context["form"]
    assert form.initial["tier"] == world.tiers["age-70-79"].pk
    data = {
        "idempotency_key": form.initial["idempotency_key"],
        "resident": sun.pk,
        "tier": world.tiers["age-80-89"].pk,
        "starts_on": today().isoformat(),
    }
    refused = client.post(f"/canteens/{site.pk}/enrolments/new/", data)
    assert refused.status_code == 400
    age = refused.context["age"]
    assert refused.context["form"].errors["tier"] == [
        f"孙奶奶在{today().year}年{today().month}月{today().day}日为 {age} 岁，不符合“80–89 岁”档次。"
    ]
    assert Enrolment.objects.filter(resident=sun).count() == 0
    data["tier"] = world.tiers["age-70-79"].pk
    done = client.post(f"/canteens/{site.pk}/enrolments/new/", data)
    enrolment = Enrolment.objects.get(resident=sun)
    assert done["Location"] == f"/canteens/enrolments/{enrolment.pk}/card/"
    assert client.post(f"/canteens/{site.pk}/enrolments/new/", data).status_code == 302  # replay
    assert Enrolment.objects.filter(resident=sun).count() == 1
    again = client.post(f"/canteens/{site.pk}/enrolments/new/", {**data, "idempotency_key": key()})
    assert again.context["form"].non_field_errors() == ["孙奶奶已在本食堂登记就餐，请先结束原登记。"]
    assert "孙奶奶已在本食堂登记就餐，请先结束原登记。" in again.content.decode()
    card = client.get(f"/canteens/enrolments/{enrolment.pk}/card/")
    html = card.content.decode()
    assert "<svg" in html
    assert enrolment.card_code in html
    assert sun.id_number_masked in html
    end = client.post(
        f"/canteens/enrolments/{enrolment.pk}/end/", {"ends_on": today().isoformat(), "reason": ""}
    )
    assert end.context["form"].errors["reason"] == ["请填写结束原因。"]
    end = client.post(
        f"/canteens/enrolments/{enrolment.pk}/end/", {"ends_on": today().isoformat(), "reason": "住院"}
    )
    assert end.status_code == 302
    enrolment.refresh_from_db()
    assert (enrolment.ends_on, enrolment.end_reason) == (today(), "住院")


def test_enrolment_list_filters_export_and_scope(world):
    client = client_for("shihua_admin")
    page = client.get(f"/canteens/{world.site.pk}/enrolments/")
    assert [e.resident.name for e in page.context["rows"]] == sorted(["吴桂兰", "吴德厚", "吴秀芝"])
    assert {e.resident.name: e.age for e in page.context["rows"]} == {
        "吴桂兰": 72,
        "吴德厚": 85,
        "吴秀芝": 65,
    }
    tail = world.elders["吴秀芝"].id_number_masked[-4:]
    by_tail = client.get(f"/canteens/{world.site.pk}/enrolments/?q={tail}")
    assert "吴秀芝" in [e.resident.name for e in by_tail.context["rows"]]
    html = page.content.decode()
    assert world.elders["吴秀芝"].id_number_masked in html
    export = client.get(
        f"/canteens/{world.site.pk}/enrolments/?tier={world.tiers['age-80-89'].pk}&export=xlsx"
    )
    rows = list(
        load_workbook(io.BytesIO(b"".join(export.streaming_content))).active.iter_rows(values_only=True)
    )
    assert rows[0][:5] == ("姓名", "性别", "年龄", "身份证号", "补贴档次")
    assert rows[1][:5] == ("吴德厚", "男", 85, world.elders["吴德厚"].id_number_masked, "80–89 岁")
    assert len(rows) == 2
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT, object_type="canteens.site").count() == 1
    for username in ("township_admin", "minying_secretary", "village_secretary"):
        assert client_for(username).get(f"/canteens/{world.site.pk}/enrolments/").status_code == 404
    enrolment = world.enrolments["吴桂兰"]
    assert client_for("township_admin").get(f"/canteens/enrolments/{enrolment.pk}/card/").status_code == 404
    assert (
        client_for("township_admin")
        .post(f"/canteens/enrolments/{enrolment.pk}/end/", {"ends_on": today().isoformat(), "reason": "x"})
        .status_code
        == 404
    )
    assert client_for("cook").get(f"/canteens/enrolments/{enrolment.pk}/card/").status_code == 200


# --- price rules ----------------------------------------------------------------------------------------


def rule_post(world: CanteenWorld, **overrides) -> dict[str, str]:
    data = {
        "idempotency_key": key(),
        "tier": str(world.tiers["age-70-79"].pk),
        "slot": "lunch",
        "price_yuan": "5.00",
        "effective_from": today().isoformat(),
        "government_level": "township",
        "remainder_funder": "community",
        "donation_fallback": "government",
        "resident_mode": "fixed",
        "resident_fixed": "2",
        "government_mode": "share",
        "government_percent": "50",
        "government_cap": "1.20",
        "community_mode": "share",
        "community_percent": "30",
        "donation_mode": "share",
        "donation_percent": "20",
    }
    data.update(overrides)
    return data


def test_rule_page_preview_refusal_and_save(world):
    client = client_for("shihua_admin")
    url = f"/canteens/{world.site.pk}/rules/new/"
    assert client.get(url).status_code == 200
    preview = client.post(url, {**rule_post(world), "action": "preview"})
    # 3.00 left after the resident's 2.00: government 50 % = 1.50 capped at 1.20 (0.30 to community),
    # community 30 % = 0.90 + 0.30, donation 20 % = 0.60.
    assert preview.context["preview"] == {
        "government": 120,
        "community": 120,
        "donation": 60,
        "resident": 200,
    }
    assert "政府补贴 ¥1.20" in preview.content.decode()
    assert PriceRule.objects.filter(site=world.site, slot="lunch").count() == 0
    bad = client.post(url, {**rule_post(world, community_percent="20"), "action": "save"})
    assert bad.status_code == 400
    assert bad.context["form"].non_field_errors() == ["各方分担比例合计 90%，应为 100%。"]
    assert 'data-testid="error-shares">各方分担比例合计 90%，应为 100%。' in bad.content.decode()
    bad_yuan = client.post(url, {**rule_post(world, resident_fixed="2.345"), "action": "save"})
    assert bad_yuan.context["form"].errors["resident_fixed"] == ["金额格式不对，例如 4.50。"]
    saved = client.post(url, {**rule_post(world), "action": "save"})
    assert saved.status_code == 302
    rule = PriceRule.objects.get(site=world.site, slot="lunch")
    assert (rule.price_fen, rule.government_level, rule.donation_fallback) == (500, "township", "government")
    assert sorted(
        FundingShare.objects.filter(rule=rule).values_list("funder", "fixed_fen", "share_bp", "cap_fen")
    ) == [
        ("community", None, 3000, None),
        ("donation", None, 2000, None),
        ("government", None, 5000, 120),
        ("resident", 200, None, None),
    ]
    listing = client.get(f"/canteens/{world.site.pk}/rules/")
    assert rule.pk in listing.context["in_force_ids"]
    assert world.rules["age-70-79"].pk in listing.context["in_force_ids"]
    assert "¥5.00" in listing.content.decode()


def test_a_duplicate_guest_rule_is_refused_next_to_the_start_date(world):
    """The guest rule (no tier) the world has from enrol_from, all slots: the same again is refused by the
    service on any database, next to 生效日期, with what was typed kept."""
    from tests.canteens.factories import enrol_from

    client = client_for("shihua_admin")
    url = f"/canteens/{world.site.pk}/rules/new/"
    guest = {
        "idempotency_key": key(),
        "tier": "",
        "slot": "",
        "price_yuan": "7.00",
        "effective_from": enrol_from().isoformat(),
        "government_level": "county",
        "remainder_funder": "resident",
        "donation_fallback": "community",
        "resident_mode": "fixed",
        "resident_fixed": "7",
        "government_mode": "",
        "community_mode": "",
        "donation_mode": "",
        "action": "save",
    }
    before = PriceRule.objects.count()
    refused = client.post(url, guest)
    assert refused.status_code == 400
    assert refused.context["form"].errors["effective_from"] == [
        f"“非登记就餐 · 全部餐次”在 {enrol_from():%Y-%m-%d} 已有一条餐价规则，不能重复设置；"
        "请换一个生效日期，或先结束原来的规则。"
    ]
    assert 'value="7.00"' in refused.content.decode()
    assert PriceRule.objects.count() == before
    moved = client.post(url, {**guest, "idempotency_key": key(), "effective_from": today().isoformat()})
    assert moved.status_code == 302
    assert PriceRule.objects.count() == before + 1


def test_rule_pages_scope(world):
    url = f"/canteens/{world.site.pk}/rules/new/"
    assert client_for("canteen_manager").get(url).status_code == 404
    assert client_for("township_admin").get(url).status_code == 404
    assert client_for("township_admin").get(f"/canteens/{world.site.pk}/rules/").status_code == 404
    listing = client_for("canteen_manager").get(f"/canteens/{world.site.pk}/rules/")
    assert listing.status_code == 200
    assert listing.context["can_setup"] is False
    end_url = f"/canteens/rules/{world.rules['guest'].pk}/end/"
    assert (
        client_for("canteen_manager").post(end_url, {"effective_to": today().isoformat()}).status_code == 404
    )
    assert client_for("shihua_admin").post(end_url, {"effective_to": today().isoformat()}).status_code == 302
    world.rules["guest"].refresh_from_db()
    assert world.rules["guest"].effective_to == today()


# --- API ------------------------------------------------------------------------------------------------


def test_api_sites_enrolments_rules(world):
    api = api_for("shihua_admin")
    sites = api.get("/api/v1/canteens/sites/?kind=canteen").json()
    assert [s["name"] for s in sites["results"]] == ["民营社区爱心食堂"]
    detail = api.get(f"/api/v1/canteens/sites/{world.site.pk}/").json()
    assert [(s["kind"], s["starts"], s["ends"]) for s in detail["slots"]] == [
        ("breakfast", "07:00", "08:30"),
        ("lunch", "11:00", "12:30"),
        ("dinner", "17:00", "18:30"),
    ]
    created = api.post(
        "/api/v1/canteens/sites/",
        {"kind": "red_station", "name": "民营红色驿站", "region": world.regions["民营社区"].pk},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-site-1",
    )
    assert created.status_code == 201
    replay = api.post(
        "/api/v1/canteens/sites/",
        {"kind": "red_station", "name": "民营红色驿站", "region": world.regions["民营社区"].pk},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-site-1",
    )
    assert replay.status_code == 201
    assert replay.json()["id"] == created.json()["id"]
    enrolments = api.get(f"/api/v1/canteens/sites/{world.site.pk}/enrolments/").json()
    assert sorted(e["resident_name"] for e in enrolments["results"]) == ["吴德厚", "吴桂兰", "吴秀芝"]
    assert all("*" in e["id_number"] for e in enrolments["results"])
    new = api.post(
        f"/api/v1/canteens/sites/{world.site.pk}/enrolments/",
        {
            "resident": world.elders["吴建军"].pk,
            "tier": world.tiers["age-60-69"].pk,
            "starts_on": today().isoformat(),
            "idempotency_key": "k-enrol-1",
        },
        format="json",
    )
    assert new.status_code == 400
    assert new.json()["code"] == "tier_mismatch"
    assert (
        new.json()["detail"]
        == f"吴建军在{today().year}年{today().month}月{today().day}日为 55 岁，不符合“60–69 岁”档次。"
    )
    rules = api.get(f"/api/v1/canteens/sites/{world.site.pk}/rules/").json()
    by_tier = {r["tier"]: r["split"] for r in rules}
    assert by_tier[world.tiers["age-70-79"].pk] == SPLIT_70
    bad = api.post(
        f"/api/v1/canteens/sites/{world.site.pk}/rules/",
        {
            "tier": world.tiers["age-90"].pk,
            "effective_from": enrol_from().isoformat(),
            "price_fen": 400,
            "shares": [{"funder": "government", "share_bp": 6000}, {"funder": "community", "share_bp": 3000}],
            "idempotency_key": "k-rule-1",
        },
        format="json",
    )
    assert bad.status_code == 400
    assert (bad.json()["code"], bad.json()["detail"]) == (
        "shares_not_100",
        "各方分担比例合计 90%，应为 100%。",
    )
    preview = api.post(
        "/api/v1/canteens/rules/preview/",
        {
            "price_fen": 400,
            "shares": [
                {"funder": "resident", "fixed_fen": 150},
                {"funder": "government", "share_bp": 6000},
                {"funder": "community", "share_bp": 3000},
                {"funder": "donation", "share_bp": 1000},
            ],
            "donation_available_fen": 0,
        },
        format="json",
    ).json()
    assert preview == {
        "split": {"government": 150, "community": 100, "donation": 0, "resident": 150},
        "shortfall_fen": 25,
    }
    other = api_for("township_admin")
    assert other.get(f"/api/v1/canteens/sites/{world.site.pk}/").status_code == 404
    assert other.get(f"/api/v1/canteens/enrolments/{world.enrolments['吴桂兰'].pk}/").status_code == 404
    assert (
        other.post(
            f"/api/v1/canteens/enrolments/{world.enrolments['吴桂兰'].pk}/end/", {}, format="json"
        ).status_code
        == 404
    )


# --- where the hub and a site's page lead ----------------------------------------------------------------


def links_of(page) -> dict[str, list[tuple[str, str]]]:
    """The page's link groups as {group key: [(data-testid, href)]}; each href is also in the HTML."""
    groups = {g.key: [(link.key, link.url) for link in g.links] for g in page.context["groups"]}
    html = page.content.decode()
    for links in groups.values():
        for testid, url in links:
            assert f'href="{url}" data-testid="{testid}"' in html
    return groups


def opens_for(client: Client, urls: list[str]) -> None:
    """Every link the page offers opens for the same user (no 404 behind a link)."""
    for url in urls:
        assert client.get(url, follow=True).status_code == 200, url


@pytest.fixture
def workshop(world) -> Site:
    return site_services.site_create(
        actor=world.admin,
        idempotency_key=key(),
        kind=SiteKind.WORKSHOP,
        name="民营社区爱心作坊",
        region=world.regions["民营社区"],
    )


def test_hub_links_per_role(world, workshop):
    site, other, classroom = world.site.pk, world.other_site.pk, world.classroom.pk
    lists = "/canteens/community/lists"
    classroom_links = [
        ("go-sessions", f"{lists}/sessions/"),
        ("go-volunteers", f"{lists}/volunteers/"),
        ("go-hours", f"{lists}/hours/"),
    ]
    workshop_links = [
        ("go-orders", f"{lists}/orders/"),
        ("go-wages", f"{lists}/wages/"),
        ("go-workers", f"{lists}/workers/"),
        ("go-products", f"{lists}/products/"),
        ("go-workshop-summary", "/canteens/community/workshops/summary/"),
    ]
    funds, claims, reports = (
        ("go-funds", "/canteens/funds/"),
        ("go-claims", "/canteens/claims/"),
        ("go-reports", "/canteens/reports/"),
    )
    expected = {
        "canteen_manager": [funds, reports],
        "shihua_admin": [funds, claims, reports],
        "county_admin": [funds, claims, reports, ("go-tiers", "/canteens/tiers/")],
        "minying_secretary": [funds, reports],
    }
    day = today().isoformat()
    for username, canteen_links in expected.items():
        client = client_for(username)
        page = client.get("/canteens/")
        assert links_of(page) == {
            "canteen": canteen_links,
            "classroom": classroom_links,
            "workshop": workshop_links,
        }, username
        opens_for(client, [url for _testid, url in canteen_links + classroom_links + workshop_links])
        runs = [s.pk for s in page.context["runnable"]]
        others = [(s.pk, url, str(label)) for s, url, label in page.context["others"]]
        html = page.content.decode()
        if username == "minying_secretary":
            assert (runs, others) == ([], [])
            assert "/checkin/" not in html
            continue
        assert runs == ([other, site] if username == "county_admin" else [site])
        for pk in runs:
            for testid, url in (
                (f"checkin-{pk}", f"/canteens/{pk}/checkin/"),
                (f"sheet-{pk}", f"/canteens/{pk}/meals/{day}/"),
                (f"enrolments-{pk}", f"/canteens/{pk}/enrolments/"),
            ):
                assert f'href="{url}" data-testid="{testid}"' in html
                assert client.get(url).status_code == 200
        mine = [
            (classroom, f"/canteens/classrooms/{classroom}/", "讲堂工作台"),
            (workshop.pk, f"/canteens/workshops/{workshop.pk}/", "作坊工作台"),
        ]
        assert others == mine  # 新华村 has no community site in this world
        opens_for(client, [url for _pk, url, _label in others])
    township = client_for("township_admin").get("/canteens/")
    assert links_of(township) == {"canteen": [funds, claims, reports]}
    assert [s.pk for s in township.context["runnable"]] == [other]


def test_canteen_page_links_per_role(world):
    pk, day = world.site.pk, today().isoformat()
    money = [
        ("rules", f"/canteens/{pk}/rules/"),
        ("go-fund", f"/canteens/{pk}/fund/"),
        ("go-thanks", f"/canteens/{pk}/thanks/"),
    ]
    settle = [
        ("go-settlements", f"/canteens/{pk}/settlements/"),
        ("go-budgets", f"/canteens/{pk}/budgets/"),
        ("go-report", f"/canteens/{pk}/report/"),
    ]
    runs = {
        "daily": [
            ("go-checkin", f"/canteens/{pk}/checkin/"),
            ("go-meal-sheet", f"/canteens/{pk}/meals/{day}/"),
            ("go-corrections", f"/canteens/{pk}/corrections/"),
            ("enrolments", f"/canteens/{pk}/enrolments/"),
        ],
        "money": money,
        "settle": settle,
    }
    reads = {
        "daily": [
            ("go-meal-sheet", f"/canteens/{pk}/meals/{day}/"),
            ("go-corrections", f"/canteens/{pk}/corrections/"),
        ],
        "money": money,
        "settle": settle,
    }
    for username, expected in (
        ("canteen_manager", runs),
        ("cook", runs),
        ("shihua_admin", runs),
        ("county_admin", runs),
        ("minying_secretary", reads),
    ):
        client = client_for(username)
        page = client.get(f"/canteens/{pk}/")
        assert links_of(page) == expected, username
        opens_for(client, [url for links in expected.values() for _testid, url in links])
    reader = client_for("minying_secretary")
    assert reader.get(f"/canteens/{pk}/checkin/").status_code == 404
    assert reader.get(f"/canteens/{pk}/enrolments/").status_code == 404
    assert client_for("township_admin").get(f"/canteens/{pk}/").status_code == 404
    Site.objects.filter(pk=pk).update(is_active=False)
    stopped = links_of(client_for("shihua_admin").get(f"/canteens/{pk}/"))
    assert stopped["money"] == money[:2]  # a stopped canteen has no public thank-you page
    assert Client().get(f"/canteens/{pk}/thanks/").status_code == 404


def test_community_site_pages_lead_to_their_pages_and_lists(world, workshop):
    lists = "/canteens/community/lists"
    w, c = workshop.pk, world.classroom.pk
    expected_workshop = {
        "work": [
            ("go-page", f"/canteens/workshops/{w}/"),
            ("go-orders", f"{lists}/orders/?site={w}"),
            ("go-wages", f"{lists}/wages/?site={w}"),
            ("go-workers", f"{lists}/workers/?site={w}"),
            ("go-products", f"{lists}/products/?site={w}"),
            ("go-workshop-summary", f"/canteens/community/workshops/summary/?site={w}"),
        ]
    }
    expected_classroom = {
        "work": [
            ("go-page", f"/canteens/classrooms/{c}/"),
            ("go-sessions", f"{lists}/sessions/?site={c}"),
            ("go-volunteers", f"{lists}/volunteers/?region={world.regions['民营社区'].pk}"),
            ("go-hours", f"{lists}/hours/?site={c}"),
        ]
    }
    for username in ("canteen_manager", "shihua_admin", "county_admin", "minying_secretary"):
        client = client_for(username)
        for site_id, expected in ((w, expected_workshop), (c, expected_classroom)):
            page = client.get(f"/canteens/{site_id}/")
            assert links_of(page) == expected, username
            opens_for(client, [url for _testid, url in expected["work"]])
    station = site_services.site_create(
        actor=world.admin,
        idempotency_key=key(),
        kind=SiteKind.RED_STATION,
        name="民营社区红色驿站",
        region=world.regions["民营社区"],
    )
    s = station.pk
    assert links_of(client_for("canteen_manager").get(f"/canteens/{s}/")) == {
        "work": [
            ("go-page", f"/canteens/stations/{s}/"),
            ("go-logs", f"{lists}/logs/?site={s}"),
            ("go-services", f"{lists}/services/?site={s}"),
            ("go-station-summary", f"/canteens/community/stations/summary/?site={s}"),
        ]
    }


# --- in a browser ---------------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_manager_enrols_an_elder_on_a_phone(world, phone, desktop, screenshot):
    from tests.browser_fixtures import login

    login(phone, "canteen_manager")
    phone.goto("/canteens/")
    assert phone.get_by_test_id("count-canteen").inner_text() == "1"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "phone-hub")
    phone.goto(f"/canteens/{world.site.pk}/")
    screenshot(phone, "phone-site")
    phone.get_by_test_id("enrolments").click()
    phone.wait_for_url(f"**/canteens/{world.site.pk}/enrolments/")
    assert phone.get_by_test_id("enrolment-row").count() == 3
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "phone-enrolments")
    phone.get_by_test_id("enrol").click()
    phone.get_by_label("查找居民").fill("孙奶奶")
    phone.get_by_role("button", name="查找").click()
    sun = world.people.residents["孙奶奶"]
    phone.get_by_test_id(f"pick-{sun.pk}").click()
    screenshot(phone, "phone-enrol-form")
    phone.get_by_label("补贴档次").select_option(label="80–89 岁")
    phone.get_by_test_id("submit").click()
    assert "不符合“80–89 岁”档次" in phone.get_by_test_id("error-tier").inner_text()
    screenshot(phone, "phone-enrol-refused")
    phone.get_by_label("补贴档次").select_option(label="70–79 岁")
    phone.get_by_test_id("submit").click()
    enrolment = Enrolment.objects.get(resident=sun)
    phone.wait_for_url(f"**/canteens/enrolments/{enrolment.pk}/card/")
    assert phone.get_by_test_id("card-code").inner_text() == enrolment.card_code
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "phone-card")

    login(desktop, "shihua_admin")
    desktop.goto(f"/canteens/sites/?township={world.regions['石花镇'].pk}")
    assert desktop.get_by_test_id("site-row").count() == 2
    screenshot(desktop, "desktop-registry")
    desktop.goto(f"/canteens/{world.site.pk}/rules/new/")
    desktop.get_by_label("餐价（元）").fill("5")
    desktop.get_by_test_id("funder-resident").locator("input").first.fill("2")
    desktop.get_by_test_id("funder-government").locator("input").nth(1).fill("60")
    desktop.get_by_test_id("funder-community").locator("input").nth(1).fill("30")
    desktop.get_by_test_id("funder-donation").locator("input").nth(1).fill("10")
    desktop.get_by_test_id("preview-button").click()
    assert "政府补贴 ¥1.80" in desktop.get_by_test_id("preview").inner_text()
    screenshot(desktop, "desktop-rule-preview")
    desktop.get_by_test_id("funder-donation").locator("input").nth(1).fill("5")
    desktop.get_by_test_id("submit").click()
    assert desktop.get_by_test_id("error-shares").inner_text() == "各方分担比例合计 95%，应为 100%。"
    screenshot(desktop, "desktop-rule-refused")
    desktop.goto(f"/canteens/{world.site.pk}/rules/")
    screenshot(desktop, "desktop-rules")
    desktop.goto(f"/canteens/{world.site.pk}/")
    screenshot(desktop, "desktop-site")

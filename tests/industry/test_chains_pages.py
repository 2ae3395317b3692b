"""The chains area's pages: chains with their figures (scoped), a chain's detail and participants, chain
and link editing, businesses, participation, households' projects, residents' work, coverage."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from governance.models import AuditEvent
from industry.models import Business, ChainLink, ChainParticipation, Employment, HouseholdProject
from tests.industry.factories_chains import chains_world, credit_code_next

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(demo_county):
    return chains_world(demo_county)


def _client(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password="xiangzhi-demo")
    return client


def _sheet(response) -> list[list]:
    content = b"".join(response.streaming_content)
    sheet = load_workbook(io.BytesIO(content)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_chain_list_counts_the_readers_scope(world):
    page = _client("county_admin").get("/industry/chains/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="scope-note"' not in html
    rows = _sheet(_client("county_admin").get("/industry/chains/?export=xlsx"))
    assert rows[0][:4] == ["产业链", "主要所在乡镇", "产业链党支部", "参与主体"]
    # name, base, branch, participants, enterprise, cooperative, family farm, collective, household,
    # area, output (yuan), jobs, households driven, status
    assert rows[1] == [
        "茶叶",
        "紫金镇",
        "中共谷城县茶叶产业链支部委员会",
        3,
        1,
        1,
        0,
        0,
        1,
        125,
        4580000,
        39,
        70,
        "启用",
    ]
    assert rows[2] == ["食用菌", "石花镇", None, 1, 1, 0, 0, 0, 0, 50, 2000000, 20, 15, "启用"]
    township = _client("township_admin").get("/industry/chains/")
    assert 'data-testid="scope-note"' in township.content.decode()
    rows = _sheet(_client("township_admin").get("/industry/chains/?export=xlsx"))
    assert rows[1][3:13] == [2, 0, 1, 0, 0, 1, 125, 1580000, 14, 30]
    assert rows[2][3] == 0
    assert "458.00 万元" in html


def test_chain_list_sorts_and_filters(world):
    rows = _sheet(_client("county_admin").get("/industry/chains/?sort=jobs&export=xlsx"))
    assert [r[0] for r in rows[1:]] == ["茶叶", "食用菌"]
    rows = _sheet(
        _client("county_admin").get(f"/industry/chains/?township={world.regions['石花镇'].pk}&export=xlsx")
    )
    assert [r[0] for r in rows[1:]] == ["食用菌"]


def test_chain_detail_links_branch_products_and_participants(world):
    client = _client("county_admin")
    html = client.get(f"/industry/chains/{world.tea.pk}/").content.decode()
    assert f"/governance/party/organisations/{world.branch.pk}/" in html
    assert "谷城毛尖" in html
    assert html.index("种植</a> <b>1</b>") < html.index("加工</a> <b>1</b>") < html.index("销售</a> <b>1</b>")
    assert html.count('data-testid="participant-row"') == 3
    sales_link = ChainLink.objects.get(chain=world.tea, name="销售")
    rows = _sheet(client.get(f"/industry/chains/{world.tea.pk}/?link={sales_link.pk}&export=xlsx"))
    assert rows[1] == [
        "石花菌业公司",
        "企业",
        "销售",
        "石花镇 · 民营社区",
        "0.00",
        3000000,
        25,
        40,
        "2024-01-01",
        None,
    ]
    rows = _sheet(client.get(f"/industry/chains/{world.tea.pk}/?sort=output&export=xlsx"))
    assert [r[0] for r in rows[1:]] == ["石花菌业公司", "新华茶叶合作社", "王家茶园"]
    rows = _sheet(client.get(f"/industry/chains/{world.tea.pk}/?kind=household&export=xlsx"))
    assert [r[0] for r in rows[1:]] == ["王家茶园"]
    rows = _sheet(
        client.get(f"/industry/chains/{world.tea.pk}/?township={world.regions['城关镇'].pk}&export=xlsx")
    )
    assert [r[0] for r in rows[1:]] == ["新华茶叶合作社", "王家茶园"]
    # The village secretary sees only its village's participants.
    html = _client("village_secretary").get(f"/industry/chains/{world.tea.pk}/").content.decode()
    assert html.count('data-testid="participant-row"') == 2
    assert "石花菌业公司" not in html
    assert AuditEvent.objects.filter(action="export", object_type="industry.chainparticipation").count() == 4


def test_chains_are_edited_by_the_county_admin_only(world):
    township = _client("township_admin")
    assert township.get("/industry/chains/new/").status_code == 404
    assert township.get(f"/industry/chains/{world.tea.pk}/links/").status_code == 404
    admin = _client("county_admin")
    form = admin.get("/industry/chains/new/")
    key = form.context["form"].initial["idempotency_key"]
    taken = admin.post("/industry/chains/new/", {"idempotency_key": key, "name": "茶叶", "sort_order": "3"})
    assert taken.status_code == 200
    assert "已有同名产业链。" in taken.content.decode()
    made = admin.post("/industry/chains/new/", {"idempotency_key": key, "name": "油茶", "sort_order": "3"})
    chain = world.tea.__class__.objects.get(name="油茶")
    assert made["Location"] == f"/industry/chains/{chain.pk}/links/"
    for name in ("种植", "压榨", "销售"):
        page = admin.get(f"/industry/chains/{chain.pk}/links/")
        admin.post(
            f"/industry/chains/{chain.pk}/links/",
            {
                "idempotency_key": page.context["form"].initial["idempotency_key"],
                "kind": "production",
                "name": name,
            },
        )
    links = list(ChainLink.objects.filter(chain=chain).order_by("sort_order"))
    assert [link.name for link in links] == ["种植", "压榨", "销售"]
    admin.post(f"/industry/chains/{chain.pk}/links/{links[2].pk}/move/", {"direction": "up"})
    admin.post(
        f"/industry/chains/{chain.pk}/links/{links[1].pk}/rename/",
        {f"l{links[1].pk}-name": "初榨", f"l{links[1].pk}-kind": "processing"},
    )
    admin.post(f"/industry/chains/{chain.pk}/links/{links[0].pk}/remove/")
    assert list(ChainLink.objects.filter(chain=chain).order_by("sort_order").values_list("name", "kind")) == [
        ("销售", "production"),
        ("初榨", "processing"),
    ]
    used = ChainLink.objects.get(chain=world.tea, name="种植")
    refused = admin.post(f"/industry/chains/{world.tea.pk}/links/{used.pk}/remove/", follow=True)
    assert "还有经营主体在这个环节上，不能删除；可以改名。" in refused.content.decode()
    edited = admin.post(
        f"/industry/chains/{chain.pk}/edit/",
        {"name": "油茶", "base_region": world.regions["紫金镇"].pk, "sort_order": "3", "is_active": ""},
    )
    assert edited.status_code == 302
    chain.refresh_from_db()
    assert (chain.base_region_id, chain.is_active) == (world.regions["紫金镇"].pk, False)


def test_business_list_filters_and_exports(world):
    client = _client("county_admin")
    rows = _sheet(client.get("/industry/businesses/?export=xlsx"))
    assert rows[0] == ["名称", "类型", "乡镇", "村（社区）", "统一社会信用代码", "负责人", "在链数", "状态"]
    assert sorted(r[0] for r in rows[1:]) == ["新华茶叶合作社", "王家茶园", "石花菌业公司"]
    rows = _sheet(client.get(f"/industry/businesses/?chain={world.fungi.pk}&export=xlsx"))
    assert [(r[0], r[6]) for r in rows[1:]] == [("石花菌业公司", 2)]
    rows = _sheet(
        client.get(f"/industry/businesses/?township={world.regions['城关镇'].pk}&sort=name&export=xlsx")
    )
    assert [r[0] for r in rows[1:]] == sorted(["新华茶叶合作社", "王家茶园"])
    rows = _sheet(client.get("/industry/businesses/?kind=household&export=xlsx"))
    assert [r[0] for r in rows[1:]] == ["王家茶园"]
    html = _client("village_secretary").get("/industry/businesses/").content.decode()
    assert "石花菌业公司" not in html
    assert html.count('data-testid="business-row"') == 2
    assert _client("grid_leader").get("/industry/businesses/").status_code == 404


def test_business_create_keeps_what_was_typed_and_shows_the_error_next_to_the_field(world):
    client = _client("village_secretary")
    page = client.get("/industry/businesses/new/")
    key = page.context["form"].initial["idempotency_key"]
    body = {
        "idempotency_key": key,
        "kind": "cooperative",
        "region": world.regions["新华村"].pk,
        "name": "新华蜜蜂合作社",
        "credit_code": "91350100M000100Y44",
        "legal_representative": "刘强",
    }
    refused = client.post("/industry/businesses/new/", body)
    html = refused.content.decode()
    assert 'data-testid="error-credit_code"' in html
    assert "统一社会信用代码校验位不对，请核对。" in html
    assert 'value="新华蜜蜂合作社"' in html
    assert 'value="91350100M000100Y44"' in html
    body["credit_code"] = "91350100m000100y43"
    made = client.post("/industry/businesses/new/", body)
    business = Business.objects.get(name="新华蜜蜂合作社")
    assert made["Location"] == f"/industry/businesses/{business.pk}/"
    assert business.credit_code == "91350100M000100Y43"
    household = client.post(
        "/industry/businesses/new/",
        {
            **body,
            "idempotency_key": "another-key",
            "kind": "household",
            "name": "李家",
            "household_number": "X-404",
        },
    )
    assert "本村（社区）没有户号为“X-404”的在册户。" in household.content.decode()


def test_business_detail_participation_and_deactivation(world):
    client = _client("township_admin")
    business = world.businesses["新华茶叶合作社"]
    html = client.get(f"/industry/businesses/{business.pk}/").content.decode()
    assert "茶叶" in html
    assert "¥1,500,000.00" in html
    assert "谷城毛尖" in html
    assert client.get(f"/industry/businesses/{world.businesses['石花菌业公司'].pk}/").status_code == 404
    page = client.get(f"/industry/businesses/{business.pk}/chains/new/")
    fungi_link = ChainLink.objects.get(chain=world.fungi, name="销售")
    joined = client.post(
        f"/industry/businesses/{business.pk}/chains/new/",
        {
            "idempotency_key": page.context["form"].initial["idempotency_key"],
            "chain": world.fungi.pk,
            "link": fungi_link.pk,
            "area_mu": "8.5",
            "output_value_yuan": "12,000.50",
            "jobs": "3",
            "households_driven": "1",
            "joined_on": "2026-01-01",
        },
    )
    assert joined.status_code == 302
    made = ChainParticipation.objects.get(chain=world.fungi, business=business)
    assert (str(made.area_mu), made.output_value_fen, made.jobs, made.link_id) == (
        "8.50",
        1200050,
        3,
        fungi_link.pk,
    )
    ended = client.post(f"/industry/participations/{made.pk}/end/", {"on": "2026-02-01"})
    assert ended.status_code == 302
    made.refresh_from_db()
    assert made.left_on == dt.date(2026, 2, 1)
    client.post(f"/industry/businesses/{business.pk}/deactivate/")
    business.refresh_from_db()
    assert business.is_active is False
    tea = ChainParticipation.objects.get(chain=world.tea, business=business)
    assert tea.left_on is not None
    assert made.left_on == dt.date(2026, 2, 1)


def test_projects_page_lists_households_and_adds_and_ends_projects(world):
    client = _client("village_secretary")
    html = client.get("/industry/projects/").content.decode()
    assert "X-001" in html
    assert "X-002" in html
    assert "种茶 3 亩" in html
    assert html.count("暂无项目") == 1
    none = client.get("/industry/projects/?show=0").content.decode()
    assert none.count('data-testid="household"') == 1
    household = world.households["X-002"]
    page = client.get(f"/industry/projects/new/?household={household.pk}")
    added = client.post(
        f"/industry/projects/new/?household={household.pk}",
        {
            "idempotency_key": page.context["form"].initial["idempotency_key"],
            "kind": "ecommerce",
            "title": "直播卖茶",
            "chain": world.tea.pk,
            "scale": "",
            "started_on": "2026-01-02",
        },
    )
    assert added.status_code == 302
    project = HouseholdProject.objects.get(household=household)
    assert (project.kind, project.title, project.chain_id) == ("ecommerce", "直播卖茶", world.tea.pk)
    ended = client.post(f"/industry/projects/{project.pk}/end/", {"on": "2026-03-01"})
    assert ended.status_code == 302
    project.refresh_from_db()
    assert project.ended_on == dt.date(2026, 3, 1)
    rows = _sheet(client.get("/industry/projects/?export=xlsx"))
    assert rows[0] == ["网格", "户号", "户主", "项目", "在链农户主体", "是否有项目"]
    assert rows[1] == ["第一网格", "X-001", "王大山", "种植·种茶 3 亩", "是", "是"]
    assert _client("grid_leader").get("/industry/projects/").status_code == 404


def test_employment_page_shows_working_age_residents_masked(world):
    client = _client("village_secretary")
    html = client.get("/industry/employment/?on=2026-06-15").content.decode()
    names = ["王大山", "王小明", "李四"]
    for name in names:
        assert f'data-name="{name}"' in html
    assert 'data-name="李小妹"' not in html  # 11 years old
    wang = world.residents["王大山"]
    assert wang.id_number_masked in html
    assert html.count("待就业") == 1  # 王小明; 李四 is away for work
    resident = world.residents["王小明"]
    page = client.get(f"/industry/employment/new/?resident={resident.pk}")
    added = client.post(
        f"/industry/employment/new/?resident={resident.pk}",
        {
            "idempotency_key": page.context["form"].initial["idempotency_key"],
            "kind": "local_business",
            "business": world.businesses["新华茶叶合作社"].pk,
            "started_on": "2026-01-01",
        },
    )
    assert added.status_code == 302
    employment = Employment.objects.get(resident=resident)
    assert employment.business_id == world.businesses["新华茶叶合作社"].pk
    rows = _sheet(client.get("/industry/employment/?on=2026-06-15&export=xlsx"))
    assert rows[0] == ["网格", "户号", "姓名", "身份证号", "年龄", "状态", "就业", "是否有事干"]
    assert rows[1] == [
        "第一网格",
        "X-001",
        "王大山",
        wang.id_number_masked,
        56,
        "在籍",
        "本地企业/合作社务工·新华茶叶合作社",
        "是",
    ]
    assert AuditEvent.objects.filter(action="export", object_type="industry.employment").count() == 1
    client.post(f"/industry/employment/{employment.pk}/end/", {"on": "2026-05-01"})
    employment.refresh_from_db()
    assert employment.ended_on == dt.date(2026, 5, 1)


def test_coverage_page(world):
    client = _client("county_admin")
    html = client.get("/industry/coverage/").content.decode()
    assert 'data-testid="coverage-cards"' in html
    assert "统计口径" in html
    rows = _sheet(client.get(f"/industry/coverage/?region={world.regions['城关镇'].pk}&export=xlsx"))
    assert rows[1][:12] == ["乡镇", "城关镇", "谷城县", 1, 1, 100, 1, 2, 50, 2, 3, 66.7]
    assert rows[2][:3] == ["村（社区）", "新华村", "城关镇"]
    secretary = _client("village_secretary").get("/industry/coverage/")
    assert "新华村" in secretary.content.decode()
    # A region outside the reader's scope is not among the choices: the page falls back to their own.
    other = _client("village_secretary").get(f"/industry/coverage/?region={world.regions['石花镇'].pk}")
    assert other.context["coverage"].region == world.regions["新华村"]


def test_credit_code_of_a_new_business_is_unique(world):
    client = _client("county_admin")
    code = world.businesses["新华茶叶合作社"].credit_code
    page = client.get("/industry/businesses/new/")
    refused = client.post(
        "/industry/businesses/new/",
        {
            "idempotency_key": page.context["form"].initial["idempotency_key"],
            "kind": "enterprise",
            "region": world.regions["民营社区"].pk,
            "name": "另一家公司",
            "credit_code": code,
        },
    )
    assert "该统一社会信用代码已被其他经营主体使用。" in refused.content.decode()
    assert credit_code_next() != code

"""The dashboard pages (/dashboard/ and /dashboard/<module>/): each role sees its own region, exact figures
from the rollup facts on the page and in the Excel files, the period picker, 404s, and a constant number
of queries whatever the number of child regions.

The world is tests/rollups/factories.py's small county (T1: V1 with G1 and G2, V2 with G3; T2: V3 with
G4; G2 re-zoned from V1 to V3 on 15 March), with these records in 2026:
    cases   A: G1, 11 Jan, resolved on time, follow-up 满意       (T1 / V1)
            B: G3, 12 Jan, resolved late, follow-up 不满意          (T1 / V2)
            D: G2, 11 Jan (still in V1)                             (T1 / V1)
            C: G2, 11 Apr (now in V3)                               (T2 / V3)
    points  household of G1: +50 on 5 Jan, −20 redeemed on 3 Feb; household of G4: +30 on 10 Feb
    meals   r0 at V1's canteen on 20 Jan and at V3's on 3 Mar (¥5.00 government subsidy each)
    sales   ¥1,234.50 by V1's cooperative on 5 Jan
    tourism T2 as a whole: 300 visits in February (T2's own record: 本级 under T2)
"""

from __future__ import annotations

import datetime as dt
import io
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from governance.models import Region, RoleAssignment, User
from governance.roles import Role
from governance.rollups import engine, registry
from governance.rollups import selectors as rollup_selectors
from governance.selectors import dashboard as selectors
from governance.selectors.dashboard import Period, period_parse
from tests.rollups import factories as f

pytestmark = pytest.mark.django_db

YEAR = "period=year&year=2026"
CODES = {
    "C": "420625000000",
    "T1": "420625100000",
    "T2": "420625101000",
    "V1": "420625100201",
    "V2": "420625100202",
    "V3": "420625101201",
    "G1": "420625100201001",
    "G2": "420625101201002",
    "G3": "420625100202001",
    "G4": "420625101201001",
}


@pytest.fixture
def world() -> f.World:
    return dashboard_world()


def dashboard_world() -> f.World:
    """The world of the module docstring, its regions coded, its facts rolled up."""
    w = f.world_make()
    for key, code in CODES.items():
        region = w.county if key == "C" else {**w.townships, **w.villages, **w.grids}[key]
        Region.objects.filter(pk=region.pk).update(code=code)
    case_a = f.case_write(w, grid="G1", at=f.at_of(10, 9))
    f.case_event_write(w, case_a, kind="resolve", at=f.at_of(12, 9), on_time=True)
    f.case_event_write(w, case_a, kind="follow_up", at=f.at_of(13, 9), satisfaction="satisfied")
    case_b = f.case_write(w, grid="G3", at=f.at_of(11, 9))
    f.case_event_write(w, case_b, kind="resolve", at=f.at_of(20, 9), on_time=False)
    f.case_event_write(w, case_b, kind="follow_up", at=f.at_of(21, 9), satisfaction="dissatisfied")
    f.case_write(w, grid="G2", at=f.at_of(10, 10))
    f.case_write(w, grid="G2", at=f.at_of(100, 9))
    f.posting_write(w, household=w.households[0], kind="award", amount=50, at=f.at_of(4, 10))
    f.posting_write(w, household=w.households[0], kind="redemption", amount=20, at=f.at_of(33, 10))
    g4_household = next(h for h in w.households if h.grid_id == w.grids["G4"].pk)
    f.posting_write(w, household=g4_household, kind="award", amount=30, at=f.at_of(40, 10))
    r0 = w.residents[0]
    f.meal_write(w, site=0, resident=r0, day=dt.date(2026, 1, 20), slot="lunch")
    f.meal_write(w, site=1, resident=r0, day=dt.date(2026, 3, 3), slot="lunch")
    f.sale_write(w, exhibitor=0, product=0, day=dt.date(2026, 1, 5), amount_fen=123_450)
    f.tourism_write(w, subject="T2", month=dt.date(2026, 2, 1), visits=300, income_fen=500_000)
    engine.incremental_pass()
    return w


def client_for(role: Role, region: Region, name: str = "") -> Client:
    user = User.objects.create(username=name or f"{role}-{region.pk}")
    RoleAssignment.objects.create(user=user, role=role, region=region)
    client = Client()
    client.force_login(user)
    return client


class Tables(HTMLParser):
    """Every <table data-testid=...> of a page as rows of cell texts, and the text of every
    data-testid element that holds text directly."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.texts: dict[str, str] = {}
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._ids: list[tuple[str, str, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "table" and found.get("data-testid"):
            self._table = str(found["data-testid"])
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        if found.get("data-testid") and tag != "table":
            self._ids.append((tag, str(found["data-testid"]), []))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None
        if self._ids and self._ids[-1][0] == tag:
            _tag, key, parts = self._ids.pop()
            self.texts[key] = " ".join("".join(parts).split())

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        for _tag, _key, parts in self._ids:
            parts.append(data)


def page(client: Client, url: str) -> Tables:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    parsed = Tables()
    parsed.feed(response.content.decode())
    return parsed


# --- what each role sees ---------------------------------------------------------------------------------


def test_county_admin_sees_the_townships_with_exact_figures(world):
    admin = client_for(Role.COUNTY_ADMIN, world.county)
    shown = page(admin, f"/dashboard/?{YEAR}")
    assert shown.texts["title"] == "测试县数据看板"
    assert shown.texts["period-label"] == "2026年"
    assert shown.tables["table-drill"] == [
        [
            "乡镇",
            "受理诉求（件）",
            "按期办结率（%）",
            "满意率（%）",
            "发放积分（分）",
            "兑换积分（分）",
            "就餐人次（人次）",
            "政府补贴（元）",
            "销售额（元）",
            "游客接待量（人次）",
        ],
        ["一镇", "3", "50.0%", "50.0%", "50", "20", "1", "¥5.00", "¥1,234.50", "0"],
        ["二镇", "1", "—", "—", "30", "0", "1", "¥5.00", "¥0.00", "300"],
        ["合计", "4", "50.0%", "50.0%", "80", "20", "2", "¥10.00", "¥1,234.50", "300"],
    ]
    # The headline cards (governance.selectors.summary) for the same region and period.
    assert shown.texts["card-cases_filed"] == "4件"
    assert shown.texts["card-cases_resolved_on_time_rate"] == "50.0%"
    assert shown.texts["card-points_issued"] == "80分"
    # The ranking orders by 受理诉求 unless asked otherwise; a child links one level down.
    assert shown.tables["table-ranking"][1:] == [["1", "一镇", "3"], ["2", "二镇", "1"]]
    response = admin.get(f"/dashboard/?{YEAR}")
    assert (
        f'href="/dashboard/?period=year&amp;year=2026&amp;region={CODES["T1"]}"' in response.content.decode()
    )


def test_ranking_on_a_rate_shows_its_parts_and_leaves_out_regions_without_a_denominator(world):
    admin = client_for(Role.COUNTY_ADMIN, world.county)
    shown = page(admin, f"/dashboard/grids/?{YEAR}&region={CODES['T1']}&rank=on_time_rate")
    assert shown.tables["table-ranking"] == [
        ["名次", "村（社区）", "按期办结率（%）", "按期办结（件）", "办结（件）"],
        ["1", "甲村", "100.0%", "1", "1"],
        ["2", "乙村", "0.0%", "0", "1"],
    ]
    county = page(admin, f"/dashboard/grids/?{YEAR}&rank=on_time_rate")
    assert county.tables["table-ranking"][1:] == [
        ["1", "一镇", "50.0%", "1", "2"],
        ["—", "二镇", "—", "0", "0"],
    ]


def test_drill_down_to_a_village_keeps_a_moved_grid_s_history(world):
    admin = client_for(Role.COUNTY_ADMIN, world.county)
    shown = page(admin, f"/dashboard/grids/?{YEAR}&region={CODES['V1']}")
    assert shown.texts["crumbs"] == "测试县 › 一镇 › 甲村"
    assert [row[:2] for row in shown.tables["table-drill"]] == [
        ["网格", "受理诉求（件）"],
        ["第一网格", "1"],
        ["第二网格", "1"],  # G2 now lies under V3; its January case stays V1's
        ["合计", "2"],
    ]
    grid = page(admin, f"/dashboard/grids/?{YEAR}&region={CODES['G2']}")
    assert grid.texts["crumbs"] == "测试县 › 二镇 › 丙村 › 第二网格"
    # A grid's own figures are all its records, wherever it lay: January's (in V1) and April's (in V3).
    assert grid.texts["card-cases_filed"] == "2件"
    assert "table-drill" not in grid.tables
    assert grid.texts["no-children"] == "网格是最小的统计单元，没有下级。"


def test_a_township_s_own_records_show_as_its_own_row(world):
    admin = client_for(Role.TOWNSHIP_ADMIN, world.townships["T2"])
    shown = page(admin, f"/dashboard/industry/?{YEAR}")
    assert shown.tables["table-drill"] == [
        [
            "村（社区）",
            "销售额（元）",
            "销售记录（笔）",
            "销售产品（种）",
            "游客接待量（人次）",
            "旅游收入（元）",
        ],
        ["丙村", "¥0.00", "0", "0", "0", "¥0.00"],
        ["本级", "¥0.00", "0", "0", "300", "¥5,000.00"],
        ["合计", "¥0.00", "0", "0", "300", "¥5,000.00"],
    ]
    response = admin.get(f"/dashboard/industry/?{YEAR}")
    assert response.content.decode().count('data-testid="own-row"') == 1


def test_distinct_counts_are_not_summed_and_the_balance_is_its_running_value(world):
    admin = client_for(Role.COUNTY_ADMIN, world.county)
    canteens = page(admin, f"/dashboard/canteens/?{YEAR}")
    # r0 ate in V1 (T1) and V3 (T2): one person in each township, one in the county.
    assert canteens.tables["table-drill"][1:] == [
        ["一镇", "1", "¥5.00", "1"],
        ["二镇", "1", "¥5.00", "1"],
        ["合计", "2", "¥10.00", "1"],
    ]
    assert canteens.texts["card-beneficiaries"] == "1人"
    points = page(admin, "/dashboard/points/?period=month&month=2026-02")
    assert points.tables["table-drill"][1:] == [
        ["一镇", "0", "20", "—", "30", "0"],
        ["二镇", "30", "0", "0.0%", "30", "1"],
        ["合计", "30", "20", "66.7%", "60", "1"],
    ]
    # February by day: the balance carries January's +50 and moves on 3 and 10 February.
    trend = points.tables["table-trend"]
    assert trend[0] == ["日期", "发放积分（分）", "兑换积分（分）", "积分余额（分）"]
    assert trend[1] == ["2026-02-01", "0", "0", "50"]
    assert trend[3] == ["2026-02-03", "0", "20", "30"]
    assert trend[10] == ["2026-02-10", "30", "0", "60"]
    assert trend[-1] == ["2026-02-28", "0", "0", "60"]


def test_township_admin_and_village_secretary_see_their_own_region_only(world):
    township = client_for(Role.TOWNSHIP_ADMIN, world.townships["T1"])
    shown = page(township, f"/dashboard/?{YEAR}")
    assert shown.texts["title"] == "一镇数据看板"
    assert [row[:2] for row in shown.tables["table-drill"]] == [
        ["村（社区）", "受理诉求（件）"],
        ["甲村", "2"],
        ["乙村", "1"],
        ["合计", "3"],
    ]
    assert township.get(f"/dashboard/?{YEAR}&region={CODES['V2']}").status_code == 200
    assert township.get(f"/dashboard/?{YEAR}&region={CODES['T2']}").status_code == 404
    assert township.get(f"/dashboard/?{YEAR}&region={CODES['C']}").status_code == 404
    assert township.get(f"/dashboard/?region=id:{world.villages['V3'].pk}").status_code == 404

    secretary = client_for(Role.VILLAGE_SECRETARY, world.villages["V1"])
    village = page(secretary, f"/dashboard/grids/?{YEAR}")
    assert village.texts["crumbs"] == "甲村"
    assert [row[:2] for row in village.tables["table-drill"]][1:] == [
        ["第一网格", "1"],
        ["第二网格", "1"],
        ["合计", "2"],
    ]
    assert secretary.get(f"/dashboard/?region={CODES['T1']}").status_code == 404
    assert secretary.get(f"/dashboard/?region={CODES['G3']}").status_code == 404
    assert secretary.get(f"/dashboard/?region={CODES['G1']}").status_code == 200


def test_404s(world):
    canteen_manager = client_for(Role.CANTEEN_MANAGER, world.villages["V1"])
    assert canteen_manager.get("/dashboard/").status_code == 404
    assert canteen_manager.get("/dashboard/grids/").status_code == 404
    nobody = Client()
    nobody.force_login(User.objects.create(username="nobody"))
    assert nobody.get("/dashboard/").status_code == 404
    admin = client_for(Role.COUNTY_ADMIN, world.county)
    assert admin.get("/dashboard/nothing/").status_code == 404
    assert admin.get("/dashboard/?region=999999999999").status_code == 404
    assert admin.get("/dashboard/?region=id:99999999999999999999999").status_code == 404
    assert admin.get("/dashboard/?export=nothing").status_code == 404
    anonymous = Client().get("/dashboard/")
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/login/")


# --- Excel -----------------------------------------------------------------------------------------------


def rows_of(response) -> list[list[object]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_every_table_exports_its_exact_rows(world):
    admin = client_for(Role.COUNTY_ADMIN, world.county)
    response = admin.get(f"/dashboard/?{YEAR}&export=drill")
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    assert rows_of(response) == [
        [
            "乡镇",
            "受理诉求（件）",
            "按期办结率（%）",
            "满意率（%）",
            "发放积分（分）",
            "兑换积分（分）",
            "就餐人次（人次）",
            "政府补贴（元）",
            "销售额（元）",
            "游客接待量（人次）",
        ],
        ["一镇", 3, 50, 50, 50, 20, 1, 5, 1234.5, 0],
        ["二镇", 1, None, None, 30, 0, 1, 5, 0, 300],
        ["合计", 4, 50, 50, 80, 20, 2, 10, 1234.5, 300],
    ]
    ranking = rows_of(admin.get(f"/dashboard/grids/?{YEAR}&rank=on_time_rate&export=ranking"))
    assert ranking == [
        ["名次", "乡镇", "按期办结率（%）", "按期办结（件）", "办结（件）"],
        [1, "一镇", 50, 1, 2],
        [None, "二镇", None, 0, 0],
    ]
    trend = rows_of(admin.get(f"/dashboard/canteens/?{YEAR}&export=trend"))
    assert trend[0] == ["月份", "就餐人次（人次）", "政府补贴（元）"]
    assert trend[1:4] == [["2026-01", 1, 5], ["2026-02", 0, 0], ["2026-03", 1, 5]]


# --- the period picker -----------------------------------------------------------------------------------

TODAY = dt.date(2026, 11, 29)


def test_period_parsing():
    def parsed(**params: str) -> tuple[str, dt.date, dt.date]:
        choice = period_parse(params, today=TODAY)
        assert choice.valid, choice.errors
        return choice.period.kind, choice.period.start, choice.period.end

    assert parsed() == ("month", dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert parsed(period="month", month="2024-02") == ("month", dt.date(2024, 2, 1), dt.date(2024, 2, 29))
    assert parsed(period="quarter", year="2026", quarter="3") == (
        "quarter",
        dt.date(2026, 7, 1),
        dt.date(2026, 9, 30),
    )
    assert parsed(period="quarter") == ("quarter", dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    assert parsed(period="year", year="2022") == ("year", dt.date(2022, 1, 1), dt.date(2022, 12, 31))
    assert parsed(period="custom", start="2026-03-01", end="2026-03-20") == (
        "custom",
        dt.date(2026, 3, 1),
        dt.date(2026, 3, 20),
    )


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"period": "week"}, "period", "请选择按月、按季度、按年或自定义时段。"),
        ({"period": "month", "month": "2026-13"}, "month", "月份格式不对，应为 年-月，例如 2026-11。"),
        ({"period": "month", "month": "abc"}, "month", "月份格式不对，应为 年-月，例如 2026-11。"),
        ({"period": "month", "month": "1999-12"}, "month", "月份应在 2000 年至 2027 年之间。"),
        ({"period": "year", "year": "二〇二六"}, "year", "请填写年份，例如 2026。"),
        ({"period": "year", "year": "2030"}, "year", "年份应在 2000 至 2027 之间。"),
        ({"period": "quarter", "year": "2026", "quarter": "5"}, "quarter", "季度应为第一至第四季度。"),
        ({"period": "custom", "start": "", "end": "2026-01-01"}, "start", "请选择日期。"),
        (
            {"period": "custom", "start": "2026-02-30", "end": "2026-03-01"},
            "start",
            "日期格式不对，应为 年-月-日，例如 2026-11-29。",
        ),
        (
            {"period": "custom", "start": "2026-05-01", "end": "2026-04-01"},
            "end",
            "结束日期不能早于开始日期。",
        ),
        (
            {"period": "custom", "start": "2020-01-01", "end": "2026-01-01"},
            "end",
            "自定义时段最长五年；更长的时段请按年查看。",
        ),
    ],
)
def test_bad_period_input_gives_a_message_by_its_field_and_this_month(params, field, message):
    choice = period_parse(params, today=TODAY)
    assert choice.errors == {field: message}
    assert choice.period == Period("month", dt.date(2026, 11, 1), dt.date(2026, 11, 30))


def test_previous_and_next_periods():
    assert Period("month", dt.date(2026, 1, 1), dt.date(2026, 1, 31)).shifted(-1) == Period(
        "month", dt.date(2025, 12, 1), dt.date(2025, 12, 31)
    )
    assert Period("quarter", dt.date(2026, 10, 1), dt.date(2026, 12, 31)).shifted(1) == Period(
        "quarter", dt.date(2027, 1, 1), dt.date(2027, 3, 31)
    )
    assert Period("year", dt.date(2026, 1, 1), dt.date(2026, 12, 31)).shifted(-1) == Period(
        "year", dt.date(2025, 1, 1), dt.date(2025, 12, 31)
    )
    assert Period("custom", dt.date(2026, 3, 1), dt.date(2026, 3, 10)).shifted(1) == Period(
        "custom", dt.date(2026, 3, 11), dt.date(2026, 3, 20)
    )
    assert Period("year", dt.date(2000, 1, 1), dt.date(2000, 12, 31)).shifted(-1) is None
    assert Period("month", dt.date(2026, 11, 1), dt.date(2026, 11, 30)).by == "day"
    assert Period("quarter", dt.date(2026, 10, 1), dt.date(2026, 12, 31)).by == "month"


def test_a_bad_period_on_the_page_keeps_what_was_typed(world):
    admin = client_for(Role.COUNTY_ADMIN, world.county)
    response = admin.get("/dashboard/?period=custom&start=2026-05-01&end=2026-04-01")
    assert response.status_code == 200
    html = response.content.decode()
    assert (
        '<p class="field__error" id="end-error" data-testid="error-end">结束日期不能早于开始日期。</p>'
        in html
    )
    assert 'name="start" value="2026-05-01"' in html
    assert 'name="end" value="2026-04-01" aria-invalid="true"' in html
    assert '<option value="custom" selected>' in html


def test_previous_and_next_links_keep_the_region(world):
    admin = client_for(Role.COUNTY_ADMIN, world.county)
    html = admin.get(
        f"/dashboard/grids/?period=quarter&year=2026&quarter=1&region={CODES['T1']}"
    ).content.decode()
    assert (
        f'href="/dashboard/grids/?region={CODES["T1"]}&amp;period=quarter&amp;year=2025&amp;quarter=4"'
        in html
    )
    assert (
        f'href="/dashboard/grids/?region={CODES["T1"]}&amp;period=quarter&amp;year=2026&amp;quarter=2"'
        in html
    )


# --- the same figures as the rollup selectors --------------------------------------------------------------


def test_the_page_s_figures_equal_the_rollup_selectors_at_every_level(world):
    user = User.objects.create(username="checker")
    RoleAssignment.objects.create(user=user, role=Role.COUNTY_ADMIN, region=world.county)
    metrics = sorted(
        {m for spec in selectors.PAGES.values() for m in spec.metrics} | {"points.households_awarded"}
    )
    distinct = {m for m in metrics if registry.metric_get(m).distinct}
    regions = [world.county, *world.townships.values(), *world.villages.values(), *world.grids.values()]
    # A county's and a township's figures come from the coarse facts (whole months from the monthly
    # table, the days around them and a daily trend from the daily one); the selectors read the facts.
    for start, end, by in (
        (dt.date(2026, 1, 1), dt.date(2026, 12, 31), "month"),
        (dt.date(2026, 2, 3), dt.date(2026, 3, 20), "month"),
        (dt.date(2026, 1, 11), dt.date(2026, 3, 3), "month"),
        (dt.date(2026, 1, 12), dt.date(2026, 4, 11), "month"),
        (dt.date(2026, 4, 1), dt.date(2026, 6, 30), "month"),
        (dt.date(2026, 2, 1), dt.date(2026, 2, 28), "day"),
        (dt.date(2026, 1, 25), dt.date(2026, 3, 5), "day"),
    ):
        for region in regions:
            place = selectors.dashboard_place(user=user, param=f"id:{region.pk}")
            figures = selectors.figures_read(
                place=place, metrics=metrics, trend_metrics=metrics, start=start, end=end, by=by
            )
            for metric in metrics:
                args = {"user": user, "metric": metric, "region": region, "start": start, "end": end}
                assert figures.totals[metric] == rollup_selectors.metric_total(**args).value, (metric, region)
                children = rollup_selectors.metric_by_child(**args)
                # The page lists the children named by any of its metrics (a grid moved away with cases but no
                # meals, the 本级 row): those the selector leaves out for this metric show 0.
                mine = {c.region_id: c.values[metric] for c in figures.children}
                theirs = {c.region_id: c.value for c in children}
                assert {k: mine[k] for k in theirs} == theirs, (metric, region)
                assert not any(v for k, v in mine.items() if k not in theirs), (metric, region)
                assert [k for k in mine if k in theirs] == list(theirs), (metric, region)
                if by == "day" and metric in distinct:
                    assert metric not in figures.trends  # a distinct count has no daily trend
                    continue
                series = rollup_selectors.metric_series(**args, by=by)
                assert figures.trends[metric] == [p.value for p in series], (metric, region, by)


# --- queries ---------------------------------------------------------------------------------------------


def more_townships(world: f.World, count: int) -> None:
    for n in range(count):
        township = f.region_make(f"新镇{n}", "township", "town", world.county)
        village = f.region_make(f"新村{n}", "village", "village", township)
        f.region_make(f"新网格{n}", "grid", "grid", village)


def queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_a_constant_number_of_queries_whatever_the_number_of_children(world):
    admin = client_for(Role.COUNTY_ADMIN, world.county)
    url = f"/dashboard/points/?{YEAR}"
    overview = f"/dashboard/?{YEAR}"
    admin.get(url)  # the session's first touch
    # Session, user, role assignments, the region, the facts (by child and by month in one pass), the
    # members (by child and whole), child names, rollup_status (role assignments, the last pass, the last
    # verification) and the navigation's primary role.
    assert queries(admin, url) == 11
    # The overview adds the headline summary's (governance.selectors.summary) and the quality panel's
    # (governance.selectors.quality) own queries.
    assert queries(admin, overview) == 20
    more_townships(world, 6)
    assert queries(admin, url) == 11
    assert queries(admin, overview) == 20
    shown = page(admin, url)
    assert len(shown.tables["table-drill"]) == 1 + 8 + 1


def test_without_postgresql_the_page_says_so_instead_of_failing(world, monkeypatch):
    admin = client_for(Role.COUNTY_ADMIN, world.county)
    monkeypatch.setattr(connection, "vendor", "sqlite")
    shown = page(admin, "/dashboard/")
    assert shown.texts["no-rollups"].startswith("当前使用的是演示数据库（SQLite），不能运行数据汇总")
    assert "table-drill" not in shown.tables
    assert admin.get("/dashboard/?export=drill").status_code == 404


def test_the_note_says_when_the_figures_were_last_rolled_up(world):
    from django.utils import timezone

    from governance.models import RollupKind, RollupRun, RollupStatus

    admin = client_for(Role.COUNTY_ADMIN, world.county)
    assert page(admin, "/dashboard/").texts["rollup-status"] == "数据每 5 分钟更新；还没有汇总过。"
    now = timezone.localtime()
    RollupRun.objects.create(
        kind=RollupKind.INCREMENTAL, status=RollupStatus.OK, started_at=now, finished_at=now.replace(second=0)
    )
    earlier = now - dt.timedelta(days=3)
    RollupRun.objects.create(
        kind=RollupKind.FULL, status=RollupStatus.OK, started_at=earlier, finished_at=earlier
    )
    shown = page(admin, "/dashboard/grids/")
    assert shown.texts["rollup-status"] == f"数据每 5 分钟更新，截至 {now:%H:%M}"
    assert shown.texts["print-as-of"].startswith(f"数据截至 {now:%Y-%m-%d %H:%M}")

"""The pages that change the region tree (add a region, change a statistical code, move a grid) and the
picker endpoint: who gets them, what they write, their Chinese errors next to the field with the input
kept, and idempotent replays."""

from __future__ import annotations

import datetime as dt
import re
import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from governance.models import (
    AuditAction,
    AuditEvent,
    Household,
    Region,
    RegionCode,
    RegionKind,
    RegionMove,
    User,
)
from governance.services import regions as region_services
from tests.governance.regions_fixture import build_people

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(demo_county):
    return build_people(demo_county)


def login(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password="xiangzhi-demo")
    return client


def url(name: str, *args: object) -> str:
    return reverse(f"governance:{name}", args=args)


def html_of(response) -> str:
    return response.content.decode()


def field_block(html: str, name: str) -> str:
    """The markup of the form field `name` (its wrapper div, label, input and errors)."""
    start = html.index(f'name="{name}"')
    begin = html.rfind('<div class="field', 0, start)
    return html[begin : html.index("</div>", start)]


def hidden_key(html: str) -> str:
    found = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', html)
    assert found, "the form carries an idempotency key"
    return found.group(1)


def audit_rows(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, object_type="governance.region").order_by("pk"))


# ---------- the node page offers the actions to editors only ----------


@pytest.mark.parametrize(
    ("username", "region", "actions"),
    [
        ("county_admin", "谷城县", ["region-add-child", "region-code-change"]),
        ("township_admin", "城关镇", ["region-add-child", "region-code-change"]),
        ("township_admin", "新华村", ["region-add-child", "region-code-change"]),
        ("township_admin", "第一网格", ["region-move", "region-code-change"]),
        ("village_secretary", "新华村", []),
        ("grid_leader", "第一网格", []),
    ],
)
def test_node_page_offers_tree_changes_to_editors_only(people, username, region, actions):
    html = html_of(login(username).get(url("regions_node", people.regions[region].pk)))
    found = re.findall(r'data-testid="(region-add-child|region-move|region-code-change)"', html)
    assert found == actions


def test_add_child_button_names_the_level(people):
    client = login("township_admin")
    assert ">新增村（社区）</a>" in html_of(client.get(url("regions_node", people.regions["城关镇"].pk)))
    assert ">新增网格</a>" in html_of(client.get(url("regions_node", people.regions["新华村"].pk)))


# ---------- adding a region ----------


def test_township_admin_adds_a_grid_under_a_village(people):
    client = login("township_admin")
    village = people.regions["新华村"]
    form = client.get(url("regions_child_create", village.pk))
    assert form.status_code == 200
    html = html_of(form)
    key = hidden_key(html)
    assert "新增网格" in html
    # A grid has one kind: it is not asked for.
    assert '<input type="hidden" name="kind" value="grid"' in html
    response = client.post(
        url("regions_child_create", village.pk),
        {
            "name": " 第三网格 ",
            "kind": "grid",
            "code": "420625100201003",
            "valid_from": "2025-03-01",
            "idempotency_key": key,
        },
    )
    grid = Region.objects.get(parent=village, name="第三网格")
    assert response.status_code == 302
    assert response["Location"] == url("regions_node", grid.pk)
    assert (grid.level, grid.kind, grid.code, grid.path) == (
        "grid",
        "grid",
        "420625100201003",
        f"{village.path}{grid.pk}/",
    )
    assert list(RegionCode.objects.filter(region=grid).values_list("code", "valid_from", "valid_to")) == [
        ("420625100201003", dt.date(2025, 3, 1), None)
    ]
    [event] = audit_rows(AuditAction.CREATE)
    admin = User.objects.get(username="township_admin")
    assert (event.actor_id, event.object_id, event.region_path) == (admin.pk, str(grid.pk), grid.path)
    assert event.changes == {
        "parent": [None, "新华村"],
        "name": [None, "第三网格"],
        "kind": [None, "grid"],
        "code": [None, "420625100201003"],
        "idempotency_key": [None, key],
    }
    assert event.detail == "在“新华村”下新增网格“第三网格”"
    page = html_of(client.get(response["Location"]))
    assert "已在“新华村”下新增网格“第三网格”。" in page

    # The same form sent again (a double tap, a retry after a timeout) creates nothing more.
    again = client.post(
        url("regions_child_create", village.pk),
        {
            "name": "第三网格",
            "kind": "grid",
            "code": "420625100201003",
            "valid_from": "2025-03-01",
            "idempotency_key": key,
        },
    )
    assert again.status_code == 302
    assert again["Location"] == url("regions_node", grid.pk)
    assert Region.objects.filter(parent=village).count() == 3
    assert len(audit_rows(AuditAction.CREATE)) == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_submissions_with_one_key_create_one_region(transactional_db):
    """A double tap sends two requests at once: the second waits on the parent's row lock, then finds
    the first's result instead of failing on the name it just took."""
    from governance.demo import seed_demo_county

    village = seed_demo_county(password="xiangzhi-demo")["新华村"]
    admin = User.objects.get(username="township_admin")
    barrier = threading.Barrier(2)
    created: list[int] = []
    failures: list[BaseException] = []

    def submit() -> None:
        try:
            barrier.wait()
            region = region_services.region_child_create(
                actor=admin, parent=village, name="第三网格", kind=RegionKind.GRID, idempotency_key="k" * 32
            )
            created.append(region.pk)
        except BaseException as failure:  # reported by the assertion below
            failures.append(failure)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    grid = Region.objects.get(parent=village, name="第三网格")
    assert created == [grid.pk, grid.pk]
    assert AuditEvent.objects.filter(action=AuditAction.CREATE, object_id=str(grid.pk)).count() == 1


def test_county_admin_adds_a_community_without_a_code(people):
    client = login("county_admin")
    township = people.regions["石花镇"]
    key = hidden_key(html_of(client.get(url("regions_child_create", township.pk))))
    response = client.post(
        url("regions_child_create", township.pk),
        {"name": "新城社区", "kind": "community", "code": "", "valid_from": "", "idempotency_key": key},
    )
    village = Region.objects.get(parent=township, name="新城社区")
    assert response["Location"] == url("regions_node", village.pk)
    assert (village.level, village.kind, village.code) == ("village", "community", "")
    assert not RegionCode.objects.filter(region=village).exists()


@pytest.mark.parametrize(
    ("posted", "field", "message"),
    [
        ({"name": ""}, "name", "请填写名称。"),
        ({"name": "第一网格"}, "name", "“新华村”下已有名为“第一网格”的区域。"),
        ({"code": "42062510020100"}, "code", "网格的统计用区划代码应为15位数字。"),
        ({"code": "42062510020100X"}, "code", "网格的统计用区划代码应为15位数字。"),
        ({"code": "420625100202001"}, "code", "网格的代码应以上级“新华村”的代码前12位 420625100201 开头。"),
        ({"code": "420625100201001"}, "code", "代码 420625100201001 正被其他区域使用，不能重复启用。"),
        ({"valid_from": ""}, "valid_from", "请填写代码的启用日期。"),
        ({"valid_from": "2025-02-30"}, "valid_from", "请输入有效的日期，如 2024-01-01。"),
    ],
)
def test_add_region_errors_sit_next_to_the_field_and_keep_the_input(people, posted, field, message):
    client = login("township_admin")
    village = people.regions["新华村"]
    data = {
        "name": "第三网格",
        "kind": "grid",
        "code": "420625100201003",
        "valid_from": "2025-03-01",
        "idempotency_key": "a" * 32,
        **posted,
    }
    response = client.post(url("regions_child_create", village.pk), data)
    assert response.status_code == 200
    html = html_of(response)
    assert f'<p class="field__error" id="id_{field}-error">{message}</p>' in field_block(html, field)
    for name in ("name", "code", "valid_from"):
        if data[name] and name in ("name", "code"):
            assert f'value="{data[name]}"' in field_block(html, name)
    assert hidden_key(html) == "a" * 32  # the retry keeps the same key
    assert Region.objects.filter(parent=village).count() == 2
    assert audit_rows(AuditAction.CREATE) == []


def test_add_village_refuses_a_kind_of_another_level(people):
    response = login("township_admin").post(
        url("regions_child_create", people.regions["城关镇"].pk),
        {"name": "新村", "kind": "grid", "idempotency_key": "b" * 32},
    )
    assert '<p class="field__error" id="id_kind-error">请选择列表中的类型。</p>' in html_of(response)
    assert not Region.objects.filter(name="新村").exists()


def test_add_region_without_idempotency_key_is_refused(people):
    response = login("township_admin").post(
        url("regions_child_create", people.regions["新华村"].pk), {"name": "第三网格", "kind": "grid"}
    )
    assert response.status_code == 200
    assert "缺少防重复提交标识，请刷新页面后重新提交。" in html_of(response)
    assert not Region.objects.filter(name="第三网格").exists()


@pytest.mark.parametrize(
    ("username", "region"),
    [
        ("village_secretary", "新华村"),  # in scope, but may not change the tree
        ("grid_leader", "第一网格"),
        ("township_admin", "民营社区"),  # another township
        ("canteen_manager", "民营社区"),
        ("township_admin", "第一网格"),  # a grid has no children
    ],
)
def test_add_region_answers_404_outside_editing_reach(people, username, region):
    client = login(username)
    target = people.regions[region]
    assert client.get(url("regions_child_create", target.pk)).status_code == 404
    response = client.post(
        url("regions_child_create", target.pk),
        {"name": "越权网格", "kind": "grid", "idempotency_key": "c" * 32},
    )
    assert response.status_code == 404
    assert not Region.objects.filter(name="越权网格").exists()
    assert audit_rows(AuditAction.CREATE) == []


def test_manage_pages_need_a_login(people):
    grid = people.regions["第一网格"]
    for name in ("regions_child_create", "regions_code_change", "regions_grid_move"):
        response = Client().get(url(name, grid.pk))
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")
    assert Client().get(url("regions_picker"))["Location"].startswith("/login/")


# ---------- changing a statistical code ----------


def test_code_change_writes_the_history_and_shows_it(people):
    client = login("township_admin")
    village = people.regions["新华村"]
    page = html_of(client.get(url("regions_code_change", village.pk)))
    assert '<span class="region-code" data-testid="current-code">420625100201</span>' in page
    assert "还没有代码变更记录" in page
    key = hidden_key(page)
    response = client.post(
        url("regions_code_change", village.pk),
        {"code": "420625100215", "valid_from": "2024-01-01", "idempotency_key": key},
    )
    assert response.status_code == 302
    assert response["Location"] == url("regions_code_change", village.pk)
    village.refresh_from_db()
    assert village.code == "420625100215"
    # The code in use before had no period (seeded without a start date): back-filled, then closed.
    history = list(
        RegionCode.objects.filter(region=village)
        .order_by("valid_from")
        .values_list("code", "valid_from", "valid_to")
    )
    assert history == [
        ("420625100201", dt.date(2023, 12, 31), dt.date(2024, 1, 1)),
        ("420625100215", dt.date(2024, 1, 1), None),
    ]
    [event] = audit_rows(AuditAction.UPDATE)
    assert event.changes == {
        "code": ["420625100201", "420625100215"],
        "valid_from": [None, "2024-01-01"],
        "idempotency_key": [None, key],
    }
    page = html_of(client.get(response["Location"]))
    assert "“新华村”的统计用区划代码已变更为 420625100215，自 2024年1月1日 起启用。" in page
    items = re.findall(r'<li class="region-history__item" data-code="(\d+)">(.*?)</li>', page, re.S)
    assert [(code, re.sub(r"<[^>]+>|\s+", " ", body).split()) for code, body in items] == [
        ("420625100215", ["420625100215", "2024年1月1日", "起启用", "现用"]),
        ("420625100201", ["420625100201", "2023年12月31日", "启用，2024年1月1日", "停用"]),
    ]

    # Replayed: no second period, no second audit entry, the same answer.
    again = client.post(
        url("regions_code_change", village.pk),
        {"code": "420625100215", "valid_from": "2024-01-01", "idempotency_key": key},
    )
    assert again.status_code == 302
    assert RegionCode.objects.filter(region=village).count() == 2
    assert len(audit_rows(AuditAction.UPDATE)) == 1


@pytest.mark.parametrize(
    ("posted", "field", "message"),
    [
        ({"code": ""}, "code", "请填写统计用区划代码。"),
        ({"code": "42062510021"}, "code", "村（社区）的统计用区划代码应为12位数字。"),
        ({"code": "420625100201"}, "code", "新代码与现用代码相同。"),
        ({"code": "420625101002"}, "code", "代码 420625101002 正被其他区域使用，不能重复启用。"),
        ({"valid_from": ""}, "valid_from", "请填写启用日期。"),
    ],
)
def test_code_change_errors_sit_next_to_the_field(people, posted, field, message):
    client = login("township_admin")
    village = people.regions["新华村"]
    data = {"code": "420625100215", "valid_from": "2024-01-01", "idempotency_key": "d" * 32, **posted}
    response = client.post(url("regions_code_change", village.pk), data)
    assert response.status_code == 200
    html = html_of(response)
    assert f'<p class="field__error" id="id_{field}-error">{message}</p>' in field_block(html, field)
    if data["code"]:
        assert f'value="{data["code"]}"' in field_block(html, "code")
    village.refresh_from_db()
    assert village.code == "420625100201"
    assert not RegionCode.objects.filter(region=village).exists()


def test_code_change_date_must_follow_the_current_period(people):
    client = login("county_admin")
    grid = people.regions["第二网格"]
    client.post(
        url("regions_code_change", grid.pk),
        {"code": "420625100201012", "valid_from": "2024-06-01", "idempotency_key": "e" * 32},
    )
    response = client.post(
        url("regions_code_change", grid.pk),
        {"code": "420625100201013", "valid_from": "2024-06-01", "idempotency_key": "f" * 32},
    )
    html = html_of(response)
    assert "启用日期须晚于现用代码的启用日期（2024-06-01）。" in field_block(html, "valid_from")
    assert 'value="2024-06-01"' in field_block(html, "valid_from")
    grid.refresh_from_db()
    assert grid.code == "420625100201012"


@pytest.mark.parametrize(
    ("username", "region"),
    [("village_secretary", "新华村"), ("grid_leader", "第一网格"), ("township_admin", "民营社区")],
)
def test_code_change_answers_404_outside_editing_reach(people, username, region):
    client = login(username)
    target = people.regions[region]
    before = target.code
    assert client.get(url("regions_code_change", target.pk)).status_code == 404
    response = client.post(
        url("regions_code_change", target.pk),
        {"code": "420625100299", "valid_from": "2024-01-01", "idempotency_key": "g" * 32},
    )
    assert response.status_code == 404
    target.refresh_from_db()
    assert target.code == before
    assert audit_rows(AuditAction.UPDATE) == []


# ---------- moving a grid ----------


def options(html: str, name: str) -> list[tuple[str, list[str]]]:
    """The <optgroup>s of the select `name`: (label, [option texts])."""
    select = html[html.index(f'name="{name}"') :]
    select = select[: select.index("</select>")]
    return [
        (label, re.findall(r"<option value=\"\d+\"[^>]*>([^<]+)</option>", body))
        for label, body in re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', select, re.S)
    ]


def test_move_page_offers_the_villages_in_reach(people):
    grid = people.regions["第二网格"]
    township = html_of(login("township_admin").get(url("regions_grid_move", grid.pk)))
    assert options(township, "to_village") == [("城关镇", ["东街社区", "新华村（现属）"])]
    assert '<strong data-testid="current-village">新华村</strong>' in township
    assert "这个网格还没有调整过所属村（社区）。" in township
    county = html_of(login("county_admin").get(url("regions_grid_move", grid.pk)))
    assert options(county, "to_village") == [
        ("城关镇", ["东街社区", "新华村（现属）"]),
        ("石花镇", ["民营社区"]),
        ("五山镇", ["堰河村"]),
        ("紫金镇", ["花圃村"]),
    ]


def test_township_admin_moves_a_grid_and_sees_the_history(people):
    client = login("township_admin")
    grid = people.regions["第二网格"]
    old_path = grid.path
    target = people.regions["东街社区"]
    key = hidden_key(html_of(client.get(url("regions_grid_move", grid.pk))))
    response = client.post(
        url("regions_grid_move", grid.pk),
        {"to_village": target.pk, "reason": "按镇区划调整方案并入东街社区", "idempotency_key": key},
    )
    assert response.status_code == 302
    assert response["Location"] == url("regions_grid_move", grid.pk)
    grid.refresh_from_db()
    assert (grid.parent_id, grid.path) == (target.pk, f"{target.path}{grid.pk}/")
    [move] = RegionMove.objects.filter(region=grid)
    admin = User.objects.get(username="township_admin")
    assert (
        move.from_parent_id,
        move.to_parent_id,
        move.old_path,
        move.new_path,
        move.moved_by_id,
        move.reason,
    ) == (
        people.regions["新华村"].pk,
        target.pk,
        old_path,
        grid.path,
        admin.pk,
        "按镇区划调整方案并入东街社区",
    )
    # The household on the grid follows it: it is now counted under 东街社区.
    assert Household.objects.get(number="XH-101").grid.path.startswith(target.path)
    [event] = audit_rows(AuditAction.MOVE)
    assert event.changes == {
        "parent": ["新华村", "东街社区"],
        "path": [old_path, grid.path],
        "idempotency_key": [None, key],
    }
    page = html_of(client.get(response["Location"]))
    assert "已将“第二网格”从“新华村”调整到“东街社区”。" in page
    assert '<strong data-testid="current-village">东街社区</strong>' in page
    history = page[page.index('data-testid="move-history"') :]
    assert "从“新华村”调整到“东街社区”" in history
    assert "陈静" in history
    assert "按镇区划调整方案并入东街社区" in history
    assert options(page, "to_village") == [("城关镇", ["东街社区（现属）", "新华村"])]

    # Replayed: the same move, not a second one (nor an error that it is already there).
    again = client.post(
        url("regions_grid_move", grid.pk),
        {"to_village": target.pk, "reason": "按镇区划调整方案并入东街社区", "idempotency_key": key},
    )
    assert again.status_code == 302
    assert RegionMove.objects.filter(region=grid).count() == 1
    assert len(audit_rows(AuditAction.MOVE)) == 1


@pytest.mark.parametrize(
    ("posted", "field", "message"),
    [
        ({"reason": "  "}, "reason", "请填写调整原因。"),
        ({"to_village": ""}, "to_village", "请选择要调整到的村（社区）。"),
        ({"to_village": "new_village"}, "to_village", "“第二网格”已在“新华村”下。"),
        ({"to_village": "民营社区"}, "to_village", None),  # another township's village
    ],
)
def test_move_errors_sit_next_to_the_field_and_keep_the_input(people, posted, field, message):
    client = login("township_admin")
    grid = people.regions["第二网格"]
    data = {
        "to_village": people.regions["东街社区"].pk,
        "reason": "并村",
        "idempotency_key": "h" * 32,
        **posted,
    }
    if data["to_village"] == "new_village":
        data["to_village"] = people.regions["新华村"].pk
    elif data["to_village"] == "民营社区":
        data["to_village"] = people.regions["民营社区"].pk
    response = client.post(url("regions_grid_move", grid.pk), data)
    assert response.status_code == 200
    html = html_of(response)
    block = field_block(html, field)
    assert (message or "请选择列表中的村（社区）。") in block
    if data["reason"].strip():
        assert "并村</textarea>" in field_block(html, "reason")
    grid.refresh_from_db()
    assert grid.parent_id == people.regions["新华村"].pk
    assert not RegionMove.objects.exists()


@pytest.mark.parametrize(
    ("username", "region"),
    [
        ("village_secretary", "第一网格"),
        ("grid_leader", "第一网格"),
        ("township_admin", "民营第一网格"),
        ("township_admin", "新华村"),  # not a grid
    ],
)
def test_move_answers_404_outside_editing_reach(people, username, region):
    client = login(username)
    target = people.regions[region]
    assert client.get(url("regions_grid_move", target.pk)).status_code == 404
    response = client.post(
        url("regions_grid_move", target.pk),
        {"to_village": people.regions["东街社区"].pk, "reason": "越权", "idempotency_key": "i" * 32},
    )
    assert response.status_code == 404
    assert not RegionMove.objects.exists()


# ---------- the picker endpoint ----------


def picked(client: Client, parent: Region | None = None, purpose: str = "") -> list[str]:
    query: dict[str, str | int] = {"purpose": purpose} if purpose else {}
    if parent is not None:
        query["parent"] = parent.pk
    response = client.get(url("regions_picker"), query)
    assert response.status_code == 200, response.content
    return [choice["name"] for choice in response.json()["choices"]]


def test_picker_walks_down_to_the_users_scope_only(people):
    r = people.regions
    secretary = login("village_secretary")
    assert picked(secretary) == ["城关镇"]  # the way down to 新华村, not the township's other villages
    assert picked(secretary, r["城关镇"]) == ["新华村"]
    assert picked(secretary, r["新华村"]) == ["第一网格", "第二网格"]
    assert picked(secretary, r["第一网格"]) == []
    county = login("county_admin")
    assert picked(county) == [
        "城关镇",
        "石花镇",
        "盛康镇",
        "庙滩镇",
        "五山镇",
        "茨河镇",
        "南河镇",
        "紫金镇",
        "冷集镇",
        "赵湾乡",
    ]
    assert picked(county, r["城关镇"]) == ["东街社区", "新华村"]


def test_picker_answers_in_full(people):
    r = people.regions
    body = login("township_admin").get(url("regions_picker"), {"parent": r["城关镇"].pk}).json()
    assert body == {
        "parent": r["城关镇"].pk,
        "choices": [
            {
                "id": r["东街社区"].pk,
                "name": "东街社区",
                "level": "village",
                "kind": "community",
                "kind_label": "社区",
                "code": "420625100002",
            },
            {
                "id": r["新华村"].pk,
                "name": "新华村",
                "level": "village",
                "kind": "village",
                "kind_label": "村",
                "code": "420625100201",
            },
        ],
    }


def test_picker_purpose_narrows_to_the_roles_that_may_use_the_form(people):
    r = people.regions
    leader = login("grid_leader")
    assert picked(leader, r["新华村"], "people") == ["第一网格"]
    canteen = login("canteen_manager")
    assert picked(canteen) == ["石花镇"]
    assert picked(canteen, purpose="people") == []  # may not register households anywhere
    assert (
        canteen.get(url("regions_picker"), {"parent": r["石花镇"].pk, "purpose": "people"}).status_code == 404
    )
    # Moving grids is for county and township admins.
    assert picked(login("village_secretary"), purpose="regions") == []
    assert picked(login("township_admin"), r["城关镇"], "regions") == ["东街社区", "新华村"]


@pytest.mark.parametrize("parent", ["石花镇", "民营社区", "东街社区"])
def test_picker_answers_404_for_a_parent_out_of_reach(people, parent):
    response = login("village_secretary").get(url("regions_picker"), {"parent": people.regions[parent].pk})
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "未找到该区域，或者它不在您的管辖范围内。"}


def test_picker_refuses_a_malformed_parent(people):
    assert login("county_admin").get(url("regions_picker"), {"parent": "1 OR 1=1"}).status_code == 404

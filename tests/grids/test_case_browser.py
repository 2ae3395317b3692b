"""A case's whole life in a real browser at desktop size: the village secretary accepts it from the
queue and assigns it, the handler signs for it and resolves it, the reporter follows up (满意), the
secretary archives it. Then the database holds exactly that. A second test walks the queue and the case
page at phone and desktop size for the screenshots people look at."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from grids.models import Case, CaseEvent, CaseStatus, Satisfaction, WarningLevel
from tests.browser_fixtures import login
from tests.grids.factories import case_bring_to, case_make, grids_world_make

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _as(page, username: str) -> None:
    page.context.clear_cookies()
    login(page, username)


def _action(page, name: str):
    """Open the action `name` on the case page and return its form."""
    details = page.locator(f'details[data-action="{name}"]')
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    return page.get_by_test_id(f"form-{name}")


def test_a_case_from_the_queue_to_the_archive(desktop, demo_county, screenshot):
    world = grids_world_make(demo_county)
    case = case_make(world, description="新华村第一网格村道塌陷一处，约两米长，雨天车辆难以通行。")
    page = desktop

    _as(page, "village_secretary")
    page.goto("/grids/queue/")
    row = page.locator(f'li[data-case="{case.number}"]')
    row.get_by_role("checkbox").check()
    page.get_by_test_id("queue-bulk-accept").click()
    page.wait_for_load_state()
    assert f"已受理 1 件：{case.number}" in page.locator(".messages").inner_text()
    page.get_by_test_id("queue-tabs").locator('[data-tab="accepted"]').click()
    page.locator(f'li[data-case="{case.number}"] a.gc-qcase__number').click()
    page.wait_for_url(f"**/grids/cases/{case.number}/")
    form = _action(page, "assign")
    form.get_by_label("承办单位").select_option(label="新华村村民委员会（新华村）")
    form.get_by_label("承办人（可不选）").select_option(label="新华村文书")
    form.get_by_role("button", name="确认派单").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("case-status").inner_text() == "已派单"
    screenshot(page, "assigned")

    _as(page, "xinhua_clerk")
    page.goto(f"/grids/cases/{case.number}/")
    _action(page, "sign_for").get_by_role("button", name="确认签收").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("case-status").inner_text() == "已签收"
    form = _action(page, "resolve")
    form.get_by_label("办理结果").fill("已组织村民小组用碎石填平塌陷路段，并设置警示标志。")
    form.get_by_role("button", name="确认办结").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("case-status").inner_text() == "已办结"

    _as(page, "grid_leader")
    page.goto(f"/grids/cases/{case.number}/")
    form = _action(page, "follow_up")
    form.locator("label.gc-radio", has_text="满意").first.click()
    form.get_by_role("button", name="确认回访").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("case-status").inner_text() == "已回访"

    _as(page, "village_secretary")
    page.goto(f"/grids/cases/{case.number}/")
    _action(page, "archive").get_by_role("button", name="确认归档").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("case-status").inner_text() == "已归档"
    screenshot(page, "closed")

    case = Case.objects.get(pk=case.pk)
    assert case.status == CaseStatus.CLOSED
    assert case.level == "village"
    assert case.handling_region_id == world.regions["新华村"].pk
    assert case.assigned_unit_id == world.units["xinhua"].pk
    assert case.assigned_user_id == world.users["xinhua_clerk"].pk
    assert case.satisfaction == Satisfaction.SATISFIED
    assert case.result == "已组织村民小组用碎石填平塌陷路段，并设置警示标志。"
    assert case.signed_on_time is True
    assert case.resolved_on_time is True
    assert case.rehandle_count == 0
    assert case.transfer_count == 0
    assert case.warning == WarningLevel.NONE
    for stamp in ("accepted_at", "assigned_at", "signed_at", "resolved_at", "followed_up_at", "closed_at"):
        assert getattr(case, stamp) is not None, stamp
    assert case.accepted_at <= case.assigned_at <= case.signed_at <= case.resolved_at
    assert case.resolved_at <= case.followed_up_at <= case.closed_at <= timezone.now()
    events = list(CaseEvent.objects.filter(case=case).order_by("at", "pk"))
    assert [(e.kind, e.from_status, e.to_status, e.actor.username) for e in events] == [
        ("file", "", "submitted", "grid_leader"),
        ("accept", "submitted", "accepted", "village_secretary"),
        ("assign", "accepted", "assigned", "village_secretary"),
        ("sign_for", "assigned", "signed", "xinhua_clerk"),
        ("resolve", "signed", "resolved", "xinhua_clerk"),
        ("follow_up", "resolved", "followed_up", "grid_leader"),
        ("archive", "followed_up", "closed", "village_secretary"),
    ]
    assert events[2].data["unit_id"] == world.units["xinhua"].pk
    assert events[2].data["user_id"] == world.users["xinhua_clerk"].pk
    assert events[5].data == {"satisfaction": "satisfied"}


def test_queue_and_case_pages_at_phone_and_desktop_size(phone, desktop, demo_county, screenshot):
    world = grids_world_make(demo_county)
    texts = [
        ("road", "村道塌陷一处，约两米长，雨天车辆难以通行。"),
        ("boundary", "两户村民因宅基地边界发生争执，要求村里出面调解。"),
        ("road", "村口路灯三盏不亮，夜间出行不便。"),
    ]
    cases = []
    for index in range(6):
        category, description = texts[index % len(texts)]
        cases.append(case_make(world, category=category, description=description, resident="王建国"))
    case_bring_to(world, cases[1], CaseStatus.ACCEPTED)
    case_bring_to(world, cases[2], CaseStatus.ASSIGNED)
    case_bring_to(world, cases[3], CaseStatus.IN_PROGRESS)
    Case.objects.filter(pk=cases[2].pk).update(warning=WarningLevel.YELLOW)
    Case.objects.filter(pk=cases[3].pk).update(
        warning=WarningLevel.RED, resolve_deadline=timezone.now() - dt.timedelta(days=1)
    )
    Case.objects.filter(pk=cases[0].pk).update(urgency="critical")
    for page, size in ((phone, "phone"), (desktop, "desktop")):
        _as(page, "village_secretary")
        page.goto("/grids/queue/")
        screenshot(page, f"queue-{size}")
        page.goto("/grids/queue/?tab=handling")
        screenshot(page, f"queue-handling-{size}")
        page.goto(f"/grids/cases/{cases[3].number}/")
        screenshot(page, f"case-{size}")
        page.goto(f"/grids/cases/{cases[1].number}/")
        _action(page, "assign")
        screenshot(page, f"case-assign-{size}")
        # A form refused by the server keeps what was typed and says why next to the field.
        form = _action(page, "not_responsible")
        form.get_by_label("说明").fill("不属于村级职责")
        form.get_by_role("button", name="确认非职责范围").click()
        page.wait_for_load_state()
        error = page.locator('details[data-action="not_responsible"] [data-field="routed_to"] .field__error')
        assert error.inner_text() == "请填写转办去向。"
        assert (
            page.locator('details[data-action="not_responsible"] textarea').input_value() == "不属于村级职责"
        )
        screenshot(page, f"case-error-{size}")

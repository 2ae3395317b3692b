"""The awards pages: propose (phone form), batch (all or none, errors beside each row), the review queue
(approve, reject with reason, bulk), list, detail with objections and the decision, rules and policy
pages, and scope (out of scope answers 404)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from points.models import Award, AwardStatus, ObjectionStatus, Rule
from points.services.objections import objection_file
from tests.points.award_factories import award_bring_to, award_make, awards_world_make, photo_upload

NOW = dt.datetime(2026, 11, 18, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def world(demo_county):
    return awards_world_make(demo_county)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def login(world, username: str) -> Client:
    client = Client()
    client.force_login(world.users[username])
    return client


def test_propose_page_lists_own_grid_and_creates(world):
    client = login(world, "grid_leader")
    page = client.get("/points/awards/propose/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "XH-001" in html
    assert "XH-002" in html
    assert "XH-101" not in html  # 第二网格
    assert "XH-003" not in html  # inactive
    form = {
        "idempotency_key": "page-key-1",
        "household": world.households["王家"].pk,
        "rule": world.rule("HJ-01").pk,
        "occurred_on": "2026-11-16",
        "note": "院落干净",
    }
    missing_photo = client.post("/points/awards/propose/", form)
    assert missing_photo.status_code == 200
    html = missing_photo.content.decode()
    assert "该条目须附现场照片，请至少上传 1 张。" in html
    assert "院落干净" in html  # what was typed is kept
    created = client.post("/points/awards/propose/", {**form, "photos": [photo_upload()]})
    award = Award.objects.get()
    assert created.status_code == 302
    assert created["Location"] == f"/points/awards/{award.pk}/"
    again = client.post("/points/awards/propose/", {**form, "photos": [photo_upload()]})
    assert again["Location"] == created["Location"]
    assert Award.objects.count() == 1
    duplicate = client.post(
        "/points/awards/propose/", {**form, "idempotency_key": "page-key-2", "photos": [photo_upload()]}
    )
    assert "本户本月已申报过该条目" in duplicate.content.decode()


def test_propose_page_not_for_other_roles(world):
    assert login(world, "viewer").get("/points/awards/propose/").status_code == 404
    assert login(world, "nobody").get("/points/awards/propose/").status_code == 404


def test_batch_all_or_none_with_row_errors(world):
    client = login(world, "grid_leader")
    h, hj01, hj02 = world.households, world.rule("HJ-01"), world.rule("HJ-02")
    setup = client.get(f"/points/awards/batch/?rules={hj01.pk}&rules={hj02.pk}&occurred_on=2026-11-16")
    assert setup.status_code == 200
    assert 'data-testid="row-XH-001"' in setup.content.decode()
    post = {
        "idempotency_key": "batch-page-1",
        "grid": world.regions["第一网格"].pk,
        "occurred_on": "2026-11-16",
        "rules": [hj01.pk, hj02.pk],
        "cell": [f"{h['王家'].pk}:{hj02.pk}", f"{h['李家'].pk}:{hj02.pk}", f"{h['李家'].pk}:{hj01.pk}"],
        f"note-{h['李家'].pk}": "李家说明",
    }
    refused = client.post("/points/awards/batch/", post)
    html = refused.content.decode()
    assert refused.status_code == 200
    assert "有 1 条申报未通过校验，整批未提交，请按提示修改。" in html
    assert "庭院整洁、房前屋后无垃圾杂物：该条目须附现场照片，请至少上传 1 张。" in html
    assert "李家说明" in html
    assert Award.objects.count() == 0
    post[f"photos-{h['李家'].pk}"] = [photo_upload()]
    done = client.post("/points/awards/batch/", post)
    assert done.status_code == 302
    assert Award.objects.filter(batch_key="batch-page-1").count() == 3
    # The matrix now marks those cells as already proposed.
    again = client.get(f"/points/awards/batch/?rules={hj02.pk}&occurred_on=2026-11-20")
    assert again.content.decode().count("已报") >= 2


def test_review_queue_approve_reject_bulk(world):
    one = award_make(world, "王家", "XL-01")
    two = award_make(world, "李家", "XL-01")
    three = award_make(world, "张家", "XL-01", actor="grid_leader_2")
    outside = award_make(world, "孙家", "XL-01", actor="minying_leader")
    client = login(world, "village_secretary")
    page = client.get("/points/awards/review/")
    html = page.content.decode()
    assert f'data-testid="queue-{one.pk}"' in html
    assert f'data-testid="queue-{outside.pk}"' not in html
    rejected = client.post("/points/awards/review/", {"award": one.pk, "action": "reject", "reason": ""})
    assert "不通过时请填写理由。" in rejected.content.decode()
    client.post("/points/awards/review/", {"award": one.pk, "action": "reject", "reason": "不属实"})
    one.refresh_from_db()
    assert (one.status, one.rejection_reason) == (AwardStatus.REJECTED, "不属实")
    client.post("/points/awards/review/", {"action": "bulk_approve", "awards": [two.pk, three.pk]})
    assert set(Award.objects.filter(status=AwardStatus.NOTICE).values_list("pk", flat=True)) == {
        two.pk,
        three.pk,
    }
    assert (
        client.post("/points/awards/review/", {"award": outside.pk, "action": "approve"}).status_code == 404
    )
    assert login(world, "grid_leader").get("/points/awards/review/").status_code == 404


def test_list_detail_and_objection_decision(world):
    award = award_bring_to(world, award_make(world, "王家", "XL-01"), AwardStatus.NOTICE)
    objection = objection_file(award=award, reason="该户并未照料老人", contact_phone="13900001111")
    client = login(world, "village_secretary")
    listing = client.get("/points/awards/?status=notice").content.decode()
    assert "有异议" in listing
    assert "XH-001" in listing
    detail = client.get(f"/points/awards/{award.pk}/").content.decode()
    assert "2026年11月25日 10:00" in detail
    assert "139****1111" in detail
    assert "13900001111" not in detail
    refused = client.post(f"/points/objections/{objection.pk}/decide/", {"decision": "upheld", "note": ""})
    assert refused.status_code == 400
    assert "请填写处理意见。" in refused.content.decode()
    done = client.post(
        f"/points/objections/{objection.pk}/decide/", {"decision": "upheld", "note": "核实属实"}
    )
    assert done.status_code == 302
    objection.refresh_from_db()
    award.refresh_from_db()
    assert (objection.status, award.status) == (ObjectionStatus.UPHELD, AwardStatus.VOIDED)
    assert login(world, "minying_secretary").get(f"/points/awards/{award.pk}/").status_code == 404
    assert (
        login(world, "grid_leader")
        .post(f"/points/objections/{objection.pk}/decide/", {"decision": "dismissed", "note": "x"})
        .status_code
        == 404
    )


def test_rules_pages_and_policy(world):
    client = login(world, "village_secretary")
    page = client.get("/points/rules/")
    assert page.status_code == 200
    assert "庭院整洁、房前屋后无垃圾杂物" in page.content.decode()
    created = client.post(
        "/points/rules/new/",
        {
            "region": world.regions["新华村"].pk,
            "code": "XH-01",
            "name": "新华村义务植树",
            "category": "volunteering",
            "points": 3,
            "cap_count": 1,
            "cap_period": "year",
        },
    )
    assert created.status_code == 302
    assert Rule.objects.filter(code="XH-01", region=world.regions["新华村"]).exists()
    taken = client.post(
        "/points/rules/new/",
        {
            "region": world.regions["新华村"].pk,
            "code": "HJ-01",
            "name": "重复",
            "category": "volunteering",
            "points": 3,
            "cap_period": "year",
        },
    )
    assert "条目编号 HJ-01 已被使用。" in taken.content.decode()
    county_rule = world.rule("HJ-02")
    assert client.post(f"/points/rules/{county_rule.pk}/active/", {"active": "0"}).status_code == 404
    admin = login(world, "township_admin")
    policy = admin.get(f"/points/policy/{world.regions['城关镇'].pk}/")
    assert policy.status_code == 200
    saved = admin.post(
        f"/points/policy/{world.regions['城关镇'].pk}/",
        {
            "min_balance_to_redeem": 10,
            "notice_days": 5,
            "expiry_mode": "none",
            "clearing_month": 1,
            "clearing_day": 1,
        },
    )
    assert saved.status_code == 302
    assert admin.get(f"/points/policy/{world.regions['石花镇'].pk}/").status_code == 404


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_propose_and_batch_on_a_phone(demo_county, phone, desktop, screenshot):
    from tests.browser_fixtures import login as browser_login

    world = awards_world_make(demo_county)
    browser_login(phone, "grid_leader")
    phone.goto("/points/awards/propose/")
    phone.get_by_label("户").select_option(str(world.households["王家"].pk))
    phone.get_by_label("积分条目").select_option(str(world.rule("XL-01").pk))
    phone.get_by_label("事迹说明").fill("照料卧床老人")
    screenshot(phone, "propose")
    phone.get_by_test_id("submit").click()
    phone.wait_for_url("**/points/awards/*/")
    assert "赡养老人、照料生活起居到位" in phone.content()
    rules = f"rules={world.rule('HJ-02').pk}&rules={world.rule('ZY-01').pk}&rules={world.rule('HJ-01').pk}"
    phone.goto(f"/points/awards/batch/?{rules}")
    screenshot(phone, "batch")
    browser_login(desktop, "village_secretary")
    desktop.goto("/points/awards/review/")
    screenshot(desktop, "review")
    desktop.get_by_test_id(f"approve-{Award.objects.get().pk}").click()
    desktop.wait_for_url("**/points/awards/review/")
    assert Award.objects.get().status == AwardStatus.NOTICE

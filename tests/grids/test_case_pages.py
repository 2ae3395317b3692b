"""The case page: who sees it (404 outside), which actions each user is offered in each state (from the
workflow table), every action through its form with its refusals shown next to the field and the input
kept, the timeline, photos, privacy of the resident's identity, response templates, notes, extension
requests and supervision."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from grids.models import (
    Case,
    CaseEvent,
    CaseExtension,
    CasePhoto,
    CaseStatus,
    CaseSupervision,
    ExtensionStatus,
    PhotoStage,
    Privacy,
    Satisfaction,
)
from tests.grids.factories import case_bring_to, case_make, grids_world_make
from tests.grids.filing_factories import jpeg_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(demo_county):
    return grids_world_make(demo_county)


def client_for(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password="xiangzhi-demo")
    return client


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def url(case: Case) -> str:
    return reverse("grids:case_detail", args=[case.number])


def offered(response) -> list[str]:
    """The actions the page offers, in order."""
    return re.findall(r'data-gc-action data-action="(\w+)"', response.content.decode())


def status_of(case: Case) -> str:
    return Case.objects.values_list("status", flat=True).get(pk=case.pk)


def field_error(response, field: str) -> str:
    found = re.search(rf'data-field="{field}">.*?<p class="field__error"[^>]*>([^<]+)</p>', text(response))
    return found.group(1) if found else ""


def test_who_sees_the_case(world):
    case = case_make(world)
    for username in ("county_admin", "township_admin", "village_secretary", "grid_leader", "viewer"):
        assert client_for(username).get(url(case)).status_code == 200, username
    for username in (
        "grid_leader_2",
        "dongjie_secretary",
        "shihua_admin",
        "minying_secretary",
        "mediator",
        "canteen_manager",
        "xinhua_clerk",
        "nobody",
    ):
        assert client_for(username).get(url(case)).status_code == 404, username
    assert client_for("county_admin").get("/grids/cases/NOSUCHCASE/").status_code == 404
    assert Client().get(url(case)).status_code == 302


def test_the_actions_offered_follow_the_workflow_table(world):
    case = case_make(world)
    secretary = client_for("village_secretary")
    assert offered(secretary.get(url(case))) == [
        "accept",
        "escalate",
        "send_down",
        "mark_duplicate",
        "not_responsible",
        "note",
    ]
    assert offered(client_for("township_admin").get(url(case)))[:1] == ["accept"]
    assert offered(client_for("grid_leader").get(url(case))) == ["withdraw", "note"]
    assert offered(client_for("viewer").get(url(case))) == []
    assert 'data-testid="case-actions"' not in text(client_for("viewer").get(url(case)))
    case_bring_to(world, case, CaseStatus.ASSIGNED)
    assert offered(client_for("xinhua_clerk").get(url(case))) == ["sign_for", "return", "note"]
    assert offered(secretary.get(url(case))) == ["assign", "note"]
    case_bring_to(world, case_make(world), CaseStatus.SUBMITTED)


def test_accept_assign_sign_start_resolve_follow_up_archive_through_the_forms(world):
    case = case_make(world, resident="王建国")
    secretary = client_for("village_secretary")
    response = secretary.post(url(case), {"action": "accept", "accept-note": ""})
    assert response.status_code == 302
    assert status_of(case) == CaseStatus.ACCEPTED
    # Assign: the unit is required; a person who is not a member of it is refused next to the field.
    response = secretary.post(url(case), {"action": "assign", "assign-unit": "", "assign-note": "请尽快处理"})
    assert response.status_code == 400
    assert field_error(response, "unit") == "请选择承办单位。"
    assert "请尽快处理" in text(response)
    response = secretary.post(
        url(case),
        {
            "action": "assign",
            "assign-unit": world.units["xinhua"].pk,
            "assign-user": world.users["minying_clerk"].pk,
        },
    )
    assert response.status_code == 400
    assert field_error(response, "user") == "请从列表中选择承办人。"
    response = secretary.post(
        url(case),
        {
            "action": "assign",
            "assign-unit": world.units["chengguan"].pk,
            "assign-user": world.users["xinhua_clerk"].pk,
        },
    )
    assert response.status_code == 400
    assert field_error(response, "user") == "承办人不是该承办单位的人员。"
    response = secretary.post(
        url(case), {"action": "assign", "assign-unit": world.units["xinhua"].pk, "assign-user": ""}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.assigned_unit_id, case.assigned_user_id) == (
        CaseStatus.ASSIGNED,
        world.units["xinhua"].pk,
        None,
    )
    clerk = client_for("xinhua_clerk")
    # Someone who is not the handler cannot sign for it.
    assert secretary.post(url(case), {"action": "sign_for"}).status_code == 403
    assert clerk.post(url(case), {"action": "sign_for"}).status_code == 302
    assert clerk.post(url(case), {"action": "start", "start-note": "已到现场"}).status_code == 302
    response = clerk.post(url(case), {"action": "resolve", "resolve-result": ""})
    assert response.status_code == 400
    assert field_error(response, "result") == "请填写办理结果。"
    response = clerk.post(
        url(case),
        {
            "action": "resolve",
            "resolve-result": "已填平塌陷路段。",
            "resolve-photos": [jpeg_upload("after.jpg")],
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.result) == (CaseStatus.RESOLVED, "已填平塌陷路段。")
    photo = CasePhoto.objects.get(case=case)
    assert photo.stage == PhotoStage.RESULT
    assert photo.event.kind == "resolve"
    body = text(secretary.get(url(case)))
    assert photo.image.url in body
    assert 'data-testid="case-result"' in body
    # Follow-up: not satisfied needs a reason, said next to the note with the choice kept.
    grid_leader = client_for("grid_leader")
    response = grid_leader.post(url(case), {"action": "follow_up", "follow_up-satisfaction": "unsatisfied"})
    assert response.status_code == 400
    assert field_error(response, "note") == "请填写群众不满意的原因。"
    assert re.search(r'value="unsatisfied"[^>]*checked', response.content.decode())
    response = grid_leader.post(url(case), {"action": "follow_up"})
    assert field_error(response, "satisfaction") == "请选择群众的满意度。"
    response = grid_leader.post(url(case), {"action": "follow_up", "follow_up-satisfaction": "satisfied"})
    assert response.status_code == 302
    assert secretary.post(url(case), {"action": "archive"}).status_code == 302
    case.refresh_from_db()
    assert (case.status, case.satisfaction) == (CaseStatus.CLOSED, Satisfaction.SATISFIED)
    kinds = list(CaseEvent.objects.filter(case=case).order_by("at", "pk").values_list("kind", flat=True))
    assert kinds == ["file", "accept", "assign", "sign_for", "start", "resolve", "follow_up", "archive"]
    # The timeline names who did each step.
    body = text(secretary.get(url(case)))
    assert re.search(r"<b>签收</b>.*?新华村文书", body)
    assert re.search(r"<b>开始处置</b>.*?新华村文书 · .*?已到现场", body)


def test_the_other_transitions_and_their_refusals(world):
    secretary = client_for("village_secretary")
    # Return needs a reason; it is said next to the field.
    case = case_bring_to(world, case_make(world), CaseStatus.ASSIGNED)
    clerk = client_for("xinhua_clerk")
    response = clerk.post(url(case), {"action": "return", "return-note": "  "})
    assert response.status_code == 400
    assert field_error(response, "note") == "请填写退回理由。"
    assert clerk.post(url(case), {"action": "return", "return-note": "不属于村委会职责"}).status_code == 302
    assert status_of(case) == CaseStatus.RETURNED

    escalated = case_make(world)
    response = secretary.post(url(escalated), {"action": "escalate", "escalate-note": ""})
    assert field_error(response, "note") == "请填写上报提级的理由。"
    assert (
        secretary.post(url(escalated), {"action": "escalate", "escalate-note": "涉及多村"}).status_code == 302
    )
    escalated.refresh_from_db()
    assert (escalated.status, escalated.level, escalated.handling_region_id) == (
        CaseStatus.SUBMITTED,
        "township",
        world.regions["城关镇"].pk,
    )
    # Now in the township's queue: the secretary may no longer act, the township admin may send it down.
    assert offered(secretary.get(url(escalated))) == []
    township = client_for("township_admin")
    response = township.get(url(escalated))
    assert (
        '<option value="{}">村（社区） · 新华村</option>'.format(world.regions["新华村"].pk)
        in response.content.decode()
    )
    response = township.post(
        url(escalated), {"action": "send_down", "send_down-region": "", "send_down-note": "请属地办理"}
    )
    assert field_error(response, "region") == "请选择下派到哪一级。"
    response = township.post(
        url(escalated),
        {
            "action": "send_down",
            "send_down-region": world.regions["东街社区"].pk,
            "send_down-note": "请属地办理",
        },
    )
    assert field_error(response, "region") == "请从列表中选择。"
    response = township.post(
        url(escalated),
        {
            "action": "send_down",
            "send_down-region": world.regions["新华村"].pk,
            "send_down-note": "请属地办理",
        },
    )
    assert response.status_code == 302
    escalated.refresh_from_db()
    assert (escalated.status, escalated.handling_region_id) == (
        CaseStatus.ACCEPTED,
        world.regions["新华村"].pk,
    )

    original = case_make(world)
    duplicate = case_make(world)
    response = secretary.post(url(duplicate), {"action": "mark_duplicate", "mark_duplicate-original": "NOPE"})
    assert field_error(response, "original") == "没有找到编号为 NOPE 的诉求。"
    response = secretary.post(
        url(duplicate), {"action": "mark_duplicate", "mark_duplicate-original": original.number.lower()}
    )
    assert response.status_code == 302
    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.duplicate_of_id) == (CaseStatus.DUPLICATE, original.pk)
    assert original.number in text(secretary.get(url(duplicate)))

    elsewhere = case_make(world)
    response = secretary.post(
        url(elsewhere),
        {"action": "not_responsible", "not_responsible-routed_to": "", "not_responsible-note": "供电"},
    )
    assert field_error(response, "routed_to") == "请填写转办去向。"
    assert "供电" in text(response)
    response = secretary.post(
        url(elsewhere),
        {
            "action": "not_responsible",
            "not_responsible-routed_to": "县供电公司",
            "not_responsible-note": "属供电线路",
        },
    )
    assert response.status_code == 302
    assert status_of(elsewhere) == CaseStatus.NOT_RESPONSIBLE

    withdrawn = case_make(world)
    response = client_for("grid_leader").post(url(withdrawn), {"action": "withdraw", "withdraw-note": ""})
    assert field_error(response, "note") == "请填写撤回原因。"
    assert (
        client_for("grid_leader")
        .post(url(withdrawn), {"action": "withdraw", "withdraw-note": "已解决"})
        .status_code
        == 302
    )
    assert status_of(withdrawn) == CaseStatus.WITHDRAWN


def test_a_stale_page_and_unknown_actions(world):
    case = case_make(world)
    secretary = client_for("village_secretary")
    assert secretary.post(url(case), {"action": "accept"}).status_code == 302
    response = secretary.post(url(case), {"action": "accept"}, follow=True)
    assert "该诉求当前为“已受理”，不能再“受理”，页面已刷新。" in text(response)
    assert CaseEvent.objects.filter(case=case, kind="accept").count() == 1
    assert secretary.post(url(case), {"action": "explode"}).status_code == 403
    assert client_for("viewer").post(url(case), {"action": "assign"}).status_code == 403
    assert client_for("minying_secretary").post(url(case), {"action": "assign"}).status_code == 404


def test_identity_follows_the_privacy_rule(world):
    public = case_make(world, resident="王建国")
    secret = case_make(world, resident="李德明", privacy=Privacy.CONFIDENTIAL, address="新华村3组12号")
    secretary = client_for("village_secretary")
    assert "王建国" in text(secretary.get(url(public)))
    body = text(secretary.get(url(secret)))
    assert "李德明" not in body
    assert "新华村3组12号" not in body
    assert 'data-testid="case-identity"><span class="gc-identity">保密</span>' in body
    # The viewer's role sees no personal data, even of a public case.
    assert "王建国" not in text(client_for("viewer").get(url(public)))
    # The reporter and, once assigned, the handler see who it is.
    assert "李德明" in text(client_for("grid_leader").get(url(secret)))
    case_bring_to(world, secret, CaseStatus.ASSIGNED)
    assert "李德明" in text(client_for("xinhua_clerk").get(url(secret)))
    assert "新华村3组12号" in text(client_for("xinhua_clerk").get(url(secret)))


def test_templates_prefill_and_notes(world):
    case = case_make(world)
    secretary = client_for("village_secretary")
    body = secretary.get(url(case)).content.decode()
    # The county's template for each action prefills its note, filled in for this case.
    accept_note = re.search(r'<textarea name="accept-note"[^>]*>\s*([^<]*)</textarea>', body)
    assert accept_note is not None
    assert accept_note.group(1) == f"您反映的问题（编号{case.number}）已受理，我们将尽快安排办理。"
    # After a refusal the typed text stays, and the template is offered as a button.
    response = secretary.post(url(case), {"action": "escalate", "escalate-note": ""})
    assert 'data-text="本级协调解决确有困难，提请上级协调办理。"' in response.content.decode()
    response = secretary.post(url(case), {"action": "note", "note-note": ""})
    assert field_error(response, "note") == "请填写说明内容。"
    response = secretary.post(
        url(case), {"action": "note", "note-note": "已电话联系上报人。", "note-is_public": "on"}
    )
    assert response.status_code == 302
    note = CaseEvent.objects.get(case=case, kind="note")
    assert (note.note, note.is_public, note.actor_id) == (
        "已电话联系上报人。",
        True,
        world.users["village_secretary"].pk,
    )
    assert client_for("viewer").post(url(case), {"action": "note", "note-note": "x"}).status_code == 403


def test_extension_request_decision_and_supervision(world):
    case = case_bring_to(world, case_make(world), CaseStatus.SIGNED)
    clerk = client_for("xinhua_clerk")
    assert "extension_request" in offered(clerk.get(url(case)))
    response = clerk.post(
        url(case), {"action": "extension_request", "extension-days": "40", "extension-reason": "等材料"}
    )
    assert field_error(response, "days") == "延长天数应为 1 至 30 个工作日。"
    assert "等材料" in text(response)
    data = {
        "action": "extension_request",
        "extension-days": "3",
        "extension-reason": "需等待雨停后施工",
        "extension-idempotency_key": "ext-1",
    }
    assert clerk.post(url(case), data).status_code == 302
    assert clerk.post(url(case), data).status_code == 403  # a pending request: no second one offered
    assert CaseExtension.objects.filter(case=case).count() == 1
    secretary = client_for("village_secretary")
    assert "extension_decide" in offered(secretary.get(url(case)))
    response = secretary.post(url(case), {"action": "extension_decide", "decide-decision": "reject"})
    assert field_error(response, "decision_note") == "不同意延期时请填写理由。"
    deadline = Case.objects.get(pk=case.pk).resolve_deadline
    assert (
        secretary.post(url(case), {"action": "extension_decide", "decide-decision": "approve"}).status_code
        == 302
    )
    extension = CaseExtension.objects.get(case=case)
    assert extension.status == ExtensionStatus.APPROVED
    assert Case.objects.get(pk=case.pk).resolve_deadline > deadline
    # 督办 is for the levels above the case's: the township admin, not the village secretary.
    assert "supervise" not in offered(secretary.get(url(case)))
    township = client_for("township_admin")
    assert "supervise" in offered(township.get(url(case)))
    response = township.post(
        url(case), {"action": "supervise", "supervise-note": "", "supervise-idempotency_key": "s"}
    )
    assert field_error(response, "note") == "请填写督办意见。"
    response = township.post(
        url(case), {"action": "supervise", "supervise-note": "请本周内办结", "supervise-idempotency_key": "s"}
    )
    assert response.status_code == 302
    assert list(CaseSupervision.objects.filter(case=case).values_list("kind", "note")) == [
        ("manual", "请本周内办结")
    ]
    assert secretary.post(url(case), {"action": "supervise", "supervise-note": "x"}).status_code == 403
    body = text(township.get(url(case)))
    assert "请本周内办结" in body
    assert "需等待雨停后施工" in body

"""Mediation: a dispute case handed to a mediator of the village (the mediator role, or a sages' group
member with an account), who then sees that one case and nothing else of the village (404), records
sessions and the agreement; refusals for every rule; the grant taken back by hand and when the case
closes; the pages ("我的调解", the case page's section)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from common.errors import Conflict, DomainError, NotFound
from governance.models import AuditAction, AuditEvent, SagesMemberKind
from governance.services import party as party_services
from grids import access as grids_access
from grids.models import (
    CaseEvent,
    CaseStatus,
    CaseUserObjectPermission,
    GridLeader,
    MediationAgreement,
    MediationSession,
    Privacy,
)
from grids.selectors import mediation as mediation_selectors
from grids.services import mediation as mediation_services
from tests.grids.factories import case_bring_to, case_make, case_step, grids_world_make

pytestmark = pytest.mark.django_db

DISPUTE = "两户村民因宅基地边界发生争执，要求村里出面调解。"


@pytest.fixture
def world(demo_county):
    world = grids_world_make(demo_county)
    admin = world.users["county_admin"]
    group = party_services.sages_group_create(actor=admin, village=world.regions["新华村"])
    # 张伟 is a veteran villager of 新华村 and also holds an account (as a grid leader of 第二网格).
    zhang = world.people.residents["张伟"]
    GridLeader.objects.create(
        grid=world.regions["第二网格"],
        resident=zhang,
        user=world.users["grid_leader_2"],
        elected_on=dt.date(2024, 1, 1),
        term_end=dt.date(2027, 1, 1),
    )
    party_services.sages_member_add(
        actor=admin,
        group=group,
        resident=zhang,
        kind=SagesMemberKind.RESPECTED_VILLAGER,
        joined_on=dt.date(2024, 2, 1),
    )
    world.extra["sages"] = group
    return world


def client_for(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password="xiangzhi-demo")
    return client


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def dispute_make(world, **kwargs):
    kwargs.setdefault("resident", "王建国")
    return case_make(world, category="boundary", description=DISPUTE, **kwargs)


def hand_over(world, case, mediator="mediator"):
    return mediation_services.case_mediation_hand_over(
        actor=world.users["village_secretary"],
        case=case,
        mediator=world.users[mediator],
        note="请尽快约谈双方",
    )


def test_the_mediator_sees_only_the_case_handed_to_them(world):
    case = dispute_make(world)
    other = dispute_make(world)
    mediator = world.users["mediator"]
    with pytest.raises(NotFound):
        grids_access.case_get_visible(mediator, case.number)
    event = hand_over(world, case)
    assert grids_access.case_get_visible(mediator, case.number).pk == case.pk
    with pytest.raises(NotFound):
        grids_access.case_get_visible(mediator, other.number)
    assert list(mediation_selectors.mediation_my_cases(user=mediator)) == [case]
    assert list(grids_access.cases_visible(mediator)) == [case]
    assert (event.kind, event.is_public, event.actor_id) == (
        "mediation_hand_over",
        False,
        world.users["village_secretary"].pk,
    )
    assert event.note == "移交乡贤说事评理团调解，调解员：钱调解。请尽快约谈双方"
    assert event.data == {"mediator_id": mediator.pk}
    grant = CaseUserObjectPermission.objects.get()
    assert (grant.user_id, grant.content_object_id, grant.permission.codename) == (
        mediator.pk,
        case.pk,
        "mediate_case",
    )
    audit = AuditEvent.objects.get(action=AuditAction.GRANT, object_type="grids.case")
    assert (audit.object_id, audit.region_path) == (str(case.pk), world.regions["第一网格"].path)
    # Pages: the handed case opens, any other case of the village answers 404, so does the queue's
    # neighbour, and the queue itself is not a mediator's desk.
    client = client_for("mediator")
    assert client.get(reverse("grids:case_detail", args=[case.number])).status_code == 200
    assert client.get(reverse("grids:case_detail", args=[other.number])).status_code == 404
    assert client.get(reverse("grids:queue")).status_code == 403
    listing = text(client.get(reverse("grids:mediation_list")))
    assert case.number in listing
    assert other.number not in listing


def test_a_sages_member_with_an_account_may_mediate_and_others_may_not(world):
    case = dispute_make(world)
    candidates = [u.username for u in mediation_services.mediator_candidates(case=case)]
    assert candidates == ["grid_leader_2", "mediator"]  # 张网格, 钱调解 by name
    hand_over(world, case, mediator="grid_leader_2")
    assert grids_access.case_get_visible(world.users["grid_leader_2"], case.number).pk == case.pk
    for username in ("xinhua_clerk", "grid_leader", "minying_secretary", "nobody"):
        with pytest.raises(DomainError) as error:
            hand_over(world, case, mediator=username)
        assert (error.value.code, error.value.field) == ("mediation_not_a_mediator", "mediator"), username
    # The mediator of another village is no mediator here.
    minying_case = dispute_make(world, reporter="minying_leader", grid="民营第一网格", resident=None)
    assert list(mediation_services.mediator_candidates(case=minying_case)) == []


def test_every_refusal_of_a_hand_over(world):
    secretary = world.users["village_secretary"]
    mediator = world.users["mediator"]
    road = case_make(world, category="road")
    with pytest.raises(DomainError) as error:
        mediation_services.case_mediation_hand_over(actor=secretary, case=road, mediator=mediator)
    assert (error.value.code, error.value.field) == ("mediation_not_mediable", "mediator")
    assert error.value.message == "“道路损坏”类诉求不属于矛盾纠纷，不能移交乡贤调解。"
    case = dispute_make(world)
    with pytest.raises(DomainError) as error:
        mediation_services.case_mediation_hand_over(
            actor=world.users["grid_leader"], case=case, mediator=mediator
        )
    assert (error.value.code, error.value.status) == ("mediation_forbidden", 403)
    for outsider in ("minying_secretary", "shihua_admin", "nobody", "mediator"):
        with pytest.raises(NotFound):
            mediation_services.case_mediation_hand_over(
                actor=world.users[outsider], case=case, mediator=mediator
            )
    hand_over(world, case)
    with pytest.raises(Conflict) as error:
        hand_over(world, case)
    assert error.value.code == "mediation_already_handed"
    closed = dispute_make(world)
    case_bring_to(world, closed, CaseStatus.WITHDRAWN)
    with pytest.raises(DomainError) as error:
        hand_over(world, closed)
    assert error.value.code == "mediation_case_not_open"
    assert CaseUserObjectPermission.objects.count() == 1
    assert CaseEvent.objects.filter(kind="mediation_hand_over").count() == 1


def test_sessions_and_the_agreement(world):
    case = dispute_make(world)
    hand_over(world, case)
    mediator = world.users["mediator"]
    held = timezone.now() - dt.timedelta(hours=2)
    session = mediation_services.mediation_session_record(
        actor=mediator,
        case=case,
        held_at=held,
        place="村委会调解室",
        participants="王建国、张伟，村民小组长",
        summary="双方同意以老界桩为准，重新测量。",
        idempotency_key="s-1",
    )
    again = mediation_services.mediation_session_record(
        actor=mediator,
        case=case,
        held_at=held,
        participants="王建国、张伟，村民小组长",
        summary="双方同意以老界桩为准，重新测量。",
        idempotency_key="s-1",
    )
    assert again.pk == session.pk
    with pytest.raises(Conflict):
        mediation_services.mediation_session_record(
            actor=mediator,
            case=case,
            held_at=held,
            participants="甲",
            summary="别的内容",
            idempotency_key="s-1",
        )
    assert MediationSession.objects.count() == 1
    event = CaseEvent.objects.get(kind="mediation_session")
    assert event.is_public is False
    assert "王建国" not in event.note  # the parties stay in the mediation section
    for kwargs, code, field in (
        ({"held_at": None, "participants": "甲", "summary": "乙"}, "held_at_required", "held_at"),
        (
            {"held_at": timezone.now() + dt.timedelta(days=1), "participants": "甲", "summary": "乙"},
            "held_at_future",
            "held_at",
        ),
        ({"held_at": held, "participants": " ", "summary": "乙"}, "participants_required", "participants"),
        ({"held_at": held, "participants": "甲", "summary": ""}, "summary_required", "summary"),
    ):
        with pytest.raises(DomainError) as error:
            mediation_services.mediation_session_record(
                actor=mediator, case=case, idempotency_key=code, **kwargs
            )
        assert (error.value.code, error.value.field) == (code, field)
    # In scope but neither the mediator nor the secretary: 403; outside: 404.
    with pytest.raises(DomainError) as error:
        mediation_services.mediation_session_record(
            actor=world.users["viewer"],
            case=case,
            held_at=held,
            participants="甲",
            summary="乙",
            idempotency_key="v",
        )
    assert error.value.status == 403
    with pytest.raises(NotFound):
        mediation_services.mediation_session_record(
            actor=world.users["minying_secretary"],
            case=case,
            held_at=held,
            participants="甲",
            summary="乙",
            idempotency_key="m",
        )

    today = timezone.localdate()
    agreement = mediation_services.mediation_agreement_record(
        actor=mediator,
        case=case,
        parties="王建国、张伟",
        terms="以老界桩为界，各自退让半米。",
        signed_on=today,
    )
    same = mediation_services.mediation_agreement_record(
        actor=mediator,
        case=case,
        parties="王建国、张伟",
        terms="以老界桩为界，各自退让半米。",
        signed_on=today,
    )
    assert same.pk == agreement.pk
    with pytest.raises(Conflict) as error:
        mediation_services.mediation_agreement_record(
            actor=mediator, case=case, parties="王建国、张伟", terms="另一份", signed_on=today
        )
    assert error.value.code == "mediation_agreement_exists"
    assert MediationAgreement.objects.count() == 1
    other = dispute_make(world)
    hand_over(world, other)
    with pytest.raises(DomainError) as error:
        mediation_services.mediation_agreement_record(
            actor=mediator, case=other, parties="甲、乙", terms="内容", signed_on=today + dt.timedelta(days=1)
        )
    assert (error.value.code, error.value.field) == ("signed_on_future", "signed_on")


def test_taking_the_case_back_by_hand_and_when_it_closes(world):
    case = dispute_make(world)
    hand_over(world, case)
    mediator = world.users["mediator"]
    with pytest.raises(DomainError) as error:
        mediation_services.case_mediation_revoke(
            actor=world.users["village_secretary"], case=case, mediator=mediator, reason=""
        )
    assert (error.value.code, error.value.field) == ("reason_required", "reason")
    mediation_services.case_mediation_revoke(
        actor=world.users["village_secretary"], case=case, mediator=mediator, reason="双方已自行和解"
    )
    with pytest.raises(NotFound):
        grids_access.case_get_visible(mediator, case.number)
    assert AuditEvent.objects.filter(action=AuditAction.REVOKE, object_id=str(case.pk)).count() == 1

    closing = dispute_make(world)
    hand_over(world, closing)
    hand_over(world, closing, mediator="grid_leader_2")
    # Still open: nothing to take back.
    assert mediation_services.mediation_grants_revoke_all(case=closing) == 0
    # The reporter withdraws it: the transition into a final state takes every grant back with it.
    case_step(world, closing, "withdraw")
    closing.refresh_from_db()
    assert CaseUserObjectPermission.objects.filter(content_object_id=closing.pk).count() == 0
    assert AuditEvent.objects.filter(action=AuditAction.REVOKE, object_id=str(closing.pk)).count() == 2
    assert mediation_services.mediation_grants_revoke_all(case=closing) == 0  # idempotent
    for username in ("mediator", "grid_leader_2"):
        with pytest.raises(NotFound):
            grids_access.case_get_visible(world.users[username], closing.number)


def test_the_mediator_sees_the_parties_of_a_public_case_not_of_a_confidential_one(world):
    public = dispute_make(world)
    secret = dispute_make(world, privacy=Privacy.CONFIDENTIAL)
    hand_over(world, public)
    hand_over(world, secret)
    client = client_for("mediator")
    assert "王建国" in text(client.get(reverse("grids:case_detail", args=[public.number])))
    body = text(client.get(reverse("grids:case_detail", args=[secret.number])))
    assert "王建国" not in body
    assert 'data-testid="case-identity"><span class="gc-identity">保密</span>' in body


def test_the_case_page_section_and_its_forms(world):
    case = dispute_make(world)
    url = reverse("grids:case_detail", args=[case.number])
    secretary = client_for("village_secretary")
    body = text(secretary.get(url))
    assert 'data-testid="form-mediation-hand-over"' in body
    assert "钱调解" in body
    assert "张网格" in body
    response = secretary.post(
        url, {"action": "mediation_hand_over", "mediation-mediator": "", "mediation-note": "尽快"}
    )
    assert response.status_code == 400
    body = text(response)
    assert re.search(r'data-field="mediator">.*?请选择调解员。', body)
    assert 'value="尽快"' in body
    response = secretary.post(
        url,
        {
            "action": "mediation_hand_over",
            "mediation-mediator": world.users["mediator"].pk,
            "mediation-note": "尽快",
        },
    )
    assert response.status_code == 302
    assert CaseUserObjectPermission.objects.filter(
        user=world.users["mediator"], content_object_id=case.pk
    ).exists()

    mediator = client_for("mediator")
    body = text(mediator.get(url))
    assert 'data-testid="form-mediation-session"' in body
    assert 'data-testid="form-mediation-hand-over"' not in body
    response = mediator.post(
        url,
        {
            "action": "mediation_session",
            "session-held_at": "2999-01-01T09:00",
            "session-place": "村委会",
            "session-participants": "王建国、张伟",
            "session-summary": "初步沟通",
            "session-idempotency_key": "page-1",
        },
    )
    assert response.status_code == 400
    assert re.search(r'data-field="held_at">.*?调解时间不能晚于现在。', text(response))
    assert "初步沟通" in text(response)
    held = timezone.localtime() - dt.timedelta(hours=1)
    data = {
        "action": "mediation_session",
        "session-held_at": held.strftime("%Y-%m-%dT%H:%M"),
        "session-place": "村委会",
        "session-participants": "王建国、张伟",
        "session-summary": "初步沟通，约定周五再谈。",
        "session-idempotency_key": "page-1",
    }
    assert mediator.post(url, data).status_code == 302
    assert mediator.post(url, data).status_code == 302  # a double tap writes once
    assert MediationSession.objects.filter(case=case).count() == 1
    response = mediator.post(
        url,
        {
            "action": "mediation_agreement",
            "agreement-parties": "王建国、张伟",
            "agreement-terms": "以老界桩为界。",
            "agreement-signed_on": timezone.localdate().isoformat(),
        },
    )
    assert response.status_code == 302
    body = text(mediator.get(url))
    assert "以老界桩为界。" in body
    assert 'data-testid="form-mediation-agreement"' not in body
    # The mediator may not hand the case on.
    assert (
        mediator.post(
            url, {"action": "mediation_hand_over", "mediation-mediator": world.users["mediator"].pk}
        ).status_code
        == 403
    )


# --- the API ----------------------------------------------------------------------------------------


def api_for(username: str):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from governance.models import User

    client = APIClient()
    token, _created = Token.objects.get_or_create(user=User.objects.get(username=username))
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def test_the_api(world):
    case = dispute_make(world, privacy=Privacy.CONFIDENTIAL)
    secretary = api_for("village_secretary")
    base = f"/api/v1/grids/cases/{case.pk}"
    body = secretary.get(f"{base}/mediation/").json()
    assert (body["case_id"], body["is_mediable"], body["can_hand_over"], body["mediators"]) == (
        case.pk,
        True,
        True,
        [],
    )
    assert [c["name"] for c in body["candidates"]] == ["张网格", "钱调解"]
    response = secretary.post(
        f"{base}/mediation-hand-over/", {"mediator_id": world.users["nobody"].pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "mediation_not_a_mediator"
    response = secretary.post(
        f"{base}/mediation-hand-over/",
        {"mediator_id": world.users["mediator"].pk, "note": "请调解"},
        format="json",
    )
    assert response.status_code == 201
    assert [m["name"] for m in response.json()["mediators"]] == ["钱调解"]
    mediator = api_for("mediator")
    assert [row["number"] for row in mediator.get("/api/v1/grids/mediation/my-cases/").json()["results"]] == [
        case.number
    ]
    held = (timezone.now() - dt.timedelta(hours=1)).isoformat()
    data = {
        "held_at": held,
        "participants": "王建国、张伟",
        "summary": "双方各退一步。",
        "idempotency_key": "api-1",
    }
    assert mediator.post(f"{base}/mediation-sessions/", data, format="json").status_code == 201
    assert mediator.post(f"{base}/mediation-sessions/", data, format="json").status_code == 200
    assert MediationSession.objects.count() == 1
    agreement = {
        "parties": "王建国、张伟",
        "terms": "以老界桩为界。",
        "signed_on": timezone.localdate().isoformat(),
    }
    assert mediator.post(f"{base}/mediation-agreement/", agreement, format="json").status_code == 201
    assert mediator.post(f"{base}/mediation-agreement/", agreement, format="json").status_code == 200
    # The township admin sees the case but not who the parties of a confidential case are.
    township = api_for("township_admin").get(f"{base}/mediation/").json()
    assert township["sessions"][0]["participants"] is None
    assert township["agreement"]["parties"] is None
    assert township["agreement"]["terms"] == "以老界桩为界。"
    assert mediator.get(f"{base}/mediation/").json()["sessions"][0]["participants"] == "王建国、张伟"
    # Out of scope answers like a missing case, before the body is even read.
    outsider = api_for("minying_secretary")
    missing = outsider.post("/api/v1/grids/cases/2147483000/mediation-hand-over/", {}, format="json")
    response = outsider.post(f"{base}/mediation-hand-over/", {}, format="json")
    assert (response.status_code, response.json()) == (404, missing.json())
    assert outsider.get(f"{base}/mediation/").status_code == 404
    other = dispute_make(world)
    assert mediator.get(f"/api/v1/grids/cases/{other.pk}/mediation/").status_code == 404
    response = secretary.post(
        f"{base}/mediation-revoke/",
        {"mediator_id": world.users["mediator"].pk, "reason": "已调解成功"},
        format="json",
    )
    assert response.status_code == 200
    assert mediator.get(f"{base}/mediation/").status_code == 404

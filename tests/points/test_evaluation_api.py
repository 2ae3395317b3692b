"""The evaluations write API (points.api.evaluations): create, nominate, review, open voting, record votes,
decide — each exactly once per idempotency key (replay → the first answer, other body → 409), Chinese
refusals with their field, and scope (another village's secretary gets 404 exactly like a missing id)."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from governance.models import AuditAction, AuditEvent
from points.models import (
    Award,
    AwardStatus,
    Evaluation,
    EvaluationStatus,
    Nomination,
    NominationStatus,
    Rule,
    RuleCategory,
    Vote,
)
from tests.points.factories import points_world  # noqa: F401

BASE = "/api/v1/points/evaluations/"
MISSING = 2_147_483_000


@pytest.fixture
def w(points_world):  # noqa: F811
    points_world.extra["rule"] = Rule.objects.create(
        region=points_world.regions["谷城县"],
        code="PX01",
        name="获评最美村民",
        category=RuleCategory.EVALUATIONS,
        points=30,
        cap_count=1,
        cap_period="year",
    )
    return points_world


def client_for(w, username: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(w.users[username])
    return client


def year() -> int:
    return timezone.localdate().year


def create_body(w, **changes):
    body = {
        "idempotency_key": "create-1",
        "village": w.regions["新华村"].pk,
        "title": "最美村民",
        "year": year(),
        "rule": w.extra["rule"].pk,
        "winners_count": 2,
    }
    body.update(changes)
    return body


def created(w, client=None) -> dict:
    response = (client or client_for(w, "village_secretary")).post(BASE, create_body(w), format="json")
    assert response.status_code == 201, response.content
    return response.json()


def nominate(client, evaluation_id: int, key: str, **body):
    return client.post(f"{BASE}{evaluation_id}/nominations/", {"idempotency_key": key, **body}, format="json")


def nomination_row(w, name: str, household: str, *, status: str = "nominated", votes: int = 0) -> dict:
    n = Nomination.objects.get(resident=w.people.residents[name])
    return {
        "id": n.pk,
        "resident": name,
        "household_number": household,
        "reason": f"{name}热心公益",
        "status": status,
        "votes": votes,
        "award_id": n.award_id,
    }


def test_the_whole_flow_through_the_api(w):
    sec = client_for(w, "village_secretary")
    first = sec.post(BASE, create_body(w), format="json")
    assert first.status_code == 201, first.content
    evaluation = Evaluation.objects.get()
    assert first.json() == {
        "id": evaluation.pk,
        "village_id": w.regions["新华村"].pk,
        "village": "新华村",
        "title": "最美村民",
        "year": year(),
        "rule_code": "PX01",
        "winners_count": 2,
        "status": "nominating",
        "nominations": [],
    }
    e = evaluation.pk
    residents = w.people.residents
    # By resident id, and by household number + name (as the page does).
    wang = nominate(sec, e, "n1", resident=residents["王建国"].pk, reason="王建国热心公益")
    assert wang.status_code == 201, wang.content
    assert wang.json() == nomination_row(w, "王建国", "XH-001")
    li = nominate(sec, e, "n2", household_number="XH-002", name="李德明", reason="李德明热心公益")
    assert li.status_code == 201, li.content
    zhang = nominate(sec, e, "n3", resident=residents["张伟"].pk, reason="张伟热心公益")
    xiu = nominate(sec, e, "n4", household_number=" XH-001 ", name="王秀英", reason="王秀英热心公益")
    assert (zhang.status_code, xiu.status_code) == (201, 201)

    def review(key: str, nomination: dict, accept: bool, reason: str = ""):
        return sec.post(
            f"{BASE}{e}/review/",
            {"idempotency_key": key, "nomination": nomination["id"], "accept": accept, "reason": reason},
            format="json",
        )

    for key, n in (("r1", wang), ("r2", li), ("r3", zhang)):
        response = review(key, n.json(), True)
        assert (response.status_code, response.json()["status"]) == (200, "accepted")
    rejected = review("r4", xiu.json(), False, "同户已有提名")
    assert rejected.json() == nomination_row(w, "王秀英", "XH-001", status="rejected")

    opened = sec.post(f"{BASE}{e}/open-voting/", {"idempotency_key": "open-1"}, format="json")
    assert (opened.status_code, opened.json()["status"]) == (200, "voting")
    assert [n["status"] for n in opened.json()["nominations"]] == [
        "accepted",
        "accepted",
        "accepted",
        "rejected",
    ]

    def votes(key: str, nomination: dict, names: list[str]):
        return sec.post(
            f"{BASE}{e}/votes/",
            {"idempotency_key": key, "nomination": nomination["id"], "representatives": names},
            format="json",
        )

    recorded = votes("v1", zhang.json(), ["代表甲", " 代表 乙 "])
    assert recorded.status_code == 201, recorded.content
    assert recorded.json() == {
        "nomination": nomination_row(w, "张伟", "XH-101", status="accepted", votes=2),
        "representatives": ["代表甲", "代表 乙"],
    }
    assert votes("v2", wang.json(), ["代表丙", "代表丁"]).status_code == 201
    assert votes("v3", li.json(), ["代表甲", "代表丙"]).status_code == 201

    decided = sec.post(f"{BASE}{e}/decide/", {"idempotency_key": "decide-1"}, format="json")
    assert decided.status_code == 200, decided.content
    body = decided.json()
    # Three nominations with 2 votes each: the two nominated first win.
    assert body["winners"] == [wang.json()["id"], li.json()["id"]]
    assert body["status"] == "decided"
    awards = {a.resident.name: a for a in Award.objects.select_related("resident")}
    assert sorted(awards) == ["李德明", "王建国"]
    assert body["nominations"] == [
        nomination_row(w, "王建国", "XH-001", status="winner", votes=2),
        nomination_row(w, "李德明", "XH-002", status="winner", votes=2),
        nomination_row(w, "张伟", "XH-101", status="accepted", votes=2),
        nomination_row(w, "王秀英", "XH-001", status="rejected"),
    ]
    assert body["nominations"][0]["award_id"] == awards["王建国"].pk
    for name, household in (("王建国", "王家"), ("李德明", "李家")):
        assert (awards[name].status, awards[name].points) == (AwardStatus.NOTICE, 30)
        assert (w.account(household).pending, w.account(household).balance) == (30, 0)
    assert Vote.objects.count() == 6
    # The detail GET shows the same state.
    detail = sec.get(f"{BASE}{e}/").json()
    assert {k: v for k, v in body.items() if k != "winners"} == detail


def test_every_post_replays_the_first_answer_and_refuses_another_body(w):
    sec = client_for(w, "village_secretary")
    r = w.people.residents

    def twice(url: str, body: dict, other: dict | None, expected_status: int) -> dict:
        first = sec.post(url, body, format="json")
        assert first.status_code == expected_status, first.content
        again = sec.post(url, body, format="json")
        assert (again.status_code, again.json()) == (expected_status, first.json())
        assert again.headers["Idempotent-Replayed"] == "true"
        if other is None:
            return first.json()
        conflict = sec.post(url, {**body, **other}, format="json")
        assert conflict.status_code == 409, conflict.content
        assert conflict.json() == {
            "code": "idempotency_key_reused",
            "detail": "同一防重复提交标识已用于另一笔不同内容的提交，请刷新页面后重新提交。",
        }
        return first.json()

    e = twice(BASE, create_body(w), {"winners_count": 3}, 201)["id"]
    assert Evaluation.objects.count() == 1
    url = f"{BASE}{e}/nominations/"
    wang = twice(
        url,
        {"idempotency_key": "n1", "resident": r["王建国"].pk, "reason": "王建国热心公益"},
        {"reason": "另一个理由"},
        201,
    )
    assert Nomination.objects.count() == 1
    # The header carries the key as well as the body does.
    li = sec.post(
        url,
        {"resident": r["李德明"].pk, "reason": "李德明热心公益"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="n2",
    )
    li_again = sec.post(
        url,
        {"resident": r["李德明"].pk, "reason": "李德明热心公益"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="n2",
    )
    assert (li.status_code, li_again.status_code, li_again.json()) == (201, 201, li.json())
    assert Nomination.objects.count() == 2
    # A review replayed answers its first result (not "already reviewed").
    review = {"idempotency_key": "r1", "nomination": wang["id"], "accept": True}
    twice(f"{BASE}{e}/review/", review, {"accept": False, "reason": "不符合条件"}, 200)
    accepted = sec.post(
        f"{BASE}{e}/review/",
        {"idempotency_key": "r2", "nomination": li.json()["id"], "accept": True},
        format="json",
    )
    assert accepted.status_code == 200
    # Opening and deciding name nothing but the evaluation of the path: "another body" is the same key
    # on another evaluation (checked below).
    opened = twice(f"{BASE}{e}/open-voting/", {"idempotency_key": "o1"}, None, 200)
    assert opened["status"] == "voting"
    votes = {"idempotency_key": "v1", "nomination": wang["id"], "representatives": ["代表甲"]}
    twice(f"{BASE}{e}/votes/", votes, {"representatives": ["代表乙"]}, 201)
    assert list(Vote.objects.values_list("representative", flat=True)) == ["代表甲"]
    decided = twice(f"{BASE}{e}/decide/", {"idempotency_key": "d1"}, None, 200)
    assert decided["winners"] == [wang["id"]]
    assert Award.objects.count() == 1
    assert Evaluation.objects.get().status == EvaluationStatus.DECIDED
    other = sec.post(BASE, create_body(w, idempotency_key="create-2", title="好婆婆"), format="json").json()
    for action, key in (("open-voting/", "o1"), ("decide/", "d1")):
        conflict = sec.post(f"{BASE}{other['id']}/{action}", {"idempotency_key": key}, format="json")
        assert (conflict.status_code, conflict.json()["code"]) == (409, "idempotency_key_reused")
    assert Evaluation.objects.get(pk=other["id"]).status == EvaluationStatus.NOMINATING


def test_same_key_on_another_evaluation_is_a_conflict(w):
    sec = client_for(w, "village_secretary")
    one = created(w, sec)["id"]
    two = sec.post(BASE, create_body(w, idempotency_key="create-2", title="好婆婆"), format="json").json()[
        "id"
    ]
    first = sec.post(f"{BASE}{one}/open-voting/", {"idempotency_key": "same"}, format="json")
    assert first.json()["code"] == "no_accepted_nomination"  # refused: the key stays free
    assert sec.post(f"{BASE}{two}/decide/", {"idempotency_key": "same"}, format="json").json()["code"] == (
        "evaluation_not_voting"
    )
    nominate(sec, one, "n1", resident=w.people.residents["王建国"].pk, reason="热心")
    again = nominate(sec, two, "n1", resident=w.people.residents["王建国"].pk, reason="热心")
    assert (again.status_code, again.json()["code"]) == (409, "idempotency_key_reused")
    assert Nomination.objects.count() == 1


def test_refusals_carry_code_field_and_chinese_message(w):
    sec = client_for(w, "village_secretary")
    no_key = sec.post(BASE, {**create_body(w), "idempotency_key": ""}, format="json")
    assert (no_key.status_code, no_key.json()) == (
        400,
        {
            "code": "idempotency_key_missing",
            "detail": "缺少防重复提交标识，请刷新页面后重新提交。",
            "fields": {"idempotency_key": ["缺少防重复提交标识，请刷新页面后重新提交。"]},
        },
    )
    title = sec.post(BASE, create_body(w, title="  "), format="json")
    assert (title.status_code, title.json()["code"], title.json()["fields"]) == (
        400,
        "title_required",
        {"title": ["请填写评选名称。"]},
    )
    photo = sec.post(BASE, create_body(w, rule=w.rules["志愿服务"].pk), format="json")
    assert (photo.status_code, photo.json()["detail"]) == (400, "该条目须附照片，不能用于评选奖励。")
    missing_rule = sec.post(BASE, create_body(w, rule=MISSING), format="json")
    assert missing_rule.json() == {
        "code": "rule_not_found",
        "detail": "未找到该奖励条目。",
        "fields": {"rule": ["未找到该奖励条目。"]},
    }
    bad_type = sec.post(BASE, create_body(w, winners_count="三"), format="json")
    assert (bad_type.status_code, bad_type.json()["code"], list(bad_type.json()["fields"])) == (
        400,
        "invalid",
        ["winners_count"],
    )
    e = created(w, sec)["id"]
    dup = sec.post(BASE, create_body(w, idempotency_key="create-2"), format="json")
    assert (dup.status_code, dup.json()["detail"]) == (409, f"本村{year()}年已有同名评选。")
    r = w.people.residents
    elsewhere = nominate(sec, e, "n0", resident=r["孙大爷"].pk, reason="热心")
    nowhere = nominate(sec, e, "n0", resident=MISSING, reason="热心")
    assert elsewhere.status_code == nowhere.status_code == 400
    assert (
        elsewhere.json()
        == nowhere.json()
        == {
            "code": "resident_not_in_village",
            "detail": "被提名人不是本村（社区）居民。",
            "fields": {"resident": ["被提名人不是本村（社区）居民。"]},
        }
    )
    nobody = nominate(sec, e, "n0", reason="热心")
    assert nobody.json()["fields"] == {"resident": ["请填写被提名人的居民编号，或者户号和姓名。"]}
    wrong_name = nominate(sec, e, "n0", household_number="XH-001", name="王大锤", reason="热心")
    assert wrong_name.json()["detail"] == "本村（社区）该户号下没有这位居民，请核对户号和姓名。"
    deceased = nominate(sec, e, "n0", resident=r["王老汉"].pk, reason="热心")
    assert deceased.json()["code"] == "resident_not_current"
    no_reason = nominate(sec, e, "n0", resident=r["王建国"].pk, reason=" ")
    assert no_reason.json()["fields"] == {"reason": ["请填写推荐理由。"]}
    wang = nominate(sec, e, "n1", resident=r["王建国"].pk, reason="热心").json()
    twice = nominate(sec, e, "n2", resident=r["王建国"].pk, reason="热心")
    assert (twice.status_code, twice.json()["detail"]) == (409, "该居民已被提名。")
    opened = sec.post(f"{BASE}{e}/open-voting/", {"idempotency_key": "o1"}, format="json")
    assert (opened.status_code, opened.json()["detail"]) == (400, "还有提名未审核，请先审核全部提名。")
    no_reason = sec.post(
        f"{BASE}{e}/review/",
        {"idempotency_key": "r1", "nomination": wang["id"], "accept": False},
        format="json",
    )
    assert no_reason.json()["fields"] == {"reason": ["不通过时请填写理由。"]}
    unknown = sec.post(
        f"{BASE}{e}/review/", {"idempotency_key": "r1", "nomination": MISSING, "accept": True}, format="json"
    )
    assert (unknown.status_code, unknown.json()["detail"]) == (404, "未找到该提名。")
    sec.post(
        f"{BASE}{e}/review/",
        {"idempotency_key": "r1", "nomination": wang["id"], "accept": True},
        format="json",
    )
    again = sec.post(
        f"{BASE}{e}/review/",
        {"idempotency_key": "r2", "nomination": wang["id"], "accept": True},
        format="json",
    )
    assert (again.status_code, again.json()["detail"]) == (409, "该提名已审核。")
    early = sec.post(
        f"{BASE}{e}/votes/",
        {"idempotency_key": "v1", "nomination": wang["id"], "representatives": ["代表甲"]},
        format="json",
    )
    assert (early.status_code, early.json()["detail"]) == (409, "该评选不在投票阶段。")
    decide = sec.post(f"{BASE}{e}/decide/", {"idempotency_key": "d1"}, format="json")
    assert (decide.status_code, decide.json()["detail"]) == (409, "该评选不在投票阶段，不能评定。")
    sec.post(f"{BASE}{e}/open-voting/", {"idempotency_key": "o2"}, format="json")
    late = nominate(sec, e, "n3", resident=r["李德明"].pk, reason="热心")
    assert (late.status_code, late.json()["detail"]) == (409, "该评选已截止提名。")
    empty = sec.post(
        f"{BASE}{e}/votes/",
        {"idempotency_key": "v2", "nomination": wang["id"], "representatives": [" "]},
        format="json",
    )
    assert empty.json()["fields"] == {"representatives": ["请填写投票的村民代表姓名。"]}
    same = sec.post(
        f"{BASE}{e}/votes/",
        {"idempotency_key": "v3", "nomination": wang["id"], "representatives": ["代表甲", "代表甲"]},
        format="json",
    )
    assert same.json()["detail"] == "名单中有重复的代表：代表甲。"
    no_votes = sec.post(f"{BASE}{e}/decide/", {"idempotency_key": "d2"}, format="json")
    assert (no_votes.status_code, no_votes.json()["detail"]) == (400, "还没有录入任何投票，不能评定。")
    # Nothing half-written by any refusal.
    assert (
        Evaluation.objects.count(),
        Nomination.objects.count(),
        Vote.objects.count(),
        Award.objects.count(),
    ) == (
        1,
        1,
        0,
        0,
    )


def test_another_village_secretary_gets_404_like_a_missing_id(w):
    e = created(w)["id"]
    wang = nominate(
        client_for(w, "village_secretary"), e, "n1", resident=w.people.residents["王建国"].pk, reason="热心"
    ).json()
    other = client_for(w, "minying_secretary")
    bodies = {
        "nominations/": {
            "idempotency_key": "k",
            "resident": w.people.residents["王建国"].pk,
            "reason": "热心",
        },
        "review/": {"idempotency_key": "k", "nomination": wang["id"], "accept": True},
        "open-voting/": {"idempotency_key": "k"},
        "votes/": {"idempotency_key": "k", "nomination": wang["id"], "representatives": ["代表甲"]},
        "decide/": {"idempotency_key": "k"},
    }
    not_found = {"code": "not_found", "detail": "未找到该评选活动，或者它不在您的管辖范围内。"}
    for action, body in bodies.items():
        for evaluation_id in (e, MISSING):
            for sent in (body, {}):
                response = other.post(f"{BASE}{evaluation_id}/{action}", sent, format="json")
                assert (response.status_code, response.json()) == (404, not_found), (action, evaluation_id)
    assert other.get(f"{BASE}{e}/").json() == not_found
    assert other.get(BASE).json() == []
    # Creating in a village out of reach answers like a village that does not exist.
    for village in (w.regions["新华村"].pk, MISSING):
        response = other.post(
            BASE, create_body(w, idempotency_key=f"c{village}", village=village), format="json"
        )
        assert (response.status_code, response.json()) == (
            404,
            {"code": "not_found", "detail": "未找到该村（社区），或者它不在您的管辖范围内。"},
        )
    # A viewer of the village sees the evaluation but may not run it; a grid leader of the village's grid
    # does not see it (it lies above their grid): both 404, nothing written.
    viewer = client_for(w, "viewer").post(f"{BASE}{e}/open-voting/", {"idempotency_key": "k"}, format="json")
    assert client_for(w, "viewer").get(f"{BASE}{e}/").status_code == 200
    assert (viewer.status_code, viewer.json()) == (404, not_found)
    leader = client_for(w, "grid_leader")
    for action in ("nominations/", "review/"):
        response = leader.post(f"{BASE}{e}/{action}", bodies[action], format="json")
        assert (response.status_code, response.json()) == (404, not_found)
    assert Nomination.objects.get().status == NominationStatus.NOMINATED
    assert Evaluation.objects.get().status == EvaluationStatus.NOMINATING
    assert client_for(w, "nobody").post(f"{BASE}{e}/decide/", {}, format="json").status_code == 404


def test_writes_are_audited_once(w):
    sec = client_for(w, "village_secretary")
    created(w, sec)
    created(w, sec)  # the replay writes nothing
    assert AuditEvent.objects.filter(action=AuditAction.CREATE, object_type="points.evaluation").count() == 1

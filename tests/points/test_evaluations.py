"""Evaluations ("最美村民"): create, nominate, review, record votes, decide (ties: the earlier nomination),
winners awarded through the award flow under public notice — and every refusal."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client
from django.utils import timezone

from common.errors import Conflict, DomainError, NotFound
from points.models import AwardStatus, EvaluationStatus, NominationStatus, Rule, RuleCategory
from points.services import evaluations as ev
from points.services.awards import award_propose
from tests.points.factories import points_world  # noqa: F401


def key() -> str:
    return uuid.uuid4().hex


@pytest.fixture
def ev_world(points_world):  # noqa: F811
    w = points_world
    w.extra["rule"] = Rule.objects.create(
        region=w.regions["谷城县"],
        code="PX01",
        name="获评最美村民",
        category=RuleCategory.EVALUATIONS,
        points=30,
        cap_count=1,
        cap_period="year",
    )
    return w


def _evaluation(w, winners: int = 2):
    return ev.evaluation_create(
        actor=w.users["village_secretary"],
        idempotency_key=key(),
        village=w.regions["新华村"],
        title="最美村民",
        year=timezone.localdate().year,
        rule=w.extra["rule"],
        winners_count=winners,
    )


def _nominate(w, e, name: str, actor: str = "village_secretary"):
    return ev.nomination_create(
        actor=w.users[actor],
        idempotency_key=key(),
        evaluation=e,
        resident=w.people.residents[name],
        reason=f"{name}热心公益，孝老爱亲",
    )


def test_whole_flow_tie_goes_to_the_earlier_nomination(ev_world):
    w = ev_world
    sec = w.users["village_secretary"]
    e = _evaluation(w)
    wang = _nominate(w, e, "王建国")
    li = _nominate(w, e, "李德明", actor="grid_leader")  # the grid leader of 第一网格 may nominate
    zhang = _nominate(w, e, "张伟")
    xiu = _nominate(w, e, "王秀英")
    for n in (wang, li, zhang):
        ev.nomination_review(actor=sec, nomination=n, accept=True)
    with pytest.raises(DomainError) as no_reason:
        ev.nomination_review(actor=sec, nomination=xiu, accept=False)
    assert no_reason.value.code == "rejection_reason_required"
    ev.nomination_review(actor=sec, nomination=xiu, accept=False, reason="同户已有提名")
    ev.evaluation_open_voting(actor=sec, evaluation=e)
    ev.votes_record(actor=sec, idempotency_key=key(), nomination=zhang, representatives=["代表甲", "代表乙"])
    ev.votes_record(actor=sec, idempotency_key=key(), nomination=wang, representatives=["代表丙", "代表丁"])
    ev.votes_record(actor=sec, idempotency_key=key(), nomination=li, representatives=["代表甲", "代表丙"])
    # All three have 2 votes: the two nominated first win.
    winners = ev.evaluation_decide(actor=sec, evaluation=e)
    assert [n.pk for n in winners] == [wang.pk, li.pk]
    e.refresh_from_db()
    assert e.status == EvaluationStatus.DECIDED
    for n, household in ((wang, "王家"), (li, "李家")):
        n.refresh_from_db()
        assert n.status == NominationStatus.WINNER
        assert (n.award.status, n.award.points, n.award.resident_id) == (
            AwardStatus.NOTICE,
            30,
            n.resident_id,
        )
        assert w.account(household).pending == 30
        assert w.account(household).balance == 0
    zhang.refresh_from_db()
    assert (zhang.status, zhang.award) == (NominationStatus.ACCEPTED, None)


def test_create_refusals(ev_world):
    w = ev_world
    year = timezone.localdate().year
    args = dict(
        idempotency_key=key(),
        village=w.regions["新华村"],
        title="最美村民",
        year=year,
        rule=w.extra["rule"],
        winners_count=3,
    )
    for user in ("grid_leader", "dongjie_secretary", "canteen_manager", "nobody"):
        with pytest.raises(NotFound):
            ev.evaluation_create(actor=w.users[user], **{**args, "idempotency_key": key()})
    sec = w.users["village_secretary"]
    for change, code in (
        ({"title": " "}, "title_required"),
        ({"winners_count": 0}, "winners_invalid"),
        ({"year": year - 3}, "year_invalid"),
        ({"rule": w.rules["志愿服务"]}, "rule_needs_photo"),
        ({"rule": w.rules["乱倒垃圾"]}, "rule_not_award"),
    ):
        with pytest.raises(DomainError) as refused:
            ev.evaluation_create(actor=sec, **{**args, **change, "idempotency_key": key()})
        assert refused.value.code == code
    first = ev.evaluation_create(actor=sec, **args)
    assert ev.evaluation_create(actor=sec, **args).pk == first.pk  # a replay of the key
    with pytest.raises(Conflict) as twice:
        ev.evaluation_create(actor=sec, **{**args, "idempotency_key": key()})
    assert twice.value.code == "evaluation_exists"


def test_nomination_and_vote_refusals(ev_world):
    w = ev_world
    sec = w.users["village_secretary"]
    e = _evaluation(w, winners=1)
    for name, code in (("赵刚", "resident_not_in_village"), ("王老汉", "resident_not_current")):
        with pytest.raises(DomainError) as refused:
            _nominate(w, e, name)
        assert refused.value.code == code
    same_key = key()
    n = ev.nomination_create(
        actor=sec,
        idempotency_key=same_key,
        evaluation=e,
        resident=w.people.residents["王建国"],
        reason="热心",
    )
    again = ev.nomination_create(
        actor=sec,
        idempotency_key=same_key,
        evaluation=e,
        resident=w.people.residents["王建国"],
        reason="热心",
    )
    assert again.pk == n.pk
    with pytest.raises(Conflict):
        _nominate(w, e, "王建国")
    with pytest.raises(DomainError) as unreviewed:
        ev.evaluation_open_voting(actor=sec, evaluation=e)
    assert unreviewed.value.code == "nominations_unreviewed"
    with pytest.raises(Conflict):
        ev.votes_record(actor=sec, idempotency_key=key(), nomination=n, representatives=["代表甲"])
    ev.nomination_review(actor=sec, nomination=n, accept=True)
    m = _nominate(w, e, "张伟")
    ev.nomination_review(actor=sec, nomination=m, accept=True)
    with pytest.raises(DomainError) as no_votes_yet:
        ev.evaluation_decide(actor=sec, evaluation=e)
    assert no_votes_yet.value.code in ("no_votes",) or isinstance(no_votes_yet.value, Conflict)
    ev.evaluation_open_voting(actor=sec, evaluation=e)
    with pytest.raises(DomainError) as empty:
        ev.votes_record(actor=sec, idempotency_key=key(), nomination=n, representatives=[" "])
    assert empty.value.code == "representatives_required"
    with pytest.raises(DomainError) as dup:
        ev.votes_record(actor=sec, idempotency_key=key(), nomination=n, representatives=["代表甲", "代表甲"])
    assert dup.value.code == "representative_twice"
    vote_key = key()
    ev.votes_record(actor=sec, idempotency_key=vote_key, nomination=n, representatives=["代表甲"])
    assert (
        len(ev.votes_record(actor=sec, idempotency_key=vote_key, nomination=n, representatives=["代表甲"]))
        == 1
    )
    with pytest.raises(DomainError) as voted:
        ev.votes_record(actor=sec, idempotency_key=key(), nomination=n, representatives=["代表甲"])
    assert voted.value.code == "representative_voted"
    with pytest.raises(DomainError) as over:  # winners_count 1: one vote per representative
        ev.votes_record(actor=sec, idempotency_key=key(), nomination=m, representatives=["代表乙", "代表甲"])
    assert over.value.code == "representative_over_limit"
    assert "代表甲" in str(over.value.message)
    with pytest.raises(NotFound):
        ev.votes_record(
            actor=w.users["shihua_admin"], idempotency_key=key(), nomination=n, representatives=["代表乙"]
        )


def test_decide_refused_by_the_award_flow_changes_nothing(ev_world):
    """王家 already has this year's award of the rule (cap 1 a year): the decision is refused as a whole."""
    w = ev_world
    sec = w.users["village_secretary"]
    award_propose(
        actor=sec,
        idempotency_key=key(),
        household=w.households["王家"],
        rule=w.extra["rule"],
        occurred_on=timezone.localdate(),
    )
    e = _evaluation(w, winners=2)
    a, b = _nominate(w, e, "张伟"), _nominate(w, e, "王建国")
    for n in (a, b):
        ev.nomination_review(actor=sec, nomination=n, accept=True)
    ev.evaluation_open_voting(actor=sec, evaluation=e)
    ev.votes_record(actor=sec, idempotency_key=key(), nomination=a, representatives=["代表甲"])
    ev.votes_record(actor=sec, idempotency_key=key(), nomination=b, representatives=["代表乙"])
    with pytest.raises(DomainError) as refused:
        ev.evaluation_decide(actor=sec, evaluation=e)
    assert refused.value.code == "award_cap_reached"
    e.refresh_from_db()
    assert e.status == EvaluationStatus.VOTING
    a.refresh_from_db()
    assert (a.status, a.award) == (NominationStatus.ACCEPTED, None)
    assert w.account("张家").pending == 0


def test_pages(ev_world):
    w = ev_world
    client = Client()
    client.login(username="village_secretary", password="xiangzhi-demo")
    response = client.post(
        "/points/evaluations/",
        {
            "idempotency_key": key(),
            "village": w.regions["新华村"].pk,
            "title": "最美村民",
            "year": timezone.localdate().year,
            "rule": w.extra["rule"].pk,
            "winners_count": 2,
        },
    )
    assert response.status_code == 302
    url = response["Location"]
    bad = client.post(
        url,
        {
            "action": "nominate",
            "idempotency_key": key(),
            "household_number": "XH-001",
            "name": "王建国",
            "reason": "",
        },
    )
    assert bad.status_code == 400
    html = bad.content.decode()
    assert "请填写推荐理由。" in html
    assert 'value="XH-001"' in html
    ok = client.post(
        url,
        {
            "action": "nominate",
            "idempotency_key": key(),
            "household_number": "XH-001",
            "name": "王建国",
            "reason": "热心公益",
        },
    )
    assert ok.status_code == 302
    assert "王建国" in client.get(url).content.decode()
    other = Client()
    other.login(username="shihua_admin", password="xiangzhi-demo")
    assert other.get(url).status_code == 404
    api = client.get("/api/v1/points/evaluations/").json()
    assert [e["title"] for e in api] == ["最美村民"]

"""The award services: proposing (caps, duplicates, evidence, every refusal), review, the two-phase
pending → posted by the beat task on a frozen clock, objections, voiding, deductions that never overdraw."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.db.models import Sum

from common.errors import Conflict, DomainError, NotFound
from governance.models import AuditEvent
from points import ledger
from points.models import (
    Account,
    AccountKind,
    Award,
    AwardPhoto,
    AwardStatus,
    ObjectionStatus,
    Posting,
    Rule,
    TownshipPolicy,
    TransactionKind,
)
from points.services import awards as services
from points.services.objections import objection_decide, objection_file
from tests.points.award_factories import (
    AwardsWorld,
    award_bring_to,
    award_make,
    awards_world_make,
    photo_upload,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Wednesday in November 2026: the tests' "today".
NOW = dt.datetime(2026, 11, 18, 10, 0, tzinfo=SHANGHAI)
TODAY = NOW.date()


@pytest.fixture
def world(demo_county) -> AwardsWorld:
    return awards_world_make(demo_county)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def refusal(call, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args, **kwargs)
    return caught.value


def balance(world: AwardsWorld, household: str) -> tuple[int, int]:
    account = Account.objects.filter(household=world.households[household]).first()
    return (account.balance, account.pending) if account else (0, 0)


# --- periods ---------------------------------------------------------------------------------------


def test_period_keys():
    assert services.period_key("month", dt.date(2026, 11, 3)) == "2026-11"
    assert services.period_key("quarter", dt.date(2026, 11, 3)) == "2026-Q4"
    assert services.period_key("quarter", dt.date(2026, 1, 31)) == "2026-Q1"
    assert services.period_key("quarter", dt.date(2026, 7, 1)) == "2026-Q3"
    assert services.period_key("year", dt.date(2026, 11, 3)) == "2026"


# --- proposing -------------------------------------------------------------------------------------


def test_propose_copies_points_and_period_and_audits(world):
    award = award_make(world, "王家", "HJ-01", resident="王建国", note="院子干净")
    assert award.status == AwardStatus.PROPOSED
    assert award.points == 2
    assert award.period == "2026-11"
    assert award.occurred_on == TODAY
    assert award.resident == world.residents["王建国"]
    assert award.proposed_by == world.users["grid_leader"]
    assert AwardPhoto.objects.filter(award=award).count() == 1
    photo = AwardPhoto.objects.get(award=award)
    assert (photo.width, photo.height) == (64, 48)
    event = AuditEvent.objects.get(object_type="points.award", object_id=str(award.pk))
    assert event.changes["rule"] == [None, "HJ-01"]
    assert event.changes["period"] == [None, "2026-11"]
    # Nothing pending before review.
    assert balance(world, "王家") == (0, 0)


def test_replay_returns_first_award_and_other_body_conflicts(world):
    key = str(uuid.uuid4())
    first = award_make(world, "王家", "HJ-02", key=key)
    again = award_make(world, "王家", "HJ-02", key=key)
    assert again.pk == first.pk
    assert Award.objects.count() == 1
    with pytest.raises(Conflict) as caught:
        award_make(world, "李家", "HJ-02", key=key)
    assert caught.value.code == "idempotency_key_reused"
    assert caught.value.status == 409


def test_duplicate_in_same_month_is_refused_with_message_and_field(world):
    award_make(world, "王家", "HJ-02", occurred_on=dt.date(2026, 11, 2))
    error = refusal(award_make, world, "王家", "HJ-02", occurred_on=dt.date(2026, 11, 15))
    assert error.code == "award_cap_reached"
    assert error.field == "rule"
    assert str(error.message) == "本户本月已申报过该条目（垃圾分类投放到位），不能重复申报。"
    # Another month, another household: fine.
    award_make(world, "王家", "HJ-02", occurred_on=dt.date(2026, 10, 30))
    award_make(world, "李家", "HJ-02", occurred_on=dt.date(2026, 11, 15))
    assert Award.objects.count() == 3


def test_cap_counts_proposed_notice_posted_but_not_rejected_or_voided(world):
    # ZY-01: 4 per month.
    first = award_make(world, "王家", "ZY-01", occurred_on=dt.date(2026, 11, 1))
    award_bring_to(world, first, AwardStatus.REJECTED)
    second = award_make(world, "王家", "ZY-01", occurred_on=dt.date(2026, 11, 2))
    award_bring_to(world, second, AwardStatus.NOTICE)
    for day in (3, 4, 5):
        award_make(world, "王家", "ZY-01", occurred_on=dt.date(2026, 11, day))
    error = refusal(award_make, world, "王家", "ZY-01", occurred_on=dt.date(2026, 11, 6))
    assert error.code == "award_cap_reached"
    assert str(error.message) == "本户本月已申报过该条目 4 次，已达上限（每月最多 4 次）。"
    assert error.extra == {"period": "2026-11", "cap": 4, "count": 4}


def test_quarter_and_year_caps(world):
    award_make(world, "王家", "HJ-04", occurred_on=dt.date(2026, 10, 5))  # Q4, once a quarter
    error = refusal(award_make, world, "王家", "HJ-04", occurred_on=dt.date(2026, 11, 5))
    assert str(error.message) == "本户本季度已申报过该条目（获评季度“美丽庭院”），不能重复申报。"
    award_make(world, "王家", "HJ-04", occurred_on=dt.date(2026, 9, 30))  # Q3
    award_make(world, "王家", "ZF-01", occurred_on=dt.date(2026, 1, 5))
    error = refusal(award_make, world, "王家", "ZF-01", occurred_on=dt.date(2026, 11, 5))
    assert str(error.message).startswith("本户本年度已申报过该条目")


def test_evidence_required_needs_a_photo(world):
    error = refusal(award_make, world, "王家", "HJ-01", photos=())
    assert (error.code, error.field) == ("evidence_required", "photos")
    assert str(error.message) == "该条目须附现场照片，请至少上传 1 张。"


def test_bad_photo_is_refused_and_nothing_written(world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = SimpleUploadedFile("x.jpg", b"not an image at all", content_type="image/jpeg")
    error = refusal(award_make, world, "王家", "HJ-01", photos=(photo_upload(), bad))
    assert (error.code, error.field) == ("image_invalid", "photos")
    assert str(error.message).startswith("第 2 张照片：")
    assert Award.objects.count() == 0
    error = refusal(award_make, world, "王家", "HJ-01", photos=tuple(photo_upload() for _ in range(7)))
    assert (error.code, error.field, str(error.message)) == (
        "award_photos_too_many",
        "photos",
        "照片最多 6 张。",
    )


def test_every_other_refusal_has_its_message_and_field(world):
    cases = [
        (
            dict(occurred_on=TODAY + dt.timedelta(days=1)),
            "occurred_in_future",
            "occurred_on",
            "发生日期不能晚于今天。",
        ),
        (
            dict(occurred_on=TODAY - dt.timedelta(days=367)),
            "occurred_too_old",
            "occurred_on",
            "只能申报一年以内发生的事项。",
        ),
        (dict(resident="张伟"), "resident_not_in_household", "resident", "当事人不是该户成员。"),
        (dict(resident="王老汉"), "resident_not_current", "resident", "当事人已不在册。"),
        (dict(note="长" * 501), "note_too_long", "note", "事迹说明不能超过 500 字。"),
    ]
    for kwargs, code, field_name, message in cases:
        error = refusal(award_make, world, "王家", "HJ-02", **kwargs)
        assert (error.code, error.field, str(error.message)) == (code, field_name, message)
    error = refusal(award_make, world, "旧户", "HJ-02")
    assert (error.code, error.field, str(error.message)) == (
        "household_inactive",
        "household",
        "该户已不在册，不能申报积分。",
    )
    Rule.objects.filter(code="HJ-03").update(is_active=False)
    error = refusal(award_make, world, "王家", "HJ-03")
    assert (error.code, error.field, str(error.message)) == (
        "rule_inactive",
        "rule",
        "该条目已停用，不能申报。",
    )
    # A village's own item applies under that village only.
    local = Rule.objects.create(
        region=world.regions["东街社区"],
        code="DJ-01",
        name="东街社区楼道清洁",
        category="environment",
        points=1,
    )
    error = refusal(
        services.award_propose,
        actor=world.users["grid_leader"],
        idempotency_key="k-local",
        household=world.households["王家"],
        rule=local,
        occurred_on=TODAY,
    )
    assert (error.code, error.field, str(error.message)) == (
        "rule_not_applicable",
        "rule",
        "该条目不适用于此户所在的村（社区）。",
    )
    error = refusal(
        services.award_propose,
        actor=world.users["grid_leader"],
        idempotency_key="",
        household=world.households["王家"],
        rule=world.rule("HJ-02"),
        occurred_on=TODAY,
    )
    assert error.code == "idempotency_key_missing"
    assert Award.objects.count() == 0


def test_grid_leader_proposes_only_in_own_grid(world):
    for actor, household in (
        ("grid_leader", "张家"),  # 第二网格
        ("grid_leader", "孙家"),
        ("minying_leader", "王家"),
        ("viewer", "王家"),
        ("canteen_manager", "孙家"),
        ("nobody", "王家"),
    ):
        with pytest.raises(NotFound):
            award_make(world, household, "HJ-02", actor=actor)
    # The village secretary and the township admin above may propose too.
    assert award_make(world, "张家", "HJ-02", actor="village_secretary").status == AwardStatus.PROPOSED
    assert award_make(world, "赵家", "HJ-02", actor="township_admin").status == AwardStatus.PROPOSED


# --- review ----------------------------------------------------------------------------------------


def test_approve_puts_points_under_notice_as_pending(world):
    award = award_make(world, "王家", "XL-01")
    award = services.award_review(actor=world.users["village_secretary"], award=award, approve=True)
    assert award.status == AwardStatus.NOTICE
    assert award.notice_ends_at == NOW + dt.timedelta(days=7)
    assert award.reviewed_by == world.users["village_secretary"]
    assert balance(world, "王家") == (0, 3)


def test_notice_days_come_from_township_policy(world):
    TownshipPolicy.objects.create(township=world.regions["城关镇"], notice_days=3)
    award = award_make(world, "王家", "XL-01")
    award = services.award_review(actor=world.users["village_secretary"], award=award, approve=True)
    assert award.notice_ends_at == NOW + dt.timedelta(days=3)


def test_reject_needs_reason_and_review_happens_once(world):
    award = award_make(world, "王家", "XL-01")
    error = refusal(services.award_review, actor=world.users["village_secretary"], award=award, approve=False)
    assert (error.code, error.field, str(error.message)) == (
        "rejection_reason_required",
        "reason",
        "不通过时请填写理由。",
    )
    award = services.award_review(
        actor=world.users["village_secretary"], award=award, approve=False, reason="未见事迹"
    )
    assert (award.status, award.rejection_reason) == (AwardStatus.REJECTED, "未见事迹")
    with pytest.raises(Conflict) as caught:
        services.award_review(actor=world.users["village_secretary"], award=award, approve=True)
    assert caught.value.code == "award_not_proposed"
    assert str(caught.value.message) == "该申报已处理（当前状态：未通过），不能再审核。"
    assert balance(world, "王家") == (0, 0)
    # A rejected proposal does not count: the same item can be proposed again this month.
    award_make(world, "王家", "XL-01")


def test_village_reviews_only_its_village(world):
    award = award_make(world, "王家", "XL-01")
    for reviewer in (
        "grid_leader",
        "dongjie_secretary",
        "minying_secretary",
        "viewer",
        "nobody",
        "shihua_admin",
    ):
        with pytest.raises(NotFound):
            services.award_review(actor=world.users[reviewer], award=award, approve=True)
    assert (
        services.award_review(actor=world.users["township_admin"], award=award, approve=True).status
        == "notice"
    )


def test_bulk_approve_all_or_none(world):
    one = award_make(world, "王家", "XL-01")
    two = award_make(world, "李家", "XL-01")
    other = award_make(world, "赵家", "XL-01", actor="dongjie_secretary")
    with pytest.raises(NotFound):
        services.awards_approve_bulk(actor=world.users["village_secretary"], award_ids=[one.pk, other.pk])
    assert Award.objects.filter(status=AwardStatus.NOTICE).count() == 0
    assert (
        services.awards_approve_bulk(actor=world.users["village_secretary"], award_ids=[one.pk, two.pk]) == 2
    )
    assert balance(world, "王家") == (0, 3)
    assert balance(world, "李家") == (0, 3)


# --- posting (two phases) ----------------------------------------------------------------------------


def test_posting_after_notice_moves_pending_to_balance_exactly_once(world):
    award = award_bring_to(world, award_make(world, "王家", "XL-01"), AwardStatus.NOTICE)
    award_bring_to(world, award_make(world, "李家", "HJ-02"), AwardStatus.NOTICE)
    # During the notice period the task posts nothing.
    with time_machine.travel(NOW + dt.timedelta(days=6, hours=23), tick=False):
        assert services.award_post_due() == 0
    assert balance(world, "王家") == (0, 3)
    with time_machine.travel(NOW + dt.timedelta(days=7), tick=False):
        assert services.award_post_due() == 2
        assert services.award_post_due() == 0  # rerun: nothing twice
    award.refresh_from_db()
    assert award.status == AwardStatus.POSTED
    assert award.posted_at == NOW + dt.timedelta(days=7)
    assert award.transaction.kind == TransactionKind.AWARD
    assert balance(world, "王家") == (3, 0)
    assert balance(world, "李家") == (2, 0)
    issuance = ledger.system_account(world.regions["城关镇"], AccountKind.ISSUANCE)
    assert ledger.account_balance(issuance) == -5
    assert Posting.objects.aggregate(total=Sum("amount"))["total"] == 0
    # A direct second post of the same award does nothing.
    assert services.award_post(award_id=award.pk, now=NOW + dt.timedelta(days=8)) is False
    assert Posting.objects.filter(transaction__award=award).count() == 2
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_upheld_objection_voids_and_releases_pending(world):
    award = award_bring_to(world, award_make(world, "王家", "XL-01"), AwardStatus.NOTICE)
    objection = objection_file(award=award, reason="该户老人实际由邻居照料", client_ip="10.0.0.8")
    assert objection.status == ObjectionStatus.OPEN
    with pytest.raises(Conflict) as caught:
        objection_file(award=award, reason="重复提交的异议理由", client_ip="10.0.0.8")
    assert caught.value.code == "objection_already_open"
    with pytest.raises(NotFound):
        objection_decide(actor=world.users["dongjie_secretary"], objection=objection, upheld=True, note="x")
    error = refusal(
        objection_decide, actor=world.users["village_secretary"], objection=objection, upheld=True, note=""
    )
    assert (error.code, error.field, str(error.message)) == (
        "objection_note_required",
        "note",
        "请填写处理意见。",
    )
    objection_decide(
        actor=world.users["village_secretary"], objection=objection, upheld=True, note="经核实属实"
    )
    award.refresh_from_db()
    assert award.status == AwardStatus.VOIDED
    assert award.void_reason == "公示异议成立：经核实属实"
    assert balance(world, "王家") == (0, 0)
    with time_machine.travel(NOW + dt.timedelta(days=8), tick=False):
        assert services.award_post_due() == 0
    assert Posting.objects.count() == 0
    with pytest.raises(Conflict):
        objection_decide(
            actor=world.users["village_secretary"], objection=objection, upheld=False, note="再议"
        )


def test_open_objection_holds_posting_until_dismissed(world):
    award = award_bring_to(world, award_make(world, "王家", "XL-01"), AwardStatus.NOTICE)
    objection = objection_file(award=award, reason="事迹描述不准确", contact_phone="138 0000 1234")
    assert objection.contact_phone_masked == "138****1234"
    assert "13800001234" not in objection.contact_phone_encrypted
    with time_machine.travel(NOW + dt.timedelta(days=8), tick=False):
        assert services.award_post_due() == 0
        objection_decide(
            actor=world.users["village_secretary"], objection=objection, upheld=False, note="经核实无误"
        )
        assert services.award_post_due() == 1
    assert balance(world, "王家") == (3, 0)


def test_objection_refusals(world):
    award = award_make(world, "王家", "XL-01")
    error = refusal(objection_file, award=award, reason="太短")
    assert (error.code, error.field) == ("objection_reason_short", "reason")
    assert str(error.message) == "请写明异议理由（至少 5 个字）。"
    error = refusal(objection_file, award=award, reason="理由足够长了吧", contact_phone="12345")
    assert (error.code, error.field) == ("phone_format", "contact_phone")
    with pytest.raises(Conflict) as caught:
        objection_file(award=award, reason="尚未公示的申报不能异议")
    assert str(caught.value.message) == "该条积分已不在公示期内，不能再提出异议。"
    award = award_bring_to(world, award, AwardStatus.NOTICE)
    with time_machine.travel(NOW + dt.timedelta(days=7), tick=False), pytest.raises(Conflict):
        objection_file(award=award, reason="公示期已过才提出的异议")


# --- deductions ----------------------------------------------------------------------------------------


def _posted_award(world, household: str, code: str) -> Award:
    award = award_bring_to(world, award_make(world, household, code), AwardStatus.NOTICE)
    assert services.award_post(award_id=award.pk, now=award.notice_ends_at) is True
    award.refresh_from_db()
    return award


def test_deduction_is_not_pending_and_posts_as_deduction(world):
    _posted_award(world, "王家", "PX-02")  # +20
    deduction = award_bring_to(world, award_make(world, "王家", "HJ-05"), AwardStatus.NOTICE)  # −5
    assert balance(world, "王家") == (20, 0)
    assert services.award_post(award_id=deduction.pk, now=deduction.notice_ends_at) is True
    deduction.refresh_from_db()
    assert deduction.status == AwardStatus.POSTED
    assert deduction.transaction.kind == TransactionKind.DEDUCTION
    assert balance(world, "王家") == (15, 0)


def test_deduction_larger_than_balance_takes_what_there_is_and_waives_the_rest(world):
    _posted_award(world, "王家", "XL-01")  # +3
    deduction = award_bring_to(world, award_make(world, "王家", "XL-04"), AwardStatus.NOTICE)  # −10
    assert services.award_post(award_id=deduction.pk, now=deduction.notice_ends_at) is True
    deduction.refresh_from_db()
    assert deduction.status == AwardStatus.POSTED
    amounts = sorted(deduction.transaction.postings.values_list("amount", flat=True))
    assert amounts == [-3, 3]
    assert "应扣 10 分，余额仅 3 分，实扣 3 分" in deduction.transaction.memo
    assert balance(world, "王家") == (0, 0)
    event = (
        AuditEvent.objects.filter(object_type="points.award", object_id=str(deduction.pk))
        .order_by("pk")
        .last()
    )
    assert event.changes["waived"] == [None, 7]


def test_deduction_on_zero_balance_is_voided_never_overdrawn(world):
    deduction = award_bring_to(world, award_make(world, "李家", "YF-04"), AwardStatus.NOTICE)
    assert services.award_post(award_id=deduction.pk, now=deduction.notice_ends_at) is True
    deduction.refresh_from_db()
    assert deduction.status == AwardStatus.VOIDED
    assert deduction.void_reason == "余额为零，扣分 10 分无可扣除，不透支。"
    assert balance(world, "李家") == (0, 0)
    assert Posting.objects.filter(account__household=world.households["李家"]).count() == 0


# --- voiding -----------------------------------------------------------------------------------------


def test_void_notice_releases_pending_and_void_posted_reverses(world):
    notice = award_bring_to(world, award_make(world, "王家", "XL-01"), AwardStatus.NOTICE)
    error = refusal(services.award_void, actor=world.users["village_secretary"], award=notice, reason=" ")
    assert (error.code, error.field) == ("void_reason_required", "reason")
    services.award_void(actor=world.users["village_secretary"], award=notice, reason="申报有误")
    assert balance(world, "王家") == (0, 0)
    posted = _posted_award(world, "王家", "PX-02")
    assert balance(world, "王家") == (20, 0)
    services.award_void(actor=world.users["village_secretary"], award=posted, reason="重复申报")
    posted.refresh_from_db()
    assert posted.status == AwardStatus.VOIDED
    assert posted.transaction.reversed_by.kind == TransactionKind.REVERSAL
    assert balance(world, "王家") == (0, 0)
    with pytest.raises(Conflict) as caught:
        services.award_void(actor=world.users["village_secretary"], award=posted, reason="再次作废")
    assert caught.value.code == "award_not_voidable"
    with pytest.raises(NotFound):
        services.award_void(actor=world.users["grid_leader"], award=posted, reason="网格长不能作废")


# --- batch ---------------------------------------------------------------------------------------------


def test_batch_creates_all_or_none_and_reports_each_row(world):
    h = world.households
    rows = [
        services.BatchRow(household=h["王家"], rule=world.rule("HJ-02")),
        services.BatchRow(household=h["李家"], rule=world.rule("HJ-02")),
        services.BatchRow(household=h["王家"], rule=world.rule("HJ-01")),  # evidence missing
    ]
    with pytest.raises(services.BatchErrors) as caught:
        services.award_propose_batch(
            actor=world.users["grid_leader"], batch_key="b-1", occurred_on=TODAY, rows=rows
        )
    assert caught.value.rows == {2: {"photos": "该条目须附现场照片，请至少上传 1 张。"}}
    assert str(caught.value.message) == "有 1 条申报未通过校验，整批未提交，请按提示修改。"
    assert Award.objects.count() == 0
    rows[2] = services.BatchRow(household=h["王家"], rule=world.rule("HJ-01"), photos=(photo_upload(),))
    awards = services.award_propose_batch(
        actor=world.users["grid_leader"], batch_key="b-1", occurred_on=TODAY, rows=rows
    )
    assert [a.household_id for a in awards] == [h["王家"].pk, h["李家"].pk, h["王家"].pk]
    replay = services.award_propose_batch(
        actor=world.users["grid_leader"], batch_key="b-1", occurred_on=TODAY, rows=rows
    )
    assert [a.pk for a in replay] == [a.pk for a in awards]
    assert Award.objects.count() == 3
    # A second batch the same month: every row is a duplicate, each reported.
    with pytest.raises(services.BatchErrors) as caught:
        services.award_propose_batch(
            actor=world.users["grid_leader"], batch_key="b-2", occurred_on=TODAY, rows=rows[:2]
        )
    assert set(caught.value.rows) == {0, 1}
    assert caught.value.rows[0]["rule"].startswith("本户本月已申报过该条目")


def test_batch_outside_grid_is_not_found(world):
    rows = [services.BatchRow(household=world.households["张家"], rule=world.rule("HJ-02"))]
    with pytest.raises(NotFound):
        services.award_propose_batch(
            actor=world.users["grid_leader"], batch_key="b-x", occurred_on=TODAY, rows=rows
        )

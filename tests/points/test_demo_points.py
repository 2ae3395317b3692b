"""The demo county's points year (points/demo.py) is written in bulk, not through the services: these tests
hold it to what the services keep (an exact ledger, stock that adds up, awards in states the workflow can
reach) and check that the township admin's demo log-in lands on a working till."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count, F, Q, Sum
from django.test import Client
from django.utils import timezone

from governance.demo import seed_demo_county
from governance.models import Household, Region, RegionLevel
from points.demo import ITEMS
from points.models import (
    Account,
    AccountKind,
    Award,
    AwardStatus,
    DayStatus,
    Item,
    LedgerTransaction,
    Objection,
    ObjectionStatus,
    Posting,
    Redemption,
    RedemptionDay,
    RedemptionLine,
    RedemptionReturn,
    Rule,
    StockKind,
    StockMovement,
    Store,
    TransactionKind,
)
from points.services.ledger_check import ledger_differences

pytestmark = pytest.mark.django_db

PASSWORD = "xiangzhi-demo"


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """The test-scale county with its cases and points year, built once for the module inside a
    transaction rolled back afterwards (each test's own transaction nests inside it as a savepoint)."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            seed_demo_county(password=PASSWORD, scale="test")
            yield
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def test_skeleton_scale_adds_no_points():
    seed_demo_county(password=PASSWORD)
    assert Store.objects.count() == 0
    assert Award.objects.count() == 0
    assert Account.objects.count() == 0
    assert LedgerTransaction.objects.count() == 0


def test_every_township_has_a_stocked_store_and_its_days(seeded):
    assert connection.vendor == "postgresql"
    townships = Region.objects.filter(level=RegionLevel.TOWNSHIP)
    assert townships.count() == 10
    stores = Store.objects.all()
    assert stores.count() == 10
    assert {s.region_id for s in stores} == {t.pk for t in townships}
    assert all(s.township_id == s.region_id and s.is_active for s in stores)
    assert Item.objects.count() == 10 * len(ITEMS) == 140
    # Every item priced 5–100 points, on sale, with something on the shelf for today's till.
    assert Item.objects.filter(points_price__lt=5).count() == 0
    assert Item.objects.filter(points_price__gt=100).count() == 0
    assert Item.objects.filter(is_active=True, on_hand__gt=0).count() == 140
    names = set(Item.objects.values_list("name", flat=True))
    assert {"大米（10斤）", "食用油（5升）", "洗衣粉（1.5千克）", "毛巾", "牙膏", "酱油（500毫升）"} <= names

    today = timezone.localdate()
    year_ago = today - dt.timedelta(days=365)
    for store in stores:
        days = list(store.days.order_by("date"))
        open_days = [d for d in days if d.status == DayStatus.OPEN]
        assert [d.date for d in open_days] == [today]
        assert open_days[0].opened_at is not None
        assert open_days[0].opened_at <= timezone.now()
        assert open_days[0].closed_at is None
        scheduled = [d for d in days if d.status == DayStatus.SCHEDULED]
        assert len(scheduled) == 1
        assert scheduled[0].date > today
        assert scheduled[0].opened_at is None
        closed = [d for d in days if d.status == DayStatus.CLOSED]
        # Monthly: one closed day in each of the 11 or 12 past months of the year, same day of the month.
        assert len(closed) in (11, 12)
        assert len({(d.date.year, d.date.month) for d in closed}) == len(closed)
        assert len({d.date.day for d in closed}) == 1
        assert all(year_ago < d.date < today for d in closed)
        assert all(d.opened_at < d.closed_at for d in closed)
        # Each store has its redemption sink; each township its issuance account.
        assert Account.objects.filter(kind=AccountKind.STORE_SINK, store=store).count() == 1
    assert Account.objects.filter(kind=AccountKind.ISSUANCE).count() == 10
    assert Account.objects.exclude(kind=AccountKind.HOUSEHOLD).filter(~Q(balance=0)).count() == 0


def test_the_ledger_verifies(seeded):
    checked, differences = ledger_differences()
    assert differences == []
    assert checked == Account.objects.count()
    call_command("points_verify")  # raises CommandError on any difference
    assert Posting.objects.aggregate(total=Sum("amount"))["total"] == 0
    unbalanced = (
        LedgerTransaction.objects.annotate(total=Sum("postings__amount"), legs=Count("postings"))
        .filter(~Q(total=0) | Q(legs__lt=2))
        .count()
    )
    assert unbalanced == 0
    assert Account.objects.filter(kind=AccountKind.HOUSEHOLD, balance__lt=0).count() == 0
    # Points issued − redeemed (net of returns) = what the households hold; nothing expired.
    household_total = Account.objects.filter(kind=AccountKind.HOUSEHOLD).aggregate(t=Sum("balance"))["t"]
    issuance = Posting.objects.filter(account__kind=AccountKind.ISSUANCE).aggregate(t=Sum("amount"))["t"]
    sinks = Posting.objects.filter(account__kind=AccountKind.STORE_SINK).aggregate(t=Sum("amount"))["t"]
    assert household_total > 0
    assert -issuance - sinks == household_total


def test_no_household_balance_ever_went_below_zero(seeded):
    """Replaying every household's postings in id order (the order statements show) never dips below
    zero, and the ids follow time."""
    running: dict[int, int] = defaultdict(int)
    last_at: dict[int, dt.datetime] = {}
    rows = (
        Posting.objects.filter(account__kind=AccountKind.HOUSEHOLD)
        .order_by("id")
        .values_list("account_id", "amount", "created_at")
    )
    for account_id, amount, at in rows:
        running[account_id] += amount
        assert running[account_id] >= 0
        assert at >= last_at.get(account_id, at)
        last_at[account_id] = at
    stored = dict(Account.objects.filter(kind=AccountKind.HOUSEHOLD).values_list("id", "balance"))
    assert {k: v for k, v in running.items()} == {k: v for k, v in stored.items() if k in running}
    assert all(balance == 0 for k, balance in stored.items() if k not in running)


def test_awards_are_in_states_the_workflow_reaches(seeded):
    now = timezone.now()
    awards = Award.objects.select_related("rule", "transaction")
    statuses = dict(awards.values_list("status").annotate(n=Count("id")))
    # The test county's ~250 households all take part: every state is there.
    assert set(statuses) == {s.value for s in AwardStatus}
    assert statuses[AwardStatus.POSTED] > 1000
    # Only the county's catalog, never an item that needs a photo (the bulk build writes none).
    assert awards.filter(rule__is_evidence_required=True).count() == 0
    assert set(awards.values_list("rule__region__level", flat=True)) == {RegionLevel.COUNTY}
    for award in awards:
        assert award.points == award.rule.points
        assert award.proposed_at <= now
        assert award.occurred_on <= timezone.localdate(award.proposed_at)
        if award.status == AwardStatus.PROPOSED:
            assert award.reviewed_at is None
            assert award.transaction is None
            continue
        if award.status == AwardStatus.REJECTED:
            assert award.rejection_reason
            assert award.transaction is None
            continue
        assert award.reviewed_at is not None
        assert award.reviewed_at > award.proposed_at
        assert award.notice_ends_at == award.reviewed_at + dt.timedelta(days=7)
        if award.status == AwardStatus.NOTICE:
            assert award.transaction is None
        elif award.status == AwardStatus.POSTED:
            assert award.notice_ends_at <= award.posted_at <= now
            legs = dict(award.transaction.postings.values_list("account__kind", "amount"))
            if award.points > 0:
                assert award.transaction.kind == TransactionKind.AWARD
                assert legs == {AccountKind.HOUSEHOLD: award.points, AccountKind.ISSUANCE: -award.points}
            else:
                assert award.transaction.kind == TransactionKind.DEDUCTION
                assert award.points <= legs[AccountKind.HOUSEHOLD] < 0
        else:
            assert award.status == AwardStatus.VOIDED
            assert award.void_reason
            assert award.transaction is None
    # Caps: never more counted awards of a rule in a period than the rule allows.
    counted = (
        Award.objects.filter(status__in=[AwardStatus.PROPOSED, AwardStatus.NOTICE, AwardStatus.POSTED])
        .values("household_id", "rule_id", "period", "rule__cap_count")
        .annotate(n=Count("id"))
    )
    assert all(row["n"] <= (row["rule__cap_count"] or 1) for row in counted)
    # Pending = the household's positive awards under notice, exactly.
    pending = defaultdict(int)
    for household_id, points in Award.objects.filter(status=AwardStatus.NOTICE, points__gt=0).values_list(
        "household_id", "points"
    ):
        pending[household_id] += points
    stored = {
        household_id: value
        for household_id, value in Account.objects.filter(kind=AccountKind.HOUSEHOLD).values_list(
            "household_id", "pending"
        )
        if value
    }
    assert stored == dict(pending)
    assert sum(pending.values()) > 0


def test_objections_match_their_awards(seeded):
    objections = Objection.objects.select_related("award")
    assert objections.count() > 0
    assert objections.filter(status=ObjectionStatus.UPHELD).exists()
    assert objections.filter(status=ObjectionStatus.DISMISSED).exists()
    for objection in objections:
        award = objection.award
        assert award.reviewed_at < objection.created_at < award.notice_ends_at
        if objection.status == ObjectionStatus.UPHELD:
            assert award.status == AwardStatus.VOIDED
            assert award.void_reason.startswith("公示异议成立")
        elif objection.status == ObjectionStatus.DISMISSED:
            assert objection.decided_at is not None
            assert objection.decision_note
            if award.status == AwardStatus.VOIDED:
                # A deduction that found a zero balance when it came to be posted (award_post voids it).
                assert award.points < 0
                assert award.void_reason.startswith("余额为零")
            else:
                assert award.status in (AwardStatus.POSTED, AwardStatus.NOTICE)
        else:
            assert award.status == AwardStatus.NOTICE
            assert objection.decided_at is None


def test_redemptions_and_stock_add_up(seeded):
    redemptions = Redemption.objects.all()
    assert redemptions.count() > 100
    # Every receipt on one of its store's open or closed days, within the day's hours.
    assert redemptions.filter(day__isnull=True).count() == 0
    assert redemptions.exclude(day__store=F("store")).count() == 0
    assert redemptions.filter(day__status=DayStatus.SCHEDULED).count() == 0
    assert redemptions.filter(created_at__lt=F("day__opened_at")).count() == 0
    assert redemptions.filter(day__status=DayStatus.CLOSED, created_at__gt=F("day__closed_at")).count() == 0
    for redemption in redemptions.select_related("transaction"):
        lines = list(redemption.lines.all())
        assert redemption.total_points == sum(line.quantity * line.unit_points for line in lines)
        assert redemption.receipt_number == (
            f"DH{timezone.localtime(redemption.created_at):%Y%m%d}{redemption.pk:06d}"
        )
        legs = dict(redemption.transaction.postings.values_list("account__kind", "amount"))
        assert legs == {
            AccountKind.HOUSEHOLD: -redemption.total_points,
            AccountKind.STORE_SINK: redemption.total_points,
        }
        assert redemption.transaction.kind == TransactionKind.REDEMPTION
        moved = dict(
            redemption.stock_movements.filter(kind=StockKind.REDEMPTION).values_list("item_id", "quantity")
        )
        assert moved == {line.item_id: -line.quantity for line in lines}
    # Returns: one reversal and one stock movement back each, never more than was bought.
    for line in RedemptionLine.objects.annotate(back=Sum("returns__quantity")):
        assert (line.back or 0) == line.returned_quantity <= line.quantity
    for returned in RedemptionReturn.objects.select_related("transaction", "line"):
        legs = dict(returned.transaction.postings.values_list("account__kind", "amount"))
        points = returned.quantity * returned.line.unit_points
        assert legs == {AccountKind.HOUSEHOLD: points, AccountKind.STORE_SINK: -points}
    assert StockMovement.objects.filter(kind=StockKind.RETURN).count() == RedemptionReturn.objects.count()
    # Stock: on hand = movements, and the running stock in id order never dips below zero.
    running: dict[int, int] = defaultdict(int)
    for item_id, quantity in StockMovement.objects.order_by("id").values_list("item_id", "quantity"):
        running[item_id] += quantity
        assert running[item_id] >= 0
    assert dict(Item.objects.values_list("id", "on_hand")) == dict(running)
    purchases = StockMovement.objects.filter(kind__in=[StockKind.PURCHASE, StockKind.DONATION])
    assert purchases.filter(Q(source="") | Q(value_fen__isnull=True)).count() == 0
    assert StockMovement.objects.filter(kind=StockKind.ADJUSTMENT, reason="").count() == 0


def test_households_with_points_belong_to_their_township(seeded):
    accounts = Account.objects.filter(kind=AccountKind.HOUSEHOLD).select_related("household__grid")
    assert accounts.count() > 200
    assert accounts.filter(card_code__isnull=True).count() == 0
    for account in accounts:
        assert account.household.grid.path.split("/")[1] == str(account.township_id)
    assert Household.objects.filter(points_account__isnull=False, is_active=False).count() == 0
    # Proposed by the grid's leader, reviewed in the village.
    rules = set(Rule.objects.values_list("pk", flat=True))
    assert set(Award.objects.values_list("rule_id", flat=True)) <= rules


def test_township_admin_lands_on_a_working_till(seeded):
    client = Client()
    response = client.post("/login/", {"username": "township_admin", "password": PASSWORD})
    assert response.status_code == 302
    response = client.get("/start/")
    assert response["Location"] == "/points/start/"
    day = RedemptionDay.objects.get(
        store__region__name="城关镇", status=DayStatus.OPEN, date=timezone.localdate()
    )
    response = client.get("/points/start/")
    assert response.status_code == 302
    assert response["Location"] == f"/points/till/{day.pk}/"
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert 'data-testid="day-status"' in page.content.decode()
    # A household of the township with points to spend, found by its number, gets the item grid.
    account = (
        Account.objects.filter(kind=AccountKind.HOUSEHOLD, township_id=day.store.township_id, balance__gte=5)
        .select_related("household")
        .order_by("-balance", "id")
        .first()
    )
    assert account is not None
    found = client.get(f"/points/till/{day.pk}/", {"q": account.household.number})
    assert found.status_code in (200, 302)
    page = client.get(f"/points/till/{day.pk}/", {"household": account.household_id})
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-balance="{account.balance}"' in html
    for name, *_rest in ITEMS:
        assert f'data-testid="item-{name}"' in html

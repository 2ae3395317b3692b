"""The demo county's livelihood sites (canteens/demo.py) are written in bulk, not through the services: these
tests hold the bulk records to what the services keep — every meal split by canteens.split as its rule says,
a donation fund that never went below zero and equals its movements, enrolments that the eligibility check
would have accepted, settlements equal to their meals and locked — over both years of records (the archive
year 2022, the county's registers of that year, and the live year), and check the registry's 16 / 18 / 40 /
28 (all opened by the end of 2022) and the canteen manager's landing on today's check-in
(tests/governance/test_seed_default_scale.py: the default scale's 1,000+ elders at 民营社区's canteen and
30,000+ people benefiting from canteens and classrooms, in 2022 and in the live year)."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

import pytest
from django.db import connection, transaction
from django.db.models import Count, F, Max, Min, Q, Sum
from django.db.utils import DatabaseError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from canteens.access import can_run_site
from canteens.demo import ARCHIVE_YEAR, canteens_demo_counts
from canteens.models import (
    ClaimStatus,
    ClassAttendance,
    ClassSession,
    DonationFund,
    Enrolment,
    FundMovement,
    FundMovementKind,
    Meal,
    MealSlot,
    PriceRule,
    ServiceLog,
    Settlement,
    SettlementLine,
    Site,
    SiteKind,
    SubsidyTier,
    VolunteerHours,
    WagePayment,
    WorkshopOrder,
    WorkshopWorker,
)
from canteens.selectors.reports import beneficiaries_count
from canteens.split import Share, fallback_apply, meal_split
from governance.demo import seed_demo_county
from governance.models import Region, ResidentTag, User

pytestmark = pytest.mark.django_db

PASSWORD = "xiangzhi-demo"


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """The test-scale county with its cases, points and livelihood sites, built once for the module inside
    a transaction rolled back afterwards (each test's own transaction nests inside it as a savepoint)."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            seed_demo_county(password=PASSWORD, scale="test")
            yield
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def _age(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def test_skeleton_scale_adds_no_sites():
    seed_demo_county(password=PASSWORD)
    assert Site.objects.count() == 0
    assert Meal.objects.count() == 0
    assert Enrolment.objects.count() == 0
    assert DonationFund.objects.count() == 0


def test_the_registry_has_16_canteens_18_classrooms_40_workshops_28_stations(seeded):
    assert connection.vendor == "postgresql"
    counts = dict(Site.objects.values_list("kind").annotate(n=Count("id")))
    assert counts == {
        SiteKind.CANTEEN: 16,
        SiteKind.CLASSROOM: 18,
        SiteKind.WORKSHOP: 40,
        SiteKind.RED_STATION: 28,
    }
    # All of them opened by the end of 2022: the canteens in 2021–2022, 民营社区's first; a classroom held in
    # a canteen after it opened.
    end = dt.date(ARCHIVE_YEAR, 12, 31)
    assert not Site.objects.filter(Q(opened_on__isnull=True) | Q(opened_on__gt=end)).exists()
    canteens = Site.objects.filter(kind=SiteKind.CANTEEN).order_by("opened_on")
    assert {c.opened_on.year for c in canteens} <= {ARCHIVE_YEAR - 1, ARCHIVE_YEAR}
    assert canteens[0].region.name == "民营社区"
    assert not Site.objects.filter(kind=SiteKind.CLASSROOM, opened_on__lte=F("host__opened_on")).exists()
    # Every site in a village or community; 14 classrooms held in a canteen of the same village.
    assert not Site.objects.exclude(region__level="village").exists()
    hosted = Site.objects.filter(kind=SiteKind.CLASSROOM, host__isnull=False)
    assert hosted.count() == 14
    assert all(c.host.kind == SiteKind.CANTEEN and c.host.region_id == c.region_id for c in hosted)
    # Every township has a canteen, workshops and a red station; 民营社区 has its canteen.
    townships = Region.objects.filter(level="township")
    for township in townships:
        in_it = Site.objects.filter(region__path__startswith=township.path)
        assert in_it.filter(kind=SiteKind.CANTEEN).exists(), township.name
        assert in_it.filter(kind=SiteKind.WORKSHOP).count() == 4, township.name
        assert in_it.filter(kind=SiteKind.RED_STATION).exists(), township.name
    minying = Site.objects.get(kind=SiteKind.CANTEEN, region__name="民营社区")
    assert minying.name == "民营社区爱心食堂"
    assert set(MealSlot.objects.filter(site=minying).values_list("kind", flat=True)) == {
        "breakfast",
        "lunch",
        "dinner",
    }
    # Each canteen: a rule per tier and slot it serves plus a guest rule per slot, and its own fund.
    tiers = SubsidyTier.objects.count()
    assert tiers == 6
    for canteen in Site.objects.filter(kind=SiteKind.CANTEEN):
        assert PriceRule.objects.filter(site=canteen).count() == 3 * (tiers + 1)
        assert DonationFund.objects.filter(site=canteen).count() == 1


def test_every_meal_is_split_by_its_rule(seeded):
    splits = {}
    for rule in PriceRule.objects.prefetch_related("shares"):
        shares = [Share(s.funder, s.fixed_fen, s.share_bp, s.cap_fen) for s in rule.shares.all()]
        splits[rule.pk] = (rule, meal_split(rule.price_fen, shares, rule.remainder_funder))
    meals = Meal.objects.values(
        "id",
        "site_id",
        "tier_id",
        "slot",
        "is_guest",
        "rule_id",
        "price_fen",
        "resident_fen",
        "government_fen",
        "community_fen",
        "donation_fen",
        "donation_shortfall_fen",
        "government_level",
    )
    assert meals.count() > 1000
    guests = 0
    for meal in meals:
        rule, parts = splits[meal["rule_id"]]
        assert rule.site_id == meal["site_id"]
        assert rule.tier_id == meal["tier_id"]
        assert rule.slot == meal["slot"]
        assert meal["price_fen"] == rule.price_fen
        assert meal["government_level"] == rule.government_level
        expected, shortfall = fallback_apply(
            parts, parts["donation"] - meal["donation_shortfall_fen"], rule.donation_fallback
        )
        assert shortfall == meal["donation_shortfall_fen"]
        got = {f: meal[f"{f}_fen"] for f in ("resident", "government", "community", "donation")}
        assert got == expected, meal
        assert sum(got.values()) == meal["price_fen"]
        if meal["is_guest"]:
            guests += 1
            assert rule.tier_id is None
            assert got == {"resident": rule.price_fen, "government": 0, "community": 0, "donation": 0}
    assert guests > 0
    assert not Meal.objects.filter(Q(reverses__isnull=False) | Q(voided_at__isnull=False)).exists()


def test_meals_follow_enrolments_and_the_one_meal_per_slot_rule(seeded):
    today = timezone.localdate()
    enrolments = {
        e.pk: e
        for e in Enrolment.objects.select_related("resident", "tier").filter(site__kind=SiteKind.CANTEEN)
    }
    assert enrolments
    tags = defaultdict(set)
    for resident_id, tag in ResidentTag.objects.values_list("resident_id", "tag"):
        tags[resident_id].add(tag)
    # One elder, one canteen; enrolled when eligible for the tier, as the enrolment check reads the record.
    assert len({e.resident_id for e in enrolments.values()}) == len(enrolments)
    for e in enrolments.values():
        age = _age(e.resident.birth_date, e.starts_on)
        tier = e.tier
        if tier.tag:
            assert tier.tag in tags[e.resident_id]
            assert e.basis == tier.get_tag_display()
        else:
            assert tier.min_age <= age
            assert tier.max_age is None or age <= tier.max_age
            assert e.basis == f"{age} 岁"
        assert e.starts_on <= today
        assert e.ends_on is None or e.starts_on <= e.ends_on < today
        assert e.card_code.startswith("ST")
        assert len(e.card_code) == 18
    rows = Meal.objects.filter(is_guest=False).values_list(
        "resident_id", "served_on", "slot", "enrolment_id", "site_id", "tier_id"
    )
    seen = Counter()
    for resident_id, served_on, slot, enrolment_id, site_id, tier_id in rows:
        e = enrolments[enrolment_id]
        assert (e.resident_id, e.site_id, e.tier_id) == (resident_id, site_id, tier_id)
        assert e.starts_on <= served_on <= (e.ends_on or today)
        seen[(resident_id, served_on, slot)] += 1
    assert seen
    assert max(seen.values()) == 1
    # Two years of meals: the archive year 2022 (from the canteens' opening) and the live year, from a year
    # ago up to today; nothing in between, never a slot the canteen does not serve, never before the
    # canteen opened nor under a rule not yet in force.
    live = Meal.objects.filter(served_on__gt=dt.date(ARCHIVE_YEAR, 12, 31))
    first, last = live.aggregate(a=Min("served_on"), b=Max("served_on")).values()
    assert today - dt.timedelta(days=364) <= first <= today - dt.timedelta(days=300)
    assert today - dt.timedelta(days=1) <= last <= today
    archive = Meal.objects.filter(served_on__lte=dt.date(ARCHIVE_YEAR, 12, 31))
    first, last = archive.aggregate(a=Min("served_on"), b=Max("served_on")).values()
    assert dt.date(ARCHIVE_YEAR, 1, 1) <= first <= dt.date(ARCHIVE_YEAR, 1, 31)
    assert dt.date(ARCHIVE_YEAR, 12, 20) <= last <= dt.date(ARCHIVE_YEAR, 12, 31)
    assert archive.count() > 500
    assert archive.values("site").distinct().count() == 16
    assert live.count() + archive.count() == Meal.objects.count()
    assert not Meal.objects.filter(
        served_on__lt=today - dt.timedelta(days=364), served_on__year__gt=ARCHIVE_YEAR
    )
    served = set(MealSlot.objects.values_list("site_id", "kind"))
    assert set(Meal.objects.values_list("site_id", "slot").distinct()) <= served
    assert not Meal.objects.filter(served_on__lt=F("site__opened_on")).exists()
    assert not Meal.objects.filter(served_on__lt=F("rule__effective_from")).exists()
    assert not Enrolment.objects.filter(starts_on__lt=F("site__opened_on")).exists()


def test_donation_funds_never_went_below_zero_and_equal_their_movements(seeded):
    funds = list(DonationFund.objects.all())
    assert len(funds) == 16
    running: dict[int, int] = defaultdict(int)
    for fund_id, kind, amount, meal_id, donation_id in FundMovement.objects.order_by("id").values_list(
        "fund_id", "kind", "amount_fen", "meal_id", "donation_id"
    ):
        running[fund_id] += amount
        assert running[fund_id] >= 0
        if kind == FundMovementKind.DONATION:
            assert amount > 0
            assert donation_id is not None
            assert meal_id is None
        else:
            assert kind == FundMovementKind.MEAL_DRAW
            assert amount < 0
            assert meal_id is not None
    for fund in funds:
        assert fund.balance_fen == running[fund.pk]
        assert fund.balance_fen >= 0
    # Every meal with a donation part has exactly one draw of that amount from its canteen's fund.
    draws = {
        meal_id: (fund_id, -amount)
        for meal_id, fund_id, amount in FundMovement.objects.filter(
            kind=FundMovementKind.MEAL_DRAW
        ).values_list("meal_id", "fund_id", "amount_fen")
    }
    fund_of_site = {f.site_id: f.pk for f in funds}
    drawing = Meal.objects.filter(donation_fen__gt=0).values_list("id", "site_id", "donation_fen")
    assert {m: (fund_of_site[s], d) for m, s, d in drawing} == draws
    # Donations credited what they say, with unique receipts.
    donations = FundMovement.objects.filter(kind=FundMovementKind.DONATION)
    assert (
        donations.aggregate(t=Sum("amount_fen"))["t"]
        == donations.aggregate(t=Sum("donation__amount_fen"))["t"]
    )


def test_past_months_are_settled_from_their_meals_and_approved(seeded):
    today = timezone.localdate()
    settlements = list(Settlement.objects.all())
    assert settlements
    assert {s.status for s in settlements} == {ClaimStatus.APPROVED}
    assert not Settlement.objects.filter(year=today.year, month=today.month).exists()
    for s in settlements:
        start = dt.date(s.year, s.month, 1)
        end = dt.date(s.year + (s.month == 12), s.month % 12 + 1, 1)
        meals = Meal.objects.filter(site=s.site_id, served_on__gte=start, served_on__lt=end)
        totals = meals.aggregate(
            n=Count("id"),
            price=Sum("price_fen"),
            resident=Sum("resident_fen"),
            government=Sum("government_fen"),
            community=Sum("community_fen"),
            donation=Sum("donation_fen"),
        )
        assert s.meals == totals["n"]
        assert s.guest_meals == meals.filter(is_guest=True).count()
        assert s.elders == meals.filter(is_guest=False).values("resident_id").distinct().count()
        assert s.price_fen == totals["price"]
        assert s.resident_fen == totals["resident"]
        assert s.government_county_fen + s.government_township_fen == totals["government"]
        assert s.community_fen == totals["community"]
        assert s.donation_fen == totals["donation"]
        assert s.claim_number == f"BT{s.site_id}{s.year:04d}{s.month:02d}"
        lines = SettlementLine.objects.filter(settlement=s).aggregate(n=Sum("meals"), p=Sum("price_fen"))
        assert (lines["n"], lines["p"]) == (s.meals, s.price_fen)
    # Every canteen's every complete month of the year is claimed.
    months = Meal.objects.filter(served_on__lt=today.replace(day=1)).values_list("site_id", "served_on")
    assert {(site, d.year, d.month) for site, d in months} == {
        (s.site_id, s.year, s.month) for s in settlements
    }
    # The archive year's claims: every month of 2022 a canteen had meals in, decided (approved) by the
    # middle of January 2023, so no 2022 claim waits.
    archive = Settlement.objects.filter(year=ARCHIVE_YEAR)
    assert archive.values("site").distinct().count() == 16
    assert archive.filter(month=12).count() == 16
    assert not archive.exclude(status=ClaimStatus.APPROVED).exists()
    assert max(s.decided_at for s in archive).date() < dt.date(ARCHIVE_YEAR + 1, 1, 15)
    # Approved claims are locked in the database.
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE canteens_settlement SET meals = meals + 1 WHERE id = %s", [settlements[0].pk])


def test_classrooms_workshops_and_stations_have_a_year_of_work(seeded):
    today = timezone.localdate()
    classrooms = Site.objects.filter(kind=SiteKind.CLASSROOM)
    for classroom in classrooms:
        sessions = ClassSession.objects.filter(site=classroom)
        assert sessions.filter(held_on__year__gt=ARCHIVE_YEAR).count() >= 80, classroom.name
        assert sessions.filter(held_on__year=ARCHIVE_YEAR).count() >= 20, classroom.name
        assert not sessions.filter(held_on__gte=today).exists()
        assert not sessions.filter(held_on__lt=classroom.opened_on).exists()
    # Each session's named children are at most the head count; the teacher's hours are the session's.
    over = ClassSession.objects.annotate(named=Count("classattendance")).filter(children_count__lt=F("named"))
    assert not over.exists()
    assert VolunteerHours.objects.count() == ClassSession.objects.count()
    assert ClassAttendance.objects.exists()
    for hours in VolunteerHours.objects.select_related("session")[:200]:
        session = hours.session
        minutes = (session.ends.hour * 60 + session.ends.minute) - (
            session.starts.hour * 60 + session.starts.minute
        )
        assert hours.hours * 60 == minutes
        assert hours.volunteer_id == session.teacher_id
        assert hours.worked_on == session.held_on
    # Workshops: workers, orders in every state the flow reaches, wages only for months worked.
    assert WorkshopWorker.objects.count() >= 40 * 2
    assert set(WorkshopOrder.objects.values_list("status", flat=True)) >= {"open", "delivered"}
    assert not WorkshopOrder.objects.filter(status="delivered", delivered_on__isnull=True).exists()
    for wage in WagePayment.objects.select_related("worker")[:500]:
        assert wage.site_id == wage.worker.site_id
        assert dt.date(wage.year, wage.month, 28) >= wage.worker.joined_on
        assert wage.amount_fen >= 1
        assert wage.paid_on < today + dt.timedelta(days=11)
    # Stations: a log of every station.
    assert ServiceLog.objects.values("site").distinct().count() == 28


def test_the_canteen_manager_runs_minying_and_lands_on_todays_checkin(seeded):
    manager = User.objects.get(username="canteen_manager")
    site = Site.objects.get(kind=SiteKind.CANTEEN, region__name="民营社区")
    assert manager.has_perm("canteens.manage_site", site)
    assert can_run_site(manager, site)
    assert Meal.objects.filter(site=site, created_by=manager).exists()
    client = Client()
    assert client.login(username="canteen_manager", password=PASSWORD)
    response = client.get(reverse("landing"), follow=True)  # where the log-in sends them
    assert response.status_code == 200
    assert [url for url, _status in response.redirect_chain] == [
        reverse("canteens:start"),
        reverse("canteens:checkin", args=[site.pk]),
    ]


def test_beneficiaries_are_counted_as_documented(seeded):
    """canteens_demo_counts' beneficiaries: distinct residents with a meal of their own or a class attendance
    in the demo's year (as the reports' county figure counts them); workers and station people apart."""
    # The seed's day (its last meals are that day's): the year's window must not move if the clock passed
    # midnight since the seed.
    seeded_on = Meal.objects.order_by("-served_on").values_list("served_on", flat=True)[0]
    county = Region.objects.get(parent=None, name="谷城县")
    counts = canteens_demo_counts(county.path, today=seeded_on)
    since = seeded_on - dt.timedelta(days=365)
    meals = Meal.objects.filter(is_guest=False)
    attendances = ClassAttendance.objects.all()
    eaters = set(meals.filter(served_on__gt=since).values_list("resident_id", flat=True))
    pupils = set(attendances.filter(session__held_on__gt=since).values_list("resident_id", flat=True))
    workers = WorkshopWorker.objects.filter(Q(left_on__isnull=True) | Q(left_on__gt=since)).count()
    served = ServiceLog.objects.aggregate(n=Sum("people_served"))["n"]
    assert None not in eaters
    assert counts == {
        "canteens": 16,
        "classrooms": 18,
        "workshops": 40,
        "red_stations": 28,
        "elders_served": len(eaters),
        "children_taught": len(pupils),
        "beneficiaries": len(eaters | pupils),
        "workshop_workers": workers,
        "station_people_served": served,
    }
    assert eaters
    assert pupils
    # The archive year 2022: the same figures over its calendar year, the sites opened by its end.
    archive_eaters = set(meals.filter(served_on__year=ARCHIVE_YEAR).values_list("resident_id", flat=True))
    archive_pupils = set(
        attendances.filter(session__held_on__year=ARCHIVE_YEAR).values_list("resident_id", flat=True)
    )
    archive = canteens_demo_counts(county.path, year=ARCHIVE_YEAR)
    assert archive == {
        "canteens": 16,
        "classrooms": 18,
        "workshops": 40,
        "red_stations": 28,
        "elders_served": len(archive_eaters),
        "children_taught": len(archive_pupils),
        "beneficiaries": len(archive_eaters | archive_pupils),
        "workshop_workers": 0,  # the workshops' records start with the live year
        "station_people_served": 0,
    }
    assert archive_eaters
    assert archive_pupils
    # The reports' county figure for a calendar year counts the same people over its days.
    admin = User.objects.get(username="county_admin")
    assert beneficiaries_count(admin, year=ARCHIVE_YEAR) == len(archive_eaters | archive_pupils)
    start = timezone.localdate().replace(month=1, day=1)
    this_year = set(
        Meal.objects.filter(is_guest=False, served_on__gte=start).values_list("resident_id", flat=True)
    ) | set(ClassAttendance.objects.filter(session__held_on__gte=start).values_list("resident_id", flat=True))
    assert beneficiaries_count(admin, year=start.year) == len(this_year)

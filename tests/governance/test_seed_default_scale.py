"""The default demo county on PostgreSQL, as `seed_demo` builds it: the headline figures of gucheng.md.

Slow-ish (it builds ~37,000 households and ~94,000 residents, then the cases', points' and livelihood
sites' year; one to three minutes on the 2-core machine) but kept in the suite: it is the one test of the
real sizes, and the one seed of them (the livelihood sites' default-scale figures are checked here too).
It also checks the figures of 2022 — the year gucheng.md's figures describe — that the records hold without
the dashboard's code: the grid leaders in office at the end of 2022, the sites opened by then and the
people who benefited from the canteens and classrooms that year, from the source tables.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.models import Count, Q
from django.test import Client
from django.utils import timezone

from canteens.demo import ARCHIVE_YEAR, _years_before, canteens_demo_counts
from canteens.models import ClassAttendance, DonationFund, Enrolment, Meal, Settlement, Site, SiteKind
from governance import pii
from governance.demo import demo_county_counts, seed_demo_county
from governance.demo_data import AS_OF, MINYING_GRIDS
from governance.models import (
    MemberCategory,
    MembershipStep,
    PartyMember,
    PartyOrganisation,
    Region,
    RegionCode,
    Resident,
    SagesGroup,
    User,
)
from governance.rollups import engine
from grids.models import GridLeader

pytestmark = pytest.mark.django_db

# gucheng.md's headline figures as GET /api/v1/dashboard/summary/?region=420625000000&year=2022 gives them
# (besides canteen_classroom_beneficiaries, 30,000+, checked against the source rows below).
GUCHENG_2022 = {
    "grid_leaders": 3551,
    "love_canteens": 16,
    "love_classrooms": 18,
    "love_workshops": 40,
    "red_stations": 28,
    "hero_gatherings": 5,
    "role_models": 45,
    "expos": 10,
    "expo_sales_yuan": 320_000_000,
    "expo_product_kinds": 1240,
    "industry_chains": 6,
    "featured_towns": 12,
}


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """The demo log-ins' passwords are hashed on every seed; PBKDF2 would dominate these tests."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_default_scale_reproduces_the_gucheng_figures():
    assert connection.vendor == "postgresql"
    regions = seed_demo_county(password="xiangzhi-demo", scale="default")

    assert demo_county_counts() == {
        "townships": 10,
        "villages": 270,
        "grids": 3551,
        "grid_leaders": 3551,
        "households": 37014,
        "residents": 93527,
        "party_organisations": 288,
        "party_members": 3837,
        "pipeline": 632,
        "sages_members": 1907,
        "talents": 700,
        "gatherings": 5,
        "role_models": 45,
        "points_stores": 10,
        "points_items": 140,
    }
    # One current grid leader per grid, none missing.
    per_grid = GridLeader.objects.filter(ended_on=None).values("grid").annotate(n=Count("id"))
    assert {row["n"] for row in per_grid} == {1}
    # 2022: every grid had the leader it elected with the village committees in spring 2021 — 3,551 in
    # office at the end of 2022 (elected by then, not ended by then), one per grid; each grid re-elected in
    # 2024, most of them the same resident (a new term, a new row).
    end_2022 = dt.date(2022, 12, 31)
    in_office = GridLeader.objects.filter(
        Q(ended_on__isnull=True) | Q(ended_on__gt=end_2022), elected_on__lte=end_2022
    )
    assert in_office.count() == 3551
    assert in_office.values("grid").distinct().count() == 3551
    assert {d.year for d in in_office.values_list("elected_on", flat=True)} == {2021}
    assert {d.month for d in in_office.values_list("elected_on", flat=True)} == {3, 4, 5}
    assert GridLeader.objects.count() == 2 * 3551
    current = dict(GridLeader.objects.filter(ended_on=None).values_list("grid_id", "resident_id"))
    before = dict(in_office.values_list("grid_id", "resident_id"))
    again = sum(current[grid] == resident for grid, resident in before.items())
    assert 0.9 * 3551 < again < 3551
    assert RegionCode.objects.count() == Region.objects.count()

    joint = PartyOrganisation.objects.get(name="堰河村联合党委")
    assert joint.villages.count() == 8
    assert joint.villages.filter(name="堰河村").exists()
    assert PartyOrganisation.objects.filter(kind="chain_branch").count() == 6
    assert SagesGroup.objects.count() == 270

    # 民营社区: 1,000+ residents aged 60 and over (gucheng.md), in its 18 grids.
    minying = regions["民营社区"]
    assert Region.objects.filter(parent=minying).count() == MINYING_GRIDS
    today = dt.date.today()
    sixty = dt.date(today.year - 60, today.month, min(today.day, 28 if today.month == 2 else 31))
    elderly = Resident.objects.filter(
        household__grid__path__startswith=minying.path, birth_date__lte=sixty, status__in=["resident", "away"]
    ).count()
    assert elderly >= 1000

    # Young farmer members developed in every year 2019–2025.
    developed = MembershipStep.objects.filter(
        stage="probationary", member__category=MemberCategory.YOUNG_FARMER, occurred_on__year__gte=2019
    ).values_list("occurred_on__year", flat=True)
    assert set(range(2019, 2026)) <= set(developed)
    assert all(on <= AS_OF for on in MembershipStep.objects.values_list("occurred_on", flat=True)[:5000])

    # Every 37th resident: a valid ID number matching the row, hashed and masked as governance.pii does.
    ids = list(Resident.objects.order_by("id").values_list("id", flat=True))[::37]
    sample = list(Resident.objects.filter(id__in=ids))
    assert len(sample) == 93527 // 37 + 1
    for resident in sample:
        id_number = pii.decrypt(resident.id_number_encrypted)
        parsed = pii.id_number_parse(id_number)
        assert (parsed.birth_date, parsed.gender) == (resident.birth_date, resident.gender)
        assert resident.id_number_hash == pii.lookup_hash(id_number)
        assert resident.id_number_masked == pii.mask_id_number(id_number)
    hashes = Resident.objects.values("id_number_hash").distinct().count()
    phones = Resident.objects.exclude(phone_hash="").values_list("phone_hash", flat=True)
    assert hashes == 93527
    assert phones.distinct().count() == phones.count()
    # The first members of a branch on record have no sponsors; everyone later has two.
    sponsored = PartyMember.objects.filter(steps__stage="candidate")
    assert sponsored.filter(sponsor_1__isnull=True).count() < sponsored.count() // 20

    # Livelihood sites (canteens/demo.py): 16 / 18 / 40 / 28, and 30,000+ people benefiting from canteens
    # and classrooms (distinct residents with a meal of their own or a class attendance in the year; the
    # workshops' workers and the stations' person-times are not in it), from no more than ~98,000 meals.
    # The seed's day (its last meals are today's at seed time): the count's year must not move if the
    # clock passed midnight since.
    seeded_on = Meal.objects.order_by("-served_on").values_list("served_on", flat=True)[0]
    livelihood = canteens_demo_counts(regions["谷城县"].path, today=seeded_on)
    assert livelihood["canteens"] == 16
    assert livelihood["classrooms"] == 18
    assert livelihood["workshops"] == 40
    assert livelihood["red_stations"] == 28
    assert livelihood["beneficiaries"] >= 30_000
    since = seeded_on - dt.timedelta(days=364)
    live_meals = Meal.objects.filter(served_on__gte=since)
    assert livelihood["beneficiaries"] == len(
        set(live_meals.filter(is_guest=False).values_list("resident_id", flat=True))
        | set(
            ClassAttendance.objects.filter(session__held_on__gte=since).values_list("resident_id", flat=True)
        )
    )
    assert livelihood["workshop_workers"] >= 40 * 12
    assert livelihood["station_people_served"] > 0
    assert live_meals.count() <= 125_000
    # 2022 (the archive year the county entered from its registers): the 16 / 18 / 40 / 28 sites opened by
    # its end, and 30,000+ distinct residents with a meal of their own (not a guest's, not reversed, not
    # voided) or a class attendance in the calendar year, counted from the source tables (docs/canteens.md
    # has the figure of a run), from no more than 70,000 meals.
    assert ARCHIVE_YEAR == 2022
    opened = Site.objects.filter(Q(opened_on__isnull=True) | Q(opened_on__lte=end_2022), is_active=True)
    assert dict(opened.values_list("kind").annotate(n=Count("id"))) == {
        SiteKind.CANTEEN: 16,
        SiteKind.CLASSROOM: 18,
        SiteKind.WORKSHOP: 40,
        SiteKind.RED_STATION: 28,
    }
    meals_2022 = Meal.objects.filter(served_on__year=2022)
    eaters_2022 = set(
        meals_2022.filter(is_guest=False, reverses__isnull=True, voided_at__isnull=True)
        .values_list("resident_id", flat=True)
        .distinct()
    )
    pupils_2022 = set(
        ClassAttendance.objects.filter(session__held_on__year=2022, session__site__kind=SiteKind.CLASSROOM)
        .values_list("resident_id", flat=True)
        .distinct()
    )
    assert len(eaters_2022 | pupils_2022) >= 30_000
    assert canteens_demo_counts(regions["谷城县"].path, year=2022)["beneficiaries"] == len(
        eaters_2022 | pupils_2022
    )
    assert meals_2022.count() <= 70_000
    assert not Settlement.objects.filter(year=2022).exclude(status="approved").exists()
    # 民营社区's canteen: 1,000+ elders aged 60+ enrolled.
    canteen = Site.objects.get(kind=SiteKind.CANTEEN, region=minying)
    enrolled = Enrolment.objects.filter(site=canteen, ends_on=None)
    sixty = _years_before(timezone.localdate(), 60)
    assert enrolled.filter(resident__birth_date__lte=sixty).count() >= 1000
    # Younger people enrolled are adults on 低保 or with a disability, in the tiers of any age.
    younger = enrolled.filter(resident__birth_date__gt=sixty)
    assert set(younger.values_list("tier__code", flat=True)) <= {"low-income", "disability"}
    assert not younger.filter(resident__birth_date__gt=_years_before(timezone.localdate(), 18)).exists()
    # One canteen's donors gave less than its meals draw: shortfalls happened and the fallback paid them.
    assert Meal.objects.filter(donation_shortfall_fen__gt=0).exists()
    assert not DonationFund.objects.filter(balance_fen__lt=0).exists()

    # Issue 8: the dashboard's summary for the demo county and 2022 gives the published Gucheng figures,
    # computed from these records through the rollup facts (a full rebuild here; beat keeps them current).
    engine.full_rebuild(progress=False)
    client = Client()
    client.force_login(User.objects.get(username="county_admin"))
    response = client.get("/api/v1/dashboard/summary/", {"region": "420625000000", "year": "2022"})
    assert response.status_code == 200
    summary = response.json()
    assert summary["canteen_classroom_beneficiaries"] == len(eaters_2022 | pupils_2022)
    assert summary["canteen_classroom_beneficiaries"] >= 30_000
    assert {key: summary[key] for key in GUCHENG_2022} == GUCHENG_2022

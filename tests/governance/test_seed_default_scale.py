"""The default demo county on PostgreSQL, as `seed_demo` builds it: the headline figures of gucheng.md.

Slow-ish (it builds ~37,000 households and ~94,000 residents, then the cases', points' and livelihood
sites' year; one to three minutes on the 2-core machine) but kept in the suite: it is the one test of the
real sizes, and the one seed of them (the livelihood sites' default-scale figures are checked here too).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from canteens.demo import _years_before, canteens_demo_counts
from canteens.models import ClassAttendance, DonationFund, Enrolment, Meal, Site, SiteKind
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
)
from grids.models import GridLeader

pytestmark = pytest.mark.django_db


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
    assert livelihood["beneficiaries"] == len(
        set(Meal.objects.filter(is_guest=False).values_list("resident_id", flat=True))
        | set(ClassAttendance.objects.values_list("resident_id", flat=True))
    )
    assert livelihood["workshop_workers"] >= 40 * 12
    assert livelihood["station_people_served"] > 0
    assert Meal.objects.count() <= 98_000
    # 民营社区's canteen: 1,000+ elders aged 60+ enrolled.
    canteen = Site.objects.get(kind=SiteKind.CANTEEN, region=minying)
    enrolled = Enrolment.objects.filter(site=canteen, ends_on=None)
    assert enrolled.count() >= 1000
    assert not enrolled.filter(resident__birth_date__gt=_years_before(timezone.localdate(), 60)).exists()
    # One canteen's donors gave less than its meals draw: shortfalls happened and the fallback paid them.
    assert Meal.objects.filter(donation_shortfall_fen__gt=0).exists()
    assert not DonationFund.objects.filter(balance_fen__lt=0).exists()

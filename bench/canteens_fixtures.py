"""The check-in scenario's data (bench/fixtures.py calls prepare_checkins after its own):

in the benchmark's own tree (基准测试镇 → 基准测试村 → 基准测试网格, outside the demo county), a
canteen 基准爱心食堂 serving breakfast, lunch and dinner; ELDERS residents aged 70+ (one household each)
enrolled there in the 60–69 tier since 2015 (when they were 65); one all-slot price rule for that tier
(5.00 yuan: the elder 2.00, the rest government 60 %, community 30 %, donation 10 %, so every meal also
draws from the fund and writes a fund movement); the canteen's donation fund holding far more than any
run draws (a donation and its fund movement, so balance = sum of movements); and the log-in
bench_canteen, canteen manager of 基准测试村.
Built through the ORM (not the services: a one-off world, idempotent), like bench/points_fixtures.py.

No check-in may collide with an earlier one on the one-meal-per-slot UNIQUE, in this run or any before on
the same database. bench/lua/canteens_checkin.lua walks (day, slot, elder) combinations in blocks: each wrk
thread claims the next block of BLOCK_DAYS days from a counter file when wrk starts it, and the days run
backwards from `checkin_base_epoch`, the day before the earliest bench meal (today when there is none). So
a run starts where the last one stopped; once the days would reach back before the enrolments, the old
bench meals are voided (the one change canteens 0002 lets a meal have) and the days start again at today.

Returns the values canteens_checkin.lua is formatted with: {checkin_site_id}, {checkin_elders_file} (the
enrolled residents' ids, one a line), {checkin_elders} (how many), {checkin_base_epoch} (noon UTC of the
first day, in seconds), {checkin_counter_file}.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

CHECKIN_USER = "bench_canteen"
SITE_NAME = "基准爱心食堂"
ELDERS = 3000
ENROLLED_FROM = dt.date(2015, 1, 1)
BIRTH_FROM = dt.date(1950, 1, 1)
ID_PREFIX = "110101"  # not the demo county's 420625: no clash with its residents' ID numbers
BLOCK_DAYS = 3  # bench/lua/canteens_checkin.lua's block per wrk thread: 3 days × 3 slots × ELDERS
FUND_FEN = 10_000_000_000  # a donation's upper bound (canteens_donation_amount_range)
PRICE_FEN = 500


def prepare_checkins() -> dict[str, Any]:
    from django.conf import settings
    from django.db import connection, transaction
    from django.utils import timezone

    from canteens.defaults import tiers_ensure
    from canteens.models import (
        Donation,
        DonationFund,
        DonationKind,
        DonorKind,
        Enrolment,
        FundingShare,
        FundMovement,
        FundMovementKind,
        Meal,
        MealSlot,
        PriceRule,
        Site,
        SiteKind,
        SlotKind,
    )
    from governance import pii
    from governance.models import Household, Region, Resident, ResidentStatus, User
    from governance.roles import Role
    from governance.services import roles as role_services

    township = Region.objects.get(name="基准测试镇", parent__name="基准测试县")
    village = Region.objects.get(name="基准测试村", parent=township)
    grid = Region.objects.get(name="基准测试网格", parent=village)
    tier = tiers_ensure()["age-60-69"]
    with transaction.atomic():
        user = User.objects.filter(username=CHECKIN_USER).first()
        if user is None:
            user = role_services.user_create(
                username=CHECKIN_USER, password=settings.DEMO_PASSWORD, full_name="基准食堂管理员"
            )
        role_services.role_assign(user=user, role=Role.CANTEEN_MANAGER, region=village)
        site, _created = Site.objects.get_or_create(
            region=village,
            kind=SiteKind.CANTEEN,
            name=SITE_NAME,
            defaults={"capacity": 200, "opened_on": ENROLLED_FROM},
        )
        for kind, starts, ends in (
            (SlotKind.BREAKFAST, dt.time(7), dt.time(8, 30)),
            (SlotKind.LUNCH, dt.time(11), dt.time(12, 30)),
            (SlotKind.DINNER, dt.time(17), dt.time(18, 30)),
        ):
            MealSlot.objects.get_or_create(site=site, kind=kind, defaults={"starts": starts, "ends": ends})
        rule = PriceRule.objects.filter(site=site, tier=tier, slot="", effective_from=ENROLLED_FROM).first()
        if rule is None:
            rule = PriceRule.objects.create(
                site=site,
                tier=tier,
                slot="",
                effective_from=ENROLLED_FROM,
                price_fen=PRICE_FEN,
                created_by=user,
            )
            FundingShare.objects.bulk_create(
                [
                    FundingShare(rule=rule, funder="resident", fixed_fen=200),
                    FundingShare(rule=rule, funder="government", share_bp=6000),
                    FundingShare(rule=rule, funder="community", share_bp=3000),
                    FundingShare(rule=rule, funder="donation", share_bp=1000),
                ]
            )
        fund, _created = DonationFund.objects.get_or_create(site=site, defaults={"name": "基准爱心基金"})
        fund = DonationFund.objects.select_for_update().get(pk=fund.pk)
        if fund.balance_fen < FUND_FEN // 2:
            top_up = FUND_FEN - fund.balance_fen
            number = Donation.objects.filter(fund=fund).count() + 1
            donation = Donation.objects.create(
                fund=fund,
                donor_name="基准测试捐赠人",
                donor_kind=DonorKind.ORGANISATION,
                kind=DonationKind.MONEY,
                amount_fen=top_up,
                received_on=timezone.localdate(),
                receipt_number=f"JZ-{site.pk}-{number:06d}",
                is_public=False,
                created_by=user,
            )
            FundMovement.objects.create(
                fund=fund,
                kind=FundMovementKind.DONATION,
                amount_fen=top_up,
                donation=donation,
                created_by=user,
            )
            DonationFund.objects.filter(pk=fund.pk).update(balance_fen=FUND_FEN)

        have = Household.objects.filter(grid=grid, number__startswith="ST-").count()
        if have < ELDERS:
            Household.objects.bulk_create(
                Household(grid=grid, number=f"ST-{n:05d}", address="基准测试网格")
                for n in range(have, ELDERS)
            )
        households = list(
            Household.objects.filter(grid=grid, number__startswith="ST-").order_by("pk")[:ELDERS]
        )
        living = set(Resident.objects.filter(household__in=households).values_list("household_id", flat=True))
        residents = []
        for n, household in enumerate(households):
            if household.pk in living:
                continue
            birth = BIRTH_FROM + dt.timedelta(days=n // 500)
            first17 = f"{ID_PREFIX}{birth:%Y%m%d}{100 + n % 500:03d}"
            residents.append(
                Resident(
                    household=household,
                    name=f"基准老人{n + 1:04d}",
                    gender="M" if n % 2 else "F",
                    birth_date=birth,
                    relation_to_head="self",
                    status=ResidentStatus.RESIDENT,
                    **pii.id_number_columns(first17 + pii.id_number_check_char(first17)),
                )
            )
        Resident.objects.bulk_create(residents)
        elders = list(
            Resident.objects.filter(household__in=households).order_by("pk").values_list("pk", flat=True)
        )
        enrolled = set(
            Enrolment.objects.filter(site=site, ends_on=None).values_list("resident_id", flat=True)
        )
        Enrolment.objects.bulk_create(
            Enrolment(
                site=site,
                resident_id=resident_id,
                tier=tier,
                starts_on=ENROLLED_FROM,
                basis="65 岁",
                card_code=f"STJZ{resident_id:012d}",
                created_by=user,
            )
            for resident_id in elders
            if resident_id not in enrolled
        )

        # Where this run's days start: the day before the earliest bench meal, or today.
        today = timezone.localdate()
        earliest = Meal.objects.filter(site=site, voided_at=None, reverses=None).order_by("served_on").first()
        first_day = earliest.served_on - dt.timedelta(days=1) if earliest else today
        if (first_day - ENROLLED_FROM).days < 100 * BLOCK_DAYS:
            # Near the enrolments' start: take the old bench meals back and start again at today.
            Meal.objects.filter(site=site, voided_at=None, reverses=None).update(voided_at=timezone.now())
            first_day = today

    folder = Path(tempfile.gettempdir()) / f"xiangzhi-bench-canteens-{connection.settings_dict['NAME']}"
    folder.mkdir(parents=True, exist_ok=True)
    elders_file = folder / "elders.txt"
    elders_file.write_text("".join(f"{pk}\n" for pk in elders), encoding="ascii")
    counter_file = folder / "counter.txt"
    counter_file.write_text("0\n", encoding="ascii")
    base = dt.datetime.combine(first_day, dt.time(12), tzinfo=dt.UTC)
    return {
        "checkin_site_id": str(site.pk),
        "checkin_elders_file": str(elders_file),
        "checkin_elders": str(len(elders)),
        "checkin_base_epoch": str(int(base.timestamp())),
        "checkin_counter_file": str(counter_file),
    }

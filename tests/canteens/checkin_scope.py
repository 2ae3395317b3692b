"""For tests/test_api_scope.py: on each side's canteen (tests/canteens/factories.canteen_scope_data), the
canteen's donation fund with one donation and today's lunch of its enrolled elder, written by the county
admin through the services, so each subtree holds a meal, a fund and its movements."""

from __future__ import annotations

from django.utils import timezone

from canteens.models import Enrolment, Meal, Site
from canteens.services.funds import donation_fund_ensure, donation_record
from canteens.services.meals import meal_checkin
from governance.models import User
from tests.canteens.factories import key


def meal_scope_data(sites: dict[str, Site]) -> dict[str, Meal]:
    admin = User.objects.get(username="county_admin")
    made: dict[str, Meal] = {}
    for name, site in sites.items():
        fund = donation_fund_ensure(actor=admin, site=site)
        donation_record(
            actor=admin,
            idempotency_key=key(),
            fund=fund,
            donor_name=f"{name}爱心人士",
            donor_kind="person",
            kind="money",
            amount_fen=10_000,
            received_on=timezone.localdate(),
            receipt_number=f"SCOPE-{site.pk}",
        )
        enrolment = Enrolment.objects.filter(site=site).order_by("pk").first()
        assert enrolment is not None
        result = meal_checkin(
            actor=admin,
            idempotency_key=key(),
            site_id=site.pk,
            slot="lunch",
            served_on=timezone.localdate(),
            resident_id=enrolment.resident_id,
            verified_by="name",
        )
        made[name] = Meal.objects.get(pk=result.id)
    return made

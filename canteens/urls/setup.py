"""Pages of the setup area of canteens (mounted under /canteens/)."""

from django.urls import URLPattern, URLResolver, path

from canteens.views import setup as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("tiers/", views.tier_list, name="tier_list"),
    path("tiers/new/", views.tier_create, name="tier_create"),
    path("tiers/<int:tier_id>/edit/", views.tier_edit, name="tier_edit"),
    path("<int:site_id>/enrolments/", views.enrolment_list, name="enrolment_list"),
    path("<int:site_id>/enrolments/new/", views.enrolment_create, name="enrolment_create"),
    path("enrolments/<int:enrolment_id>/card/", views.enrolment_card, name="enrolment_card"),
    path("enrolments/<int:enrolment_id>/end/", views.enrolment_end, name="enrolment_end"),
    path("<int:site_id>/rules/", views.rule_list, name="rule_list"),
    path("<int:site_id>/rules/new/", views.rule_create, name="rule_create"),
    path("rules/<int:rule_id>/end/", views.rule_end, name="rule_end"),
]

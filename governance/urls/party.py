"""Pages of the party area of the spine (mounted under /governance/)."""

from django.urls import URLPattern, URLResolver, path

from governance.views import party as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("party/", views.party_organisation_list, name="party_organisation_list"),
    path(
        "party/organisations/<int:org_id>/", views.party_organisation_detail, name="party_organisation_detail"
    ),
    path("party/members/", views.party_member_list, name="party_member_list"),
    path("party/members/<int:member_id>/", views.party_member_detail, name="party_member_detail"),
    path("party/young-farmers/", views.party_young_farmers, name="party_young_farmers"),
    path("party/sages/", views.party_sages_list, name="party_sages_list"),
    path("party/sages/<int:group_id>/", views.party_sages_detail, name="party_sages_detail"),
    path("party/talents/", views.party_talent_list, name="party_talent_list"),
    path("party/gatherings/", views.party_gathering_list, name="party_gathering_list"),
]

"""Pages of the party area of the spine (mounted under /governance/)."""

from django.urls import URLPattern, URLResolver, path

from governance.views import party as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("party/", views.party_organisation_list, name="party_organisation_list"),
    path("party/organisations/new/", views.party_organisation_create, name="party_organisation_create"),
    path(
        "party/organisations/<int:org_id>/", views.party_organisation_detail, name="party_organisation_detail"
    ),
    path(
        "party/organisations/<int:org_id>/leaders/",
        views.party_leadership_appoint,
        name="party_leadership_appoint",
    ),
    path(
        "party/organisations/<int:org_id>/leaders/<int:leadership_id>/end/",
        views.party_leadership_end,
        name="party_leadership_end",
    ),
    path("party/members/", views.party_member_list, name="party_member_list"),
    path("party/members/new/", views.party_member_create, name="party_member_create"),
    path("party/members/<int:member_id>/", views.party_member_detail, name="party_member_detail"),
    path(
        "party/members/<int:member_id>/transfer/", views.party_member_transfer, name="party_member_transfer"
    ),
    path("party/pick/", views.party_pick, name="party_pick"),
    path("party/young-farmers/", views.party_young_farmers, name="party_young_farmers"),
    path("party/sages/", views.party_sages_list, name="party_sages_list"),
    path("party/sages/<int:group_id>/", views.party_sages_detail, name="party_sages_detail"),
    path("party/talents/", views.party_talent_list, name="party_talent_list"),
    path("party/talents/new/", views.party_talent_create, name="party_talent_create"),
    path("party/talents/<int:talent_id>/", views.party_talent_detail, name="party_talent_detail"),
    path("party/role-models/", views.party_role_model_list, name="party_role_model_list"),
    path("party/role-models/new/", views.party_role_model_create, name="party_role_model_create"),
    path("party/gatherings/", views.party_gathering_list, name="party_gathering_list"),
    path("party/gatherings/new/", views.party_gathering_create, name="party_gathering_create"),
    path("party/gatherings/<int:gathering_id>/", views.party_gathering_detail, name="party_gathering_detail"),
]

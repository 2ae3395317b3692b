"""Pages of the people area of the spine (mounted under /governance/)."""

from django.urls import URLPattern, URLResolver, path

from governance.views import people as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("households/", views.household_list, name="people_household_list"),
    path("households/export.xlsx", views.household_export, name="people_household_export"),
    path("households/new/", views.household_create, name="people_household_create"),
    path("households/<int:household_id>/", views.household_detail, name="people_household_detail"),
    path("households/<int:household_id>/edit/", views.household_edit, name="people_household_edit"),
    path(
        "households/<int:household_id>/residents/new/",
        views.resident_create,
        name="people_resident_create",
    ),
    path(
        "households/<int:household_id>/head/<int:resident_id>/",
        views.household_head_set,
        name="people_household_head_set",
    ),
    path("residents/", views.resident_list, name="people_resident_list"),
    path("residents/export.xlsx", views.resident_export, name="people_resident_export"),
    path("residents/<int:resident_id>/edit/", views.resident_edit, name="people_resident_edit"),
    path("residents/<int:resident_id>/reveal/", views.resident_reveal, name="people_resident_reveal"),
]

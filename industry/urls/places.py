"""Pages of places: featured towns, featured villages and development types (mounted under /industry/)."""

from django.urls import URLPattern, path

from industry.views import places as views

urlpatterns: list[URLPattern] = [
    path("places/", views.places_overview, name="places"),
    path("places/new/", views.designation_create, name="designation-create"),
    path("places/designations/<int:pk>/remove/", views.designation_remove, name="designation-remove"),
    path("places/<str:kind>/", views.places_kind, name="places-kind"),
    path("places/<str:kind>/<str:theme>/", views.places_kind, name="places-type"),
]

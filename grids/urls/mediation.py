"""Pages of the mediation area of grids (mounted under /grids/)."""

from django.urls import URLPattern, URLResolver, path

from grids.views import mediation as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("mediation/", views.mediation_list, name="mediation_list"),
]

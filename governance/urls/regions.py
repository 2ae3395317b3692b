"""Pages of the regions area of the spine (mounted under /governance/): the hub and the region browser."""

from django.urls import URLPattern, URLResolver, path

from governance.views import regions as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.governance_home, name="home"),
    path("regions/", views.region_browser, name="regions_browser"),
    path("regions/search/", views.region_search, name="regions_search"),
    path("regions/<int:region_id>/", views.region_node, name="regions_node"),
]

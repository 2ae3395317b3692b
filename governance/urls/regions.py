"""Pages of the regions area of the spine (mounted under /governance/): the hub, the region browser, the
pages that change the tree, and the picker endpoint other forms' township → village → grid selects read."""

from django.urls import URLPattern, URLResolver, path

from governance.views import regions as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.governance_home, name="home"),
    path("regions/", views.region_browser, name="regions_browser"),
    path("regions/search/", views.region_search, name="regions_search"),
    path("regions/picker/", views.region_picker, name="regions_picker"),
    path("regions/<int:region_id>/", views.region_node, name="regions_node"),
    path("regions/<int:region_id>/new/", views.region_child_create, name="regions_child_create"),
    path("regions/<int:region_id>/code/", views.region_code_change, name="regions_code_change"),
    path("regions/<int:region_id>/move/", views.region_grid_move, name="regions_grid_move"),
]

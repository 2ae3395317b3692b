"""Pages of the projects area of grids (mounted under /grids/)."""

from django.urls import URLPattern, URLResolver, path

from grids.views import projects as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("projects/", views.project_list, name="project_list"),
    path("projects/<int:project_id>/", views.project_detail, name="project_detail"),
    path("projects/from-case/<str:number>/", views.project_create, name="project_create"),
    path(
        "projects/region/<int:region_id>/section/",
        views.project_region_section,
        name="project_region_section",
    ),
]

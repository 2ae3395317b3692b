"""Pages of the filing area of grids (mounted under /grids/): the phone filing page, its helpers
(resident search, similar cases, "me too") and the recurring-problems page."""

from django.urls import URLPattern, URLResolver, path

from grids.views import filing as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("file/", views.file_page, name="file"),
    path("file/residents/", views.resident_search, name="file_residents"),
    path("file/similar/", views.similar_cases, name="file_similar"),
    path("file/me-too/<int:case_id>/", views.me_too, name="case_me_too"),
    path("hotspots/", views.hotspots, name="hotspots"),
]

"""Pages of the assessment area of grids (mounted under /grids/)."""

from django.urls import URLPattern, URLResolver, path

from grids.views import assessment as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("assessment/", views.assessment, name="assessment"),
    path("assessment/export/", views.assessment_export, name="assessment_export"),
]

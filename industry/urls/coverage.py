"""The coverage page (industry/views/coverage.py)."""

from django.urls import URLPattern, URLResolver, path

from industry.views import coverage as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("coverage/", views.coverage_page, name="coverage"),
]

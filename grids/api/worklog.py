"""REST API of the worklog area of grids (mounted under /api/v1/grids/)."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []

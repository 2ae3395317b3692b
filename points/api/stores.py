"""REST API of the stores area of points (mounted under /api/v1/points/)."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []

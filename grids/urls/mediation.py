"""Pages of the mediation area of grids (mounted under /grids/)."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []

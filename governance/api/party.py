"""REST API for the party area of the spine (mounted under /api/v1/governance/)."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []

"""REST API of the ledger area of points (mounted under /api/v1/points/)."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []

"""Pages of the evaluations area of points (mounted under /points/)."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []

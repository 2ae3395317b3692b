"""Pages of the roles area of the spine (mounted under /governance/)."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []

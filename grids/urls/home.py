"""Pages of the home area of grids (mounted under /grids/): the grid leader's home."""

from django.urls import URLPattern, URLResolver, path

from grids.views import home as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
]

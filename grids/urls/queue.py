"""Pages of the queue area of grids (mounted under /grids/)."""

from django.urls import URLPattern, URLResolver, path

from grids.views import queue as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("queue/", views.queue, name="queue"),
]

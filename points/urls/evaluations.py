"""Pages of the evaluations area of points (mounted under /points/)."""

from django.urls import URLPattern, URLResolver, path

from points.views import evaluations as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("evaluations/", views.evaluation_list, name="evaluation_list"),
    path("evaluations/<int:evaluation_id>/", views.evaluation_detail, name="evaluation_detail"),
]

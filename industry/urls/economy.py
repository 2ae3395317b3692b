"""Pages of the village collective economy (mounted under /industry/)."""

from django.urls import URLPattern, path

from industry.views import economy as views

urlpatterns: list[URLPattern] = [
    path("economy/", views.economy_list, name="economy"),
    path("economy/townships/", views.economy_townships, name="economy-townships"),
    path("economy/thresholds/", views.economy_thresholds, name="economy-thresholds"),
    path("economy/villages/<int:pk>/", views.economy_village, name="economy-village"),
    path("economy/villages/<int:pk>/edit/", views.economy_village_edit, name="economy-village-edit"),
]

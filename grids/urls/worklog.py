"""Pages of the worklog area of grids (mounted under /grids/): the grid work log and grid leaders."""

from django.urls import URLPattern, URLResolver, path

from grids.views import worklog as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("worklog/", views.work_log_list, name="work_log_list"),
    path("worklog/new/", views.work_log_create, name="work_log_create"),
    path("worklog/export/", views.work_log_export, name="work_log_export"),
    path("worklog/<int:entry_id>/", views.work_log_detail, name="work_log_detail"),
    path("worklog/photos/<int:photo_id>/", views.work_log_photo, name="work_log_photo"),
    path("grid/<int:grid_id>/leaders/", views.grid_leaders, name="grid_leaders"),
]

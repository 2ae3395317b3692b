"""Pages of list exports (mounted under /governance/)."""

from django.urls import URLPattern, URLResolver, path

from governance.views import exports as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("exports/", views.export_job_list, name="export_job_list"),
    path("exports/new/<slug:kind>/", views.export_new, name="export_new"),
    path("exports/<int:job_id>/", views.export_job_detail, name="export_job_detail"),
    path("exports/<int:job_id>/download/", views.export_job_download, name="export_job_download"),
]

"""Pages of the roster area of the spine (mounted under /governance/)."""

from django.urls import URLPattern, URLResolver, path

from governance.views import roster as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("roster/import/", views.roster_import_new, name="roster_import_new"),
    path("roster/template.xlsx", views.roster_template, name="roster_template"),
    path("roster/import/<int:job_id>/", views.roster_import_detail, name="roster_import_detail"),
    path("roster/import/<int:job_id>/mapping/", views.roster_import_mapping, name="roster_import_mapping"),
    path("roster/import/<int:job_id>/report.xlsx", views.roster_import_report, name="roster_import_report"),
]

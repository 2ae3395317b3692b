"""imports: the pages of sales imports from Excel (mounted under /industry/)."""

from django.urls import URLPattern, path

from industry.views import imports as views

urlpatterns: list[URLPattern] = [
    path("imports/", views.import_list, name="imports"),
    path("imports/new/", views.import_create, name="import-create"),
    path("imports/template.xlsx", views.import_template, name="import-template"),
    path("imports/<int:pk>/", views.import_detail, name="import-detail"),
    path("imports/<int:pk>/progress/", views.import_progress, name="import-progress"),
    path("imports/<int:pk>/report.xlsx", views.import_report, name="import-report"),
    path("imports/<int:pk>/retry/", views.import_retry, name="import-retry"),
]

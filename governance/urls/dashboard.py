"""The county dashboard's pages, mounted at /dashboard/ (namespace "dashboard")."""

from django.urls import URLPattern, path

from governance.views import dashboard, dashboard_quality

app_name = "dashboard"

urlpatterns: list[URLPattern] = [
    path("", dashboard.overview, name="overview"),
    path("quality/", dashboard_quality.quality_page, name="quality"),
    path("<slug:module>/", dashboard.module_summary, name="module"),
]

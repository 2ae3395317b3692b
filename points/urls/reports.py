"""Pages of the reports area of points (mounted under /points/), and the module's landing page."""

from django.urls import URLPattern, URLResolver, path

from points.views import home, reports

urlpatterns: list[URLPattern | URLResolver] = [
    path("", home.points_home, name="home"),
    path("start/", home.points_start, name="start"),
    path("reports/", reports.report_flow, name="reports"),
    path("reports/stock/", reports.report_stock, name="report_stock"),
    path("reports/days/", reports.report_days, name="report_days"),
]

"""dashboard: the event dashboard and the year's sales overview (pages under /industry/)."""

from django.urls import URLPattern, path

from industry.views import dashboard as views

urlpatterns: list[URLPattern] = [
    path("events/<int:pk>/dashboard/", views.event_dashboard, name="event-dashboard"),
    path("dashboard/", views.sales_dashboard, name="sales-dashboard"),
]

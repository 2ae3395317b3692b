"""Pages of sales records: the overview of events to enter sales for, an event's sales list, the tablet
entry form, reversing and correcting a record (industry/views/sales.py)."""

from django.urls import URLPattern, URLResolver, path

from industry.views import sales as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("sales/", views.sales_index, name="sales"),
    path("events/<int:pk>/sales/", views.event_sales, name="event-sales"),
    path("events/<int:pk>/sales/new/", views.sale_create, name="sale-create"),
    path("sales/<int:pk>/reverse/", views.sale_reverse, name="sale-reverse"),
    path("sales/<int:pk>/correct/", views.sale_correct, name="sale-correct"),
]

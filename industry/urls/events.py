"""Pages of expos and festivals, their exhibitors and organisers, and the product catalogue
(industry/views/events.py)."""

from django.urls import URLPattern, URLResolver, path

from industry.views import events as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("events/", views.event_list, name="events"),
    path("events/new/", views.event_create, name="event-create"),
    path("events/<int:pk>/", views.event_detail, name="event-detail"),
    path("events/<int:pk>/edit/", views.event_edit, name="event-edit"),
    path("events/<int:pk>/organisers/", views.event_organiser_grant, name="event-organiser-grant"),
    path(
        "events/<int:pk>/organisers/<int:user_id>/revoke/",
        views.event_organiser_revoke,
        name="event-organiser-revoke",
    ),
    path("events/<int:pk>/exhibitors/", views.event_exhibitors, name="event-exhibitors"),
    path("exhibitors/<int:pk>/remove/", views.exhibitor_remove, name="exhibitor-remove"),
    path("products/", views.product_list, name="products"),
    path("products/new/", views.product_create, name="product-create"),
    path("products/<int:pk>/", views.product_detail, name="product-detail"),
    path("products/<int:pk>/edit/", views.product_edit, name="product-edit"),
]

"""Pages of love classrooms, love workshops and red service stations (mounted under /canteens/)."""

from django.urls import URLPattern, URLResolver, path

from canteens.views import community as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("community/lists/<str:which>/", views.community_list, name="community_list"),
    path("community/workshops/summary/", views.workshop_summary, name="community_workshop_summary"),
    path("community/stations/summary/", views.station_summary, name="community_station_summary"),
    path("classrooms/<int:site_id>/", views.classroom, name="classroom"),
    path("classrooms/<int:site_id>/sessions/new/", views.session_create, name="session_create"),
    path("classrooms/sessions/<int:session_id>/edit/", views.session_edit, name="session_edit"),
    path("classrooms/sessions/<int:session_id>/delete/", views.session_delete, name="session_delete"),
    path("sites/<int:site_id>/volunteers/new/", views.volunteer_create, name="volunteer_create"),
    path("sites/<int:site_id>/volunteer-hours/new/", views.hours_create, name="hours_create"),
    path("volunteer-hours/<int:hours_id>/edit/", views.hours_edit, name="hours_edit"),
    path("volunteer-hours/<int:hours_id>/delete/", views.hours_delete, name="hours_delete"),
    path("volunteers/<int:volunteer_id>/edit/", views.volunteer_edit, name="volunteer_edit"),
    path("workshops/<int:site_id>/", views.workshop, name="workshop"),
    path("workshops/<int:site_id>/products/new/", views.product_create, name="product_create"),
    path("workshops/products/<int:product_id>/edit/", views.product_edit, name="product_edit"),
    path("workshops/<int:site_id>/workers/new/", views.worker_add, name="worker_add"),
    path("workshops/workers/<int:worker_id>/leave/", views.worker_leave, name="worker_leave"),
    path("workshops/<int:site_id>/orders/new/", views.order_create, name="order_create"),
    path("workshops/orders/<int:order_id>/state/", views.order_state, name="order_state"),
    path("workshops/<int:site_id>/wages/new/", views.wage_create, name="wage_create"),
    path("stations/<int:site_id>/", views.station, name="station"),
    path("stations/<int:site_id>/services/new/", views.service_create, name="service_create"),
    path("stations/services/<int:service_id>/toggle/", views.service_toggle, name="service_toggle"),
    path("stations/<int:site_id>/logs/new/", views.log_create, name="log_create"),
]

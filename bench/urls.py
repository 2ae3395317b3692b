"""The application's URLs plus the two floors measured in every benchmark run."""

from django.urls import path

from bench import views
from config import urls as app_urls

urlpatterns = [
    path("bench/floor/json", views.floor_json, name="bench-floor-json"),
    path("bench/floor/select", views.floor_select, name="bench-floor-select"),
    *app_urls.urlpatterns,
]

handler400 = app_urls.handler400
handler403 = app_urls.handler403
handler404 = app_urls.handler404
handler500 = app_urls.handler500

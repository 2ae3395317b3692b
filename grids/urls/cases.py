"""Pages of the cases area of grids (mounted under /grids/)."""

from django.urls import URLPattern, URLResolver, path

from grids.views import cases as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("cases/<str:number>/", views.case_detail, name="case_detail"),
]

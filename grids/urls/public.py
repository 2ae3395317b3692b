"""Pages of the public area of grids (mounted under /grids/)."""

from django.urls import URLPattern, URLResolver, path

from grids.views import public as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("public/<str:number>/", views.public_case, name="public_case"),
]

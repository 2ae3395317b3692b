"""The industry module's landing page at /industry/ (industry/views/hub.py)."""

from django.urls import URLPattern, URLResolver, path

from industry.views import hub as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
]

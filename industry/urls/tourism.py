"""tourism: the tourism figures' pages (under /industry/)."""

from django.urls import URLPattern, path

from industry.views import tourism as views

urlpatterns: list[URLPattern] = [
    path("tourism/", views.tourism_list, name="tourism"),
    path("tourism/new/", views.tourism_new, name="tourism-new"),
    path("tourism/region/<int:pk>/", views.tourism_region, name="tourism-region"),
    path("tourism/region/<int:pk>/edit/", views.tourism_region_edit, name="tourism-region-edit"),
    path("tourism/brand/<int:pk>/", views.tourism_brand, name="tourism-brand"),
    path("tourism/brand/<int:pk>/edit/", views.tourism_brand_edit, name="tourism-brand-edit"),
]

"""Pages of the sites area of canteens (mounted under /canteens/)."""

from django.urls import URLPattern, URLResolver, path

from canteens.views import sites as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("sites/", views.site_list, name="site_list"),
    path("sites/new/", views.site_create, name="site_create"),
    path("<int:site_id>/", views.site_detail, name="site_detail"),
    path("<int:site_id>/edit/", views.site_edit, name="site_edit"),
    path("<int:site_id>/slots/", views.slots_edit, name="slots_edit"),
    path("<int:site_id>/managers/", views.manager_grant, name="manager_grant"),
    path("<int:site_id>/managers/<int:user_id>/revoke/", views.manager_revoke, name="manager_revoke"),
    path("<int:site_id>/photos/", views.photo_add, name="photo_add"),
    path("<int:site_id>/photos/<int:photo_id>/delete/", views.photo_delete, name="photo_delete"),
]

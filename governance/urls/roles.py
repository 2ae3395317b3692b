"""Pages of the roles area of the spine (mounted under /governance/): accounts and role assignments."""

from django.urls import URLPattern, URLResolver, path

from governance.views import roles as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("roles/", views.role_list, name="roles_list"),
    path("roles/grant/", views.role_grant, name="roles_grant"),
    path("roles/users/new/", views.role_user_create, name="roles_user_create"),
    path("roles/<int:assignment_id>/revoke/", views.role_revoke, name="roles_revoke"),
]

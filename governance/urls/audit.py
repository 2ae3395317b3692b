"""Pages of the audit log (mounted under /governance/): read-only, GET only."""

from django.urls import URLPattern, URLResolver, path

from governance.views import audit as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("audit/", views.audit_list, name="audit_list"),
    path("audit/<int:event_id>/", views.audit_detail, name="audit_detail"),
]

"""Pages of the rules area of points (mounted under /points/)."""

from django.urls import URLPattern, URLResolver, path

from points.views import rules as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("rules/", views.rule_list, name="rule_list"),
    path("rules/new/", views.rule_create, name="rule_create"),
    path("rules/<int:rule_id>/edit/", views.rule_edit, name="rule_edit"),
    path("rules/<int:rule_id>/active/", views.rule_toggle, name="rule_toggle"),
    path("policy/<int:township_id>/", views.township_policy, name="township_policy"),
]

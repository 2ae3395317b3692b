"""Pages of the settlements area of canteens (mounted under /canteens/): monthly settlement, subsidy claims,
budgets and reports (canteens/views/settlements.py)."""

from django.urls import URLPattern, URLResolver, path

from canteens.views import settlements as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("<int:site_id>/settlements/", views.settlement_list, name="settlements"),
    path("settlements/<int:pk>/", views.settlement_detail, name="settlement"),
    path("settlements/<int:pk>/claim/", views.claim_print, name="claim_print"),
    path("claims/", views.claim_list, name="claims"),
    path("<int:site_id>/budgets/", views.budget_edit, name="budgets"),
    path("reports/", views.report, name="reports"),
    path("<int:site_id>/report/", views.site_report, name="site_report"),
]

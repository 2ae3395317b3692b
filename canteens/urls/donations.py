"""Pages of the donations area of canteens (mounted under /canteens/)."""

from django.urls import URLPattern, URLResolver, path

from canteens.views import donations as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("funds/", views.fund_list, name="fund_list"),
    path("funds/<int:fund_id>/", views.fund_detail, name="fund"),
    path("funds/<int:fund_id>/donate/", views.donation_create, name="donation_create"),
    path("<int:site_id>/fund/", views.site_fund, name="site_fund"),
    path("<int:site_id>/thanks/", views.thanks, name="thanks"),
]

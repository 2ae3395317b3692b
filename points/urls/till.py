"""Pages of the till area of points (mounted under /points/)."""

from django.urls import URLPattern, URLResolver, path

from points.views import till

urlpatterns: list[URLPattern | URLResolver] = [
    path("till/", till.till_home, name="till_home"),
    path("till/<int:day_id>/", till.till_page, name="till"),
    path("till/<int:day_id>/summary/", till.till_summary, name="till_summary"),
    path("till/<int:day_id>/state/", till.till_day_state, name="till_day_state"),
    path("till/receipts/<int:redemption_id>/", till.till_receipt, name="till_receipt"),
    path(
        "till/receipts/<int:redemption_id>/lines/<int:line_id>/return/", till.till_return, name="till_return"
    ),
]

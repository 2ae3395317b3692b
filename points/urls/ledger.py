"""Pages of the ledger area of points (mounted under /points/)."""

from django.urls import URLPattern, URLResolver, path

from points.views import ledger

urlpatterns: list[URLPattern | URLResolver] = [
    path("households/<int:household_id>/", ledger.household_account, name="household_account"),
    path("households/<int:household_id>/card/", ledger.household_card, name="household_card"),
    path("grids/<int:grid_id>/cards/", ledger.grid_cards, name="grid_cards"),
]

"""The points module's pages: each area keeps its own module; this one mounts them under /points/."""

from points.urls import awards, board, evaluations, ledger, reports, rules, stores, till

app_name = "points"

urlpatterns = [
    *awards.urlpatterns,
    *rules.urlpatterns,
    *ledger.urlpatterns,
    *stores.urlpatterns,
    *till.urlpatterns,
    *board.urlpatterns,
    *evaluations.urlpatterns,
    *reports.urlpatterns,
]

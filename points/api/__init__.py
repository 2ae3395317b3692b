"""The points REST API under /api/v1/points/ (namespace v1:points): each area keeps its own module."""

from points.api import awards, board, evaluations, ledger, reports, rules, stores, till

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

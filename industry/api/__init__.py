"""The industry REST API under /api/v1/industry/ (namespace v1:industry): each area keeps its own module."""

from industry.api import chains, coverage, dashboard, economy, events, imports, joint, places, sales, tourism

urlpatterns = [
    *chains.urlpatterns,
    *coverage.urlpatterns,
    *economy.urlpatterns,
    *joint.urlpatterns,
    *places.urlpatterns,
    *events.urlpatterns,
    *sales.urlpatterns,
    *imports.urlpatterns,
    *tourism.urlpatterns,
    *dashboard.urlpatterns,
]

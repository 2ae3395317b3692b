"""The industry module's pages under /industry/: each area keeps its own module."""

from industry.urls import (
    chains,
    coverage,
    dashboard,
    economy,
    events,
    hub,
    imports,
    joint,
    places,
    sales,
    tourism,
)

app_name = "industry"

urlpatterns = [
    *hub.urlpatterns,
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

"""The spine's pages: each area keeps its own module; this one mounts them under /governance/."""

from governance.urls import audit, exports, party, people, regions, roles, roster

app_name = "governance"

urlpatterns = [
    *regions.urlpatterns,
    *people.urlpatterns,
    *party.urlpatterns,
    *roster.urlpatterns,
    *roles.urlpatterns,
    *audit.urlpatterns,
    *exports.urlpatterns,
]

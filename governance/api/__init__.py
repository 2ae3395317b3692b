"""The spine's REST API: each area keeps its own module; this one mounts them."""

from django.urls import URLPattern, URLResolver

from governance.api import audit, exports, party, people, regions, roles, roster

urlpatterns: list[URLPattern | URLResolver] = [
    *regions.urlpatterns,
    *people.urlpatterns,
    *party.urlpatterns,
    *roster.urlpatterns,
    *roles.urlpatterns,
    *audit.urlpatterns,
    *exports.urlpatterns,
]

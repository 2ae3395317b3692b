"""The canteens REST API under /api/v1/canteens/ (namespace v1:canteens): each area keeps its own module."""

from canteens.api import community, donations, meals, settlements, setup, sites

urlpatterns = [
    *sites.urlpatterns,
    *setup.urlpatterns,
    *meals.urlpatterns,
    *donations.urlpatterns,
    *settlements.urlpatterns,
    *community.urlpatterns,
]

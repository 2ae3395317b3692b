"""The canteens module's pages: each area keeps its own module; this one mounts them under /canteens/."""

from canteens.urls import community, donations, meals, settlements, setup, sites

app_name = "canteens"

urlpatterns = [
    *sites.urlpatterns,
    *setup.urlpatterns,
    *meals.urlpatterns,
    *donations.urlpatterns,
    *settlements.urlpatterns,
    *community.urlpatterns,
]

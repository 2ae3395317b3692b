"""Pages of the meals area of canteens (mounted under /canteens/)."""

from django.urls import URLPattern, URLResolver, path

from canteens.views import meals as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("start/", views.start, name="start"),
    path("<int:site_id>/checkin/", views.checkin, name="checkin"),
    path("<int:site_id>/meals/<str:day>/", views.meal_sheet, name="meal_sheet"),
    path("<int:site_id>/corrections/", views.corrections, name="corrections"),
    path("meals/<int:meal_id>/correction/", views.correction_request, name="correction_request"),
    path("corrections/<int:correction_id>/decide/", views.correction_decide, name="correction_decide"),
]

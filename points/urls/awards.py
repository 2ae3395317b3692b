"""Pages of the awards area of points (mounted under /points/)."""

from django.urls import URLPattern, URLResolver, path

from points.views import awards as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("awards/", views.award_list, name="award_list"),
    path("awards/propose/", views.award_propose, name="award_propose"),
    path("awards/batch/", views.award_batch, name="award_batch"),
    path("awards/export/", views.award_list_export, name="award_list_export"),
    path("awards/review/", views.award_review_queue, name="award_review_queue"),
    path("awards/review/export/", views.award_review_export, name="award_review_export"),
    path("awards/<int:award_id>/", views.award_detail, name="award_detail"),
    path("awards/<int:award_id>/void/", views.award_void, name="award_void"),
    path("objections/<int:objection_id>/decide/", views.objection_decide, name="objection_decide"),
]

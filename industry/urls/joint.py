"""Pages of joint building (mounted under /industry/)."""

from django.urls import URLPattern, path

from industry.views import joint as views

urlpatterns: list[URLPattern] = [
    path("joint/", views.joint_list, name="joint"),
    path("joint/new/", views.joint_create, name="joint-create"),
    path("joint/<int:pk>/", views.joint_detail, name="joint-detail"),
    path("joint/<int:pk>/edit/", views.joint_edit, name="joint-edit"),
    path("joint/<int:pk>/members/", views.joint_member_add, name="joint-member-add"),
    path("joint/<int:pk>/results/", views.joint_result_set, name="joint-result-set"),
    path("joint/members/<int:member_id>/remove/", views.joint_member_remove, name="joint-member-remove"),
]

"""Pages of the chains area: chains and links, businesses and their participation, households' projects
and residents' work (industry/views/chains.py)."""

from django.urls import URLPattern, URLResolver, path

from industry.views import chains as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("chains/", views.chain_list, name="chains"),
    path("chains/new/", views.chain_create, name="chain-create"),
    path("chains/<int:pk>/", views.chain_detail, name="chain-detail"),
    path("chains/<int:pk>/edit/", views.chain_edit, name="chain-edit"),
    path("chains/<int:pk>/links/", views.chain_links, name="chain-links"),
    path("chains/<int:pk>/links/<int:link_id>/rename/", views.link_rename, name="chain-link-rename"),
    path("chains/<int:pk>/links/<int:link_id>/move/", views.link_move, name="chain-link-move"),
    path("chains/<int:pk>/links/<int:link_id>/remove/", views.link_remove, name="chain-link-remove"),
    path("businesses/", views.business_list, name="businesses"),
    path("businesses/new/", views.business_create, name="business-create"),
    path("businesses/<int:pk>/", views.business_detail, name="business-detail"),
    path("businesses/<int:pk>/edit/", views.business_edit, name="business-edit"),
    path("businesses/<int:pk>/deactivate/", views.business_deactivate, name="business-deactivate"),
    path("businesses/<int:pk>/reactivate/", views.business_reactivate, name="business-reactivate"),
    path("businesses/<int:pk>/chains/new/", views.participation_create, name="participation-create"),
    path("participations/<int:pk>/edit/", views.participation_edit, name="participation-edit"),
    path("participations/<int:pk>/end/", views.participation_end, name="participation-end"),
    path("projects/", views.project_list, name="projects"),
    path("projects/new/", views.project_create, name="project-create"),
    path("projects/<int:pk>/end/", views.project_end, name="project-end"),
    path("employment/", views.employment_list, name="employment"),
    path("employment/new/", views.employment_create, name="employment-create"),
    path("employment/<int:pk>/end/", views.employment_end, name="employment-end"),
]

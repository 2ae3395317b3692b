"""Pages of the stores area of points (mounted under /points/)."""

from django.urls import URLPattern, URLResolver, path

from points.views import stores as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("stores/", views.store_list, name="store_list"),
    path("stores/new/", views.store_create, name="store_create"),
    path("stores/<int:store_id>/", views.store_detail, name="store_detail"),
    path("stores/<int:store_id>/edit/", views.store_edit, name="store_edit"),
    path("stores/<int:store_id>/items/new/", views.item_create, name="item_create"),
    path("stores/<int:store_id>/clerks/", views.clerk_grant, name="store_clerk_grant"),
    path("stores/<int:store_id>/clerks/<int:user_id>/revoke/", views.clerk_revoke, name="store_clerk_revoke"),
    path("stores/<int:store_id>/days/new/", views.day_create, name="store_day_create"),
    path("stores/days/<int:day_id>/state/", views.day_state, name="store_day_state"),
    path("stores/items/<int:item_id>/", views.item_ledger, name="item_ledger"),
    path("stores/items/<int:item_id>/edit/", views.item_edit, name="item_edit"),
    path("stores/items/<int:item_id>/stock-in/", views.item_stock_in, name="item_stock_in"),
    path("stores/items/<int:item_id>/adjust/", views.item_adjust, name="item_adjust"),
]

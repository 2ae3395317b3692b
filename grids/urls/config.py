"""Pages of the config area of grids (mounted under /grids/): the county's case-handling configuration."""

from django.urls import URLPattern, URLResolver, path

from grids.views import config as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("config/", views.config_home, name="config_home"),
    path("config/categories/", views.config_categories, name="config_categories"),
    path("config/time-limits/", views.config_time_limits, name="config_time_limits"),
    path("config/calendar/", views.config_calendar, name="config_calendar"),
    path("config/units/", views.config_units, name="config_units"),
    path("config/units/<int:unit_id>/", views.config_unit, name="config_unit"),
    path("config/routing/", views.config_routing, name="config_routing"),
    path("config/templates/", views.config_templates, name="config_templates"),
    path("config/templates/<int:template_id>/", views.config_templates, name="config_template"),
]

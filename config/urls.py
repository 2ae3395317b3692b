"""URL conventions every module keeps: pages under /, the REST API under /api/v1/,
the OpenAPI schema at /api/schema/, Swagger UI at /api/docs/, health at /healthz, admin at /admin/."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path
from django.views.i18n import JavaScriptCatalog, set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from common import api as common_api
from common import views as common_views
from common.forms import LoginForm

api_v1: list[URLPattern | URLResolver] = [
    path("auth/token/", common_api.TokenObtainApi.as_view(), name="api-token"),
    path("auth/token/revoke/", common_api.TokenRevokeApi.as_view(), name="api-token-revoke"),
    path("me/", common_api.MeApi.as_view(), name="api-me"),
    path("governance/", include(("governance.api", "governance"), namespace="governance")),
    path("grids/", include(("grids.api", "grids"), namespace="grids")),
    path("points/", include(("points.api", "points"), namespace="points")),
    path("canteens/", include(("canteens.api", "canteens"), namespace="canteens")),
    path("industry/", include(("industry.api", "industry"), namespace="industry")),
    path("dashboard/", include(("governance.api.dashboard", "dashboard"), namespace="dashboard")),
]

urlpatterns = [
    path("", common_views.home, name="home"),
    path("start/", common_views.landing, name="landing"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="registration/login.html",
            authentication_form=LoginForm,
            redirect_authenticated_user=True,
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("i18n/catalog.js", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("m/<slug:module>/", common_views.module_home, name="module-home"),
    path("governance/", include("governance.urls")),
    path("grids/", include("grids.urls")),
    path("points/", include("points.urls")),
    path("canteens/", include("canteens.urls")),
    path("industry/", include("industry.urls")),
    path("dashboard/", include("governance.urls.dashboard", namespace="dashboard")),
    path("healthz", common_api.healthz, name="healthz"),
    path("api/v1/", include((api_v1, "api"), namespace="v1")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]

handler400 = "common.views.bad_request"
handler403 = "common.views.permission_denied"
handler404 = "common.views.page_not_found"
handler500 = "common.views.server_error"

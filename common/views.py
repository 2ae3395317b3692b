"""Pages of the shell (home, module landing pages) and the error handlers.

Errors under /api/ answer JSON {"code", "detail"}; everywhere else they render inside the shell.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.template import loader
from django.urls import reverse
from django.utils.translation import gettext as _

from common.errors import DomainError
from common.modules import MODULES_BY_SLUG
from governance.models import RoleAssignment
from governance.roles import Role
from governance.selectors import role_assignment_list_for_user

logger = logging.getLogger(__name__)


def pages(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Log-in required (an anonymous visitor goes to the log-in page); a domain error with status 404
    renders the not-found page (nothing leaks), one with status 403 the forbidden page (both keep the
    message); any other domain error propagates."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except DomainError as error:
            if error.status == 404:
                raise Http404(str(error.message)) from None
            if error.status == 403:
                raise PermissionDenied(str(error.message)) from None
            raise

    return login_required(wrapper)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "common/home.html",
        {"assignments": role_assignment_list_for_user(user=request.user)},
    )


# Where each role starts its day after logging in, the broadest role first: a grid leader on the phone
# home with their open cases, a village secretary on the triage queue, a mediator on the cases handed
# to them; county and township staff on the module overview (the dashboard, once it exists).
LANDING_BY_ROLE: tuple[tuple[str, str], ...] = (
    (Role.COUNTY_ADMIN, "home"),
    # The till of a redemption day open in their township, else the points hub (points.views.home).
    (Role.TOWNSHIP_ADMIN, "points:start"),
    (Role.VILLAGE_SECRETARY, "grids:queue"),
    (Role.GRID_LEADER, "grids:home"),
    (Role.MEDIATOR, "grids:mediation_list"),
    # Today's check-in of the canteen they run (canteens.views.meals.start), else the canteens hub.
    (Role.CANTEEN_MANAGER, "canteens:start"),
)


@login_required
def landing(request: HttpRequest) -> HttpResponseRedirect:
    """The page after logging in (LOGIN_REDIRECT_URL) when no `next` was asked for."""
    held = set(RoleAssignment.objects.filter(user__pk=request.user.pk or 0).values_list("role", flat=True))
    for role, url_name in LANDING_BY_ROLE:
        if role in held:
            return HttpResponseRedirect(reverse(url_name))
    return HttpResponseRedirect(reverse("home"))


@login_required
def module_home(request: HttpRequest, module: str) -> HttpResponse:
    found = MODULES_BY_SLUG.get(module)
    if found is None:
        raise Http404(_("没有这个模块。"))
    return render(request, "common/module_home.html", {"module": found})


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _error(request: HttpRequest, status: int, code: str, detail: str, template: str) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(
            {"code": code, "detail": detail}, status=status, json_dumps_params={"ensure_ascii": False}
        )
    return render(request, template, {"status": status, "detail": detail}, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 400, "bad_request", _("请求有误，无法处理。"), "400.html")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 403, "permission_denied", _("您没有访问此页面的权限。"), "403.html")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 404, "not_found", _("页面不存在，或者不在您的管辖范围内。"), "404.html")


def server_error(request: HttpRequest) -> HttpResponse:
    # A database that went away outside a view (a middleware, the page shell's context processor) is a
    # 503 to retry, not a bug: Django calls this handler inside its `except`, so the exception is at hand.
    from common.db_errors import database_unavailable_response, is_database_unavailable

    raised = sys.exc_info()[1]
    if raised is not None and is_database_unavailable(raised):
        return database_unavailable_response(request)
    detail = _("服务器内部错误，我们已记录此问题，请稍后再试。")
    if _is_api(request):
        return JsonResponse(
            {"code": "server_error", "detail": detail}, status=500, json_dumps_params={"ensure_ascii": False}
        )
    try:
        return render(request, "500.html", {"status": 500, "detail": detail}, status=500)
    except Exception:
        # The shell itself may be what failed (a broken context processor, the database down):
        # fall back to the self-contained page that needs no context.
        logger.exception("500 page could not render inside the shell")
        return HttpResponse(loader.get_template("500_plain.html").render(), status=500)

"""The grid leader's home (/grids/): phone-first — households, open cases with deadline colours, cases
waiting for the leader's follow-up, notifications, this month's work and the big "上报民情" button.

Who is not a grid leader goes where their work is: village secretaries and above to the triage queue.
"""

from __future__ import annotations

from typing import cast

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from governance.access import assignments
from governance.models import User
from governance.roles import Role
from grids.selectors.home import leader_home
from grids.views.filing import case_url, reverse_or

QUEUE_ROLES = frozenset({Role.VILLAGE_SECRETARY, Role.TOWNSHIP_ADMIN, Role.COUNTY_ADMIN})


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponseBase:
    """The home page of a grid leader; a 302 to the triage queue for village secretaries and above."""
    roles = {role for role, _path in assignments(request.user)}
    if Role.GRID_LEADER not in roles:
        if roles & QUEUE_ROLES:
            return HttpResponseRedirect(reverse_or("grids:queue", reverse("module-home", args=["grids"])))
        return render(request, "grids/home.html", {"not_leader": True})
    data = leader_home(cast(User, request.user))
    for case in [*data.open_cases, *data.follow_ups]:
        case.url = case_url(case.number)  # type: ignore[attr-defined]
    response: HttpResponse = render(
        request,
        "grids/home.html",
        {
            "home": data,
            "hotspots_url": reverse_or("grids:hotspots", ""),
            "worklog_url": reverse_or("grids:work_log_create", ""),
        },
    )
    return response

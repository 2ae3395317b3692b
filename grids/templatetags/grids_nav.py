"""The grids module's own navigation strip: the pages the user's roles open, in the order of a day's work."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from governance.models import RoleAssignment
from governance.roles import Role

register = template.Library()

STAFF: frozenset[str] = frozenset({Role.COUNTY_ADMIN, Role.TOWNSHIP_ADMIN, Role.VILLAGE_SECRETARY})
# (url name, label, the roles that see it)
LINKS: tuple[tuple[str, Any, frozenset[str]], ...] = (
    ("grids:home", _("我的网格"), frozenset({Role.GRID_LEADER})),
    ("grids:file", _("上报民情"), STAFF | {Role.GRID_LEADER}),
    ("grids:queue", _("受理台"), STAFF),
    ("grids:mediation_list", _("我的调解"), frozenset({Role.MEDIATOR})),
    ("grids:work_log_list", _("工作记录"), STAFF | {Role.GRID_LEADER}),
    ("grids:hotspots", _("热点问题"), STAFF),
    ("grids:project_list", _("民情项目"), STAFF),
    ("grids:assessment", _("考核"), STAFF),
    ("grids:config_home", _("配置"), frozenset({Role.COUNTY_ADMIN})),
)


@register.inclusion_tag("grids/_subnav.html", takes_context=True)
def grids_subnav(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or user is None or not user.is_authenticated:
        return {"links": []}
    roles = getattr(request, "_grids_roles", None)
    if roles is None:
        roles = set(RoleAssignment.objects.filter(user__pk=user.pk).values_list("role", flat=True))
        request._grids_roles = roles  # one query per request, however often the strip is drawn
    here = request.path
    links = []
    for url_name, label, allowed in LINKS:
        if not roles & allowed:
            continue
        url = reverse(url_name)
        current = here == url if url_name == "grids:home" else here.startswith(url)
        links.append({"url": url, "label": label, "current": current})
    return {"links": links}

"""Pages of the regions area: the governance hub and the region browser (phone first).

Thin: each view reads through one selector and renders. Out of scope answers 404 (the selector raises).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.errors import NotFound
from common.excel import xlsx_response
from governance import access
from governance.roles import Role
from governance.selectors import regions as region_selectors
from governance.selectors.regions import RegionWithCounts
from governance.selectors.roles import ADMIN_ROLES

EVERY_ROLE = frozenset(Role)


@dataclass(frozen=True)
class HubLink:
    url_name: str
    label: str | Promise
    summary: str | Promise
    icon: str  # a symbol id in static/img/icons.svg
    roles: frozenset[Role]


# The governance hub's entries, in order. An entry shows when its page exists (other areas add theirs)
# and the user holds one of its roles somewhere; the page itself still checks scope.
HUB_LINKS: tuple[HubLink, ...] = (
    HubLink(
        "governance:regions_browser",
        gettext_lazy("区域浏览"),
        gettext_lazy("县、乡镇、村（社区）、网格逐级查看户数、居民、党员和网格长，按名称或代码查找。"),
        "org",
        EVERY_ROLE,
    ),
    HubLink(
        "governance:people_household_list",
        gettext_lazy("户籍与居民"),
        gettext_lazy("一户一档：户、户主、家庭成员与标签，个人信息按权限脱敏显示。"),
        "home",
        EVERY_ROLE,
    ),
    HubLink(
        "governance:party_organisation_list",
        gettext_lazy("党组织与党员"),
        gettext_lazy("党组织体系、班子成员、党员队伍与发展流程、乡贤说事评理团。"),
        "org",
        EVERY_ROLE,
    ),
    HubLink(
        "governance:roster_import_new",
        gettext_lazy("花名册导入"),
        gettext_lazy("下载模板，导入村里现有的 Excel 花名册：先逐行校验，再一次性导入。"),
        "grid",
        access.PERSONAL_DATA_ROLES,  # who may import (governance.services.roster.importer_region)
    ),
    HubLink(
        "governance:roles_list",
        gettext_lazy("角色管理"),
        gettext_lazy("为辖区内的人员开设账号、授予和撤销角色，只能授予不高于本人的角色。"),
        "chart",
        ADMIN_ROLES,
    ),
    HubLink(
        "governance:audit_list",
        gettext_lazy("操作审计"),
        gettext_lazy("谁在何时对哪些数据做了什么，个人信息的查看与导出记录。"),
        "info",
        frozenset({Role.COUNTY_ADMIN, Role.TOWNSHIP_ADMIN}),  # as governance.selectors.audit.AUDIT_ROLES
    ),
)


def hub_links_for(user: access.AnyUser) -> list[dict[str, object]]:
    """The hub entries this user may open, with their URLs; pages that do not exist yet are left out."""
    held = {Role(role) for role, _path in access.assignments(user)}
    links: list[dict[str, object]] = []
    for link in HUB_LINKS:
        if not held & link.roles:
            continue
        try:
            url = reverse(link.url_name)
        except NoReverseMatch:
            continue
        links.append({"url": url, "label": link.label, "summary": link.summary, "icon": link.icon})
    return links


@login_required
def governance_home(request: HttpRequest) -> HttpResponseBase:
    return render(request, "governance/home.html", {"links": hub_links_for(request.user)})


COUNT_SORTS = ("households", "residents", "party_members", "grid_leaders")
SORT_LABELS = {
    "code": gettext_lazy("按代码"),
    "name": gettext_lazy("按名称"),
    "households": gettext_lazy("户数从多到少"),
    "residents": gettext_lazy("居民从多到少"),
    "party_members": gettext_lazy("党员从多到少"),
    "grid_leaders": gettext_lazy("网格长从多到少"),
}


def _export(rows: list[RegionWithCounts], title: str) -> HttpResponseBase:
    return xlsx_response(
        filename=f"{title}.xlsx",
        sheet_title=title,
        headers=[
            _("名称"),
            _("层级"),
            _("统计用区划代码"),
            _("户数"),
            _("居民"),
            _("党员"),
            _("在任网格长"),
        ],
        rows=(
            [
                row.region.name,
                row.region.get_level_display(),
                row.region.code,
                row.counts.households,
                row.counts.residents,
                row.counts.party_members,
                row.counts.grid_leaders,
            ]
            for row in rows
        ),
        widths=[18, 10, 20, 10, 10, 10, 12],
    )


@login_required
def region_browser(request: HttpRequest) -> HttpResponseBase:
    """Where the browser starts: the user's top region (or, holding several, the list of them)."""
    if request.GET.get("q", "").strip():
        return region_search(request)
    roots = region_selectors.region_roots_with_counts(user=request.user)
    if len(roots) == 1 and "export" not in request.GET:
        return redirect("governance:regions_node", region_id=roots[0].region.pk)
    if request.GET.get("export") == "xlsx":
        return _export(roots, _("我的辖区"))
    return render(
        request,
        "governance/regions/browser.html",
        {"node": None, "children": roots, "is_roots": True},
    )


@login_required
def region_node(request: HttpRequest, region_id: int) -> HttpResponseBase:
    """One node: its breadcrumb, its counts and each child with its counts (sortable, exportable)."""
    sort = request.GET.get("sort", "code")
    if sort not in SORT_LABELS:
        sort = "code"
    try:
        node = region_selectors.region_node(
            user=request.user, region_id=region_id, order="name" if sort == "name" else "code"
        )
    except NotFound as missing:
        raise Http404(missing.message) from None
    children = node.children
    if sort in COUNT_SORTS:
        # Python's sort is stable: equal counts keep the code order the selector gave.
        children = sorted(children, key=lambda c: -getattr(c.counts, sort))
    if request.GET.get("export") == "xlsx":
        return _export(children, _("%(name)s下级区域统计") % {"name": node.region.name})
    can_grant = bool(access.grantable_roles(request.user, node.region.path))
    return render(
        request,
        "governance/regions/browser.html",
        {
            "node": node,
            "children": children,
            "is_roots": False,
            "sort": sort,
            "sorts": SORT_LABELS,
            "can_grant": can_grant,
        },
    )


@login_required
def region_search(request: HttpRequest) -> HttpResponseBase:
    """Regions in the user's scope whose name or statistical code starts with what was typed."""
    q = request.GET.get("q", "").strip()
    scope = region_selectors.region_scope_q(user=request.user)
    results = region_selectors.region_search(user=request.user, q=q, scope=scope)
    page = Paginator(results, region_selectors.SEARCH_LIMIT).get_page(request.GET.get("page"))
    names = region_selectors.region_names_by_id(regions=page.object_list, scope=scope)
    rows = [
        {
            "region": region,
            "trail": [names[int(i)] for i in region.path.split("/")[:-2] if int(i) in names],
        }
        for region in page.object_list
    ]
    return render(request, "governance/regions/search.html", {"q": q, "page": page, "rows": rows})

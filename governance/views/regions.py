"""Pages of the regions area: the governance hub, the region browser (phone first), and for those who
may edit the tree (access.can_edit_regions) adding a region, changing a statistical code and moving a
grid; plus the picker endpoint the township → village → grid selects of other forms read.

Thin: each view reads through one selector or writes through one service and renders. Out of scope (or
out of editing reach) answers 404; a service's Chinese error is shown next to its field, input kept.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods
from django_stubs_ext import StrOrPromise

from common.errors import DomainError, NotFound
from common.excel import xlsx_response
from governance import access
from governance.models import Region, RegionKind, RegionLevel
from governance.roles import Role
from governance.selectors import regions as region_selectors
from governance.selectors.people import PEOPLE_EDITOR_ROLES
from governance.selectors.regions import RegionWithCounts
from governance.selectors.roles import ADMIN_ROLES
from governance.services import regions as region_services

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
    child_level = region_services.region_child_level(node.region)
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
            "can_edit": access.can_edit_regions(request.user, node.region.path),
            "child_level_label": RegionLevel(child_level).label if child_level else "",
            "livelihood_sites": _livelihood_sites(node.region),
            "designations": _designations(node.region),
        },
    )


def _designations(region: Region) -> list[Any]:
    """The region's featured-town, featured-village and development-type designations (industry owns them)."""
    from industry.selectors.places import designations_for_region

    return designations_for_region(region)


def _livelihood_sites(region: Region) -> list[Any]:
    """The livelihood sites in the region's subtree by kind (canteens owns the query)."""
    from canteens.selectors.community import region_site_counts

    return list(region_site_counts(region)) if region.level != RegionLevel.GRID else []


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


# ---------------------------------------------------------------------------------------------------------
# Managing the tree: add a region, change a statistical code, move a grid


def _idempotency_field() -> forms.CharField:
    missing = gettext_lazy("缺少防重复提交标识，请刷新页面后重新提交。")
    return forms.CharField(
        widget=forms.HiddenInput, max_length=64, error_messages={"required": missing, "max_length": missing}
    )


def _date_field(label: StrOrPromise, *, required: bool = True) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": gettext_lazy("请填写启用日期。"),
            "invalid": gettext_lazy("请输入有效的日期，如 2024-01-01。"),
        },
    )


def _code_field(level: RegionLevel, *, required: bool) -> forms.CharField:
    length = region_services.region_code_length(level)
    field = forms.CharField(
        label=gettext_lazy("统计用区划代码"),
        required=required,
        max_length=length,
        error_messages={
            "required": gettext_lazy("请填写统计用区划代码。"),
            "max_length": _("%(level)s的统计用区划代码应为%(length)d位数字。")
            % {"level": level.label, "length": length},
        },
    )
    field.widget.attrs.update(
        {"inputmode": "numeric", "autocomplete": "off", "pattern": r"\d*", "placeholder": "0" * length}
    )
    return field


class RegionChildForm(forms.Form):
    """A region under `parent`: its level follows from the parent's, and so do the kinds offered."""

    name = forms.CharField(
        label=gettext_lazy("名称"), max_length=60, error_messages={"required": gettext_lazy("请填写名称。")}
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("类型"), error_messages={"required": gettext_lazy("请选择类型。")}
    )
    idempotency_key = _idempotency_field()

    def __init__(self, *args: Any, level: RegionLevel, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kinds = [k for k in RegionKind if k in region_services.LEVEL_KINDS[level]]
        kind_field = self.fields["kind"]
        assert isinstance(kind_field, forms.ChoiceField)
        kind_field.choices = [(k.value, k.label) for k in kinds]
        kind_field.error_messages["invalid_choice"] = _("请选择列表中的类型。")
        if len(kinds) == 1:
            kind_field.widget = forms.HiddenInput()
        self.fields["code"] = _code_field(level, required=False)
        self.fields["code"].help_text = _("可暂不填写；填写时须同时填写启用日期。")
        self.fields["valid_from"] = _date_field(gettext_lazy("代码启用日期"), required=False)
        self.fields["name"].widget.attrs.update({"autocomplete": "off"})
        self.order_fields(["name", "kind", "code", "valid_from", "idempotency_key"])


class RegionCodeForm(forms.Form):
    valid_from = _date_field(gettext_lazy("启用日期"))
    idempotency_key = _idempotency_field()

    def __init__(self, *args: Any, level: RegionLevel, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"] = _code_field(level, required=True)
        self.fields["code"].label = _("新代码")
        self.fields["valid_from"].help_text = _("现用代码在这一天停用，新代码从这一天起启用。")
        self.order_fields(["code", "valid_from", "idempotency_key"])


class GridMoveForm(forms.Form):
    to_village = forms.TypedChoiceField(
        label=gettext_lazy("调整到"),
        coerce=int,
        error_messages={
            "required": gettext_lazy("请选择要调整到的村（社区）。"),
            "invalid_choice": gettext_lazy("请选择列表中的村（社区）。"),
        },
    )
    reason = forms.CharField(
        label=gettext_lazy("调整原因"),
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": gettext_lazy("请填写调整原因。")},
    )
    idempotency_key = _idempotency_field()

    def __init__(self, *args: Any, villages: list[Region], current: Region, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.villages = {village.pk: village for village in villages}
        # Grouped by township: the same choices read without JavaScript; regions.js adds the cascade.
        groups: dict[str, list[tuple[int, str]]] = {}
        for village in villages:
            township = village.parent.name if village.parent else ""
            label = _("%(name)s（现属）") % {"name": village.name} if village == current else village.name
            groups.setdefault(township, []).append((village.pk, label))
        field = self.fields["to_village"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", _("请选择村（社区）")), *groups.items()]
        self.fields["reason"].widget.attrs["placeholder"] = _("如：按乡镇区划调整方案，并入邻村管理")


def _place_error(form: forms.Form, error: DomainError) -> None:
    """Put a service's Chinese message next to its field, or above the form when it names none of it."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, str(error.message))


def _editable(request: HttpRequest, region_id: int) -> region_selectors.RegionNode:
    """The region (with its in-scope ancestors for the breadcrumb) if the user may edit the tree there.
    Out of scope, or in scope but read-only, answers 404 like the services' gate."""
    scope = region_selectors.region_scope_q(user=request.user)
    try:
        region = region_selectors.region_get(user=request.user, region_id=region_id, scope=scope)
    except NotFound as missing:
        raise Http404(missing.message) from None
    if not access.can_edit_regions(request.user, region.path):
        raise Http404(_("未找到该区域，或者它不在您的管辖范围内。"))
    ancestors = region_selectors.region_ancestors(region=region, scope=scope)
    return region_selectors.RegionNode(
        region=region, ancestors=ancestors, counts=region_selectors.RegionCounts()
    )


def _fresh_key() -> str:
    return uuid.uuid4().hex


@login_required
@require_http_methods(["GET", "POST"])
def region_child_create(request: HttpRequest, region_id: int) -> HttpResponseBase:
    """Add a village under a township, a grid under a village (a township under the county)."""
    node = _editable(request, region_id)
    level = region_services.region_child_level(node.region)
    if level is None:
        raise Http404(_("网格下不能再设下级区域。"))
    if request.method == "POST":
        form = RegionChildForm(request.POST, level=level)
        if form.is_valid():
            data = form.cleaned_data
            try:
                region = region_services.region_child_create(
                    actor=request.user,
                    parent=node.region,
                    name=data["name"],
                    kind=RegionKind(data["kind"]),
                    code=data["code"],
                    valid_from=data["valid_from"],
                    idempotency_key=data["idempotency_key"],
                    request=request,
                )
            except DomainError as error:
                if error.status == 404:
                    raise Http404(str(error.message)) from None
                _place_error(form, error)
            else:
                messages.success(
                    request,
                    _("已在“%(parent)s”下新增%(level)s“%(name)s”。")
                    % {"parent": node.region.name, "level": level.label, "name": region.name},
                )
                return redirect("governance:regions_node", region_id=region.pk)
    else:
        kinds = region_services.LEVEL_KINDS[level]
        form = RegionChildForm(
            initial={
                "idempotency_key": _fresh_key(),
                "valid_from": timezone.localdate(),
                "kind": next(k.value for k in RegionKind if k in kinds),
            },
            level=level,
        )
    return render(
        request,
        "governance/regions/child_form.html",
        {
            "node": node,
            "form": form,
            "level_label": level.label,
            "code_length": region_services.region_code_length(level),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def region_code_change(request: HttpRequest, region_id: int) -> HttpResponseBase:
    """Change a region's statistical code from a date on; shows every code it has held and when."""
    node = _editable(request, region_id)
    level = RegionLevel(node.region.level)
    if request.method == "POST":
        form = RegionCodeForm(request.POST, level=level)
        if form.is_valid():
            data = form.cleaned_data
            try:
                new = region_services.region_code_change(
                    actor=request.user,
                    region=node.region,
                    code=data["code"],
                    valid_from=data["valid_from"],
                    idempotency_key=data["idempotency_key"],
                    request=request,
                )
            except DomainError as error:
                if error.status == 404:
                    raise Http404(str(error.message)) from None
                _place_error(form, error)
            else:
                messages.success(
                    request,
                    _("“%(name)s”的统计用区划代码已变更为 %(code)s，自 %(date)s 起启用。")
                    % {"name": node.region.name, "code": new.code, "date": _chinese_date(new.valid_from)},
                )
                return redirect("governance:regions_code_change", region_id=node.region.pk)
    else:
        form = RegionCodeForm(
            initial={"idempotency_key": _fresh_key(), "valid_from": timezone.localdate()}, level=level
        )
    return render(
        request,
        "governance/regions/code_form.html",
        {
            "node": node,
            "form": form,
            "history": region_selectors.region_code_history(region=node.region),
            "code_length": region_services.region_code_length(level),
        },
    )


def _chinese_date(day: dt.date) -> str:
    return _("%(y)d年%(m)d月%(d)d日") % {"y": day.year, "m": day.month, "d": day.day}


@login_required
@require_http_methods(["GET", "POST"])
def region_grid_move(request: HttpRequest, region_id: int) -> HttpResponseBase:
    """Move a grid to another village in the user's editing reach; shows where it has been."""
    node = _editable(request, region_id)
    if node.region.level != RegionLevel.GRID:
        raise Http404(_("只能调整网格的归属。"))
    villages = region_selectors.region_move_targets(user=request.user)
    current = node.region.parent
    assert current is not None
    if request.method == "POST":
        form = GridMoveForm(request.POST, villages=villages, current=current)
        if form.is_valid():
            data = form.cleaned_data
            try:
                move = region_services.region_grid_move(
                    actor=request.user,
                    grid=node.region,
                    to_village=form.villages[data["to_village"]],
                    reason=data["reason"],
                    idempotency_key=data["idempotency_key"],
                    request=request,
                )
            except DomainError as error:
                if error.status == 404:
                    raise Http404(str(error.message)) from None
                _place_error(form, error)
            else:
                messages.success(
                    request,
                    _("已将“%(grid)s”从“%(from)s”调整到“%(to)s”。")
                    % {"grid": node.region.name, "from": move.from_parent.name, "to": move.to_parent.name},
                )
                return redirect("governance:regions_grid_move", region_id=node.region.pk)
    else:
        form = GridMoveForm(initial={"idempotency_key": _fresh_key()}, villages=villages, current=current)
    chosen = form.villages.get(_int_or_none(form["to_village"].value()) or 0)
    return render(
        request,
        "governance/regions/move_form.html",
        {
            "node": node,
            "form": form,
            "history": region_selectors.region_move_history(region=node.region),
            "picker": region_picker_context(
                purpose="regions",
                target=RegionLevel.VILLAGE,
                # Moves are mostly within a township: the steps open at the grid's own.
                selected_path=(chosen or current).path,
                exclude=current.pk,
            ),
        },
    )


def _int_or_none(value: object) -> int | None:
    text = str(value or "")
    return int(text) if text.isdigit() else None


_PICKER_LEVELS = (RegionLevel.TOWNSHIP, RegionLevel.VILLAGE, RegionLevel.GRID)
_PICKER_TEXT: dict[RegionLevel, tuple[Promise, Promise, Promise]] = {
    # level: (its label, the placeholder of its select, what a later select says until it is chosen)
    RegionLevel.TOWNSHIP: (gettext_lazy("乡镇"), gettext_lazy("请选择乡镇"), gettext_lazy("请先选择乡镇")),
    RegionLevel.VILLAGE: (
        gettext_lazy("村（社区）"),
        gettext_lazy("请选择村（社区）"),
        gettext_lazy("请先选择村（社区）"),
    ),
    RegionLevel.GRID: (gettext_lazy("网格"), gettext_lazy("请选择网格"), gettext_lazy("请先选择网格")),
}


def region_picker_context(
    *, purpose: str, target: RegionLevel, selected_path: str = "", exclude: int | None = None
) -> dict[str, Any]:
    """What templates/governance/regions/_picker.html needs to turn a grouped <select> of `target`-level
    regions into steps from the township down: each level above `target` with its texts and the id
    the current value lies under (read off `selected_path`, the chosen region's materialized path).
    `exclude` is a region the last select leaves out (a grid's own village when moving it)."""
    above = _PICKER_LEVELS[: _PICKER_LEVELS.index(target)]
    # "county/township/village/grid/": the ids below the county, one per level.
    trail = selected_path.split("/")[1 : 1 + len(above)] if selected_path else []
    steps = [
        {
            "level": level.value,
            "label": _PICKER_TEXT[level][0],
            "placeholder": _PICKER_TEXT[level][1],
            "selected": trail[index] if index < len(trail) else "",
            "waiting": _PICKER_TEXT[above[index - 1]][2] if index else "",
        }
        for index, level in enumerate(above)
    ]
    return {
        "purpose": purpose,
        "exclude": exclude or "",
        "steps": steps,
        "placeholder": _PICKER_TEXT[target][1],
        "waiting": _PICKER_TEXT[above[-1]][2] if above else "",
    }


# Which roles' scope a picker walks, by the form it serves: ?purpose=people for the household form (the
# grids the user may register households on), ?purpose=regions for moving a grid. Anything else: the
# user's whole scope.
PICKER_PURPOSES: dict[str, frozenset[Role]] = {
    "people": PEOPLE_EDITOR_ROLES,
    "regions": access.REGION_EDITOR_ROLES,
}


@login_required
@require_GET
def region_picker(request: HttpRequest) -> HttpResponseBase:
    """JSON for one step of a township → village → grid picker: the townships (no `parent`) or the
    children of `parent` in the user's scope for `purpose` (and the regions on the way to it).

    {"parent": id | null, "choices": [{"id", "name", "level", "kind", "kind_label", "code"}, ...]};
    a parent outside that reach answers 404.
    """
    raw = request.GET.get("parent", "")
    if raw and not raw.isdigit():
        raise Http404(_("未找到该区域，或者它不在您的管辖范围内。"))
    parent_id = int(raw) if raw else None
    roles = PICKER_PURPOSES.get(request.GET.get("purpose", ""))
    try:
        choices = region_selectors.region_picker_choices(user=request.user, parent_id=parent_id, roles=roles)
    except NotFound as missing:
        return JsonResponse({"code": missing.code, "detail": str(missing.message)}, status=404)
    return JsonResponse(
        {
            "parent": parent_id,
            "choices": [
                {
                    "id": region.pk,
                    "name": region.name,
                    "level": region.level,
                    "kind": region.kind,
                    "kind_label": str(region.get_kind_display()),
                    "code": region.code,
                }
                for region in choices
            ],
        }
    )

"""The assessment page (考核): filters, a table per level with drill-down (county → township → village →
grid leader), a heat map by grid, and the Excel export of the table. Thin: parse the filters, call the
selector (a constant number of queries), render.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import render
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from common.errors import DomainError
from common.excel import xlsx_response
from common.modules import MODULES_BY_SLUG
from common.views import pages
from governance.models import RegionLevel
from grids.selectors import assessment as selectors

LEVEL_TITLES: dict[str, Any] = {
    RegionLevel.TOWNSHIP: gettext_lazy("各乡镇"),
    RegionLevel.VILLAGE: gettext_lazy("各村（社区）"),
    RegionLevel.GRID: gettext_lazy("各网格（网格长）"),
}
HEAT_LABELS = {"count": gettext_lazy("按上报件数"), "overdue": gettext_lazy("按超期占比")}
GRAIN_LABELS = {"village": gettext_lazy("每村一格"), "grid": gettext_lazy("每网格一格")}


class AssessmentFilterForm(forms.Form):
    date_from = forms.DateField(
        label=gettext_lazy("开始日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": gettext_lazy("请输入有效的日期，如 2026-01-01。")},
    )
    date_to = forms.DateField(
        label=gettext_lazy("结束日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": gettext_lazy("请输入有效的日期，如 2026-03-31。")},
    )
    township = forms.IntegerField(required=False, min_value=1)
    village = forms.IntegerField(required=False, min_value=1)
    region = forms.IntegerField(required=False, min_value=1)
    category = forms.IntegerField(required=False, min_value=1)
    heat = forms.ChoiceField(required=False, choices=[(m, m) for m in selectors.HEAT_MODES])
    grain = forms.ChoiceField(required=False, choices=[(g, g) for g in selectors.HEAT_GRAINS])
    sort = forms.ChoiceField(required=False, choices=list(selectors.SORTS.items()))


def _querystring(params: QueryDict, **changes: str | None) -> str:
    kept = params.copy()
    for key, value in changes.items():
        kept.pop(key, None)
        if value is not None:
            kept[key] = value
    return kept.urlencode()


def _filters(request: HttpRequest) -> tuple[AssessmentFilterForm, selectors.AssessmentFilters]:
    """The bound filter form and the filters it means; invalid values fall back to the defaults (the
    form then carries the message next to its field)."""
    form = AssessmentFilterForm(request.GET)
    form.is_valid()
    data = form.cleaned_data
    default_from, default_to = selectors.default_range()
    region_id = data.get("region") or data.get("village") or data.get("township")
    category = selectors.assessment_category_get(category_id=data.get("category"))
    if data.get("category") and category is None:
        form.add_error(None, _("没有这个类别，已显示全部类别。"))
    return form, selectors.AssessmentFilters(
        date_from=data.get("date_from") or default_from,
        date_to=data.get("date_to") or default_to,
        region_id=region_id,
        category=category,
        heat_mode=data.get("heat") or "count",
        heat_grain=data.get("grain") or "",
        sort=data.get("sort") or "name",
    )


def _report(
    request: HttpRequest, paths: list[str]
) -> tuple[AssessmentFilterForm, selectors.AssessmentFilters, Any]:
    if not paths:
        raise PermissionDenied(_("您的角色不查看民情办理考核。"))
    form, filters = _filters(request)
    try:
        report = selectors.assessment_report(user=request.user, filters=filters, paths=paths)
    except DomainError as error:
        if error.status != 400:
            raise
        form.add_error(error.field if error.field in form.fields else None, str(error.message))
        default_from, default_to = selectors.default_range()
        filters = selectors.AssessmentFilters(
            date_from=default_from,
            date_to=default_to,
            region_id=filters.region_id,
            category=filters.category,
            heat_mode=filters.heat_mode,
            heat_grain=filters.heat_grain,
            sort=filters.sort,
        )
        report = selectors.assessment_report(user=request.user, filters=filters, paths=paths)
    return form, filters, report


# One heat-map cell: a village links to its own assessment, a grid is an image with its label.
_VILLAGE_CELL = (
    '\n        <li><a class="as-cell as-cell--{}" href="?{}region={}" title="{}" aria-label="{}"'
    ' data-region="{}">'
    '<span class="as-cell__n">{}</span><span class="as-cell__name">{}</span></a></li>\n        '
)
_GRID_CELL = (
    '\n        <li><span class="as-cell as-cell--{}" role="img" title="{}" aria-label="{}" data-region="{}">'
    '<span class="as-cell__n">{}</span><span class="as-cell__name">{}</span></span></li>\n        '
)


def _heat_cells(
    report: selectors.AssessmentReport, keep: str
) -> list[tuple[selectors.HeatBlock, SafeString]]:
    """The heat map's blocks, each with the markup of its cells built here once: a large township's map
    has ~530 cells, and drawing each through template tags (a {% blocktranslate %} label, the colour,
    the number) took most of the page's time. The label is the message the template translated per
    cell, translated once; every value is escaped (format_html)."""
    message = _("%(name)s：上报 %(n)s 件，超期 %(o)s 件（%(share)s）")
    overdue = report.heat_mode == "overdue"
    village = RegionLevel.VILLAGE.value
    link = f"{keep}&" if keep else ""
    blocks = []
    for block in report.heat:
        cells = []
        for cell in block.cells:
            tally = cell.tally
            says = message % {
                "name": cell.name,
                "n": tally.filed,
                "o": tally.overdue,
                "share": tally.overdue_share_display,
            }
            colour = "none" if cell.step is None else cell.step
            number = (tally.overdue if overdue else tally.filed) if tally.filed else ""
            if cell.level == village:
                cells.append(
                    format_html(
                        _VILLAGE_CELL,
                        colour,
                        link,
                        cell.region_id,
                        says,
                        says,
                        cell.region_id,
                        number,
                        cell.short,
                    )
                )
            else:
                cells.append(format_html(_GRID_CELL, colour, says, says, cell.region_id, number, cell.short))
        blocks.append((block, SafeString("".join(cells))))
    return blocks


def _day(value: dt.date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


@pages
@require_GET
def assessment(request: HttpRequest) -> HttpResponse:
    paths = selectors.assessment_scope_paths(user=request.user)
    form, filters, report = _report(request, paths)
    options = selectors.assessment_filter_options(user=request.user, paths=paths)
    trail = selectors.assessment_ancestors(user=request.user, region=report.root, paths=paths)
    # Drill-down links keep the dates, category, heat mode and sort, and name the region to open.
    # The heat map's grain is chosen afresh at every level.
    keep = _querystring(request.GET, region=None, township=None, village=None, page=None, grain=None)
    selected_township = (
        report.root.pk if report.root is not None and report.root.level == "township" else None
    )
    selected_village = None
    if report.root is not None and report.root.level in ("village", "grid"):
        village = report.root if report.root.level == "village" else report.root.parent
        selected_village = village.pk if village else None
        selected_township = village.parent_id if village else None
    towns = {t.pk: t for t in options.townships}
    village_groups: dict[int | None, list[Any]] = {}
    for village in options.villages:
        village_groups.setdefault(village.parent_id, []).append(village)
    tops = [c for c in options.categories if c.parent_id is None]
    children: dict[int, list[Any]] = {}
    for category in options.categories:
        if category.parent_id is not None:
            children.setdefault(category.parent_id, []).append(category)
    return render(
        request,
        "grids/assessment.html",
        {
            "form": form,
            "filters": filters,
            "report": report,
            "options": options,
            "trail": trail,
            "keep": keep,
            "level_title": LEVEL_TITLES.get(report.child_level or "", gettext_lazy("本网格")),
            "heat_links": [
                (
                    mode,
                    label,
                    _querystring(
                        request.GET,
                        heat=mode,
                        region=str(report.root.pk) if report.root is not None else None,
                        township=None,
                        village=None,
                    ),
                )
                for mode, label in HEAT_LABELS.items()
            ],
            "grain_links": [
                (
                    grain,
                    label,
                    _querystring(
                        request.GET,
                        grain=grain,
                        region=str(report.root.pk) if report.root is not None else None,
                        township=None,
                        village=None,
                    ),
                )
                for grain, label in GRAIN_LABELS.items()
            ]
            if report.root is None or report.root.level in ("county", "township")
            else [],
            "heat_steps": range(selectors.HEAT_STEPS + 1),
            "heat_blocks": _heat_cells(report, keep),
            "sorts": selectors.SORTS,
            "selected_township": selected_township,
            "selected_village": selected_village,
            "range_text": f"{_day(filters.date_from)} – {_day(filters.date_to)}",
            "grids_home_url": MODULES_BY_SLUG["grids"].url,
            "export_query": _querystring(request.GET),
            "village_groups": [
                (towns.get(town_id) if town_id is not None else None, villages)
                for town_id, villages in village_groups.items()
            ],
            "category_groups": [(top, children.get(top.pk, [])) for top in tops],
        },
    )


@pages
@require_GET
def assessment_export(request: HttpRequest) -> HttpResponseBase:
    """The table as shown (same filters, same level), with its total, as .xlsx."""
    _form, filters, report = _report(request, selectors.assessment_scope_paths(user=request.user))
    where = report.root.name if report.root is not None else _("我的管辖范围")
    grid_level = report.child_level == RegionLevel.GRID or report.child_level is None

    def line(name: str, leader: str, tally: selectors.Tally) -> list[Any]:
        cells: list[Any] = [name]
        if grid_level:
            cells.append(leader)
        return [
            *cells,
            tally.filed,
            tally.signed,
            tally.signed_on_time,
            tally.sign_rate_display,
            tally.resolved,
            tally.resolved_on_time,
            tally.resolve_rate_display,
            tally.followed_up,
            tally.satisfied,
            tally.satisfaction_rate_display,
            tally.rehandle_base,
            tally.rehandled,
            tally.rehandle_rate_display,
            tally.overdue,
        ]

    rows = [line(row.name, row.leader, row.tally) for row in report.rows]
    rows.append(line(_("合计"), "", report.total))
    headers = [_("区域")]
    if grid_level:
        headers.append(_("网格长"))
    headers += [
        _("上报件数"),
        _("已签收"),
        _("按时签收"),
        _("按时签收率"),
        _("已办结"),
        _("按时办结"),
        _("按时办结率"),
        _("已回访"),
        _("满意及基本满意"),
        _("满意率"),
        _("已办结（含重办）"),
        _("发回重办"),
        _("发回重办率"),
        _("超期"),
    ]
    return xlsx_response(
        filename=_("民情办理考核-%(where)s-%(start)s至%(end)s.xlsx")
        % {"where": where, "start": f"{filters.date_from:%Y%m%d}", "end": f"{filters.date_to:%Y%m%d}"},
        sheet_title=_("考核"),
        headers=headers,
        rows=rows,
        widths=[16, *([10] if grid_level else []), 10, 8, 10, 12, 8, 10, 12, 8, 14, 10, 16, 10, 12, 8],
    )

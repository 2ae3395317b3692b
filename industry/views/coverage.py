"""The coverage page (村村有产业、户户有项目、人人有事干): the reader's region (or one inside it) on a day,
with its townships and villages, filterable, sortable, paginated and exported to Excel. The rules are
those of industry.selectors.coverage, stated on the page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from common.errors import NotFound
from governance.models import Region, RegionLevel
from industry.selectors import chains as chain_selectors
from industry.selectors import coverage as selectors
from industry.views.chains import excel, page_of, pages, query_without

SORTS: dict[str, Callable[[selectors.CoverageRow], Any]] = {
    "region": lambda r: 0,
    "villages": lambda r: (r.villages.percent is None, r.villages.percent or 0),
    "households": lambda r: (r.households.percent is None, r.households.percent or 0),
    "residents": lambda r: (r.residents.percent is None, r.residents.percent or 0),
}


class CoverageForm(forms.Form):
    region = forms.TypedChoiceField(label=gettext_lazy("区域"), coerce=int, required=False, empty_value=None)
    on = forms.DateField(
        label=gettext_lazy("统计日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": gettext_lazy("请输入有效的日期。")},
    )
    township = forms.TypedChoiceField(
        label=gettext_lazy("乡镇"), coerce=int, required=False, empty_value=None
    )
    sort = forms.ChoiceField(
        label=gettext_lazy("村（社区）排序"),
        required=False,
        choices=[
            ("region", gettext_lazy("按区划")),
            ("villages", gettext_lazy("无产业的在前")),
            ("households", gettext_lazy("户项目覆盖低的在前")),
            ("residents", gettext_lazy("就业覆盖低的在前")),
        ],
    )

    def __init__(
        self, *args: Any, regions: list[Region], townships: list[tuple[int, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        region: forms.TypedChoiceField = self.fields["region"]  # type: ignore[assignment]
        region.choices = [(r.pk, r.name) for r in regions]
        township: forms.TypedChoiceField = self.fields["township"]  # type: ignore[assignment]
        township.choices = [("", _("全部")), *townships]
        if len(townships) <= 1:
            del self.fields["township"]


def _regions_offered(user: Any) -> list[Region]:
    """The regions the reader may pick: their outermost regions and the townships under them."""
    paths = chain_selectors.reader_paths(user)
    roots = list(Region.objects.filter(path__in=paths).order_by("path"))
    townships = [
        t
        for t in Region.objects.filter(level=RegionLevel.TOWNSHIP).order_by("path")
        if any(t.path.startswith(p) and t.path != p for p in paths)
    ]
    return roots + townships


def _percent(share: selectors.Share) -> str:
    return "—" if share.percent is None else f"{share.percent}%"


@require_GET
@pages
def coverage_page(request: HttpRequest) -> HttpResponseBase:
    regions = _regions_offered(request.user)
    if not regions:
        raise Http404(_("您没有产业模块的查看权限。"))
    probe = CoverageForm(request.GET or None, regions=regions, townships=[])
    probe.is_valid()
    raw = probe.cleaned_data if probe.is_bound else {}
    on = raw.get("on") or timezone.localdate()
    try:
        coverage = selectors.coverage_for(request.user, on=on, region_id=raw.get("region") or regions[0].pk)
    except NotFound:
        raise Http404 from None
    townships = [(t.region_id, t.name) for t in coverage.townships]
    form = CoverageForm(request.GET or None, regions=regions, townships=townships)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    villages = coverage.villages
    if data.get("township"):
        villages = [v for v in villages if v.parent_id == data["township"]]
    sort = data.get("sort") or "region"
    if sort != "region":
        villages = sorted(villages, key=SORTS[sort])
    if request.GET.get("export") == "xlsx":
        headers = [
            _("层级"),
            _("区域"),
            _("所属"),
            _("有产业的村"),
            _("村（社区）数"),
            _("村覆盖率"),
            _("有项目的户"),
            _("在册户"),
            _("户覆盖率"),
            _("有事干的劳动年龄人口"),
            _("劳动年龄人口"),
            _("就业覆盖率"),
        ]
        level_names = dict(RegionLevel.choices)
        rows = (
            [coverage.total, *coverage.townships, *villages]
            if coverage.region.level != RegionLevel.VILLAGE
            else [coverage.total]
        )
        return excel(
            request,
            title=_("%(region)s产业覆盖（%(on)s）") % {"region": coverage.region.name, "on": on.isoformat()},
            headers=headers,
            rows=(
                [
                    str(level_names.get(r.level, r.level)),
                    r.name,
                    r.parent_name,
                    r.villages.numerator,
                    r.villages.denominator,
                    r.villages.percent,
                    r.households.numerator,
                    r.households.denominator,
                    r.households.percent,
                    r.residents.numerator,
                    r.residents.denominator,
                    r.residents.percent,
                ]
                for r in rows
            ),
            object_type="industry.coverage",
        )
    page = page_of(request, villages)
    return render(
        request,
        "industry/coverage/page.html",
        {
            "form": form,
            "coverage": coverage,
            "on": on,
            "cards": [
                (
                    _("村村有产业"),
                    _("有产业的村（社区）"),
                    coverage.total.villages,
                    _percent(coverage.total.villages),
                ),
                (
                    _("户户有项目"),
                    _("有项目的在册户"),
                    coverage.total.households,
                    _percent(coverage.total.households),
                ),
                (
                    _("人人有事干"),
                    _("有事干的劳动年龄人口"),
                    coverage.total.residents,
                    _percent(coverage.total.residents),
                ),
            ],
            "townships": [
                (t, _percent(t.villages), _percent(t.households), _percent(t.residents))
                for t in coverage.townships
            ],
            "page": page,
            "villages": [
                (v, _percent(v.villages), _percent(v.households), _percent(v.residents))
                for v in page.object_list
            ],
            "query": query_without(request, "page", "export"),
            "is_village": coverage.region.level == RegionLevel.VILLAGE,
            "age_min": chain_selectors.WORKING_AGE_MIN,
            "age_max": chain_selectors.WORKING_AGE_MAX,
        },
    )

"""Pages of the village collective economy (村级集体经济) under /industry/economy/: the villages of a year
(total, by source, last year, year-on-year change, weak/strong flag; filters, sort, pages, Excel), the
township summary (villages, weak, total, average, median), a village over the years with a bar chart,
the form that sets a village's year (one amount per source, in 元), and the county's thresholds.

Thin: parse, call one selector or service, render. Out of scope answers 404. The small helpers at the top
(sortable headers, money cells, the page decorator) are shared by the joint and places pages.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.http import FileResponse, Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from common.errors import DomainError
from common.excel import xlsx_response
from common.views import pages as common_pages
from industry import access
from industry.models import IncomeSource
from industry.selectors import economy as selectors
from industry.selectors.places import designations_for_region
from industry.services import economy as services

PAGE_SIZE = 50
REQUIRED = gettext_lazy("请填写此项。")


# --- helpers shared by the economy, joint and places pages -----------------------------------------------


def pages(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """`common.views.pages` (log-in first, then 404/403 domain errors become the not-found/forbidden
    page) around a check that the user holds a reading role in the industry module: without one, the
    not-found page (nothing leaks)."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not access.can_read_industry(request.user):
            raise Http404(_("未找到该页面，或者您没有权限。"))
        return view(request, *args, **kwargs)

    return common_pages(guarded)


def new_key() -> str:
    return uuid.uuid4().hex


def form_error(form: forms.Form, error: DomainError) -> None:
    """Show `error` next to its field (above the form when the field is not on it)."""
    form.add_error(error.field if error.field in form.fields else None, str(error.message))


def int_param(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def query_without(request: HttpRequest, *names: str) -> str:
    return urlencode([(k, v) for k, v in request.GET.items() if k not in names and v])


def wan(fen: int | None) -> str:
    """Fen as 万元 with two decimals ("9.00"), "—" for None."""
    if fen is None:
        return "—"
    return f"{(Decimal(fen) / 1_000_000).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,}"


def yuan(fen: int | None) -> str:
    """Fen as ¥1,234.50; "—" for None."""
    if fen is None:
        return "—"
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}¥{fen // 100:,}.{fen % 100:02d}"


def yuan_decimal(fen: int | None) -> Decimal | None:
    """Fen as a Decimal of yuan (what an Excel cell holds)."""
    return None if fen is None else Decimal(fen) / 100


def pct(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:+.1f}％"


def signed_wan(fen: int | None) -> str:
    if fen is None:
        return "—"
    return ("+" if fen > 0 else "") + wan(fen)


@dataclass(frozen=True)
class Column:
    key: str  # the sort key ("" when the column does not sort)
    label: str
    number: bool = False


@dataclass(frozen=True)
class Header:
    label: str
    url: str
    arrow: str
    number: bool
    aria_sort: str


@dataclass(frozen=True)
class Cell:
    text: str
    url: str = ""
    number: bool = False
    css: str = ""


def headers_for(request: HttpRequest, columns: Sequence[Column], current: str) -> list[Header]:
    """Column headers whose links sort by that column (a second click reverses it), keeping the
    filters and going back to the first page."""
    base = query_without(request, "sort", "page", "export")
    result = []
    for column in columns:
        if not column.key:
            result.append(Header(column.label, "", "", column.number, ""))
            continue
        active = current.lstrip("-") == column.key
        descending = current.startswith("-")
        target = (column.key if descending else f"-{column.key}") if active else column.key
        # Money and counts read best largest first on the first click.
        if not active and column.number:
            target = f"-{column.key}"
        url = "?" + (f"{base}&" if base else "") + urlencode({"sort": target})
        arrow = ("▼" if descending else "▲") if active else ""
        aria = ("descending" if descending else "ascending") if active else ""
        result.append(Header(column.label, url, arrow, column.number, aria))
    return result


def paginate(request: HttpRequest, rows: Any) -> Page:
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


def excel(
    *, title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]], widths: Sequence[int] | None = None
) -> FileResponse:
    return xlsx_response(
        filename=f"{title}.xlsx", sheet_title=title, headers=list(headers), rows=rows, widths=widths
    )


# --- the villages of a year ---------------------------------------------------------------------------


SOURCE_SHORT = {
    IncomeSource.LAND_RENT: gettext_lazy("土地流转"),
    IncomeSource.ASSET_LEASE: gettext_lazy("资产租赁"),
    IncomeSource.SERVICES: gettext_lazy("服务"),
    IncomeSource.SHARES: gettext_lazy("入股分红"),
    IncomeSource.TOURISM: gettext_lazy("乡村旅游"),
    IncomeSource.OPERATIONS: gettext_lazy("自主经营"),
    IncomeSource.SUBSIDY: gettext_lazy("上级补助"),
    IncomeSource.OTHER: gettext_lazy("其他"),
}
STATUS_CSS = {
    selectors.STATUS_UNREPORTED: "ie-flag ie-flag--none",
    selectors.STATUS_WEAK: "ie-flag ie-flag--weak",
    selectors.STATUS_ORDINARY: "ie-flag",
    selectors.STATUS_STRONG: "ie-flag ie-flag--strong",
}


class FilterForm(forms.Form):
    year = forms.TypedChoiceField(label=gettext_lazy("年度"), coerce=int, required=False)
    township = forms.TypedChoiceField(
        label=gettext_lazy("乡镇"), coerce=int, required=False, empty_value=None
    )
    source = forms.ChoiceField(
        label=gettext_lazy("收入来源"),
        required=False,
        choices=[("", gettext_lazy("全部来源")), *IncomeSource.choices],
    )
    q = forms.CharField(label=gettext_lazy("村名"), required=False, max_length=30)
    weak = forms.BooleanField(label=gettext_lazy("只看薄弱村"), required=False)

    def __init__(self, *args: Any, years: list[int], townships: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        year_field: forms.TypedChoiceField = self.fields["year"]  # type: ignore[assignment]
        year_field.choices = [(y, _("%(year)s 年") % {"year": y}) for y in years]
        township_field: forms.TypedChoiceField = self.fields["township"]  # type: ignore[assignment]
        township_field.choices = [("", _("全部乡镇")), *[(t.pk, t.name) for t in townships]]
        if len(townships) < 2:
            del self.fields["township"]

    def value(self, name: str, default: Any = None) -> Any:
        if not self.is_bound or not self.is_valid():
            return default
        found = self.cleaned_data.get(name)
        return default if found in (None, "") else found


def _year_from(request: HttpRequest, default: int, years: list[int]) -> int:
    year = int_param(request.GET.get("year"))
    return year if year in years else default


def _threshold_text(threshold: selectors.Threshold) -> str:
    weak = wan(threshold.weak_below_fen)
    if threshold.strong_from_fen is not None:
        text = _("低于 %(weak)s 万元为薄弱村，达到 %(strong)s 万元为强村") % {
            "weak": weak,
            "strong": wan(threshold.strong_from_fen),
        }
    else:
        text = _("低于 %(weak)s 万元为薄弱村，未设强村标准") % {"weak": weak}
    if threshold.is_default:
        return text + _("（县里尚未设定，按默认标准）")
    if threshold.is_inherited:
        return text + _("（沿用 %(year)s 年标准）") % {"year": threshold.from_year}
    return text


def _economy_columns() -> list[Column]:
    return [
        Column("village", _("村（社区）")),
        Column("", _("乡镇")),
        Column("total", _("合计"), number=True),
        *[Column(f"src_{s}", str(SOURCE_SHORT[IncomeSource(s)]), number=True) for s in IncomeSource.values],
        Column("last_total", _("上年"), number=True),
        Column("change", _("增减"), number=True),
        Column("change_pct", _("增幅"), number=True),
        Column("status", _("类别")),
    ]


def _source_cell(fen: int | None) -> Cell:
    # On a phone the stacked row hides the sources a village has no row for.
    return Cell(wan(fen), number=True, css="" if fen is not None else "ie-empty")


@require_GET
@pages
def economy_list(request: HttpRequest) -> HttpResponseBase:
    """The villages in scope for a year; ?export=xlsx for Excel (amounts in 元)."""
    user = request.user
    years = selectors.years_for_filter(user)
    year = _year_from(request, selectors.latest_year(user), years)
    townships = selectors.townships_for_filter(user)
    form = FilterForm(request.GET or None, years=years, townships=townships, initial={"year": year})
    threshold = selectors.threshold_for(year)
    sort = request.GET.get("sort") or "village"
    rows: Any = selectors.income_table(
        user,
        year=year,
        township_id=form.value("township"),
        weak_only=bool(form.value("weak", False)),
        source=form.value("source", ""),
        q=form.value("q", ""),
        sort=sort,
        threshold=threshold,
    )
    sources = IncomeSource.values
    if request.GET.get("export") == "xlsx":
        title = _("%(year)s年村级集体经济收入") % {"year": year}
        return excel(
            title=title,
            headers=[
                _("乡镇"),
                _("村（社区）"),
                _("合计（元）"),
                *[f"{IncomeSource(s).label}（元）" for s in sources],
                _("上年合计（元）"),
                _("增减（元）"),
                _("增幅（％）"),
                _("类别"),
            ],
            rows=(
                [
                    v.parent.name if v.parent else "",
                    v.name,
                    yuan_decimal(v.total) if v.reported else None,
                    *[yuan_decimal(getattr(v, f"src_{s}")) for s in sources],
                    yuan_decimal(v.last_total),
                    yuan_decimal(v.change),
                    round(v.change_pct, 2) if v.change_pct is not None else None,
                    str(selectors.STATUS_LABELS[selectors.status_of_rank(v.status_rank)]),
                ]
                for v in rows.iterator(chunk_size=500)
            ),
            widths=[10, 14, 14, *[12] * len(sources), 14, 14, 10, 8],
        )
    page = paginate(request, rows)
    table = []
    for v in page.object_list:
        status = selectors.status_of_rank(v.status_rank)
        table.append(
            [
                Cell(v.name, reverse("industry:economy-village", args=[v.pk])),
                Cell(v.parent.name if v.parent else ""),
                Cell(wan(v.total) if v.reported else "—", number=True, css="ie-strong"),
                *[_source_cell(getattr(v, f"src_{s}")) for s in sources],
                Cell(wan(v.last_total), number=True),
                Cell(
                    signed_wan(v.change),
                    number=True,
                    css="ie-up" if (v.change or 0) > 0 else "ie-down" if (v.change or 0) < 0 else "",
                ),
                Cell(pct(v.change_pct), number=True),
                Cell(str(selectors.STATUS_LABELS[status]), css=STATUS_CSS[status]),
            ]
        )
    summary = selectors.township_summary(user, year=year, threshold=threshold)
    columns = _economy_columns()
    return render(
        request,
        "industry/economy/list.html",
        {
            "form": form,
            "year": year,
            "threshold_text": _threshold_text(threshold),
            "overall": summary.overall,
            "headers": headers_for(request, columns, sort),
            "table": [list(zip(columns, row, strict=True)) for row in table],
            "page": page,
            "query": query_without(request, "page", "export"),
            "can_set_thresholds": access.can_manage_chains(user),
            "here": "villages",
        },
    )


@require_GET
@pages
def economy_townships(request: HttpRequest) -> HttpResponseBase:
    """Per township in scope for a year: villages, reported, weak, strong, total, average, median."""
    user = request.user
    years = selectors.years_for_filter(user)
    year = _year_from(request, selectors.latest_year(user), years)
    threshold = selectors.threshold_for(year)
    summary = selectors.township_summary(user, year=year, threshold=threshold)
    rows = [*summary.townships, *([summary.overall] if summary.overall else [])]
    if request.GET.get("export") == "xlsx":
        return excel(
            title=_("%(year)s年集体经济乡镇汇总") % {"year": year},
            headers=[
                _("乡镇"),
                _("村（社区）数"),
                _("已填报"),
                _("薄弱村"),
                _("强村"),
                _("合计（元）"),
                _("平均（元）"),
                _("中位数（元）"),
            ],
            rows=(
                [
                    r.region.name if r.region else _("合计"),
                    r.villages,
                    r.reported,
                    r.weak,
                    r.strong,
                    yuan_decimal(r.total_fen),
                    yuan_decimal(r.average_fen),
                    yuan_decimal(r.median_fen),
                ]
                for r in rows
            ),
            widths=[12, 12, 10, 10, 10, 16, 16, 16],
        )
    return render(
        request,
        "industry/economy/townships.html",
        {
            "year": year,
            "years": years,
            "summary": summary,
            "threshold_text": _threshold_text(threshold),
            "rows": [
                {
                    "row": r,
                    "total": wan(r.total_fen) if r.reported else "—",
                    "average": wan(r.average_fen),
                    "median": wan(r.median_fen),
                    "url": reverse("industry:economy") + f"?year={year}&township={r.region.pk}"
                    if r.region
                    else "",
                }
                for r in summary.townships
            ],
            "overall": summary.overall,
            "overall_cells": {
                "total": wan(summary.overall.total_fen),
                "average": wan(summary.overall.average_fen),
                "median": wan(summary.overall.median_fen),
            }
            if summary.overall
            else None,
            "here": "townships",
            "can_set_thresholds": access.can_manage_chains(user),
        },
    )


@require_GET
@pages
def economy_village(request: HttpRequest, pk: int) -> HttpResponseBase:
    """One village over the years (at least three): totals, sources, change, flag, bars."""
    village = selectors.village_get_visible(request.user, pk)
    years = selectors.village_years(village)
    # Headroom above the longest bar so the weak line stays visible when it is the largest figure.
    top = max([y.total_fen or 0 for y in years] + [y.threshold.weak_below_fen for y in years] + [1]) * 1.15
    bars = [
        {
            "year": y.year,
            "total": wan(y.total_fen),
            "width": round((y.total_fen or 0) * 100 / top, 1),
            "weak_at": round(y.threshold.weak_below_fen * 100 / top, 1),
            "status": y.status,
            "css": STATUS_CSS[y.status],
            "label": selectors.STATUS_LABELS[y.status],
        }
        for y in sorted(years, key=lambda y: y.year)
    ]
    rows = [
        {
            "year": y,
            "total": yuan(y.total_fen),
            "sources": [
                (IncomeSource(s).label, yuan(y.amounts_fen[s]) if s in y.amounts_fen else "—")
                for s in IncomeSource.values
            ],
            "last": yuan(y.last_total_fen),
            "change": ("+" if (y.change_fen or 0) > 0 else "") + yuan(y.change_fen)
            if y.change_fen is not None
            else "—",
            "change_pct": pct(y.change_pct),
            "status_label": selectors.STATUS_LABELS[y.status],
            "css": STATUS_CSS[y.status],
            "threshold": _threshold_text(y.threshold),
        }
        for y in years
    ]
    # Sources down, years across: three or more years fit a phone and a desktop alike.
    matrix = [
        {
            "label": IncomeSource(s).label,
            "cells": [yuan(y.amounts_fen[s]) if s in y.amounts_fen else "—" for y in years],
        }
        for s in IncomeSource.values
    ]
    return render(
        request,
        "industry/economy/village.html",
        {
            "village": village,
            "rows": rows,
            "matrix": matrix,
            "bars": bars,
            "sources": [(s, IncomeSource(s).label) for s in IncomeSource.values],
            "can_record": access.can_record_for_region(request.user, village.path),
            "designations": designations_for_region(village),
            "default_year": years[0].year if years else None,
        },
    )


class IncomeForm(forms.Form):
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    # The year is chosen above the form (a GET that loads what the year holds), so the form carries it.
    year = forms.TypedChoiceField(
        label=gettext_lazy("年度"),
        coerce=int,
        widget=forms.HiddenInput,
        error_messages={"required": REQUIRED},
    )

    def __init__(self, *args: Any, years: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        year_field: forms.TypedChoiceField = self.fields["year"]  # type: ignore[assignment]
        year_field.choices = [(y, str(y)) for y in years]
        for source, label in IncomeSource.choices:
            self.fields[f"amount_{source}"] = forms.CharField(
                label=label,
                required=False,
                max_length=20,
                widget=forms.TextInput(
                    attrs={
                        "inputmode": "decimal",
                        "placeholder": _("元，例如 50000.00"),
                        "autocomplete": "off",
                    }
                ),
            )

    def amount_fields(self) -> list[forms.BoundField]:
        return [self[f"amount_{s}"] for s in IncomeSource.values]


def _fen_input(fen: int | None) -> str:
    return "" if fen is None else f"{fen // 100}.{fen % 100:02d}"


@pages
@require_http_methods(["GET", "POST"])
def economy_village_edit(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The form for one village's year: one amount per source in 元 (blank: no income from it)."""
    village = selectors.village_get_visible(request.user, pk)
    if not access.can_record_for_region(request.user, village.path):
        raise Http404(_("未找到该页面，或者您没有权限。"))
    today = selectors.today()
    years = list(range(today.year, services.FIRST_YEAR - 1, -1))[:10]
    year = _year_from(request, today.year - 1, years)
    if request.method == "POST":
        form = IncomeForm(request.POST, years=years)
        year = int_param(request.POST.get("year")) or year
        if form.is_valid():
            try:
                result = services.collective_income_set(
                    actor=request.user,
                    idempotency_key=form.cleaned_data["idempotency_key"],
                    village=village,
                    year=form.cleaned_data["year"],
                    amounts_yuan={s: form.cleaned_data[f"amount_{s}"] for s in IncomeSource.values},
                )
            except DomainError as error:
                if error.status == 404:
                    raise
                form_error(form, error)
            else:
                messages.success(
                    request,
                    _("已保存%(village)s %(year)s 年集体经济收入，合计 %(total)s。")
                    % {"village": village.name, "year": result.year, "total": yuan(result.total_fen)},
                )
                return redirect("industry:economy-village", pk=village.pk)
    else:
        current = selectors.village_year_amounts(village, year)
        form = IncomeForm(
            years=years,
            initial={
                "idempotency_key": new_key(),
                "year": year,
                **{f"amount_{s}": _fen_input(current.get(s)) for s in IncomeSource.values},
            },
        )
    return render(
        request,
        "industry/economy/edit.html",
        {"village": village, "form": form, "year": year, "years": years},
    )


class ThresholdForm(forms.Form):
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    year = forms.IntegerField(
        label=gettext_lazy("年度"),
        min_value=services.FIRST_YEAR,
        max_value=2100,
        error_messages={"required": REQUIRED, "invalid": gettext_lazy("请填写年份，例如 2025。")},
    )
    weak_below_yuan = forms.CharField(
        label=gettext_lazy("薄弱村标准（元）"),
        max_length=20,
        help_text=gettext_lazy("收入低于此数为薄弱村"),
        error_messages={"required": REQUIRED},
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    strong_from_yuan = forms.CharField(
        label=gettext_lazy("强村标准（元）"),
        max_length=20,
        required=False,
        help_text=gettext_lazy("达到此数为强村；留空表示不设"),
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )


@pages
@require_http_methods(["GET", "POST"])
def economy_thresholds(request: HttpRequest) -> HttpResponseBase:
    """The county's thresholds per year and the form that sets one (county admin)."""
    if not access.can_manage_chains(request.user):
        raise Http404(_("未找到该页面，或者您没有权限。"))
    today = selectors.today()
    if request.method == "POST":
        form = ThresholdForm(request.POST)
        if form.is_valid():
            try:
                threshold = services.threshold_set(actor=request.user, **form.cleaned_data)
            except DomainError as error:
                if error.status == 404:
                    raise
                form_error(form, error)
            else:
                messages.success(request, _("已保存 %(year)s 年标准。") % {"year": threshold.year})
                return redirect("industry:economy-thresholds")
    else:
        form = ThresholdForm(initial={"idempotency_key": new_key(), "year": today.year - 1})
    rows = [
        {"row": t, "weak": yuan(t.weak_below_fen), "strong": yuan(t.strong_from_fen)}
        for t in selectors.thresholds_list()
    ]
    return render(
        request,
        "industry/economy/thresholds.html",
        {
            "form": form,
            "rows": rows,
            "default_weak": yuan(selectors.DEFAULT_WEAK_BELOW_FEN),
            "here": "thresholds",
            "can_set_thresholds": True,
        },
    )

"""Pages of the tourism figures (旅游统计), under /industry/tourism/:

    industry:tourism              tourism/?year=&kind=&town=&sort=&page=   the year's subjects with their
                                  totals and the twelve months together (chart); ?export=xlsx for Excel
    industry:tourism-new          tourism/new/                              pick a village, town or brand
                                  and a year to fill in
    industry:tourism-region       tourism/region/<pk>/?year=                one village's or town's year
    industry:tourism-brand        tourism/brand/<pk>/?year=                 one joint community brand's year
    industry:tourism-region-edit  tourism/region/<pk>/edit/?year=           the month grid (12 rows)
    industry:tourism-brand-edit   tourism/brand/<pk>/edit/?year=

Thin: selectors read, industry.services.tourism writes. The grid carries a hidden uuid4 key (a double
submit saves once); every bad cell shows its message beside it and what was typed stays.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from common.errors import DomainError, NotFound
from common.excel import xlsx_response
from governance.models import Region
from industry import access
from industry.selectors import tourism as selectors
from industry.services import tourism as services
from industry.services.tourism import TourismSubject
from industry.templatetags.industry_tags import count_cn, url_or_blank, yuan, yuan_big
from industry.views.dashboard import fen_yuan, pages

PAGE_SIZE = 50
MONTH_LABELS = [f"{m}月" for m in range(1, 13)]


def _year(request: HttpRequest, years: list[int]) -> int:
    try:
        year = int(request.GET.get("year") or 0)
    except ValueError:
        year = 0
    this_year = timezone.localdate().year
    return year if services.FIRST_YEAR <= year <= this_year else (years[0] if years else this_year)


def _int(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _subject_url(kind: str, pk: int, *, edit: bool = False, year: int | None = None) -> str:
    name = ("tourism-region" if kind == "region" else "tourism-brand") + ("-edit" if edit else "")
    url = reverse(f"industry:{name}", args=[pk])
    return f"{url}?year={year}" if year else url


def _months_chart(
    labels: list[str], visits: list[int | None], income_fen: list[int | None]
) -> dict[str, Any]:
    """Bars of visits and a line of income; a month without figures is a gap (None), not a zero."""
    return {
        "type": "bar-line",
        "labels": labels,
        "unit": _("人次"),
        "series": [
            {"name": _("游客接待量（人次）"), "values": visits, "unit": _("人次")},
            {
                "name": _("旅游综合收入（元）"),
                "values": [None if f is None else float(fen_yuan(f)) for f in income_fen],
                "unit": _("元"),
            },
        ],
    }


def _can_record_any(user: Any) -> bool:
    return bool(selectors.tourism_regions_recordable(user) or selectors.tourism_communities_recordable(user))


@pages
@require_GET
def tourism_list(request: HttpRequest) -> HttpResponseBase:
    if not access.can_read_industry(request.user):
        raise Http404(_("您没有查看旅游统计的权限。"))
    years = selectors.tourism_years(request.user)
    year = _year(request, years)
    kind = request.GET.get("kind", "")
    kind = kind if kind in selectors.SUBJECT_KINDS else ""
    sort = request.GET.get("sort", "visits")
    sort = sort if sort in selectors.SORTS else "visits"
    towns = selectors.townships_visible(request.user)
    town = _int(request.GET.get("town"))
    town = town if town in {t.pk for t in towns} else None
    figures = selectors.tourism_year(request.user, year=year, kind=kind, township_id=town, sort=sort)
    if request.GET.get("export") == "xlsx":
        rows: list[list[Any]] = [
            [r.name, r.kind_label, r.town, r.months, r.visits, fen_yuan(r.income_fen)] for r in figures.rows
        ]
        rows.append([_("合计"), "", "", "", figures.visits, fen_yuan(figures.income_fen)])
        return xlsx_response(
            filename=_("%(year)s年旅游统计.xlsx") % {"year": year},
            sheet_title=_("%(year)s年旅游统计") % {"year": year},
            headers=[
                _("村镇 / 联建品牌"),
                _("类别"),
                _("所在乡镇"),
                _("已填报月数"),
                _("游客接待量（人次）"),
                _("旅游综合收入（元）"),
            ],
            rows=rows,
        )
    page = Paginator(figures.rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = {"year": year, "kind": kind, "town": town or "", "sort": sort}
    return render(
        request,
        "industry/tourism/list.html",
        {
            "figures": figures,
            "page": page,
            "rows": [
                {"row": r, "url": _subject_url(r.kind, r.pk, year=year), "income": yuan(r.income_fen)}
                for r in page.object_list
            ],
            "year": year,
            "years": years,
            "kind": kind,
            "kinds": [("", _("全部")), ("region", _("村镇")), ("community", _("联建品牌"))],
            "sort": sort,
            "sorts": [("visits", _("按接待量")), ("income", _("按收入")), ("name", _("按乡镇和名称"))],
            "town": town,
            "towns": towns,
            "query": urlencode(query),
            "total_visits": count_cn(figures.visits),
            "total_income": yuan_big(figures.income_fen),
            "chart": _months_chart(
                MONTH_LABELS,
                [m.visits if m.filled else None for m in figures.months],
                [m.income_fen if m.filled else None for m in figures.months],
            ),
            "can_record": _can_record_any(request.user),
            "joint_url": url_or_blank("industry:joint"),
        },
    )


@pages
@require_http_methods(["GET", "POST"])
def tourism_new(request: HttpRequest) -> HttpResponseBase:
    regions = selectors.tourism_regions_recordable(request.user)
    communities = selectors.tourism_communities_recordable(request.user)
    if not regions and not communities:
        raise Http404(_("您没有可以填报旅游统计的村镇或联建品牌。"))
    years = list(range(timezone.localdate().year, timezone.localdate().year - 6, -1))
    error = ""
    subject = request.POST.get("subject", "") if request.method == "POST" else request.GET.get("subject", "")
    year = _int(request.POST.get("year") if request.method == "POST" else None) or years[0]
    if request.method == "POST":
        kind, _sep, pk = subject.partition(":")
        allowed = {f"region:{r.pk}" for r in regions} | {f"community:{c.pk}" for c in communities}
        if subject not in allowed:
            error = _("请选择一个村镇或联建品牌。")
        elif year not in years:
            error = _("请选择年度。")
        else:
            return redirect(_subject_url(kind, int(pk), edit=True, year=year))
    groups: dict[str, list[tuple[str, str]]] = {}
    for region in regions:
        town = region.name if region.level == "township" else (region.parent.name if region.parent else "")
        label = region.name if region.level == "township" else f"— {region.name}"
        groups.setdefault(town, []).append((f"region:{region.pk}", label))
    return render(
        request,
        "industry/tourism/new.html",
        {
            "groups": groups,
            "communities": [(f"community:{c.pk}", c.brand or c.name) for c in communities],
            "subject": subject,
            "year": year,
            "years": years,
            "error": error,
        },
        status=400 if error else 200,
    )


def _subject_page(request: HttpRequest, subject: TourismSubject) -> HttpResponseBase:
    years = selectors.tourism_years(request.user)
    year = _year(request, years)
    data = selectors.tourism_subject_year(subject, year=year)
    title = _("%(name)s %(year)s年旅游统计") % {"name": subject.name, "year": year}
    if request.GET.get("export") == "xlsx":
        rows: list[list[Any]] = [
            [
                f"{m.month:%Y-%m}",
                m.visits if m.visits is not None else "",
                fen_yuan(m.income_fen) if m.income_fen is not None else "",
                m.note,
            ]
            for m in data.months
        ]
        rows.append([_("合计"), data.visits, fen_yuan(data.income_fen), ""])
        return xlsx_response(
            filename=f"{title}.xlsx",
            sheet_title=str(year),
            headers=[_("月份"), _("游客接待量（人次）"), _("旅游综合收入（元）"), _("说明")],
            rows=rows,
        )
    return render(
        request,
        "industry/tourism/subject.html",
        {
            "subject": subject,
            "data": data,
            "year": year,
            "years": years,
            "title": title,
            "months": [
                {
                    "m": m,
                    "visits": count_cn(m.visits) if m.visits is not None else "—",
                    "income": yuan(m.income_fen),
                }
                for m in data.months
            ],
            "total_visits": count_cn(data.visits),
            "total_income": yuan_big(data.income_fen),
            "total_income_exact": yuan(data.income_fen),
            "chart": _months_chart(
                MONTH_LABELS, [m.visits for m in data.months], [m.income_fen for m in data.months]
            ),
            "can_record": services.can_record_tourism(request.user, subject),
            "edit_url": _subject_url(subject.kind, subject.pk, edit=True, year=year),
            "list_url": f"{reverse('industry:tourism')}?year={year}",
            "community_url": url_or_blank("industry:joint-detail", subject.pk) if subject.community else "",
        },
    )


@pages
@require_GET
def tourism_region(request: HttpRequest, pk: int) -> HttpResponseBase:
    return _subject_page(request, selectors.tourism_region_get_visible(request.user, pk))


@pages
@require_GET
def tourism_brand(request: HttpRequest, pk: int) -> HttpResponseBase:
    return _subject_page(request, selectors.tourism_community_get_visible(request.user, pk))


def _edit_page(request: HttpRequest, subject: TourismSubject) -> HttpResponseBase:
    if not services.can_record_tourism(request.user, subject):
        raise NotFound(services.SUBJECT_NOT_FOUND)
    this_year = timezone.localdate().year
    years = list(range(this_year, this_year - 6, -1))
    source = request.POST if request.method == "POST" else request.GET
    try:
        year = services.year_clean(source.get("year") or this_year)
    except DomainError:
        year = this_year
    errors: dict[str, str] = {}
    message = ""
    typed: dict[str, str] = {}
    if request.method == "POST":
        rows = {}
        for number in range(1, 13):
            typed[f"visits_{number}"] = request.POST.get(f"visits_{number}", "").strip()
            typed[f"income_{number}"] = request.POST.get(f"income_{number}", "").strip()
            rows[number] = (typed[f"visits_{number}"], typed[f"income_{number}"])
        try:
            services.tourism_year_save(
                actor=request.user,
                idempotency_key=request.POST.get("idempotency_key", ""),
                subject=subject,
                year=year,
                rows=rows,
            )
        except DomainError as error:
            if error.status == 404:
                raise
            errors = dict(error.extra.get("errors") or {})
            message = str(error.message)
        else:
            messages.success(request, _("%(year)s年的旅游统计已保存。") % {"year": year})
            return redirect(_subject_url(subject.kind, subject.pk, year=year))
    data = selectors.tourism_subject_year(subject, year=year)
    grid = []
    for row in data.months:
        number = row.month.month
        grid.append(
            {
                "number": number,
                "label": _("%(m)s月") % {"m": number},
                "is_future": row.is_future,
                "visits": typed.get(f"visits_{number}", "" if row.visits is None else str(row.visits)),
                "income": typed.get(
                    f"income_{number}", "" if row.income_fen is None else str(fen_yuan(row.income_fen))
                ),
                "visits_error": errors.get(f"visits_{number}", ""),
                "income_error": errors.get(f"income_{number}", ""),
            }
        )
    return render(
        request,
        "industry/tourism/edit.html",
        {
            "subject": subject,
            "year": year,
            "years": years,
            "grid": grid,
            "message": message,
            "idempotency_key": request.POST.get("idempotency_key") if errors else uuid.uuid4().hex,
            "view_url": _subject_url(subject.kind, subject.pk, year=year),
        },
        status=400 if message else 200,
    )


@pages
@require_http_methods(["GET", "POST"])
def tourism_region_edit(request: HttpRequest, pk: int) -> HttpResponseBase:
    region = Region.objects.filter(pk=pk).first()
    if region is None:
        raise NotFound(services.SUBJECT_NOT_FOUND)
    try:
        subject = services.tourism_subject(region=region)
    except DomainError:
        raise NotFound(services.SUBJECT_NOT_FOUND) from None
    return _edit_page(request, subject)


@pages
@require_http_methods(["GET", "POST"])
def tourism_brand_edit(request: HttpRequest, pk: int) -> HttpResponseBase:
    community = (
        access.joint_communities_visible(request.user).select_related("lead_region").filter(pk=pk).first()
    )
    if community is None:
        raise NotFound(services.SUBJECT_NOT_FOUND)
    return _edit_page(request, services.tourism_subject(community=community))

"""Pages of monthly settlement, subsidy claims, budgets and reports. Thin: services write, selectors read.

- canteens:settlements     /canteens/<site>/settlements/      the canteen's months; compute a month
- canteens:settlement      /canteens/settlements/<pk>/        figures, lines; recompute, submit, approve,
                                                             return
- canteens:claim_print     /canteens/settlements/<pk>/claim/  补贴申报表 (print stylesheet); ?format=xlsx
- canteens:claims          /canteens/claims/                  the approvers' list (township: every canteen)
- canteens:budgets         /canteens/<site>/budgets/          budgets per year and funder (township admin)
- canteens:reports         /canteens/reports/                 per canteen under a township/the county
- canteens:site_report     /canteens/<site>/report/           one canteen: funders, months, balance
Every POST carries a hidden uuid4 idempotency key; a refusal is shown next to the form, nothing written.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.contrib import messages
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from canteens import access
from canteens.models import ClaimStatus, Funder, Settlement
from canteens.selectors import reports as report_selectors
from canteens.selectors import settlements as selectors
from canteens.selectors.settlements import fen_to_yuan
from canteens.services import budgets as budget_services
from canteens.services import settlements as services
from canteens.views._common import pages
from common.errors import DomainError, NotFound
from common.excel import xlsx_response
from governance.models import Region, RegionLevel


def _key() -> str:
    return uuid.uuid4().hex


def _year(request: HttpRequest) -> int:
    current = timezone.localdate().year
    raw = request.GET.get("year", "")
    return int(raw) if raw.isdigit() and 2000 <= int(raw) <= current else current


def _years() -> list[int]:
    current = timezone.localdate().year
    return list(range(current, current - 5, -1))


@pages
@require_http_methods(["GET", "POST"])
def settlement_list(request: HttpRequest, site_id: int) -> HttpResponseBase:
    site = access.site_get_visible(request.user, site_id)
    can_run = access.can_run_site(request.user, site)
    today = timezone.localdate()
    last = today.replace(day=1) - dt.timedelta(days=1)
    form: dict[str, Any] = {"year": last.year, "month": last.month}
    error: DomainError | None = None
    if request.method == "POST":
        if not can_run:
            raise NotFound(access.NOT_FOUND_MESSAGE)
        form = {"year": request.POST.get("year", ""), "month": request.POST.get("month", "")}
        try:
            settlement = services.settlement_compute(
                actor=request.user,
                idempotency_key=request.POST.get("idempotency_key", ""),
                site=site,
                year=form["year"],
                month=form["month"],
            )
        except DomainError as exc:
            error = exc
        else:
            messages.success(request, _("已按就餐记录计算月度结算。"))
            return redirect("canteens:settlement", pk=settlement.pk)
    rows = [
        (s, fen_to_yuan(s.price_fen))
        for s in Settlement.objects.filter(site=site).order_by("-year", "-month")
    ]
    return render(
        request,
        "canteens/settlements/list.html",
        {
            "site": site,
            "rows": rows,
            "can_run": can_run,
            "form": form,
            "error": error,
            "years": _years(),
            "months": range(1, 13),
            "idempotency_key": _key(),
        },
        status=400 if error and error.status == 400 else (error.status if error else 200),
    )


def _detail_context(request: HttpRequest, settlement: Settlement) -> dict[str, Any]:
    site = settlement.site
    return {
        "settlement": settlement,
        "site": site,
        "lines": selectors.settlement_lines(settlement),
        "funders": selectors.settlement_funder_totals(settlement),
        "open_corrections": selectors.settlement_open_corrections(settlement),
        "can_run": access.can_run_site(request.user, site),
        "can_approve": access.can_approve_claims(request.user, site),
        "idempotency_key": _key(),
        "yuan": fen_to_yuan,
        "price_yuan": fen_to_yuan(settlement.price_fen),
        "government_yuan": fen_to_yuan(settlement.government_county_fen + settlement.government_township_fen),
        "totals": {
            "resident": fen_to_yuan(settlement.resident_fen),
            "community": fen_to_yuan(settlement.community_fen),
            "donation": fen_to_yuan(settlement.donation_fen),
        },
    }


@pages
@require_http_methods(["GET", "POST"])
def settlement_detail(request: HttpRequest, pk: int) -> HttpResponseBase:
    settlement = selectors.settlement_get_visible(request.user, pk)
    error: DomainError | None = None
    reason = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        key = request.POST.get("idempotency_key", "")
        reason = request.POST.get("reason", "")
        try:
            if action == "compute":
                services.settlement_compute(
                    actor=request.user,
                    idempotency_key=key,
                    site=settlement.site,
                    year=settlement.year,
                    month=settlement.month,
                )
                messages.success(request, _("已重新计算。"))
            elif action == "submit":
                services.settlement_submit(actor=request.user, idempotency_key=key, settlement=settlement)
                messages.success(request, _("补贴申报已提交，等待审核。"))
            elif action == "approve":
                services.settlement_approve(actor=request.user, idempotency_key=key, settlement=settlement)
                messages.success(request, _("补贴申报已核准，本月结算已锁定。"))
            elif action == "return":
                services.settlement_return(
                    actor=request.user, idempotency_key=key, settlement=settlement, reason=reason
                )
                messages.success(request, _("补贴申报已退回。"))
            else:
                raise DomainError("bad_action", _("未知的操作。"))
        except DomainError as exc:
            if exc.status == 404:
                raise
            error = exc
        else:
            return redirect("canteens:settlement", pk=settlement.pk)
        settlement = selectors.settlement_get_visible(request.user, pk)
    context = _detail_context(request, settlement)
    context.update({"error": error, "reason": reason})
    return render(request, "canteens/settlements/detail.html", context, status=error.status if error else 200)


@pages
def claim_print(request: HttpRequest, pk: int) -> HttpResponseBase:
    """补贴申报表: printable, or Excel with ?format=xlsx."""
    settlement = selectors.settlement_get_visible(request.user, pk)
    context = _detail_context(request, settlement)
    if request.GET.get("format") == "xlsx":
        rows: list[list[Any]] = [
            [
                line.slot_label,
                line.tier_label,
                line.meals,
                line.price_yuan,
                line.resident_yuan,
                line.government_yuan,
                line.community_yuan,
                line.donation_yuan,
            ]
            for line in context["lines"]
        ]
        rows.append(
            [
                _("合计"),
                "",
                settlement.meals,
                fen_to_yuan(settlement.price_fen),
                fen_to_yuan(settlement.resident_fen),
                context["government_yuan"],
                fen_to_yuan(settlement.community_fen),
                fen_to_yuan(settlement.donation_fen),
            ]
        )
        rows.append([])
        for total in context["funders"]:
            rows.append([total.label, "", "", total.yuan])
        rows.append([_("申报编号"), settlement.claim_number])
        rows.append([_("就餐老人数"), settlement.elders])
        return xlsx_response(
            filename=_("补贴申报表-%(number)s.xlsx") % {"number": settlement.claim_number},
            sheet_title=_("补贴申报表"),
            headers=[
                _("餐次"),
                _("补贴档次"),
                _("人次"),
                _("餐费（元）"),
                _("个人缴费（元）"),
                _("政府补贴（元）"),
                _("社区补贴（元）"),
                _("捐赠列支（元）"),
            ],
            rows=rows,
        )
    return render(request, "canteens/settlements/claim.html", context)


@pages
def claim_list(request: HttpRequest) -> HttpResponseBase:
    # Deny by default: the list is the approvers' (township and county admins); anyone else gets the
    # same 404 as a page that does not exist rather than an empty list.
    if not access.can_approve_any_claims(request.user):
        raise NotFound(_("只有乡镇或县级管理员审批补贴申报。"))
    status = request.GET.get("status", ClaimStatus.SUBMITTED)
    year = request.GET.get("year", "")
    rows = [
        (s, fen_to_yuan(s.government_county_fen + s.government_township_fen))
        for s in selectors.claims_for_approval(
            request.user, status=status, year=int(year) if year.isdigit() else None
        )[:500]
    ]
    return render(
        request,
        "canteens/settlements/claims.html",
        {
            "rows": rows,
            "status": status,
            "statuses": ClaimStatus.choices,
            "year": year,
            "years": _years(),
            "yuan": fen_to_yuan,
        },
    )


@pages
@require_http_methods(["GET", "POST"])
def budget_edit(request: HttpRequest, site_id: int) -> HttpResponseBase:
    site = access.site_get_visible(request.user, site_id)
    year = (
        _year(request)
        if request.method == "GET"
        else int(request.POST.get("year") or timezone.localdate().year)
    )
    can_set = access.can_set_budgets(request.user, site)
    errors: dict[str, str] = {}
    typed: dict[str, str] = {}
    if request.method == "POST":
        if not can_set:
            raise NotFound(access.NOT_FOUND_MESSAGE)
        for funder in Funder.values:
            typed[funder] = request.POST.get(f"amount_{funder}", "").strip()
            if not typed[funder]:
                continue
            try:
                budget_services.budget_set(
                    actor=request.user,
                    idempotency_key=f"{request.POST.get('idempotency_key', '')}-{funder}"[:64],
                    site=site,
                    year=year,
                    funder=funder,
                    amount_yuan=typed[funder],
                )
            except DomainError as exc:
                errors[funder] = str(exc.message)
        if not errors:
            messages.success(request, _("年度预算已保存。"))
            return redirect(f"{request.path}?year={year}")
    report = report_selectors.canteen_report(request.user, year=year, site_id=site.pk)
    funders = report.sites[0].funders if report.sites else []
    rows = [
        {
            "row": row,
            "typed": typed.get(row.funder, row.budget_yuan.replace(",", "")),
            "error": errors.get(row.funder, ""),
        }
        for row in funders
    ]
    return render(
        request,
        "canteens/settlements/budgets.html",
        {
            "site": site,
            "year": year,
            "years": [*_years(), timezone.localdate().year + 1],
            "rows": rows,
            "can_set": can_set,
            "idempotency_key": _key(),
        },
        status=400 if errors else 200,
    )


def _report_export(report: report_selectors.CanteenReport, table: str, title: str) -> HttpResponseBase:
    rows: list[list[Any]]
    if table == "funders":
        headers = [
            _("出资方"),
            _("预算（元）"),
            _("已支出（元）"),
            _("剩余（元）"),
            _("预计全年（元）"),
            _("预计缺口（元）"),
            _("预计用完日期"),
        ]
        rows = [
            [
                r.label,
                r.budget_yuan,
                r.spent_yuan,
                r.remaining_yuan,
                r.projected_yuan,
                r.gap_yuan,
                r.runs_out_on or "",
            ]
            for r in report.funders
        ]
    else:
        headers = [
            _("乡镇"),
            _("爱心食堂"),
            _("就餐人次"),
            _("就餐老人数"),
            _("餐费合计（元）"),
            _("每餐成本（元）"),
            _("个人缴费（元）"),
            _("政府补贴（元）"),
            _("社区补贴（元）"),
            _("捐赠列支（元）"),
            _("收入合计（元）"),
            _("预计缺口（元）"),
        ]
        rows = [
            [
                s.site.region.parent.name if s.site.region.parent else "",
                s.site.name,
                s.figures.meals,
                s.figures.elders,
                s.figures.price_yuan,
                s.figures.cost_per_meal_yuan,
                s.figures.resident_yuan,
                s.figures.government_yuan,
                s.figures.community_yuan,
                s.figures.donation_yuan,
                s.figures.income_yuan,
                s.gap_yuan,
            ]
            for s in report.sites
        ]
        t = report.total
        rows.append(
            [
                "",
                _("合计"),
                t.meals,
                t.elders,
                t.price_yuan,
                t.cost_per_meal_yuan,
                t.resident_yuan,
                t.government_yuan,
                t.community_yuan,
                t.donation_yuan,
                t.income_yuan,
                report.gap_yuan,
            ]
        )
    return xlsx_response(
        filename=f"{title}-{report.year}.xlsx", sheet_title=title, headers=headers, rows=rows
    )


@pages
def report(request: HttpRequest) -> HttpResponseBase:
    """Per canteen under a township (?region=) or everything the user sees, for ?year."""
    year = _year(request)
    region = None
    raw = request.GET.get("region", "")
    if raw.isdigit():
        region = Region.objects.filter(pk=int(raw)).first()
    result = report_selectors.canteen_report(request.user, year=year, region=region)
    townships = Region.objects.filter(
        level=RegionLevel.TOWNSHIP,
        pk__in=report_selectors.canteens_in_scope(request.user).values("region__parent_id"),
    ).order_by("path")
    export = request.GET.get("format") == "xlsx"
    if export:
        table = request.GET.get("table", "canteens")
        return _report_export(
            result, table, _("出资方预算执行") if table == "funders" else _("爱心食堂运行情况")
        )
    return render(
        request,
        "canteens/settlements/report.html",
        {"report": result, "year": year, "years": _years(), "region": region, "townships": townships},
    )


@pages
def site_report(request: HttpRequest, site_id: int) -> HttpResponseBase:
    site = access.site_get_visible(request.user, site_id)
    year = _year(request)
    result = report_selectors.canteen_report(request.user, year=year, site_id=site.pk)
    months = report_selectors.canteen_months(site, year=year)
    if request.GET.get("format") == "xlsx":
        table = request.GET.get("table", "months")
        if table == "months":
            return xlsx_response(
                filename=f"{site.name}-{year}.xlsx",
                sheet_title=_("月度情况"),
                headers=[
                    _("月份"),
                    _("就餐人次"),
                    _("就餐老人数"),
                    _("餐费合计（元）"),
                    _("每餐成本（元）"),
                    _("个人缴费（元）"),
                    _("政府补贴（元）"),
                    _("社区补贴（元）"),
                    _("捐赠列支（元）"),
                ],
                rows=[
                    [
                        m.month.strftime("%Y-%m"),
                        m.figures.meals,
                        m.figures.elders,
                        m.figures.price_yuan,
                        m.figures.cost_per_meal_yuan,
                        m.figures.resident_yuan,
                        m.figures.government_yuan,
                        m.figures.community_yuan,
                        m.figures.donation_yuan,
                    ]
                    for m in months
                ],
            )
        return _report_export(result, table, site.name)
    return render(
        request,
        "canteens/settlements/site_report.html",
        {
            "site": site,
            "report": result,
            "site_report": result.sites[0] if result.sites else None,
            "months": months,
            "year": year,
            "years": _years(),
            "can_set_budgets": access.can_set_budgets(request.user, site),
        },
    )

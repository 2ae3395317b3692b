"""Points report pages: points issued / deducted / redeemed / expired per village or township and month,
store stock and value, redemption-day summaries; each exports to Excel (?format=xlsx, common/excel.py).

Thin: every number comes from points.selectors.reports, scoped to the signed-in user.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from common.excel import xlsx_response
from points.selectors import reports as report_selectors


def _year(request: HttpRequest) -> int:
    current = timezone.localdate().year
    raw = request.GET.get("year", "")
    return int(raw) if raw.isdigit() and 2000 <= int(raw) <= current else current


def _years() -> list[int]:
    current = timezone.localdate().year
    return list(range(current, current - 5, -1))


_yuan = report_selectors.fen_to_yuan


@login_required
def report_flow(request: HttpRequest) -> HttpResponseBase:
    """积分收支月报: per village (or ?level=township) and month of ?year."""
    year = _year(request)
    level = request.GET.get("level") or "village"
    level = level if level in report_selectors.LEVELS else "village"
    rows = report_selectors.points_flow_report(user=request.user, year=year, level=level)
    totals = report_selectors.flow_totals(rows)
    if request.GET.get("format") == "xlsx":
        region_header = _("村（社区）") if level == "village" else _("乡镇")
        return xlsx_response(
            filename=_("积分收支月报-%(year)s.xlsx") % {"year": year},
            sheet_title=_("积分收支月报"),
            headers=[
                _("乡镇"),
                region_header,
                _("月份"),
                _("发放"),
                _("扣减"),
                _("兑换"),
                _("清零"),
                _("调整"),
                _("净增"),
            ],
            rows=[
                [
                    r.township if level == "village" else "",
                    r.region,
                    r.month.strftime("%Y-%m"),
                    r.issued,
                    r.deducted,
                    r.redeemed,
                    r.expired,
                    r.adjusted,
                    r.net,
                ]
                for r in rows
            ]
            + [
                [
                    "",
                    _("合计"),
                    "",
                    totals["issued"],
                    totals["deducted"],
                    totals["redeemed"],
                    totals["expired"],
                    totals["adjusted"],
                    totals["net"],
                ]
            ],
        )
    return render(
        request,
        "points/reports/flow.html",
        {"rows": rows, "totals": totals, "year": year, "years": _years(), "level": level, "tab": "flow"},
    )


@login_required
def report_stock(request: HttpRequest) -> HttpResponseBase:
    """库存与价值: every item of the stores in scope."""
    rows = report_selectors.store_stock_report(user=request.user)
    totals: dict[str, Any] = {
        "on_hand": sum(r.on_hand for r in rows),
        "points_value": sum(r.points_value for r in rows),
        "purchase_fen": sum(r.purchase_fen for r in rows),
        "donation_fen": sum(r.donation_fen for r in rows),
    }
    totals["purchase_yuan"] = _yuan(totals["purchase_fen"])
    totals["donation_yuan"] = _yuan(totals["donation_fen"])
    if request.GET.get("format") == "xlsx":
        return xlsx_response(
            filename=_("积分超市库存.xlsx"),
            sheet_title=_("库存与价值"),
            headers=[
                _("积分超市"),
                _("商品"),
                _("单位"),
                _("兑换积分"),
                _("库存"),
                _("库存积分价值"),
                _("采购数量"),
                _("捐赠数量"),
                _("兑换数量"),
                _("采购金额（元）"),
                _("捐赠价值（元）"),
            ],
            rows=[
                [
                    r.store,
                    r.item,
                    r.unit,
                    r.points_price,
                    r.on_hand,
                    r.points_value,
                    r.purchased,
                    r.donated,
                    r.redeemed,
                    _yuan(r.purchase_fen),
                    _yuan(r.donation_fen),
                ]
                for r in rows
            ],
        )
    return render(request, "points/reports/stock.html", {"rows": rows, "totals": totals, "tab": "stock"})


@login_required
def report_days(request: HttpRequest) -> HttpResponseBase:
    """兑换日汇总: each redemption day of the stores in scope in ?year."""
    year = _year(request)
    rows = report_selectors.redemption_day_report(user=request.user, year=year)
    if request.GET.get("format") == "xlsx":
        return xlsx_response(
            filename=_("兑换日汇总-%(year)s.xlsx") % {"year": year},
            sheet_title=_("兑换日汇总"),
            headers=[
                _("积分超市"),
                _("兑换日期"),
                _("名称"),
                _("状态"),
                _("服务户数"),
                _("小票数"),
                _("兑换积分"),
                _("兑出件数"),
                _("当前库存"),
            ],
            rows=[
                [
                    r.store,
                    r.date,
                    r.title,
                    r.status_label,
                    r.households,
                    r.receipts,
                    r.points,
                    r.items,
                    r.stock_left,
                ]
                for r in rows
            ],
        )
    return render(
        request, "points/reports/days.html", {"rows": rows, "year": year, "years": _years(), "tab": "days"}
    )

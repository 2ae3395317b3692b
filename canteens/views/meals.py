"""The counter's pages (tablet and phone first): the check-in (find an elder by name, card QR code or the
last four of the ID number, one tap to record, guests, take-away and delivery, the split and any warning,
who already ate), the printable daily meal sheet with its Excel, meal corrections, and the canteen
manager's landing. Thin: parse, call one gate and one selector or service, render. Out of scope is 404."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from canteens.access import can_run_site, site_get_runnable, site_get_visible, sites_runnable
from canteens.models import (
    CorrectionStatus,
    Meal,
    ServiceMode,
    Site,
    SiteKind,
    SlotKind,
    VerifyMethod,
)
from canteens.selectors import meals as selectors
from canteens.services import meals as services
from canteens.views._common import int_param, new_key, pages
from common.errors import DomainError
from common.excel import xlsx_response
from governance.audit import audit_record
from governance.models import AuditAction


@require_GET
@pages
def start(request: HttpRequest) -> HttpResponseBase:
    """The canteen manager's landing: today's check-in of the one canteen they run, else the hub."""
    runnable = list(
        sites_runnable(request.user)
        .filter(kind=SiteKind.CANTEEN, is_active=True)
        .values_list("pk", flat=True)[:2]
    )
    if len(runnable) == 1:
        return redirect("canteens:checkin", runnable[0])
    return redirect("canteens:home")


def _canteen(site: Site) -> Site:
    if site.kind != SiteKind.CANTEEN:
        raise Http404(_("只有爱心食堂可以登记就餐。"))
    return site


def _day(raw: str | None) -> dt.date:
    today = timezone.localdate()
    day = parse_date(raw) if raw else None
    if day is None or day > today:
        return today
    return day


def _verified_by(query: str, found: list[Any]) -> str:
    if len(found) == 1 and found[0].card_code == query:
        return VerifyMethod.CARD_QR
    if len(query) == 4 and query[:3].isdigit():
        return VerifyMethod.ID_TAIL
    return VerifyMethod.NAME


@pages
def checkin(request: HttpRequest, site_id: int) -> HttpResponse:
    """GET: the counter (?slot, ?date, ?q search, ?meal the last recorded). POST: record one meal."""
    site = _canteen(site_get_runnable(request.user, site_id))
    slots = selectors.site_slots(site)
    served = {slot.kind for slot in slots}
    source = request.POST if request.method == "POST" else request.GET
    slot = source.get("slot", "")
    if slot not in served:
        slot = selectors.slot_now(slots, timezone.localtime().time())
    day = _day(source.get("served_on") or source.get("date"))
    error: DomainError | None = None
    posted: dict[str, str] = {}
    if request.method == "POST":
        posted = {name: request.POST.get(name, "") for name in request.POST}
        is_guest = request.POST.get("is_guest") == "1"
        try:
            result = services.meal_checkin(
                actor=request.user,
                idempotency_key=request.POST.get("idempotency_key", ""),
                site_id=site.pk,
                slot=request.POST.get("slot", ""),
                served_on=_day(request.POST.get("served_on")),
                resident_id=int_param(request.POST.get("resident")),
                verified_by=request.POST.get("verified_by", ""),
                mode=request.POST.get("mode") or ServiceMode.DINE_IN,
                deliverer_name=request.POST.get("deliverer_name", ""),
                guest_name=request.POST.get("guest_name", ""),
                is_guest=is_guest,
            )
        except DomainError as failure:
            if failure.status == 404:
                raise
            error = failure
        else:
            after: dict[str, str] = {"slot": result.slot, "meal": str(result.id)}
            if result.served_on != timezone.localdate():
                after["date"] = result.served_on.isoformat()
            return redirect(f"{reverse('canteens:checkin', args=[site.pk])}?{urlencode(after)}")
    elif request.method != "GET":
        return HttpResponse(status=405)

    query = (request.GET.get("q") or posted.get("q") or "").strip()
    results = selectors.checkin_search(site, query, day) if query else []
    eaten = selectors.eaten_resident_ids(site, day, slot) if slot else set()
    for enrolment in results:
        enrolment.has_eaten = enrolment.resident_id in eaten  # type: ignore[attr-defined]
        enrolment.form_key = new_key()  # type: ignore[attr-defined]
    last: services.MealResult | None = None
    meal_id = int_param(request.GET.get("meal"))
    if meal_id:
        meal = Meal.objects.filter(pk=meal_id, site=site).first()
        if meal is not None:
            last = services.meal_result_of(meal, replayed=False)
    context = {
        "site": site,
        "slots": slots,
        "slot": slot,
        "slot_label": SlotKind(slot).label if slot else "",
        "day": day,
        "is_today": day == timezone.localdate(),
        "query": query,
        "results": results,
        "verified_by": _verified_by(query, results) if results else VerifyMethod.NAME,
        "modes": ServiceMode.choices,
        "error": error,
        "posted": posted,
        "last": last,
        "last_meal": Meal.objects.select_related("tier").filter(pk=last.id).first() if last else None,
        "served_in_slot": selectors.meals_in_slot(site, day, slot) if slot else [],
        "day_count": selectors.day_count(site, day),
        "guest_key": new_key(),
    }
    status = error.status if error is not None and error.status in (400, 409) else 200
    return render(request, "canteens/meals/checkin.html", context, status=status)


SHEET_HEADERS = (
    gettext_lazy("餐次"),
    gettext_lazy("就餐人"),
    gettext_lazy("补贴档次"),
    gettext_lazy("就餐方式"),
    gettext_lazy("送餐人"),
    gettext_lazy("核验方式"),
    gettext_lazy("餐价（元）"),
    gettext_lazy("个人缴费（元）"),
    gettext_lazy("政府补贴（元）"),
    gettext_lazy("社区补贴（元）"),
    gettext_lazy("捐赠列支（元）"),
    gettext_lazy("捐赠不足转兜底（元）"),
    gettext_lazy("备注"),
    gettext_lazy("登记时间"),
)


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def _note(meal: Meal) -> str:
    if meal.reverses_id:
        return _("冲正 #%(id)s") % {"id": meal.reverses_id}
    if meal.voided_at:
        return _("已冲正")
    return ""


def _who(meal: Meal) -> str:
    if meal.resident_id and meal.resident is not None:
        return (
            meal.resident.name
            if not meal.is_guest
            else _("%(name)s（非登记）") % {"name": meal.resident.name}
        )
    return meal.guest_name or _("非登记就餐")


@require_GET
@pages
def meal_sheet(request: HttpRequest, site_id: int, day: str) -> HttpResponseBase:
    """The day's meal sheet, printable; ?format=xlsx for Excel (an export of names: audited)."""
    site = _canteen(site_get_visible(request.user, site_id))
    parsed = parse_date(day)
    if parsed is None:
        raise Http404(_("日期格式不对。"))
    sheet = selectors.meal_sheet(site, parsed)
    if request.GET.get("format") == "xlsx":
        audit_record(
            actor=request.user,
            action=AuditAction.EXPORT,
            obj=site,
            region_path=site.region.path,
            detail=f"就餐日报 {parsed.isoformat()}",
            request=request,
        )
        rows: list[tuple[Any, ...]] = [
            (
                meal.get_slot_display(),
                _who(meal),
                meal.tier.name if meal.tier else "",
                meal.get_mode_display(),
                meal.deliverer_name,
                meal.get_verified_by_display(),
                _yuan(meal.price_fen),
                _yuan(meal.resident_fen),
                _yuan(meal.government_fen),
                _yuan(meal.community_fen),
                _yuan(meal.donation_fen),
                _yuan(meal.donation_shortfall_fen),
                _note(meal),
                meal.created_at,
            )
            for meal in sheet.rows
        ]
        totals = sheet.totals
        rows.append(
            (
                _("合计"),
                ngettext("%(n)s 人次", "%(n)s 人次", totals.meals) % {"n": totals.meals},
                "",
                "",
                "",
                "",
                _yuan(totals.price_fen),
                _yuan(totals.resident_fen),
                _yuan(totals.government_fen),
                _yuan(totals.community_fen),
                _yuan(totals.donation_fen),
                "",
                "",
                "",
            )
        )
        return xlsx_response(
            filename=f"{site.name}就餐日报{parsed.isoformat()}.xlsx",
            sheet_title=_("就餐日报"),
            headers=[str(h) for h in SHEET_HEADERS],
            rows=rows,
        )
    for meal in sheet.rows:
        meal.who = _who(meal)  # type: ignore[attr-defined]
        meal.note = _note(meal)  # type: ignore[attr-defined]
    open_ids = set(
        selectors.corrections_for_site(site, open_only=True)
        .filter(meal__served_on=parsed)
        .values_list("meal_id", flat=True)
    )
    return render(
        request,
        "canteens/meals/sheet.html",
        {
            "site": site,
            "day": parsed,
            "sheet": sheet,
            "previous": parsed - dt.timedelta(days=1),
            "next": parsed + dt.timedelta(days=1) if parsed < timezone.localdate() else None,
            "can_run": can_run_site(request.user, site),
            "open_ids": open_ids,
            "key": new_key(),
        },
    )


@require_POST
@pages
def correction_request(request: HttpRequest, meal_id: int) -> HttpResponseBase:
    meal = selectors.meal_get_visible(request.user, meal_id)
    try:
        services.meal_correction_request(
            actor=request.user,
            meal=meal,
            reason=request.POST.get("reason", ""),
            idempotency_key=request.POST.get("idempotency_key", ""),
        )
    except DomainError as failure:
        if failure.status == 404:
            raise
        messages.error(request, str(failure.message))
    else:
        messages.success(request, _("已提交更正申请，待食堂负责人或乡镇审核。"))
    return redirect("canteens:meal_sheet", meal.site_id, meal.served_on.isoformat())


@require_GET
@pages
def corrections(request: HttpRequest, site_id: int) -> HttpResponse:
    site = _canteen(site_get_visible(request.user, site_id))
    return render(
        request,
        "canteens/meals/corrections.html",
        {
            "site": site,
            "corrections": list(selectors.corrections_for_site(site)[:200]),
            "can_run": can_run_site(request.user, site),
            "open_status": CorrectionStatus.OPEN,
        },
    )


@require_POST
@pages
def correction_decide(request: HttpRequest, correction_id: int) -> HttpResponseBase:
    correction = selectors.correction_get_visible(request.user, correction_id)
    try:
        if request.POST.get("decision") == "apply":
            services.meal_correction_apply(actor=request.user, correction=correction)
            messages.success(request, _("已冲正，捐赠列支已退回。"))
        else:
            services.meal_correction_reject(
                actor=request.user, correction=correction, reason=request.POST.get("reason", "")
            )
            messages.success(request, _("已驳回更正申请。"))
    except DomainError as failure:
        if failure.status == 404:
            raise
        messages.error(request, str(failure.message))
    return redirect("canteens:corrections", correction.meal.site_id)

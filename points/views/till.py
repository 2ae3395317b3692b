"""The till (兑换收银) pages, phone and tablet first: pick a household (name, household number or the
scanned points-card code), add items with +/−, confirm; the receipt, with returns; the day's summary and
its open/close buttons. Thin: parse, call one selector or service, render. Out of scope answers 404."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from common.errors import DomainError
from common.views import pages
from points.models import Account, DayStatus, Item
from points.selectors import till as selectors
from points.services import days as day_services
from points.services import redemptions as services
from points.services.stores import store_can_manage


@require_GET
@pages
def till_home(request: HttpRequest) -> HttpResponse:
    """The days whose till the user may run (today's first)."""
    days = list(selectors.days_for_till(request.user)[:30])
    return render(request, "points/till/home.html", {"days": days})


def _quantities(request: HttpRequest, items: list[Item]) -> dict[int, int]:
    quantities: dict[int, int] = {}
    for item in items:
        raw = request.POST.get(f"qty_{item.pk}", "").strip()
        try:
            number = int(raw) if raw else 0
        except ValueError:
            number = -1
        if number:
            quantities[item.pk] = number
    return quantities


@pages
def till_page(request: HttpRequest, day_id: int) -> HttpResponse:
    """GET: search (?q=) and the chosen household (?household=) with the item grid. POST: confirm."""
    day = selectors.day_get_for_till(request.user, day_id)
    store = day.store
    items = selectors.till_items(store)
    household_id = request.POST.get("household") or request.GET.get("household")
    query = request.GET.get("q", "").strip()
    error: DomainError | None = None
    quantities: dict[int, int] = {}
    idempotency_key = uuid.uuid4().hex
    if request.method == "POST":
        if not household_id:
            raise Http404
        posted_household, _account = selectors.till_household(store, household_id)
        quantities = _quantities(request, items)
        idempotency_key = request.POST.get("idempotency_key", "") or idempotency_key
        by_id = {item.pk: item for item in items}
        try:
            receipt = services.redemption_create(
                actor=request.user,
                idempotency_key=idempotency_key,
                store=store,
                household=posted_household,
                lines=[(by_id[pk], quantity) for pk, quantity in quantities.items()],
                day=day,
            )
        except DomainError as failure:
            if failure.status == 404:
                raise
            error = failure
        else:
            return redirect("points:till_receipt", receipt.pk)
    elif request.method != "GET":
        return HttpResponse(status=405)
    household = None
    account: Account | None = None
    if household_id:
        household, account = selectors.till_household(store, household_id)
    results: list[Any] = selectors.till_households_search(store, query) if query and household is None else []
    if query and len(results) == 1 and household is None and request.method == "GET":
        # A scanned card (or an exact number) finds one household: go straight to it.
        return redirect(f"{request.path}?household={results[0].pk}")
    for item in items:
        item.chosen = quantities.get(item.pk, 0)  # type: ignore[attr-defined]
    context = {
        "day": day,
        "store": store,
        "items": items,
        "query": query,
        "results": results,
        "household": household,
        "account": account,
        "error": error,
        "idempotency_key": idempotency_key,
        "is_open": day.status == DayStatus.OPEN,
        "can_manage": store_can_manage(request.user, store),
        "recent": selectors.day_receipts(day, limit=5),
    }
    return render(
        request, "points/till/till.html", context, status=409 if error and error.status == 409 else 200
    )


@require_GET
@pages
def till_receipt(request: HttpRequest, redemption_id: int) -> HttpResponse:
    receipt = selectors.receipt_get(request.user, redemption_id)
    balance_after, balance_now = selectors.receipt_balances(receipt)
    lines = selectors.receipt_lines(receipt)
    return render(
        request,
        "points/till/receipt.html",
        {
            "receipt": receipt,
            "balance_after": balance_after,
            "balance_now": balance_now,
            "lines": lines,
            "returnable": [line for line in lines if line.left],  # type: ignore[attr-defined]
            "returns": selectors.receipt_returns(receipt),
            "idempotency_key": uuid.uuid4().hex,
        },
    )


@require_POST
@pages
def till_return(request: HttpRequest, redemption_id: int, line_id: int) -> HttpResponse:
    receipt = selectors.receipt_get(request.user, redemption_id)
    line = receipt.lines.filter(pk=line_id).first()
    if line is None:
        raise Http404
    try:
        quantity = int(request.POST.get("quantity", "0"))
    except ValueError:
        quantity = 0
    try:
        services.redemption_return(
            actor=request.user,
            idempotency_key=request.POST.get("idempotency_key", ""),
            line=line,
            quantity=quantity,
            reason=request.POST.get("reason", ""),
        )
    except DomainError as failure:
        if failure.status == 404:
            raise
        messages.error(request, str(failure.message))
    else:
        messages.success(request, _("已退货，积分已退回该户。"))
    return redirect("points:till_receipt", receipt.pk)


@require_GET
@pages
def till_summary(request: HttpRequest, day_id: int) -> HttpResponse:
    day = selectors.day_get_for_till(request.user, day_id)
    return render(
        request,
        "points/till/summary.html",
        {
            "day": day,
            "summary": selectors.day_summary(day),
            "receipts": selectors.day_receipts(day),
            "can_manage": store_can_manage(request.user, day.store),
        },
    )


@require_POST
@pages
def till_day_state(request: HttpRequest, day_id: int) -> HttpResponse:
    """Open or close the day (the store's managers)."""
    day = selectors.day_get_for_till(request.user, day_id)
    try:
        if request.POST.get("action") == "open":
            day_services.day_open(actor=request.user, day=day)
            messages.success(request, _("兑换日已开始。"))
        else:
            day_services.day_close(actor=request.user, day=day)
            messages.success(request, _("兑换日已结束。"))
    except DomainError as failure:
        if failure.status == 404:
            raise
        messages.error(request, str(failure.message))
    return redirect("points:till_summary", day.pk)

"""Pages of sales records: the overview of the events to enter sales for, an event's sales list (filters,
reversed rows struck through beside their reversal, sort, pages, Excel), the entry form built for a tablet
at the expo, and reversing or correcting a record with a reason.

The entry form parses what was typed with industry/services/sales_rules.py (the API and the import use
the same parsers), shows every error next to its field, keeps what was typed on an error and keeps the
exhibitor, channel and date after a save for the next entry.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from common.errors import DomainError
from common.excel import xlsx_response
from industry import access
from industry.models import Event, Exhibitor, Product, ProductCategory, SalesChannel, SalesRecord
from industry.selectors import events as event_selectors
from industry.selectors import sales as selectors
from industry.services import sales as services
from industry.services import sales_rules
from industry.templatetags.industry_tags import url_or_blank
from industry.views.events import (
    EXPORT_MAX,
    export_audit,
    fen_yuan,
    form_error,
    int_param,
    new_key,
    page_of,
    pages,
    querystring_without,
)

PLATFORMS = ("抖音", "淘宝", "拼多多", "京东", "快手", "微信小程序")
SALE_SORT_LABELS = {
    "-sold_on": gettext_lazy("日期（新→旧）"),
    "sold_on": gettext_lazy("日期（旧→新）"),
    "-amount": gettext_lazy("金额（高→低）"),
    "-created": gettext_lazy("录入顺序（新→旧）"),
}


# --- the overview -----------------------------------------------------------------------------------


@require_GET
@pages
def sales_index(request: HttpRequest) -> HttpResponse:
    """The events running today that the user may enter sales for (big buttons), then every event the
    user sees with its net sales and a link to its records."""
    if not access.can_read_industry(request.user):
        return render(request, "industry/hub.html", {"empty": True})
    today = timezone.localdate()
    running = list(
        event_selectors.events_list(request.user)
        .filter(pk__in=access.events_runnable(request.user).values("pk"))
        .filter(starts_on__lte=today, ends_on__gte=today)
    )
    rows = event_selectors.events_list(request.user, sort="-starts_on")
    return render(
        request,
        "industry/sales/index.html",
        {"running": running, "page": page_of(request, rows), "today": today, "querystring": ""},
    )


# --- an event's sales list --------------------------------------------------------------------------


def _sale_filters(request: HttpRequest, event: Event) -> tuple[selectors.SaleFilters, dict[str, Any]]:
    day = None
    if request.GET.get("day"):
        try:
            day = sales_rules.date_parse(request.GET["day"], field="day")
        except DomainError:
            day = None
    channel = request.GET.get("channel", "")
    category = request.GET.get("category", "")
    sort = request.GET.get("sort", "-sold_on")
    filters = selectors.SaleFilters(
        day=day,
        channel=channel if channel in SalesChannel.values else "",
        platform=(request.GET.get("platform") or "").strip()[:30],
        exhibitor_id=int_param(request.GET.get("exhibitor")),
        category=category if category in ProductCategory.values else "",
    )
    shown = {
        "day": day,
        "channel": filters.channel,
        "platform": filters.platform,
        "exhibitor": filters.exhibitor_id,
        "category": filters.category,
        "sort": sort if sort in selectors.SALE_SORTS else "-sold_on",
    }
    return filters, shown


def _event_days(event: Event) -> list[dt.date]:
    days = (event.ends_on - event.starts_on).days + 1
    return [event.starts_on + dt.timedelta(days=n) for n in range(min(days, 92))]


@require_GET
@pages
def event_sales(request: HttpRequest, pk: int) -> HttpResponseBase:
    event = access.event_get_visible(request.user, pk)
    filters, shown = _sale_filters(request, event)
    rows = selectors.sales_list(request.user, event, filters, sort=shown["sort"])
    if request.GET.get("export") == "xlsx":
        title = _("%(event)s销售记录") % {"event": event.name}
        export_audit(request, "industry.salesrecord", title)
        return xlsx_response(
            filename=f"{title}.xlsx",
            sheet_title=_("销售记录"),
            headers=[
                _("记录号"),
                _("销售日期"),
                _("参展主体"),
                _("展位"),
                _("产品编码"),
                _("产品名称"),
                _("渠道"),
                _("线上平台"),
                _("数量"),
                _("销售额（元）"),
                _("冲正的记录"),
                _("更正原因"),
                _("已被冲正"),
                _("来源"),
                _("录入时间"),
            ],
            rows=(
                [
                    r.pk,
                    r.sold_on,
                    r.exhibitor.business.name,
                    r.exhibitor.booth,
                    r.product.code,
                    r.product.name,
                    r.get_channel_display(),
                    r.platform,
                    r.quantity,
                    fen_yuan(r.amount_fen),
                    r.reverses_id or "",
                    r.reason,
                    _("是") if _reversal_of(r) is not None else "",
                    r.get_source_display(),
                    timezone.localtime(r.created_at).replace(tzinfo=None),
                ]
                for r in rows[:EXPORT_MAX]
            ),
            widths=[8, 12, 24, 8, 14, 16, 8, 10, 10, 14, 10, 20, 8, 10, 18],
        )
    can_run = access.can_run_event(request.user, event)
    return render(
        request,
        "industry/sales/list.html",
        {
            "event": event,
            "page": page_of(request, rows, 50),
            "sums": selectors.sales_sums(rows),
            "shown": shown,
            "days": _event_days(event),
            "platforms": selectors.sale_platforms(event),
            "exhibitors": list(event_selectors.event_exhibitors(event)),
            "categories": ProductCategory.choices,
            "channels": SalesChannel.choices,
            "sorts": SALE_SORT_LABELS,
            "can_run": can_run,
            "querystring": querystring_without(request, "page", "export"),
            "dashboard_url": url_or_blank("industry:event-dashboard", event.pk),
        },
    )


def _reversal_of(record: SalesRecord) -> SalesRecord | None:
    try:
        return record.reversed_by
    except SalesRecord.DoesNotExist:
        return None


# --- the tablet entry form --------------------------------------------------------------------------


class SaleForm(forms.Form):
    """Everything as typed (text): the shared parsers decide, so their messages show next to the field."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)
    exhibitor = forms.CharField(label=gettext_lazy("参展主体"), required=False)
    product = forms.CharField(label=gettext_lazy("产品"), required=False)
    channel = forms.CharField(label=gettext_lazy("渠道"), required=False)
    platform = forms.CharField(label=gettext_lazy("线上平台"), max_length=60, required=False)
    amount_yuan = forms.CharField(label=gettext_lazy("销售额（元）"), max_length=30, required=False)
    quantity = forms.CharField(label=gettext_lazy("数量"), max_length=30, required=False)
    sold_on = forms.CharField(label=gettext_lazy("销售日期"), max_length=20, required=False)
    reason = forms.CharField(label=gettext_lazy("更正原因"), max_length=200, required=False)


def _parse_sale(event: Event, form: SaleForm) -> dict[str, Any] | None:
    """The service's keyword arguments from a bound, valid SaleForm; None after adding each field's
    error to the form (every field is checked, so all mistakes show at once)."""
    data = form.cleaned_data
    values: dict[str, Any] = {}

    def attempt(name: str, parse: Any) -> None:
        try:
            values[name] = parse()
        except DomainError as error:
            form.add_error(name if name in form.fields else None, str(error.message))

    def exhibitor() -> Exhibitor:
        found = (
            Exhibitor.objects.select_related("business").filter(pk=int_param(data["exhibitor"]) or 0).first()
        )
        if found is None:
            raise DomainError("exhibitor_required", _("请选择参展主体。"), field="exhibitor")
        if found.event_id != event.pk:
            raise DomainError(
                "exhibitor_not_in_event", _("该参展主体不属于本次展会节会。"), field="exhibitor"
            )
        return found

    def product() -> Product:
        found = Product.objects.filter(pk=int_param(data["product"]) or 0).first()
        if found is None:
            raise DomainError("product_required", _("请从农产品目录中选择产品。"), field="product")
        return found

    attempt("exhibitor", exhibitor)
    attempt("product", product)
    attempt("channel", lambda: sales_rules.channel_parse(data["channel"]))
    if "channel" in values:
        attempt("platform", lambda: sales_rules.platform_clean(values["channel"], data["platform"]))
    attempt("amount_yuan", lambda: sales_rules.amount_fen_parse(data["amount_yuan"]))
    attempt("quantity", lambda: sales_rules.quantity_parse(data["quantity"]))

    def sold_on() -> dt.date:
        day = sales_rules.date_parse(data["sold_on"])
        return sales_rules.sold_on_check(
            day, starts_on=event.starts_on, ends_on=event.ends_on, today=timezone.localdate()
        )

    attempt("sold_on", sold_on)
    if form.errors:
        return None
    return {
        "exhibitor": values["exhibitor"],
        "product": values["product"],
        "channel": values["channel"].value,
        "platform": values.get("platform", ""),
        "amount_fen": values["amount_yuan"],
        "quantity": values["quantity"],
        "sold_on": values["sold_on"],
    }


def default_day(event: Event, today: dt.date) -> dt.date:
    """Today when the event is on, else its last day (a past event's late entries)."""
    if event.starts_on <= today <= event.ends_on:
        return today
    return min(event.ends_on, today) if today >= event.starts_on else event.starts_on


def _entry_context(request: HttpRequest, event: Event, form: SaleForm) -> dict[str, Any]:
    today = timezone.localdate()
    return {
        "event": event,
        "form": form,
        "exhibitors": list(event_selectors.event_exhibitors(event)),
        "products": event_selectors.products_for_sale(),
        "platforms": PLATFORMS,
        "totals": event_selectors.event_totals(event),
        "recent": selectors.recent_entries(request.user, event),
        "not_started": event.starts_on > today,
        "min_day": event.starts_on,
        "max_day": min(event.ends_on, today),
        "value": form.data if form.is_bound else form.initial,
        "entry_url": request.get_full_path(),
    }


@require_http_methods(["GET", "POST"])
@pages
def sale_create(request: HttpRequest, pk: int) -> HttpResponse:
    event = access.event_get_runnable(request.user, pk)
    if request.method == "POST":
        form = SaleForm(request.POST)
        if form.is_valid() and (values := _parse_sale(event, form)) is not None:
            try:
                record = services.sales_record_create(
                    actor=request.user,
                    idempotency_key=form.cleaned_data["idempotency_key"],
                    event=event,
                    **values,
                )
            except DomainError as error:
                form_error(form, error)
            else:
                messages.success(
                    request,
                    _("已录入：%(who)s · %(what)s ¥%(amount)s。")
                    % {
                        "who": record.exhibitor.business.name,
                        "what": record.product.name,
                        "amount": f"{record.amount_fen / 100:,.2f}",
                    },
                )
                # The next sale at a stall is usually the same exhibitor, channel and day.
                keep = urlencode(
                    {
                        "exhibitor": record.exhibitor_id,
                        "channel": record.channel,
                        "platform": record.platform,
                        "sold_on": record.sold_on.isoformat(),
                    }
                )
                return redirect(f"{reverse('industry:sale-create', args=[event.pk])}?{keep}")
        return render(request, "industry/sales/entry.html", _entry_context(request, event, form), status=400)
    today = timezone.localdate()
    channel = request.GET.get("channel", "")
    form = SaleForm(
        initial={
            "idempotency_key": new_key(),
            "exhibitor": request.GET.get("exhibitor", ""),
            "channel": channel if channel in SalesChannel.values else SalesChannel.OFFLINE,
            "platform": request.GET.get("platform", "") if channel == SalesChannel.ONLINE else "",
            "sold_on": request.GET.get("sold_on") or default_day(event, today).isoformat(),
            "product": "",
            "amount_yuan": "",
            "quantity": "",
        }
    )
    return render(request, "industry/sales/entry.html", _entry_context(request, event, form))


# --- reverse and correct ----------------------------------------------------------------------------


def _next_url(request: HttpRequest, record: SalesRecord) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()}):
        return wanted
    return reverse("industry:event-sales", args=[record.event_id])


def _record_for_change(request: HttpRequest, pk: int) -> SalesRecord:
    record = services.sale_get_runnable(request.user, pk)
    return (
        SalesRecord.objects.select_related("event__region", "exhibitor__business", "product", "reverses")
        .filter(pk=record.pk)
        .get()
    )


@require_http_methods(["GET", "POST"])
@pages
def sale_reverse(request: HttpRequest, pk: int) -> HttpResponse:
    record = _record_for_change(request, pk)
    error: str = ""
    reason = ""
    key = new_key()
    if request.method == "POST":
        reason = (request.POST.get("reason") or "").strip()
        key = request.POST.get("idempotency_key") or key
        try:
            services.sales_record_reverse(
                actor=request.user, idempotency_key=key, record=record, reason=reason
            )
        except DomainError as exc:
            if exc.status == 404:
                raise
            error = str(exc.message)
        else:
            messages.success(
                request,
                _("已冲正记录 #%(id)s（%(amount)s 元）。")
                % {"id": record.pk, "amount": f"{record.amount_fen / 100:,.2f}"},
            )
            return redirect(_next_url(request, record))
    return render(
        request,
        "industry/sales/reverse.html",
        {
            "record": record,
            "event": record.event,
            "reversal": _reversal_of(record),
            "reason": reason,
            "error": error,
            "key": key,
            "next": _next_url(request, record),
        },
        status=400 if error else 200,
    )


@require_http_methods(["GET", "POST"])
@pages
def sale_correct(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct a record: the wrong one is reversed and the right figures posted, in one step."""
    record = _record_for_change(request, pk)
    event = record.event
    if _reversal_of(record) is not None or record.reverses_id is not None:
        raise Http404(_("这条记录已冲正或本身是冲正记录，不能再更正。"))
    if request.method == "POST":
        form = SaleForm(request.POST)
        if form.is_valid():
            reason = (form.cleaned_data.get("reason") or "").strip()
            if not reason:
                form.add_error("reason", _("请填写更正原因。"))
            values = _parse_sale(event, form)
            if values is not None and not form.errors:
                try:
                    _reversal, new = services.sales_record_correct(
                        actor=request.user,
                        idempotency_key=form.cleaned_data["idempotency_key"],
                        record=record,
                        reason=reason,
                        **values,
                    )
                except DomainError as error:
                    if error.status == 404:
                        raise
                    form_error(form, error)
                else:
                    messages.success(
                        request,
                        _("已更正：原记录 #%(old)s 已冲正，新记录 #%(new)s。")
                        % {"old": record.pk, "new": new.pk},
                    )
                    return redirect(_next_url(request, record))
    else:
        form = SaleForm(
            initial={
                "idempotency_key": new_key(),
                "exhibitor": record.exhibitor_id,
                "product": record.product_id,
                "channel": record.channel,
                "platform": record.platform,
                "amount_yuan": f"{record.amount_fen / 100:.2f}",
                "quantity": f"{record.quantity.normalize():f}",
                "sold_on": record.sold_on.isoformat(),
                "reason": "",
            }
        )
    context = _entry_context(request, event, form)
    context.update({"record": record, "next": _next_url(request, record)})
    return render(request, "industry/sales/correct.html", context, status=400 if form.errors else 200)

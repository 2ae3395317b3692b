"""Pages of the stores area (积分超市管理), for township admins (and county admins) within their scope, phone
and desktop: the store list with stock figures and a new-store form; a store's page with its items,
redemption days and clerks; item add/edit with a picture; stock in (purchase or donation, with source and
money value in yuan); adjustments after a count with a reason; an item's stock ledger with the running
on-hand; granting and revoking a clerk's till; scheduling, opening and closing redemption days.

Thin: parse the form, call one selector or service, render. Each retryable write carries a hidden uuid4
idempotency key (a double tap writes once). A domain error shows next to its field and keeps what was
typed; a store or item out of the user's scope answers 404.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from common.errors import DomainError
from common.views import pages
from governance.models import Region, User
from points.models import DayStatus, Item, StockKind, Store
from points.selectors import stores as selectors
from points.services import days as day_services
from points.services import stores as services
from points.views.awards import _form_error

REQUIRED = gettext_lazy("请填写此项。")


def _key() -> str:
    return uuid.uuid4().hex


def _key_field() -> forms.CharField:
    return forms.CharField(widget=forms.HiddenInput, max_length=64)


def _int_field(label: Any, *, minimum: int, maximum: int, message: Any, **kwargs: Any) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        min_value=minimum,
        max_value=maximum,
        error_messages={"required": REQUIRED, "invalid": message, "min_value": message, "max_value": message},
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        **kwargs,
    )


# --- forms --------------------------------------------------------------------------------------------


class StoreForm(forms.Form):
    idempotency_key = _key_field()
    region = forms.TypedChoiceField(
        label=gettext_lazy("所在乡镇或村（社区）"), coerce=int, error_messages={"required": REQUIRED}
    )
    name = forms.CharField(
        label=gettext_lazy("积分超市名称"), max_length=60, error_messages={"required": REQUIRED}
    )
    address = forms.CharField(label=gettext_lazy("地址"), max_length=200, required=False)

    def __init__(self, *args: Any, regions: list[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: forms.TypedChoiceField = self.fields["region"]  # type: ignore[assignment]
        field.choices = [(r.pk, r.name if r.level == "township" else f"— {r.name}") for r in regions]


class StoreEditForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("积分超市名称"), max_length=60, error_messages={"required": REQUIRED}
    )
    address = forms.CharField(label=gettext_lazy("地址"), max_length=200, required=False)
    is_active = forms.BooleanField(label=gettext_lazy("营业中"), required=False)


class ItemForm(forms.Form):
    idempotency_key = _key_field()
    name = forms.CharField(
        label=gettext_lazy("商品名称"), max_length=60, error_messages={"required": REQUIRED}
    )
    unit = forms.CharField(
        label=gettext_lazy("单位"),
        max_length=10,
        error_messages={"required": REQUIRED},
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("袋、瓶、条")}),
    )
    points_price = _int_field(
        gettext_lazy("兑换积分"),
        minimum=1,
        maximum=services.PRICE_MAX,
        message=gettext_lazy("兑换积分须是 1 到 100000 的整数。"),
    )
    sort_order = _int_field(
        gettext_lazy("排序"),
        minimum=0,
        maximum=32767,
        message=gettext_lazy("排序须是 0 到 32767 的整数。"),
        required=False,
        help_text=gettext_lazy("数字小的排在收银页前面"),
    )
    picture = forms.FileField(
        label=gettext_lazy("图片"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
        help_text=gettext_lazy("上传后自动压缩并去除位置信息"),
    )
    is_active = forms.BooleanField(label=gettext_lazy("上架"), required=False)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["idempotency_key"]
        else:
            del self.fields["is_active"]


class StockInForm(forms.Form):
    idempotency_key = _key_field()
    kind = forms.ChoiceField(
        label=gettext_lazy("入库方式"),
        choices=[
            (StockKind.PURCHASE, StockKind.PURCHASE.label),
            (StockKind.DONATION, StockKind.DONATION.label),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("请选择采购入库或捐赠入库。")},
    )
    quantity = _int_field(
        gettext_lazy("数量"),
        minimum=1,
        maximum=services.QUANTITY_MAX,
        message=gettext_lazy("数量须是 1 到 100000 的整数。"),
    )
    source = forms.CharField(
        label=gettext_lazy("来源"),
        max_length=100,
        error_messages={"required": gettext_lazy("请填写来源（供货商或捐赠人）。")},
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("供货商或捐赠人")}),
    )
    value_yuan = forms.CharField(
        label=gettext_lazy("金额（元）"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "0.00"}),
        help_text=gettext_lazy("这批货的总金额（采购价或捐赠折价），例如 125.50"),
    )


class AdjustForm(forms.Form):
    idempotency_key = _key_field()
    direction = forms.ChoiceField(
        label=gettext_lazy("调整"),
        choices=[("-1", gettext_lazy("减少（损坏、丢失、盘亏）")), ("1", gettext_lazy("增加（盘盈）"))],
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("请选择增加或减少。")},
    )
    quantity = _int_field(
        gettext_lazy("数量"),
        minimum=1,
        maximum=services.QUANTITY_MAX,
        message=gettext_lazy("数量须是 1 到 100000 的整数。"),
    )
    reason = forms.CharField(
        label=gettext_lazy("原因"),
        max_length=200,
        error_messages={"required": gettext_lazy("请填写调整原因。")},
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("例如：盘点发现破损 2 袋")}),
    )


class ClerkForm(forms.Form):
    user = forms.CharField(
        label=gettext_lazy("收银员账号"),
        max_length=150,
        error_messages={"required": gettext_lazy("请填写收银员的用户名或手机号。")},
        widget=forms.TextInput(
            attrs={"placeholder": gettext_lazy("用户名或登录手机号"), "autocomplete": "off"}
        ),
    )


class DayForm(forms.Form):
    idempotency_key = _key_field()
    date = forms.DateField(
        label=gettext_lazy("兑换日期"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": gettext_lazy("请选择兑换日期。"),
            "invalid": gettext_lazy("请输入有效的日期。"),
        },
    )
    starts = forms.TimeField(
        label=gettext_lazy("开始时间"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"invalid": gettext_lazy("请输入有效的时间，例如 09:00。")},
    )
    ends = forms.TimeField(
        label=gettext_lazy("结束时间"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"invalid": gettext_lazy("请输入有效的时间，例如 09:00。")},
    )
    note = forms.CharField(
        label=gettext_lazy("说明"),
        required=False,
        max_length=45,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("例如：三月兑换日")}),
        help_text=gettext_lazy("显示在收银页和汇总上；留空则为“某月某日兑换日”"),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts, ends = data.get("starts"), data.get("ends")
        if starts and ends and ends <= starts:
            self.add_error("ends", _("结束时间须晚于开始时间。"))
        if (starts is None) != (ends is None) and not self.errors:
            self.add_error("ends" if ends is None else "starts", _("请同时填写开始和结束时间，或都不填。"))
        return data


def day_title(date: dt.date, starts: dt.time | None, ends: dt.time | None, note: str) -> str:
    """The day's title as the till shows it: "09:00–11:30 三月兑换日" (the note, or "3月15日兑换日")."""
    note = (note or "").strip() or _("%(month)s月%(day)s日兑换日") % {"month": date.month, "day": date.day}
    if starts and ends:
        return f"{starts:%H:%M}–{ends:%H:%M} {note}"
    return note


# --- store list and store -------------------------------------------------------------------------


@require_GET
@pages
def store_list(request: HttpRequest) -> HttpResponse:
    """The stores the user sees, with item count, stock value and open or upcoming days."""
    rows = selectors.store_rows(request.user)
    regions = selectors.regions_for_new_store(request.user)
    if not rows and not regions:
        raise Http404(_("您没有可管理的积分超市。"))
    return render(
        request,
        "points/stores/list.html",
        {
            "rows": rows,
            "can_create": bool(regions),
            "total_value": services.fen_display(sum(row.stock_value_fen for row in rows)),
        },
    )


@pages
@require_http_methods(["GET", "POST"])
def store_create(request: HttpRequest) -> HttpResponse:
    regions = selectors.regions_for_new_store(request.user)
    if not regions:
        raise Http404(_("您没有开设积分超市的权限。"))
    form = StoreForm(request.POST or None, regions=regions, initial={"idempotency_key": _key()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        region = next((r for r in regions if r.pk == data["region"]), None)
        if region is None:
            raise Http404
        try:
            store = services.store_create(
                actor=request.user,
                idempotency_key=data["idempotency_key"],
                region=region,
                name=data["name"],
                address=data["address"],
            )
        except DomainError as error:
            if error.status == 404:
                raise
            _form_error(form, error)
        else:
            messages.success(request, _("已开设积分超市。下一步：新增商品并入库。"))
            return redirect("points:store_detail", store.pk)
    return render(request, "points/stores/store_form.html", {"form": form, "store": None})


@pages
@require_http_methods(["GET", "POST"])
def store_edit(request: HttpRequest, store_id: int) -> HttpResponse:
    store = selectors.store_get_managed(request.user, store_id)
    initial = {"name": store.name, "address": store.address, "is_active": store.is_active}
    form = StoreEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.store_update(actor=request.user, store=store, **form.cleaned_data)
        except DomainError as error:
            if error.status == 404:
                raise
            _form_error(form, error)
        else:
            messages.success(request, _("已保存。"))
            return redirect("points:store_detail", store.pk)
    return render(request, "points/stores/store_form.html", {"form": form, "store": store})


@require_GET
@pages
def store_detail(request: HttpRequest, store_id: int) -> HttpResponse:
    """The store's page: items with stock, redemption days, clerks."""
    store = selectors.store_get_managed(request.user, store_id)
    return render(request, "points/stores/detail.html", _detail_context(store, ClerkForm()))


def _detail_context(store: Store, clerk_form: ClerkForm) -> dict[str, Any]:
    items = selectors.store_items(store)
    current, earlier = selectors.store_days(store)
    return {
        "store": store,
        "items": items,
        "stock_value": services.fen_display(sum(i.stock_value_fen for i in items)),  # type: ignore[attr-defined]
        "days": current,
        "earlier_days": earlier,
        "today": timezone.localdate(),
        "clerks": selectors.store_clerks(store),
        "clerk_form": clerk_form,
    }


# --- items ----------------------------------------------------------------------------------------


@pages
@require_http_methods(["GET", "POST"])
def item_create(request: HttpRequest, store_id: int) -> HttpResponse:
    store = selectors.store_get_managed(request.user, store_id)
    form = ItemForm(request.POST or None, request.FILES or None, initial={"idempotency_key": _key()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            item = services.item_create(
                actor=request.user,
                idempotency_key=data["idempotency_key"],
                store=store,
                name=data["name"],
                unit=data["unit"],
                points_price=data["points_price"],
                picture=data["picture"],
                sort_order=data["sort_order"] or 0,
            )
        except DomainError as error:
            if error.status == 404:
                raise
            _form_error(form, error)
        else:
            messages.success(request, _("已新增商品“%(name)s”，现在可以入库。") % {"name": item.name})
            return redirect("points:item_stock_in", item.pk)
    return render(request, "points/stores/item_form.html", {"form": form, "store": store, "item": None})


@pages
@require_http_methods(["GET", "POST"])
def item_edit(request: HttpRequest, item_id: int) -> HttpResponse:
    item = selectors.item_get_managed(request.user, item_id)
    initial = {
        "name": item.name,
        "unit": item.unit,
        "points_price": item.points_price,
        "sort_order": item.sort_order,
        "is_active": item.is_active,
    }
    form = ItemForm(request.POST or None, request.FILES or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.item_update(
                actor=request.user,
                item=item,
                name=data["name"],
                unit=data["unit"],
                points_price=data["points_price"],
                is_active=data["is_active"],
                sort_order=data["sort_order"] or 0,
                picture=data["picture"] or None,
            )
        except DomainError as error:
            if error.status == 404:
                raise
            _form_error(form, error)
        else:
            messages.success(request, _("已保存。"))
            return redirect("points:store_detail", item.store_id)
    return render(request, "points/stores/item_form.html", {"form": form, "store": item.store, "item": item})


@require_GET
@pages
def item_ledger(request: HttpRequest, item_id: int) -> HttpResponse:
    """The item's stock ledger: every movement with the on-hand after it, newest first."""
    item = selectors.item_with_value(selectors.item_get_managed(request.user, item_id))
    return render(
        request,
        "points/stores/item_ledger.html",
        {
            "item": item,
            "store": item.store,
            "movements": selectors.item_stock_ledger(item),
            "limit": selectors.LEDGER_LIMIT,
        },
    )


def _stock_page(request: HttpRequest, item: Item, form: forms.Form, template: str) -> HttpResponse:
    status = 409 if getattr(form, "conflict", False) else 200
    return render(request, template, {"form": form, "item": item, "store": item.store}, status=status)


@pages
@require_http_methods(["GET", "POST"])
def item_stock_in(request: HttpRequest, item_id: int) -> HttpResponse:
    """入库: a purchase or a donation, with its source and money value in yuan."""
    item = selectors.item_get_managed(request.user, item_id)
    form = StockInForm(request.POST or None, initial={"idempotency_key": _key(), "kind": StockKind.PURCHASE})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.stock_in(
                actor=request.user,
                idempotency_key=data["idempotency_key"],
                item=item,
                kind=data["kind"],
                quantity=data["quantity"],
                source=data["source"],
                value_fen=services.yuan_to_fen(data["value_yuan"]),
            )
        except DomainError as error:
            if error.status == 404:
                raise
            _form_error(form, error)
        else:
            item.refresh_from_db(fields=["on_hand"])
            messages.success(
                request,
                _("已入库 %(n)s %(unit)s%(name)s，现有库存 %(on_hand)s %(unit)s。")
                % {"n": data["quantity"], "unit": item.unit, "name": item.name, "on_hand": item.on_hand},
            )
            return redirect("points:store_detail", item.store_id)
    return _stock_page(request, item, form, "points/stores/stock_in.html")


@pages
@require_http_methods(["GET", "POST"])
def item_adjust(request: HttpRequest, item_id: int) -> HttpResponse:
    """盘点调整: the change after a count, with a reason; never below zero."""
    item = selectors.item_get_managed(request.user, item_id)
    form = AdjustForm(request.POST or None, initial={"idempotency_key": _key()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.stock_adjust(
                actor=request.user,
                idempotency_key=data["idempotency_key"],
                item=item,
                quantity=int(data["direction"]) * data["quantity"],
                reason=data["reason"],
            )
        except DomainError as error:
            if error.status == 404:
                raise
            _form_error(form, error)
            form.conflict = error.status == 409  # type: ignore[attr-defined]
            item.refresh_from_db(fields=["on_hand"])
        else:
            item.refresh_from_db(fields=["on_hand"])
            messages.success(
                request,
                _("已调整库存，%(name)s现有 %(on_hand)s %(unit)s。")
                % {"name": item.name, "on_hand": item.on_hand, "unit": item.unit},
            )
            return redirect("points:item_ledger", item.pk)
    return _stock_page(request, item, form, "points/stores/adjust.html")


# --- clerks ---------------------------------------------------------------------------------------


@pages
@require_POST
def clerk_grant(request: HttpRequest, store_id: int) -> HttpResponse:
    store = selectors.store_get_managed(request.user, store_id)
    form = ClerkForm(request.POST)
    if form.is_valid():
        try:
            user = selectors.clerk_find(store, form.cleaned_data["user"])
            created = services.store_clerk_grant(actor=request.user, store=store, user=user)
        except DomainError as error:
            if error.status == 404:
                raise
            _form_error(form, error)
        else:
            name = str(user)
            if created:
                messages.success(request, _("已允许 %(name)s 在本超市收银。") % {"name": name})
            else:
                messages.info(request, _("%(name)s 已经可以在本超市收银。") % {"name": name})
            return redirect(f"{_detail_url(store)}#clerks")
    return render(request, "points/stores/detail.html", _detail_context(store, form), status=400)


@pages
@require_POST
def clerk_revoke(request: HttpRequest, store_id: int, user_id: int) -> HttpResponse:
    store = selectors.store_get_managed(request.user, store_id)
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise Http404
    if services.store_clerk_revoke(actor=request.user, store=store, user=user):
        messages.success(request, _("已取消 %(name)s 在本超市的收银权限。") % {"name": str(user)})
    return redirect(f"{_detail_url(store)}#clerks")


def _detail_url(store: Store) -> str:
    return reverse("points:store_detail", args=[store.pk])


# --- redemption days ------------------------------------------------------------------------------


@pages
@require_http_methods(["GET", "POST"])
def day_create(request: HttpRequest, store_id: int) -> HttpResponse:
    store = selectors.store_get_managed(request.user, store_id)
    form = DayForm(request.POST or None, initial={"idempotency_key": _key(), "date": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            day = day_services.day_schedule(
                actor=request.user,
                idempotency_key=data["idempotency_key"],
                store=store,
                date=data["date"],
                title=day_title(data["date"], data["starts"], data["ends"], data["note"]),
            )
        except DomainError as error:
            if error.status == 404:
                raise
            _form_error(form, error)
        else:
            messages.success(request, _("已安排兑换日：%(date)s。") % {"date": date_format(day.date)})
            return redirect(f"{_detail_url(store)}#days")
    return render(request, "points/stores/day_form.html", {"form": form, "store": store})


@pages
@require_POST
def day_state(request: HttpRequest, day_id: int) -> HttpResponse:
    """Open or close a day from the store's page; opening goes straight to its till."""
    day = selectors.day_get_managed(request.user, day_id)
    action = request.POST.get("action")
    try:
        if action == "open":
            day = day_services.day_open(actor=request.user, day=day)
        elif action == "close":
            day = day_services.day_close(actor=request.user, day=day)
        else:
            raise Http404
    except DomainError as error:
        if error.status == 404:
            raise
        messages.error(request, str(error.message))
        return redirect(f"{_detail_url(day.store)}#days")
    if day.status == DayStatus.OPEN:
        messages.success(request, _("兑换日已开始。"))
        return redirect("points:till", day.pk)
    messages.success(request, _("兑换日已结束。"))
    return redirect("points:till_summary", day.pk)

"""Pages of expos and festivals: the list (filters, sort, pages, Excel), create and edit, an event's page
(totals, platforms, top products, exhibitors, organisers and where to go next), adding and removing
exhibitors, granting an organiser; and the product catalogue (list, create, edit, a product's page).

Thin: parse, call one selector or service, render. Out of scope answers 404. The small helpers at the
top are shared with industry/views/sales.py and industry/views/hub.py.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from common.errors import DomainError
from common.excel import xlsx_response
from common.views import pages as pages  # re-exported: sales.py and hub.py take it from here
from governance.audit import audit_record
from governance.models import AuditAction, Region, RegionLevel, User
from industry import access
from industry.models import (
    Event,
    EventKind,
    Exhibitor,
    IndustryChain,
    ProductCategory,
)
from industry.selectors import events as selectors
from industry.services import events as services
from industry.templatetags.industry_tags import url_or_blank

REQUIRED = gettext_lazy("请填写此项。")
PAGE_SIZE = 30
EXPORT_MAX = 50_000

# --- shared helpers ---------------------------------------------------------------------------------


def new_key() -> str:
    return uuid.uuid4().hex


def key_field() -> forms.CharField:
    return forms.CharField(widget=forms.HiddenInput, max_length=64)


def form_error(form: forms.Form, error: DomainError) -> None:
    """Show `error` next to its field (or above the form when the field is not on it)."""
    form.add_error(error.field if error.field in form.fields else None, str(error.message))


def int_param(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def page_of(request: HttpRequest, rows: Any, size: int = PAGE_SIZE) -> Page:
    return Paginator(rows, size).get_page(request.GET.get("page"))


def querystring_without(request: HttpRequest, *names: str) -> str:
    """The request's query string without `names` (the pager and export links add theirs)."""
    params = request.GET.copy()
    for name in names:
        params.pop(name, None)
    return params.urlencode()


def fen_yuan(fen: int | None) -> Decimal | None:
    """Fen as a yuan Decimal for an Excel cell (a number people can sum)."""
    return None if fen is None else Decimal(fen) / 100


def export_audit(request: HttpRequest, object_type: str, title: str) -> None:
    audit_record(
        actor=request.user,
        action=AuditAction.EXPORT,
        object_type=object_type,
        detail=_("导出%(title)s") % {"title": title},
        request=request,
    )


# --- events: list -----------------------------------------------------------------------------------

EVENT_SORT_LABELS = {
    "-starts_on": gettext_lazy("开幕日期（新→旧）"),
    "starts_on": gettext_lazy("开幕日期（旧→新）"),
    "-total": gettext_lazy("销售额（高→低）"),
    "name": gettext_lazy("名称"),
    "town": gettext_lazy("乡镇"),
}


def _event_filters(request: HttpRequest) -> dict[str, Any]:
    kind = request.GET.get("kind", "")
    sort = request.GET.get("sort", "-starts_on")
    return {
        "year": int_param(request.GET.get("year")),
        "kind": kind if kind in EventKind.values else "",
        "town": int_param(request.GET.get("town")),
        "series": (request.GET.get("series") or "").strip()[:60],
        "q": (request.GET.get("q") or "").strip()[:40],
        "sort": sort if sort in selectors.EVENT_SORTS else "-starts_on",
    }


@require_GET
@pages
def event_list(request: HttpRequest) -> HttpResponseBase:
    """Events the user sees: filter by year, kind, town, series and name; sort; pages; ?export=xlsx."""
    f = _event_filters(request)
    rows: Any = selectors.events_list(
        request.user,
        year=f["year"],
        kind=f["kind"],
        town_id=f["town"],
        series=f["series"],
        q=f["q"],
        sort=f["sort"],
    )
    if request.GET.get("export") == "xlsx":
        title = _("展会节会")
        export_audit(request, "industry.event", title)
        return xlsx_response(
            filename=f"{title}.xlsx",
            sheet_title=title,
            headers=[
                _("名称"),
                _("类型"),
                _("系列"),
                _("举办乡镇"),
                _("一镇一品"),
                _("开始日期"),
                _("结束日期"),
                _("举办地点"),
                _("主办单位"),
                _("参展主体"),
                _("净销售额（元）"),
            ],
            rows=(
                [
                    e.name,
                    e.get_kind_display(),
                    e.series,
                    e.region.name,
                    e.town_product,
                    e.starts_on,
                    e.ends_on,
                    e.venue,
                    e.organiser,
                    e.exhibitor_count,
                    fen_yuan(e.total_fen),
                ]
                for e in rows[:EXPORT_MAX]
            ),
            widths=[28, 10, 18, 10, 12, 12, 12, 20, 20, 10, 16],
        )
    if not access.can_read_industry(request.user):
        return render(request, "industry/hub.html", {"empty": True})
    choices = selectors.event_filter_choices(request.user)
    return render(
        request,
        "industry/events/list.html",
        {
            "page": page_of(request, rows),
            "filters": f,
            "choices": choices,
            "kinds": EventKind.choices,
            "sorts": EVENT_SORT_LABELS,
            "can_create": bool(selectors.regions_for_new_event(request.user)),
            "querystring": querystring_without(request, "page", "export"),
        },
    )


# --- events: create and edit ------------------------------------------------------------------------


class EventForm(forms.Form):
    idempotency_key = key_field()
    kind = forms.ChoiceField(
        label=gettext_lazy("类型"),
        choices=EventKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": REQUIRED},
    )
    name = forms.CharField(
        label=gettext_lazy("名称"),
        max_length=80,
        error_messages={"required": REQUIRED},
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("例如 紫金镇开茶节")}),
    )
    region = forms.TypedChoiceField(
        label=gettext_lazy("举办乡镇"), coerce=int, error_messages={"required": REQUIRED}
    )
    starts_on = forms.DateField(
        label=gettext_lazy("开始日期"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": REQUIRED, "invalid": gettext_lazy("请输入有效的日期。")},
    )
    ends_on = forms.DateField(
        label=gettext_lazy("结束日期"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": REQUIRED, "invalid": gettext_lazy("请输入有效的日期。")},
    )
    town_product = forms.CharField(
        label=gettext_lazy("一镇一品"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("例如 黄桃")}),
    )
    series = forms.CharField(
        label=gettext_lazy("系列"),
        max_length=60,
        required=False,
        help_text=gettext_lazy("同一系列的节会可在列表中一起筛选，例如 五谷情深·味在谷城"),
    )
    venue = forms.CharField(label=gettext_lazy("举办地点"), max_length=100, required=False)
    organiser = forms.CharField(label=gettext_lazy("主办单位"), max_length=100, required=False)
    description = forms.CharField(
        label=gettext_lazy("简介"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, regions: list[Region] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if regions is None:
            del self.fields["idempotency_key"]
            del self.fields["region"]
            return
        region_field: forms.TypedChoiceField = self.fields["region"]  # type: ignore[assignment]
        region_field.choices = [("", _("请选择"))] + [
            (r.pk, _("全县") + f" · {r.name}" if r.level == RegionLevel.COUNTY else r.name) for r in regions
        ]


EVENT_FIELDS = (
    "kind",
    "name",
    "starts_on",
    "ends_on",
    "town_product",
    "series",
    "venue",
    "organiser",
    "description",
)


@require_http_methods(["GET", "POST"])
@pages
def event_create(request: HttpRequest) -> HttpResponse:
    regions = selectors.regions_for_new_event(request.user)
    if not regions:
        raise Http404(_("您没有登记展会节会的权限。"))
    if request.method == "POST":
        form = EventForm(request.POST, regions=regions)
        if form.is_valid():
            data = form.cleaned_data
            region = next((r for r in regions if r.pk == data["region"]), None)
            if region is None:
                form.add_error("region", _("请选择举办乡镇。"))
            else:
                try:
                    event = services.event_create(
                        actor=request.user,
                        idempotency_key=data["idempotency_key"],
                        region=region,
                        **{name: data[name] for name in EVENT_FIELDS},
                    )
                except DomainError as error:
                    form_error(form, error)
                else:
                    messages.success(request, _("已登记“%(name)s”。") % {"name": event.name})
                    return redirect("industry:event-detail", event.pk)
    else:
        initial: dict[str, Any] = {"idempotency_key": new_key(), "kind": EventKind.FESTIVAL}
        if len(regions) == 1:
            initial["region"] = regions[0].pk
        form = EventForm(initial=initial, regions=regions)
    return render(
        request,
        "industry/events/form.html",
        {"form": form, "event": None},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@pages
def event_edit(request: HttpRequest, pk: int) -> HttpResponse:
    event = access.event_get_runnable(request.user, pk)
    if request.method == "POST":
        form = EventForm(request.POST)
        if form.is_valid():
            try:
                services.event_update(
                    actor=request.user,
                    event=event,
                    **{name: form.cleaned_data[name] for name in EVENT_FIELDS},
                )
            except DomainError as error:
                form_error(form, error)
            else:
                messages.success(request, _("已保存。"))
                return redirect("industry:event-detail", event.pk)
    else:
        form = EventForm(initial={name: getattr(event, name) for name in EVENT_FIELDS})
    return render(
        request,
        "industry/events/form.html",
        {"form": form, "event": event},
        status=400 if form.errors else 200,
    )


# --- an event's page --------------------------------------------------------------------------------


class GrantForm(forms.Form):
    user = forms.CharField(
        label=gettext_lazy("组织者账号"),
        max_length=150,
        error_messages={"required": gettext_lazy("请填写要授权的用户名。")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": gettext_lazy("用户名")}),
    )


def event_links(user: Any, event: Event, *, can_run: bool) -> list[dict[str, Any]]:
    """Where the event's page leads: entry, the sales list, import, the dashboard, exhibitors — only what
    the user may open and what exists (another area's page may not be built yet)."""
    links: list[dict[str, Any]] = []

    def add(label: str, url: str, key: str, primary: bool = False) -> None:
        if url:
            links.append({"label": label, "url": url, "key": key, "primary": primary})

    if can_run:
        add(_("录入销售"), url_or_blank("industry:sale-create", event.pk), "go-entry", primary=True)
    add(_("销售记录"), url_or_blank("industry:event-sales", event.pk), "go-sales")
    if can_run:
        imports = url_or_blank("industry:import-create")
        add(_("Excel 导入销售"), f"{imports}?event={event.pk}" if imports else "", "go-import")
    add(_("销售看板"), url_or_blank("industry:event-dashboard", event.pk), "go-dashboard")
    if can_run:
        add(_("管理参展主体"), url_or_blank("industry:event-exhibitors", event.pk), "go-exhibitors")
    return links


@require_GET
@pages
def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    event = access.event_get_visible(request.user, pk)
    can_run = access.can_run_event(request.user, event)
    can_grant = access.can_create_event(request.user, event.region.path)
    totals = selectors.event_totals(event)
    return render(
        request,
        "industry/events/detail.html",
        {
            "event": event,
            "can_run": can_run,
            "can_grant": can_grant,
            "totals": totals,
            "top": selectors.event_top_products(event),
            "exhibitors": list(selectors.event_exhibitors(event)),
            "organisers": services.event_organisers(event) if can_grant else [],
            "grant_form": GrantForm() if can_grant else None,
            "links": event_links(request.user, event, can_run=can_run),
        },
    )


@require_POST
@pages
def event_organiser_grant(request: HttpRequest, pk: int) -> HttpResponse:
    event = access.event_get_visible(request.user, pk)
    if not access.can_create_event(request.user, event.region.path):
        raise Http404(str(access.EVENT_NOT_FOUND))
    form = GrantForm(request.POST)
    if form.is_valid():
        try:
            user, created = services.event_organiser_grant(
                actor=request.user, event=event, username=form.cleaned_data["user"]
            )
        except DomainError as error:
            form_error(form, error)
        else:
            label = user.full_name or user.username
            if created:
                messages.success(request, _("已授权 %(u)s 组织本次展会节会。") % {"u": label})
            else:
                messages.info(request, _("%(u)s 已经是本次展会节会的组织者。") % {"u": label})
            return redirect("industry:event-detail", event.pk)
    can_run = access.can_run_event(request.user, event)
    return render(
        request,
        "industry/events/detail.html",
        {
            "event": event,
            "can_run": can_run,
            "can_grant": True,
            "totals": selectors.event_totals(event),
            "top": selectors.event_top_products(event),
            "exhibitors": list(selectors.event_exhibitors(event)),
            "organisers": services.event_organisers(event),
            "grant_form": form,
            "links": event_links(request.user, event, can_run=can_run),
        },
        status=400,
    )


@require_POST
@pages
def event_organiser_revoke(request: HttpRequest, pk: int, user_id: int) -> HttpResponse:
    event = access.event_get_visible(request.user, pk)
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise Http404(_("未找到该账号。"))
    if services.event_organiser_revoke(actor=request.user, event=event, user=user):
        messages.success(request, _("已撤销 %(u)s 的组织者授权。") % {"u": user.full_name or user.username})
    return redirect("industry:event-detail", event.pk)


# --- exhibitors -------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@pages
def event_exhibitors(request: HttpRequest, pk: int) -> HttpResponse:
    """Search the businesses the user sees (name or credit code) and add one with a booth; the list of
    exhibitors with a remove button for those without sales."""
    event = access.event_get_runnable(request.user, pk)
    q = (request.GET.get("q") or request.POST.get("q") or "").strip()[:40]
    error: DomainError | None = None
    error_business = None
    booth_typed = ""
    if request.method == "POST":
        business = selectors.business_for_exhibitor(request.user, request.POST.get("business"))
        booth_typed = (request.POST.get("booth") or "").strip()
        try:
            if business is None:
                raise DomainError("business_required", _("请从搜索结果中选择经营主体。"), field="business")
            exhibitor = services.exhibitor_add(
                actor=request.user,
                idempotency_key=request.POST.get("idempotency_key", ""),
                event=event,
                business=business,
                booth=booth_typed,
            )
        except DomainError as exc:
            error = exc
            error_business = int_param(request.POST.get("business"))
        else:
            messages.success(
                request,
                _("已添加参展主体“%(name)s”%(booth)s。")
                % {
                    "name": exhibitor.business.name,
                    "booth": _("（展位 %(b)s）") % {"b": exhibitor.booth} if exhibitor.booth else "",
                },
            )
            return redirect("industry:event-exhibitors", event.pk)
    candidates = selectors.businesses_for_exhibitor(request.user, event, q)
    return render(
        request,
        "industry/events/exhibitors.html",
        {
            "event": event,
            "q": q,
            "candidates": candidates,
            "exhibitors": list(selectors.event_exhibitors(event)),
            "key": new_key(),
            "error": error,
            "error_business": error_business,
            "booth_typed": booth_typed,
            "businesses_url": url_or_blank("industry:businesses"),
        },
        status=400 if error else 200,
    )


@require_POST
@pages
def exhibitor_remove(request: HttpRequest, pk: int) -> HttpResponse:
    exhibitor = Exhibitor.objects.select_related("event__region", "business").filter(pk=pk).first()
    if exhibitor is None or not access.events_visible(request.user).filter(pk=exhibitor.event_id).exists():
        raise Http404(str(access.EVENT_NOT_FOUND))
    try:
        services.exhibitor_remove(actor=request.user, exhibitor=exhibitor)
    except DomainError as error:
        if error.status == 404:
            raise
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("已移除参展主体“%(name)s”。") % {"name": exhibitor.business.name})
    return redirect("industry:event-exhibitors", exhibitor.event_id)


# --- the product catalogue --------------------------------------------------------------------------

PRODUCT_SORT_LABELS = {
    "code": gettext_lazy("编码"),
    "name": gettext_lazy("名称"),
    "category": gettext_lazy("品类"),
    "-total": gettext_lazy("销售额（高→低）"),
}


def _product_filters(request: HttpRequest) -> dict[str, Any]:
    category = request.GET.get("category", "")
    sort = request.GET.get("sort", "code")
    return {
        "category": category if category in ProductCategory.values else "",
        "chain": int_param(request.GET.get("chain")),
        "township": int_param(request.GET.get("township")),
        "q": (request.GET.get("q") or "").strip()[:40],
        "sort": sort if sort in selectors.PRODUCT_SORTS else "code",
    }


@require_GET
@pages
def product_list(request: HttpRequest) -> HttpResponseBase:
    if not access.can_read_industry(request.user):
        return render(request, "industry/hub.html", {"empty": True})
    f = _product_filters(request)
    rows: Any = selectors.products_list(
        request.user,
        category=f["category"],
        chain_id=f["chain"],
        township_id=f["township"],
        q=f["q"],
        sort=f["sort"],
    )
    if request.GET.get("export") == "xlsx":
        title = _("农产品目录")
        export_audit(request, "industry.product", title)
        return xlsx_response(
            filename=f"{title}.xlsx",
            sheet_title=title,
            headers=[
                _("产品编码"),
                _("产品名称"),
                _("品类"),
                _("产地乡镇"),
                _("产地村"),
                _("所属产业链"),
                _("生产主体"),
                _("计量单位"),
                _("净销售额（元）"),
            ],
            rows=(
                [
                    p.code,
                    p.name,
                    p.get_category_display(),
                    p.origin_region.parent.name if p.origin_region and p.origin_region.parent else "",
                    p.origin_region.name if p.origin_region else "",
                    p.chain.name if p.chain else "",
                    p.producer.name if p.producer else "",
                    p.unit,
                    fen_yuan(p.total_fen),
                ]
                for p in rows[:EXPORT_MAX]
            ),
            widths=[16, 20, 10, 10, 12, 12, 24, 8, 16],
        )
    return render(
        request,
        "industry/events/product_list.html",
        {
            "page": page_of(request, rows, 50),
            "filters": f,
            "categories": ProductCategory.choices,
            "chains": list(IndustryChain.objects.order_by("sort_order", "name")),
            "townships": selectors.product_townships(request.user),
            "sorts": PRODUCT_SORT_LABELS,
            "can_manage": access.can_manage_catalogue(request.user),
            "querystring": querystring_without(request, "page", "export"),
        },
    )


class ProductForm(forms.Form):
    idempotency_key = key_field()
    category = forms.ChoiceField(
        label=gettext_lazy("品类"), choices=ProductCategory.choices, error_messages={"required": REQUIRED}
    )
    name = forms.CharField(
        label=gettext_lazy("产品名称"), max_length=60, error_messages={"required": REQUIRED}
    )
    code = forms.CharField(
        label=gettext_lazy("产品编码"),
        max_length=20,
        required=False,
        help_text=gettext_lazy("销售表格按编码识别产品；留空则自动编号"),
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "spellcheck": "false"}),
    )
    unit = forms.CharField(
        label=gettext_lazy("计量单位"),
        max_length=10,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("斤、箱、盒、件")}),
    )
    origin_region = forms.TypedChoiceField(
        label=gettext_lazy("产地村（社区）"), coerce=int, required=False, empty_value=None
    )
    chain = forms.TypedChoiceField(
        label=gettext_lazy("所属产业链"), coerce=int, required=False, empty_value=None
    )
    producer = forms.CharField(
        label=gettext_lazy("生产主体"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("填经营主体的全称或统一社会信用代码"),
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        villages = Region.objects.filter(level=RegionLevel.VILLAGE).select_related("parent").order_by("path")
        origin: forms.TypedChoiceField = self.fields["origin_region"]  # type: ignore[assignment]
        origin.choices = [("", _("不填"))] + [
            (v.pk, f"{v.parent.name if v.parent else ''} · {v.name}") for v in villages
        ]
        chain: forms.TypedChoiceField = self.fields["chain"]  # type: ignore[assignment]
        chain.choices = [("", _("不属于产业链"))] + [
            (c.pk, c.name) for c in IndustryChain.objects.order_by("sort_order", "name")
        ]
        if editing:
            del self.fields["idempotency_key"]


def _producer(user: Any, text: str) -> Any:
    text = (text or "").strip()
    if not text:
        return None
    found = access.businesses_visible(user).filter(Q(credit_code=text.upper()) | Q(name=text)).first()
    if found is None:
        raise DomainError(
            "producer_not_found", _("没有找到该经营主体，请填全称或统一社会信用代码。"), field="producer"
        )
    return found


def _product_values(request: HttpRequest, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "code": data.get("code") or "",
        "name": data["name"],
        "category": data["category"],
        "origin_region": services.origin_for_product(data.get("origin_region")),
        "chain": services.chain_for_product(data.get("chain")),
        "producer": _producer(request.user, data.get("producer", "")),
        "unit": data.get("unit") or "件",
    }


@require_http_methods(["GET", "POST"])
@pages
def product_create(request: HttpRequest) -> HttpResponse:
    if not access.can_manage_catalogue(request.user):
        raise Http404(_("您没有维护农产品目录的权限。"))
    if request.method == "POST":
        form = ProductForm(request.POST)
        if form.is_valid():
            try:
                product = services.product_create(
                    actor=request.user,
                    idempotency_key=form.cleaned_data["idempotency_key"],
                    **_product_values(request, form.cleaned_data),
                )
            except DomainError as error:
                form_error(form, error)
            else:
                messages.success(
                    request,
                    _("已新增产品 %(code)s %(name)s。") % {"code": product.code, "name": product.name},
                )
                return redirect("industry:product-detail", product.pk)
    else:
        category = request.GET.get("category", "")
        form = ProductForm(
            initial={
                "idempotency_key": new_key(),
                "category": category if category in ProductCategory.values else "",
                "unit": "斤",
            }
        )
    suggestions = {value: services.product_code_suggest(value) for value in ProductCategory.values}
    return render(
        request,
        "industry/events/product_form.html",
        {"form": form, "product": None, "suggestions": suggestions},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@pages
def product_edit(request: HttpRequest, pk: int) -> HttpResponse:
    product = selectors.product_get(request.user, pk)
    if not access.can_manage_catalogue(request.user):
        raise Http404(_("您没有维护农产品目录的权限。"))
    if request.method == "POST":
        form = ProductForm(request.POST, editing=True)
        if form.is_valid():
            try:
                services.product_update(
                    actor=request.user, product=product, **_product_values(request, form.cleaned_data)
                )
            except DomainError as error:
                form_error(form, error)
            else:
                messages.success(request, _("已保存。"))
                return redirect("industry:product-detail", product.pk)
    else:
        form = ProductForm(
            editing=True,
            initial={
                "code": product.code,
                "name": product.name,
                "category": product.category,
                "unit": product.unit,
                "origin_region": product.origin_region_id,
                "chain": product.chain_id,
                "producer": (product.producer.credit_code or product.producer.name)
                if product.producer
                else "",
            },
        )
    return render(
        request,
        "industry/events/product_form.html",
        {"form": form, "product": product, "suggestions": {}},
        status=400 if form.errors else 200,
    )


@require_GET
@pages
def product_detail(request: HttpRequest, pk: int) -> HttpResponse:
    product = selectors.product_get(request.user, pk)
    by_event = selectors.product_sales_by_event(request.user, product)
    return render(
        request,
        "industry/events/product_detail.html",
        {
            "product": product,
            "by_event": by_event,
            "total_fen": sum(row.amount_fen for row in by_event),
            "can_manage": access.can_manage_catalogue(request.user),
        },
    )

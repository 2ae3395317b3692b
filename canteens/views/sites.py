"""Pages of the sites area: the canteens hub (/canteens/), the livelihood-site registry per kind with
filters and Excel, a site's page (photos, slots, managers, host canteen), register/edit a site (township
and county admins), serving times, photos, and granting or revoking a site's manager.

Thin: parse, call one selector or service, render. Out of scope answers 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from canteens import access
from canteens.models import MealSlot, Site, SiteKind, SitePhoto, SlotKind
from canteens.selectors import sites as selectors
from canteens.services import sites as services
from canteens.views._common import REQUIRED, form_error, int_param, key_field, new_key, pages
from common.errors import DomainError
from common.excel import xlsx_response
from governance.audit import audit_record
from governance.models import AuditAction, Region, User

# --- forms ------------------------------------------------------------------------------------------


class SiteForm(forms.Form):
    idempotency_key = key_field()
    kind = forms.ChoiceField(
        label=gettext_lazy("类型"), choices=SiteKind.choices, error_messages={"required": REQUIRED}
    )
    region = forms.TypedChoiceField(
        label=gettext_lazy("所在村（社区）"), coerce=int, error_messages={"required": REQUIRED}
    )
    name = forms.CharField(label=gettext_lazy("名称"), max_length=60, error_messages={"required": REQUIRED})
    operator = forms.CharField(label=gettext_lazy("运营主体"), max_length=100, required=False)
    address = forms.CharField(label=gettext_lazy("地址"), max_length=200, required=False)
    capacity = forms.IntegerField(
        label=gettext_lazy("容量"),
        required=False,
        min_value=1,
        max_value=services.CAPACITY_MAX,
        help_text=gettext_lazy("食堂座位、讲堂名额或作坊工位数"),
        error_messages={
            "invalid": gettext_lazy("容量须是整数。"),
            "min_value": gettext_lazy("容量须在 1 到 10000 之间。"),
            "max_value": gettext_lazy("容量须在 1 到 10000 之间。"),
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    host = forms.TypedChoiceField(
        label=gettext_lazy("所在食堂"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=gettext_lazy("爱心讲堂设在食堂里时选择"),
    )
    phone = forms.CharField(label=gettext_lazy("联系电话"), max_length=20, required=False)
    opened_on = forms.DateField(
        label=gettext_lazy("启用日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": gettext_lazy("请输入有效的日期。")},
    )
    description = forms.CharField(
        label=gettext_lazy("简介"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    is_active = forms.BooleanField(label=gettext_lazy("运行中"), required=False)

    def __init__(
        self, *args: Any, regions: list[Region], hosts: list[Site], site: Site | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        region_field: forms.TypedChoiceField = self.fields["region"]  # type: ignore[assignment]
        region_field.choices = [("", _("请选择"))] + [
            (r.pk, f"{r.parent.name if r.parent else ''} · {r.name}") for r in regions
        ]
        host_field: forms.TypedChoiceField = self.fields["host"]  # type: ignore[assignment]
        host_field.choices = [("", _("不设在食堂"))] + [(h.pk, f"{h.region.name} · {h.name}") for h in hosts]
        if site is not None:
            for name in ("idempotency_key", "kind", "region"):
                del self.fields[name]
            self.fields["phone"].help_text = _("留空则保留原号码 %(phone)s") % {
                "phone": site.phone_masked or "—"
            }
        else:
            del self.fields["is_active"]


class GrantForm(forms.Form):
    user = forms.CharField(
        label=gettext_lazy("管理员账号"),
        max_length=150,
        error_messages={"required": gettext_lazy("请填写要授权的用户名。")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": gettext_lazy("用户名")}),
    )


class PhotoForm(forms.Form):
    image = forms.ImageField(
        label=gettext_lazy("照片"),
        error_messages={
            "required": gettext_lazy("请选择一张照片。"),
            "invalid_image": gettext_lazy("请上传有效的图片文件。"),
        },
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
    )
    caption = forms.CharField(
        label=gettext_lazy("说明"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("照片说明（选填）")}),
    )


class SlotForm(forms.Form):
    starts = forms.TimeField(
        label=gettext_lazy("开始时间"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"required": REQUIRED, "invalid": gettext_lazy("请输入有效的时间，例如 11:00。")},
    )
    ends = forms.TimeField(
        label=gettext_lazy("结束时间"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"required": REQUIRED, "invalid": gettext_lazy("请输入有效的时间，例如 12:30。")},
    )
    is_active = forms.BooleanField(label=gettext_lazy("供应"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts, ends = data.get("starts"), data.get("ends")
        if starts and ends and ends <= starts:
            self.add_error("ends", _("结束时间须晚于开始时间。"))
        return data


# --- where a page leads ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """One way on from the hub or a site's page: its label, where it goes, a data-testid, and whether it is
    the page's main action."""

    label: str
    url: str
    key: str
    primary: bool = False


@dataclass(frozen=True)
class LinkGroup:
    title: str
    key: str
    links: list[Link]


# A community site's own page (canteens/urls/community.py) and its button label.
COMMUNITY_PAGES = {
    SiteKind.CLASSROOM: ("classroom", gettext_lazy("讲堂工作台")),
    SiteKind.WORKSHOP: ("workshop", gettext_lazy("作坊工作台")),
    SiteKind.RED_STATION: ("station", gettext_lazy("驿站工作台")),
}


def _url(name: str, *args: Any, query: str = "") -> str:
    return reverse(f"canteens:{name}", args=args) + (f"?{query}" if query else "")


def _community_lists(kind: str, site: Site | None = None) -> list[Link]:
    """The cross-site lists of a community kind (canteens/views/community.py LISTS), narrowed to `site`
    when given (volunteers belong to a village, not a site: narrowed to the site's village)."""
    at = f"site={site.pk}" if site else ""
    if kind == SiteKind.CLASSROOM:
        return [
            Link(_("讲堂课程"), _url("community_list", "sessions", query=at), "go-sessions"),
            Link(
                _("志愿者"),
                _url("community_list", "volunteers", query=f"region={site.region_id}" if site else ""),
                "go-volunteers",
            ),
            Link(_("志愿服务时长"), _url("community_list", "hours", query=at), "go-hours"),
        ]
    if kind == SiteKind.WORKSHOP:
        return [
            Link(_("订单"), _url("community_list", "orders", query=at), "go-orders"),
            Link(_("工资"), _url("community_list", "wages", query=at), "go-wages"),
            Link(_("务工人员"), _url("community_list", "workers", query=at), "go-workers"),
            Link(_("产品"), _url("community_list", "products", query=at), "go-products"),
            Link(_("作坊月报"), _url("community_workshop_summary", query=at), "go-workshop-summary"),
        ]
    if kind == SiteKind.RED_STATION:
        return [
            Link(_("服务记录"), _url("community_list", "logs", query=at), "go-logs"),
            Link(_("服务项目"), _url("community_list", "services", query=at), "go-services"),
            Link(_("驿站月报"), _url("community_station_summary", query=at), "go-station-summary"),
        ]
    return []


def hub_links(user: Any, counts: list[selectors.KindCount]) -> list[LinkGroup]:
    """The hub's ledgers and reports per kind, only those the user may open and that have sites."""
    seen = {c.kind: c.count for c in counts}
    groups: list[LinkGroup] = []
    canteen: list[Link] = []
    if seen.get(SiteKind.CANTEEN):
        canteen.append(Link(_("捐赠资金"), _url("fund_list"), "go-funds"))
        if access.can_approve_any_claims(user):
            canteen.append(Link(_("补贴申报审批"), _url("claims"), "go-claims"))
        canteen.append(Link(_("运行报表"), _url("reports"), "go-reports"))
    if access.can_manage_tiers(user):
        canteen.append(Link(_("补贴档次"), _url("tier_list"), "go-tiers"))
    if canteen:
        groups.append(LinkGroup(str(SiteKind.CANTEEN.label), SiteKind.CANTEEN, canteen))
    for kind in (SiteKind.CLASSROOM, SiteKind.WORKSHOP, SiteKind.RED_STATION):
        if seen.get(kind):
            groups.append(LinkGroup(str(kind.label), kind, _community_lists(kind)))
    return groups


def site_links(user: Any, site: Site, *, can_run: bool, today: Any) -> list[LinkGroup]:
    """Where a site's page leads, grouped, only what the user may open: a canteen's daily work, money and
    settlement; a classroom's / workshop's / red station's own page and its lists."""
    if site.kind != SiteKind.CANTEEN:
        name, label = COMMUNITY_PAGES[SiteKind(site.kind)]
        page = Link(str(label), _url(name, site.pk), "go-page", primary=True)
        return [LinkGroup(_("工作台与台账"), "work", [page, *_community_lists(site.kind, site)])]
    daily: list[Link] = []
    if can_run:
        daily.append(Link(_("就餐登记"), _url("checkin", site.pk), "go-checkin", primary=True))
    daily.append(Link(_("今日就餐日报"), _url("meal_sheet", site.pk, today.isoformat()), "go-meal-sheet"))
    daily.append(Link(_("更正申请"), _url("corrections", site.pk), "go-corrections"))
    if can_run:
        daily.append(Link(_("就餐老人"), _url("enrolment_list", site.pk), "enrolments"))
    money = [
        Link(_("餐价与分担"), _url("rule_list", site.pk), "rules"),
        Link(_("捐赠资金"), _url("site_fund", site.pk), "go-fund"),
    ]
    if site.is_active:
        money.append(Link(_("公开感谢名单"), _url("thanks", site.pk), "go-thanks"))
    settle = [
        Link(_("月度结算与申报"), _url("settlements", site.pk), "go-settlements"),
        Link(_("年度预算"), _url("budgets", site.pk), "go-budgets"),
        Link(_("运行报表"), _url("site_report", site.pk), "go-report"),
    ]
    return [
        LinkGroup(_("日常"), "daily", daily),
        LinkGroup(_("餐价与捐赠"), "money", money),
        LinkGroup(_("结算与报表"), "settle", settle),
    ]


# --- hub and registry -------------------------------------------------------------------------------

HUB_OTHER_SITES_MAX = 12


@require_GET
@pages
def home(request: HttpRequest) -> HttpResponse:
    """The hub: the sites the user sees by kind with counts; the canteens they run with today's check-in;
    the other sites they run when few; the ledgers and reports per kind; the registry, tiers, a new site."""
    counts = selectors.site_counts_by_kind(request.user)
    runnable = list(selectors.canteens_runnable(request.user)[:50])
    can_create = bool(selectors.regions_for_new_site(request.user))
    can_manage_tiers = access.can_manage_tiers(request.user)
    if not any(c.count for c in counts) and not can_create and not can_manage_tiers:
        # The module is in everyone's navigation: someone with no site in scope gets a page that says so.
        return render(request, "canteens/sites/empty.html")
    others = list(
        access.sites_runnable(request.user)
        .filter(is_active=True)
        .exclude(kind=SiteKind.CANTEEN)
        .select_related("region")
        .order_by("kind", "region__path", "name")[: HUB_OTHER_SITES_MAX + 1]
    )
    return render(
        request,
        "canteens/sites/home.html",
        {
            "counts": counts,
            "total": sum(c.count for c in counts),
            "runnable": runnable,
            "others": [
                (
                    site,
                    _url(COMMUNITY_PAGES[SiteKind(site.kind)][0], site.pk),
                    COMMUNITY_PAGES[SiteKind(site.kind)][1],
                )
                for site in others
            ]
            if len(others) <= HUB_OTHER_SITES_MAX
            else [],
            "groups": hub_links(request.user, counts),
            "can_create": can_create,
            "can_manage_tiers": can_manage_tiers,
            "today": timezone.localdate(),
        },
    )


def _registry_rows(request: HttpRequest) -> tuple[dict[str, Any], Any]:
    kind = request.GET.get("kind", "")
    if kind not in SiteKind.values:
        kind = ""
    township_id = int_param(request.GET.get("township"))
    village_id = int_param(request.GET.get("village"))
    if village_id and not Region.objects.filter(pk=village_id, parent_id=township_id).exists():
        village_id = None
    q = (request.GET.get("q") or "").strip()[:30]
    rows = selectors.sites_list(request.user, kind=kind, township_id=township_id, village_id=village_id, q=q)
    filters = {"kind": kind, "township": township_id, "village": village_id, "q": q}
    return filters, rows


@require_GET
@pages
def site_list(request: HttpRequest) -> HttpResponseBase:
    """The registry: sites by kind, filtered by township / village / name; ?export=xlsx downloads it."""
    filters, rows = _registry_rows(request)
    if request.GET.get("export") == "xlsx":
        return _registry_export(request, filters, rows)
    counts = selectors.site_counts_by_kind(request.user)
    return render(
        request,
        "canteens/sites/list.html",
        {
            "rows": rows[:500],
            "count": rows.count(),
            "filters": filters,
            "kind_label": SiteKind(filters["kind"]).label if filters["kind"] else _("全部阵地"),
            "counts": counts,
            "townships": selectors.townships_for_filter(request.user),
            "villages": selectors.villages_for_filter(request.user, filters["township"]),
            "can_create": bool(selectors.regions_for_new_site(request.user)),
            "querystring": request.GET.urlencode(),
        },
    )


def _registry_export(request: HttpRequest, filters: dict[str, Any], rows: Any) -> HttpResponseBase:
    title = str(SiteKind(filters["kind"]).label if filters["kind"] else _("民生阵地"))
    audit_record(
        actor=request.user,
        action=AuditAction.EXPORT,
        object_type="canteens.site",
        detail=_("导出%(title)s名录") % {"title": title},
        request=request,
    )
    return xlsx_response(
        filename=f"{title}名录.xlsx",
        sheet_title=f"{title}名录",
        headers=[
            _("类型"),
            _("名称"),
            _("乡镇"),
            _("村（社区）"),
            _("地址"),
            _("运营主体"),
            _("容量"),
            _("所在食堂"),
            _("在册老人"),
            _("联系电话"),
            _("启用日期"),
            _("状态"),
        ],
        rows=(
            [
                site.get_kind_display(),
                site.name,
                site.region.parent.name if site.region.parent else "",
                site.region.name,
                site.address,
                site.operator,
                site.capacity,
                site.host.name if site.host else "",
                site.enrolled if site.kind == SiteKind.CANTEEN else "",
                site.phone_masked,
                site.opened_on,
                _("运行中") if site.is_active else _("已停用"),
            ]
            for site in rows
        ),
        widths=[10, 22, 12, 14, 28, 18, 8, 20, 10, 14, 12, 8],
    )


# --- a site -----------------------------------------------------------------------------------------


def _detail_context(request: HttpRequest, site: Site, grant_form: GrantForm | None = None) -> dict[str, Any]:
    can_setup = access.can_create_site(request.user, site.region.path)
    can_run = access.can_run_site(request.user, site)
    today = timezone.localdate()
    return {
        "site": site,
        "photos": list(site.photos.all()),
        "slots": list(MealSlot.objects.filter(site=site)),
        "managers": selectors.site_managers(site),
        "hosted": list(site.hosted.select_related("region").order_by("name")),
        "enrolled": selectors.site_enrolment_count(site) if site.kind == SiteKind.CANTEEN else None,
        "can_run": can_run,
        "can_setup": can_setup,
        "groups": site_links(request.user, site, can_run=can_run, today=today),
        "grant_form": grant_form or GrantForm(),
        "photo_form": PhotoForm(),
        "today": today,
    }


@require_GET
@pages
def site_detail(request: HttpRequest, site_id: int) -> HttpResponse:
    site = access.site_get_visible(request.user, site_id)
    return render(request, "canteens/sites/detail.html", _detail_context(request, site))


def _site_form_page(request: HttpRequest, form: SiteForm, site: Site | None) -> HttpResponse:
    return render(request, "canteens/sites/form.html", {"form": form, "site": site})


@pages
@require_http_methods(["GET", "POST"])
def site_create(request: HttpRequest) -> HttpResponse:
    regions = selectors.regions_for_new_site(request.user)
    if not regions:
        raise Http404(_("您没有登记民生阵地的权限。"))
    township_paths = {selectors.township_of(r.path) for r in regions}
    hosts = [
        h
        for h in access.sites_visible(request.user).filter(kind=SiteKind.CANTEEN).select_related("region")
        if selectors.township_of(h.region.path) in township_paths
    ]
    initial = {"idempotency_key": new_key(), "kind": request.GET.get("kind", SiteKind.CANTEEN)}
    form = SiteForm(request.POST or None, regions=regions, hosts=hosts, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        region = next((r for r in regions if r.pk == data["region"]), None)
        host = next((h for h in hosts if h.pk == data["host"]), None) if data["host"] else None
        if region is None:
            raise Http404
        try:
            site = services.site_create(
                actor=request.user,
                idempotency_key=data["idempotency_key"],
                kind=data["kind"],
                name=data["name"],
                region=region,
                address=data["address"],
                operator=data["operator"],
                capacity=data["capacity"],
                host=host,
                phone=data["phone"],
                description=data["description"],
                opened_on=data["opened_on"],
            )
        except DomainError as error:
            if error.status == 404:
                raise
            form_error(form, error)
        else:
            messages.success(request, _("已登记“%(name)s”。") % {"name": site.name})
            return redirect("canteens:site_detail", site.pk)
    return _site_form_page(request, form, None)


@pages
@require_http_methods(["GET", "POST"])
def site_edit(request: HttpRequest, site_id: int) -> HttpResponse:
    site = access.site_get_visible(request.user, site_id)
    if not access.can_create_site(request.user, site.region.path):
        raise Http404(str(access.NOT_FOUND_MESSAGE))
    hosts = (
        list(selectors.canteens_for_host(site.region).exclude(pk=site.pk))
        if site.kind == SiteKind.CLASSROOM
        else []
    )
    initial = {
        "name": site.name,
        "operator": site.operator,
        "address": site.address,
        "capacity": site.capacity,
        "host": site.host_id,
        "opened_on": site.opened_on,
        "description": site.description,
        "is_active": site.is_active,
    }
    form = SiteForm(request.POST or None, regions=[], hosts=hosts, site=site, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        host = next((h for h in hosts if h.pk == data["host"]), None) if data["host"] else None
        try:
            services.site_update(
                actor=request.user,
                site=site,
                name=data["name"],
                address=data["address"],
                operator=data["operator"],
                capacity=data["capacity"],
                host=host,
                phone=data["phone"] or None,
                description=data["description"],
                opened_on=data["opened_on"],
                is_active=data["is_active"],
            )
        except DomainError as error:
            if error.status == 404:
                raise
            form_error(form, error)
        else:
            messages.success(request, _("已保存。"))
            return redirect("canteens:site_detail", site.pk)
    return _site_form_page(request, form, site)


@require_POST
@pages
def manager_grant(request: HttpRequest, site_id: int) -> HttpResponse:
    site = access.site_get_visible(request.user, site_id)
    if not access.can_create_site(request.user, site.region.path):
        raise Http404(str(access.NOT_FOUND_MESSAGE))
    form = GrantForm(request.POST)
    if form.is_valid():
        user = User.objects.filter(username=form.cleaned_data["user"].strip(), is_active=True).first()
        if user is None:
            form.add_error("user", _("没有这个用户名的在用账号。"))
        else:
            try:
                created = services.site_manager_grant(actor=request.user, site=site, user=user)
            except DomainError as error:
                if error.status == 404:
                    raise
                form_error(form, error)
            else:
                name = user.full_name or user.username
                if created:
                    messages.success(request, _("已授权%(name)s管理本阵地。") % {"name": name})
                else:
                    messages.info(request, _("%(name)s已有本阵地的管理权限。") % {"name": name})
                return redirect("canteens:site_detail", site.pk)
    return render(request, "canteens/sites/detail.html", _detail_context(request, site, form), status=400)


@require_POST
@pages
def manager_revoke(request: HttpRequest, site_id: int, user_id: int) -> HttpResponse:
    site = access.site_get_visible(request.user, site_id)
    user = get_object_or_404(User, pk=user_id)
    if services.site_manager_revoke(actor=request.user, site=site, user=user):
        messages.success(request, _("已撤销%(name)s的管理权限。") % {"name": user.full_name or user.username})
    return redirect("canteens:site_detail", site.pk)


@require_POST
@pages
def photo_add(request: HttpRequest, site_id: int) -> HttpResponse:
    site = access.site_get_visible(request.user, site_id)
    form = PhotoForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.site_photo_add(
                actor=request.user,
                site=site,
                image=form.cleaned_data["image"],
                caption=form.cleaned_data["caption"],
            )
        except DomainError as error:
            if error.status == 404:
                raise
            messages.error(request, str(error.message))
        else:
            messages.success(request, _("已上传照片。"))
    else:
        for errors in form.errors.values():
            messages.error(request, str(errors[0]))
    return redirect("canteens:site_detail", site.pk)


@require_POST
@pages
def photo_delete(request: HttpRequest, site_id: int, photo_id: int) -> HttpResponse:
    site = access.site_get_visible(request.user, site_id)
    photo = get_object_or_404(SitePhoto, pk=photo_id, site=site)
    services.site_photo_delete(actor=request.user, photo=photo)
    messages.success(request, _("已删除照片。"))
    return redirect("canteens:site_detail", site.pk)


@pages
@require_http_methods(["GET", "POST"])
def slots_edit(request: HttpRequest, site_id: int) -> HttpResponse:
    """A canteen's serving times: one row per slot (breakfast, lunch, dinner)."""
    site = access.site_get_runnable(request.user, site_id)
    if site.kind != SiteKind.CANTEEN:
        raise Http404
    existing = {slot.kind: slot for slot in MealSlot.objects.filter(site=site)}
    defaults = {kind: (starts, ends) for kind, starts, ends in services.DEFAULT_SLOTS}
    forms_by_kind: list[tuple[str, str, SlotForm]] = []
    for kind, label in SlotKind.choices:
        slot = existing.get(kind)
        initial: dict[str, Any] = (
            {"starts": slot.starts, "ends": slot.ends, "is_active": slot.is_active}
            if slot
            else {"starts": defaults[kind][0], "ends": defaults[kind][1], "is_active": False}
        )
        form = SlotForm(request.POST or None, prefix=kind, initial=initial)
        forms_by_kind.append((kind, str(label), form))
    if request.method == "POST" and all(form.is_valid() for _kind, _label, form in forms_by_kind):
        try:
            with transaction.atomic():
                for kind, _label, form in forms_by_kind:
                    data = form.cleaned_data
                    if kind not in existing and not data["is_active"]:
                        continue
                    services.slot_set(
                        actor=request.user,
                        site=site,
                        kind=kind,
                        starts=data["starts"],
                        ends=data["ends"],
                        is_active=data["is_active"],
                    )
        except DomainError as error:
            if error.status == 404:
                raise
            form = next(f for k, _l, f in forms_by_kind if k == kind)
            form.add_error("ends" if error.field == "ends" else None, str(error.message))
        else:
            messages.success(request, _("已保存供餐时间。"))
            return redirect("canteens:site_detail", site.pk)
    return render(request, "canteens/sites/slots.html", {"site": site, "slot_forms": forms_by_kind})

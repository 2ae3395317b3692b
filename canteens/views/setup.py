"""Pages of the setup area: the county's subsidy tiers (county admin); a canteen's enrolled elders (search a
resident by name or ID tail, enrol with the eligibility checked, end, meal card with QR, list with filters
and Excel); a canteen's price rules with the four funders, validated and previewed with canteens.split.

Thin: parse, call one selector or service, render. Out of scope answers 404.
"""

from __future__ import annotations

import contextlib
from typing import Any

import segno
from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from canteens import access
from canteens.models import Funder, GovernmentLevel, SiteKind, SlotKind, SubsidyTier
from canteens.selectors import enrolments as enrolment_selectors
from canteens.selectors import rules as rule_selectors
from canteens.services import enrolments as enrolment_services
from canteens.services import rules as rule_services
from canteens.services import tiers as tier_services
from canteens.services._common import percent_to_bp, yuan_to_fen
from canteens.split import Share
from canteens.views._common import REQUIRED, form_error, int_param, key_field, new_key, pages
from common.errors import DomainError
from common.excel import xlsx_response
from governance.audit import audit_record
from governance.models import AuditAction, ResidentTagKind

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATE_ERRORS = {"required": REQUIRED, "invalid": gettext_lazy("请输入有效的日期。")}


# --- tiers ------------------------------------------------------------------------------------------


class TierForm(forms.Form):
    idempotency_key = key_field()
    name = forms.CharField(
        label=gettext_lazy("档次名称"), max_length=40, error_messages={"required": REQUIRED}
    )
    code = forms.CharField(
        label=gettext_lazy("代码"),
        max_length=20,
        error_messages={"required": REQUIRED},
        help_text=gettext_lazy("字母、数字或短横线，例如 age-70-79"),
    )
    min_age = forms.IntegerField(
        label=gettext_lazy("最低年龄"),
        required=False,
        min_value=0,
        max_value=130,
        error_messages={
            "invalid": gettext_lazy("年龄须是整数。"),
            "min_value": gettext_lazy("年龄须在 0 到 130 之间。"),
            "max_value": gettext_lazy("年龄须在 0 到 130 之间。"),
        },
    )
    max_age = forms.IntegerField(
        label=gettext_lazy("最高年龄"),
        required=False,
        min_value=0,
        max_value=130,
        help_text=gettext_lazy("留空表示不设上限"),
        error_messages={
            "invalid": gettext_lazy("年龄须是整数。"),
            "min_value": gettext_lazy("年龄须在 0 到 130 之间。"),
            "max_value": gettext_lazy("年龄须在 0 到 130 之间。"),
        },
    )
    tag = forms.ChoiceField(
        label=gettext_lazy("身份条件"),
        required=False,
        choices=[("", gettext_lazy("不限")), *ResidentTagKind.choices],
        help_text=gettext_lazy("须在居民档案中有此标签"),
    )
    sort_order = forms.IntegerField(label=gettext_lazy("排序"), required=False, min_value=0, max_value=32000)
    is_active = forms.BooleanField(label=gettext_lazy("启用"), required=False)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["idempotency_key"]
        else:
            del self.fields["is_active"]


def _require_tiers(request: HttpRequest) -> None:
    if not access.can_manage_tiers(request.user):
        raise Http404(_("未找到该页面，或者您没有权限。"))


@require_GET
@pages
def tier_list(request: HttpRequest) -> HttpResponse:
    _require_tiers(request)
    return render(request, "canteens/setup/tiers.html", {"tiers": SubsidyTier.objects.all()})


@pages
@require_http_methods(["GET", "POST"])
def tier_create(request: HttpRequest) -> HttpResponse:
    _require_tiers(request)
    form = TierForm(request.POST or None, initial={"idempotency_key": new_key()})
    if request.method == "POST" and form.is_valid():
        try:
            tier = tier_services.tier_create(actor=request.user, **form.cleaned_data)
        except DomainError as error:
            if error.status == 404:
                raise
            form_error(form, error)
        else:
            messages.success(request, _("已新增档次“%(name)s”。") % {"name": tier.name})
            return redirect("canteens:tier_list")
    return render(request, "canteens/setup/tier_form.html", {"form": form, "tier": None})


@pages
@require_http_methods(["GET", "POST"])
def tier_edit(request: HttpRequest, tier_id: int) -> HttpResponse:
    _require_tiers(request)
    tier = get_object_or_404(SubsidyTier, pk=tier_id)
    initial = {
        n: getattr(tier, n) for n in ("name", "code", "min_age", "max_age", "tag", "sort_order", "is_active")
    }
    form = TierForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            tier_services.tier_update(actor=request.user, tier=tier, **form.cleaned_data)
        except DomainError as error:
            if error.status == 404:
                raise
            form_error(form, error)
        else:
            messages.success(request, _("已保存。"))
            return redirect("canteens:tier_list")
    return render(request, "canteens/setup/tier_form.html", {"form": form, "tier": tier})


# --- enrolments -------------------------------------------------------------------------------------


class EnrolForm(forms.Form):
    idempotency_key = key_field()
    resident = forms.IntegerField(widget=forms.HiddenInput)
    tier = forms.TypedChoiceField(
        label=gettext_lazy("补贴档次"), coerce=int, error_messages={"required": REQUIRED}
    )
    starts_on = forms.DateField(
        label=gettext_lazy("开始日期"), widget=DATE_WIDGET, error_messages=DATE_ERRORS
    )
    ends_on = forms.DateField(
        label=gettext_lazy("结束日期"),
        required=False,
        widget=DATE_WIDGET,
        error_messages=DATE_ERRORS,
        help_text=gettext_lazy("留空表示长期"),
    )

    def __init__(self, *args: Any, tiers: list[SubsidyTier], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: forms.TypedChoiceField = self.fields["tier"]  # type: ignore[assignment]
        field.choices = [("", _("请选择"))] + [(t.pk, t.name) for t in tiers]


class EndForm(forms.Form):
    ends_on = forms.DateField(label=gettext_lazy("结束日期"), widget=DATE_WIDGET, error_messages=DATE_ERRORS)
    reason = forms.CharField(
        label=gettext_lazy("结束原因"),
        max_length=100,
        error_messages={"required": gettext_lazy("请填写结束原因。")},
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("例如：随子女外出居住")}),
    )


def _canteen(request: HttpRequest, site_id: int) -> Any:
    site = access.site_get_runnable(request.user, site_id)
    if site.kind != SiteKind.CANTEEN:
        raise Http404
    return site


@require_GET
@pages
def enrolment_list(request: HttpRequest, site_id: int) -> HttpResponseBase:
    """A canteen's enrolled elders with filters (open / ended / all, tier, name or ID tail); Excel."""
    site = _canteen(request, site_id)
    status = request.GET.get("status", "open")
    if status not in ("open", "ended", ""):
        status = "open"
    tier_id = int_param(request.GET.get("tier"))
    q = (request.GET.get("q") or "").strip()[:30]
    rows = enrolment_selectors.enrolments_list(site, status=status, tier_id=tier_id, q=q)
    today = timezone.localdate()
    if request.GET.get("export") == "xlsx":
        audit_record(
            actor=request.user,
            action=AuditAction.EXPORT,
            obj=site,
            region_path=site.region.path,
            detail=_("导出就餐老人名单"),
            request=request,
        )
        return xlsx_response(
            filename=f"{site.name}就餐老人.xlsx",
            sheet_title=_("就餐老人"),
            headers=[
                _("姓名"),
                _("性别"),
                _("年龄"),
                _("身份证号"),
                _("补贴档次"),
                _("资格依据"),
                _("开始日期"),
                _("结束日期"),
                _("结束原因"),
                _("就餐卡码"),
            ],
            rows=(
                [
                    e.resident.name,
                    e.resident.get_gender_display(),
                    enrolment_services.age_on(e.resident.birth_date, today),
                    e.resident.id_number_masked,
                    e.tier.name,
                    e.basis,
                    e.starts_on,
                    e.ends_on,
                    e.end_reason,
                    e.card_code,
                ]
                for e in rows
            ),
            widths=[10, 6, 6, 20, 12, 16, 12, 12, 20, 20],
        )
    page_rows = list(rows[:500])
    for e in page_rows:
        e.age = enrolment_services.age_on(e.resident.birth_date, today)  # type: ignore[attr-defined]
    return render(
        request,
        "canteens/setup/enrolments.html",
        {
            "site": site,
            "rows": page_rows,
            "count": rows.count(),
            "tiers": SubsidyTier.objects.all(),
            "filters": {"status": status, "tier": tier_id, "q": q},
            "querystring": request.GET.urlencode(),
        },
    )


@pages
@require_http_methods(["GET", "POST"])
def enrolment_create(request: HttpRequest, site_id: int) -> HttpResponse:
    """Search a resident (name or ID tail), then enrol them in a tier they qualify for."""
    site = _canteen(request, site_id)
    today = timezone.localdate()
    tiers = list(SubsidyTier.objects.filter(is_active=True))
    resident_id = int_param(request.POST.get("resident") or request.GET.get("resident"))
    q = (request.GET.get("q") or "").strip()[:30]
    context: dict[str, Any] = {"site": site, "q": q, "today": today}
    if resident_id is None:
        context["candidates"] = enrolment_selectors.residents_search(site, q, today) if q else None
        return render(request, "canteens/setup/enrol.html", context)
    resident = enrolment_selectors.resident_for_enrolment(site, resident_id)
    eligible = enrolment_services.tiers_eligible(resident, today)
    initial = {
        "idempotency_key": new_key(),
        "resident": resident.pk,
        "starts_on": today,
        "tier": eligible[0][0].pk if eligible else None,
    }
    form = EnrolForm(request.POST or None, tiers=tiers, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        tier = next((t for t in tiers if t.pk == data["tier"]), None)
        if tier is None:
            form.add_error("tier", _("请选择补贴档次。"))
        else:
            try:
                enrolment = enrolment_services.enrolment_create(
                    actor=request.user,
                    idempotency_key=data["idempotency_key"],
                    site=site,
                    resident=resident,
                    tier=tier,
                    starts_on=data["starts_on"],
                    ends_on=data["ends_on"],
                )
            except DomainError as error:
                if error.status == 404:
                    raise
                if error.field == "resident":  # a hidden field: shown above the form
                    error.field = None
                form_error(form, error)
            else:
                messages.success(
                    request,
                    _("已登记%(name)s（%(tier)s），可以打印就餐卡。")
                    % {"name": resident.name, "tier": tier.name},
                )
                return redirect("canteens:enrolment_card", enrolment.pk)
    context.update(
        {
            "resident": resident,
            "age": enrolment_services.age_on(resident.birth_date, today),
            "eligible": eligible,
            "form": form,
        }
    )
    return render(request, "canteens/setup/enrol.html", context, status=400 if form.errors else 200)


@pages
@require_http_methods(["GET", "POST"])
def enrolment_end(request: HttpRequest, enrolment_id: int) -> HttpResponse:
    enrolment = enrolment_selectors.enrolment_get_runnable(request.user, enrolment_id)
    form = EndForm(request.POST or None, initial={"ends_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            enrolment_services.enrolment_end(
                actor=request.user,
                enrolment=enrolment,
                ends_on=form.cleaned_data["ends_on"],
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            if error.status == 404:
                raise
            form_error(form, error)
        else:
            messages.success(request, _("已结束%(name)s的就餐登记。") % {"name": enrolment.resident.name})
            return redirect("canteens:enrolment_list", enrolment.site_id)
    return render(
        request,
        "canteens/setup/enrolment_end.html",
        {"enrolment": enrolment, "site": enrolment.site, "form": form},
    )


def card_qr_svg(card_code: str) -> SafeString:
    """The meal card's code as an inline SVG QR code (segno; nothing fetched)."""
    svg = segno.make(card_code, error="m", micro=False).svg_inline(
        scale=4, dark="#1f2328", light="#ffffff", omitsize=True
    )
    # segno writes only the SVG it generated from the (alphanumeric) code: safe to inline.
    return mark_safe(svg)  # noqa: S308


@require_GET
@pages
def enrolment_card(request: HttpRequest, enrolment_id: int) -> HttpResponse:
    """The elder's meal card (就餐卡): name, tier, canteen and the QR code the counter scans; printable."""
    enrolment = enrolment_selectors.enrolment_get_runnable(request.user, enrolment_id)
    return render(
        request,
        "canteens/setup/card.html",
        {"enrolment": enrolment, "site": enrolment.site, "qr": card_qr_svg(enrolment.card_code)},
    )


# --- price rules ------------------------------------------------------------------------------------


FUNDER_MODES = [
    ("", gettext_lazy("不分担")),
    ("fixed", gettext_lazy("固定金额")),
    ("share", gettext_lazy("按比例")),
]


class RuleForm(forms.Form):
    idempotency_key = key_field()
    tier = forms.TypedChoiceField(
        label=gettext_lazy("补贴档次"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=gettext_lazy("不选为非登记人员就餐（全价自付）"),
    )
    slot = forms.ChoiceField(
        label=gettext_lazy("餐次"),
        required=False,
        choices=[("", gettext_lazy("全部餐次")), *SlotKind.choices],
    )
    price_yuan = forms.CharField(
        label=gettext_lazy("餐价（元）"),
        max_length=12,
        error_messages={"required": REQUIRED},
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "4.00"}),
    )
    effective_from = forms.DateField(
        label=gettext_lazy("生效日期"), widget=DATE_WIDGET, error_messages=DATE_ERRORS
    )
    effective_to = forms.DateField(
        label=gettext_lazy("失效日期"),
        required=False,
        widget=DATE_WIDGET,
        error_messages=DATE_ERRORS,
        help_text=gettext_lazy("留空表示长期有效"),
    )
    government_level = forms.ChoiceField(label=gettext_lazy("政府补贴级别"), choices=GovernmentLevel.choices)
    remainder_funder = forms.ChoiceField(
        label=gettext_lazy("兜底方"),
        choices=Funder.choices,
        help_text=gettext_lazy("按比例分担的封顶截下部分由兜底方承担"),
    )
    donation_fallback = forms.ChoiceField(
        label=gettext_lazy("捐赠不足时由谁补足"),
        choices=[c for c in Funder.choices if c[0] != Funder.DONATION],
    )

    def __init__(self, *args: Any, tiers: list[SubsidyTier], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: forms.TypedChoiceField = self.fields["tier"]  # type: ignore[assignment]
        field.choices = [*[(t.pk, t.name) for t in tiers], ("", _("非登记就餐（全价）"))]
        for funder, label in Funder.choices:
            self.fields[f"{funder}_mode"] = forms.ChoiceField(
                label=label, required=False, choices=FUNDER_MODES
            )
            self.fields[f"{funder}_fixed"] = forms.CharField(
                label=gettext_lazy("固定金额（元）"),
                required=False,
                max_length=12,
                widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "1.50"}),
            )
            self.fields[f"{funder}_percent"] = forms.CharField(
                label=gettext_lazy("比例（%）"),
                required=False,
                max_length=8,
                widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "60"}),
            )
            self.fields[f"{funder}_cap"] = forms.CharField(
                label=gettext_lazy("封顶（元）"),
                required=False,
                max_length=12,
                widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": gettext_lazy("不封顶")}),
            )

    def funder_rows(self) -> list[tuple[str, str, Any, Any, Any, Any]]:
        return [
            (
                funder,
                str(label),
                self[f"{funder}_mode"],
                self[f"{funder}_fixed"],
                self[f"{funder}_percent"],
                self[f"{funder}_cap"],
            )
            for funder, label in Funder.choices
        ]


def rule_form_shares(data: dict[str, Any]) -> list[Share]:
    """The shares typed on the rule form (DomainError next to the funder's field for a bad figure)."""
    shares: list[Share] = []
    for funder in Funder.values:
        mode = data.get(f"{funder}_mode") or ""
        if mode == "fixed":
            fen = yuan_to_fen(data.get(f"{funder}_fixed"), field=f"{funder}_fixed")
            shares.append(Share(funder, fixed_fen=fen))
        elif mode == "share":
            bp = percent_to_bp(data.get(f"{funder}_percent"), field=f"{funder}_percent")
            if bp is None:
                raise DomainError("percent_required", _("请填写比例。"), field=f"{funder}_percent")
            cap = yuan_to_fen(data.get(f"{funder}_cap"), field=f"{funder}_cap", allow_blank=True)
            shares.append(Share(funder, share_bp=bp, cap_fen=cap))
    return shares


@require_GET
@pages
def rule_list(request: HttpRequest, site_id: int) -> HttpResponse:
    site = access.site_get_visible(request.user, site_id)
    if site.kind != SiteKind.CANTEEN:
        raise Http404
    today = timezone.localdate()
    rules = list(rule_selectors.price_rules_for_site(site))
    in_force_ids: set[int] = set()
    for rule in rules:
        rule.split_preview = None  # type: ignore[attr-defined]
        shares = rule_selectors.price_rule_shares(rule)
        rule.share_list = shares  # type: ignore[attr-defined]
        # A rule saved before a change of the split arithmetic may no longer add up: shown without a split.
        with contextlib.suppress(DomainError):
            rule.split_preview, _short = rule_services.split_preview(  # type: ignore[attr-defined]
                price_fen=rule.price_fen,
                shares=shares,
                remainder_funder=rule.remainder_funder,
                donation_fallback=rule.donation_fallback,
            )
    # Per tier and slot, the latest rule started by today and not expired is the one in force.
    seen: set[tuple[int | None, str]] = set()
    for rule in sorted(rules, key=lambda r: r.effective_from, reverse=True):
        group = (rule.tier_id, rule.slot)
        if group in seen or rule.effective_from > today or (rule.effective_to and rule.effective_to < today):
            continue
        seen.add(group)
        in_force_ids.add(rule.pk)
    return render(
        request,
        "canteens/setup/rules.html",
        {
            "site": site,
            "rules": rules,
            "in_force_ids": in_force_ids,
            "today": today,
            "can_setup": access.can_create_site(request.user, site.region.path),
            "funders": Funder.choices,
        },
    )


@pages
@require_http_methods(["GET", "POST"])
def rule_create(request: HttpRequest, site_id: int) -> HttpResponse:
    """A new price rule; "预览分摊" shows the split of one meal without saving."""
    site = access.site_get_visible(request.user, site_id)
    if site.kind != SiteKind.CANTEEN or not access.can_create_site(request.user, site.region.path):
        raise Http404(str(access.NOT_FOUND_MESSAGE))
    tiers = list(SubsidyTier.objects.filter(is_active=True))
    initial = {
        "idempotency_key": new_key(),
        "tier": tiers[0].pk if tiers else None,
        "effective_from": timezone.localdate(),
        "remainder_funder": Funder.COMMUNITY,
        "donation_fallback": Funder.COMMUNITY,
        "government_level": GovernmentLevel.COUNTY,
        "resident_mode": "fixed",
        "government_mode": "share",
        "community_mode": "share",
        "donation_mode": "share",
    }
    form = RuleForm(request.POST or None, tiers=tiers, initial=initial)
    preview: dict[str, int] | None = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        tier = next((t for t in tiers if t.pk == data["tier"]), None) if data["tier"] else None
        try:
            price = yuan_to_fen(data["price_yuan"], field="price_yuan")
            if not price:
                raise DomainError("bad_price", _("餐价须大于 0。"), field="price_yuan")
            shares = rule_form_shares(data)
            if request.POST.get("action") == "preview":
                preview, _short = rule_services.split_preview(
                    price_fen=price,
                    shares=shares,
                    remainder_funder=data["remainder_funder"],
                    donation_fallback=data["donation_fallback"],
                )
            else:
                rule_services.price_rule_create(
                    actor=request.user,
                    idempotency_key=data["idempotency_key"],
                    site=site,
                    tier=tier,
                    slot=data["slot"],
                    effective_from=data["effective_from"],
                    effective_to=data["effective_to"],
                    price_fen=price,
                    shares=shares,
                    remainder_funder=data["remainder_funder"],
                    donation_fallback=data["donation_fallback"],
                    government_level=data["government_level"],
                )
        except DomainError as error:
            if error.status == 404:
                raise
            if error.field == "price":
                error.field = "price_yuan"
            form_error(form, error)
        else:
            if preview is None:
                messages.success(request, _("已保存餐价与分担规则。"))
                return redirect("canteens:rule_list", site.pk)
    return render(
        request,
        "canteens/setup/rule_form.html",
        {"site": site, "form": form, "preview": preview, "funders": Funder.choices},
        status=400 if form.errors else 200,
    )


class RuleEndForm(forms.Form):
    effective_to = forms.DateField(
        label=gettext_lazy("失效日期"), widget=DATE_WIDGET, error_messages=DATE_ERRORS
    )


@pages
@require_http_methods(["GET", "POST"])
def rule_end(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = rule_selectors.price_rule_get(request.user, rule_id)
    if not access.can_create_site(request.user, rule.site.region.path):
        raise Http404(str(access.NOT_FOUND_MESSAGE))
    form = RuleEndForm(request.POST or None, initial={"effective_to": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            rule_services.price_rule_end(
                actor=request.user, rule=rule, effective_to=form.cleaned_data["effective_to"]
            )
        except DomainError as error:
            if error.status == 404:
                raise
            form_error(form, error)
        else:
            messages.success(request, _("已设置失效日期。"))
            return redirect("canteens:rule_list", rule.site_id)
    return render(request, "canteens/setup/rule_end.html", {"rule": rule, "site": rule.site, "form": form})

"""Pages of the rules area: the catalog (积分细则) with the county's items and a township's or village's own
additions, the add/edit form, activate/deactivate, and a township's redeemability policy."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from common.errors import DomainError
from common.views import pages
from governance import access as governance_access
from governance.models import Region, RegionLevel
from points import access
from points.models import CapPeriod, ExpiryMode, RuleCategory
from points.selectors import rules as selectors
from points.services import policy as policy_services
from points.services import rules as services
from points.views.awards import _form_error


class RuleForm(forms.Form):
    region = forms.TypedChoiceField(label=gettext_lazy("适用区域"), coerce=int)
    code = forms.CharField(label=gettext_lazy("条目编号"), max_length=20)
    name = forms.CharField(label=gettext_lazy("条目"), max_length=100)
    category = forms.ChoiceField(label=gettext_lazy("类别"), choices=RuleCategory.choices)
    points = forms.IntegerField(
        label=gettext_lazy("分值"),
        help_text=gettext_lazy("正数为加分，负数为扣分"),
        min_value=-100,
        max_value=100,
    )
    is_evidence_required = forms.BooleanField(label=gettext_lazy("须附照片"), required=False)
    cap_count = forms.IntegerField(
        label=gettext_lazy("次数上限"),
        required=False,
        min_value=1,
        max_value=31,
        help_text=gettext_lazy("每户每周期最多几次；留空为 1 次"),
    )
    cap_period = forms.ChoiceField(label=gettext_lazy("上限周期"), choices=CapPeriod.choices)
    description = forms.CharField(
        label=gettext_lazy("说明"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, regions: list[Region], editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        region_field: forms.TypedChoiceField = self.fields["region"]  # type: ignore[assignment]
        region_field.choices = [(r.pk, r.name) for r in regions]
        if editing:
            del self.fields["region"]
            del self.fields["code"]


def _manageable_regions(user: Any) -> list[Region]:
    scope = governance_access.scope_q(user, "path", access.RULE_MANAGER_ROLES)
    return list(Region.objects.filter(scope, level__in=services.RULE_LEVELS).order_by("path")[:300])


@pages
def rule_list(request: HttpRequest) -> HttpResponse:
    category = request.GET.get("category", "")
    if category not in RuleCategory.values:
        category = ""
    rules = list(
        selectors.rules_visible(
            request.user,
            category=category,
            active=request.GET.get("active", ""),
            query=request.GET.get("q", "").strip()[:50],
        )
    )
    for rule in rules:
        rule.can_manage = access.can_manage_rules(request.user, rule.region)  # type: ignore[attr-defined]
    townships = [r for r in _manageable_regions(request.user) if r.level == RegionLevel.TOWNSHIP]
    return render(
        request,
        "points/rules/list.html",
        {
            "rules": rules,
            "categories": RuleCategory.choices,
            "category": category,
            "can_add": bool(_manageable_regions(request.user)),
            "townships": townships,
        },
    )


@pages
@require_http_methods(["GET", "POST"])
def rule_create(request: HttpRequest) -> HttpResponse:
    regions = _manageable_regions(request.user)
    if not regions:
        raise Http404(_("您没有管理积分细则的权限。"))
    form = RuleForm(
        request.POST or None, regions=regions, initial={"cap_period": CapPeriod.MONTH, "cap_count": 1}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        region = next(r for r in regions if r.pk == data["region"])
        try:
            services.rule_create(
                actor=request.user,
                region=region,
                code=data["code"],
                name=data["name"],
                category=data["category"],
                points=data["points"],
                is_evidence_required=data["is_evidence_required"],
                cap_count=data["cap_count"],
                cap_period=data["cap_period"],
                description=data["description"],
            )
        except DomainError as error:
            if error.status == 404:
                raise
            _form_error(form, error)
        else:
            messages.success(request, _("已新增积分细则。"))
            return redirect("points:rule_list")
    return render(request, "points/rules/form.html", {"form": form, "rule": None})


@pages
@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = selectors.rule_get_visible(request.user, rule_id)
    if not access.can_manage_rules(request.user, rule.region):
        raise Http404(_("未找到该条目，或者它不在您的管辖范围内。"))
    initial = {
        name: getattr(rule, name)
        for name in (
            "name",
            "category",
            "points",
            "is_evidence_required",
            "cap_count",
            "cap_period",
            "description",
        )
    }
    form = RuleForm(request.POST or None, regions=[], editing=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.rule_update(actor=request.user, rule=rule, **form.cleaned_data)
        except DomainError as error:
            if error.status == 404:
                raise
            _form_error(form, error)
        else:
            messages.success(request, _("已保存。"))
            return redirect("points:rule_list")
    return render(request, "points/rules/form.html", {"form": form, "rule": rule})


@pages
@require_POST
def rule_toggle(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = selectors.rule_get_visible(request.user, rule_id)
    if not access.can_manage_rules(request.user, rule.region):
        raise Http404(_("未找到该条目，或者它不在您的管辖范围内。"))
    active = request.POST.get("active") == "1"
    services.rule_set_active(actor=request.user, rule=rule, active=active)
    messages.success(request, _("已启用。") if active else _("已停用，该条目不能再申报，历史记录保留。"))
    return redirect("points:rule_list")


class PolicyForm(forms.Form):
    min_balance_to_redeem = forms.IntegerField(label=gettext_lazy("兑换起点（分）"), min_value=0)
    notice_days = forms.IntegerField(label=gettext_lazy("公示天数"), min_value=1, max_value=30)
    expiry_mode = forms.ChoiceField(label=gettext_lazy("清零方式"), choices=ExpiryMode.choices)
    clearing_month = forms.IntegerField(label=gettext_lazy("清零月份"), min_value=1, max_value=12)
    clearing_day = forms.IntegerField(label=gettext_lazy("清零日"), min_value=1, max_value=28)


@pages
@require_http_methods(["GET", "POST"])
def township_policy(request: HttpRequest, township_id: int) -> HttpResponse:
    township = Region.objects.filter(pk=township_id, level=RegionLevel.TOWNSHIP).first()
    if township is None or not access.can_manage_rules(request.user, township):
        raise Http404(_("未找到该乡镇，或者它不在您的管辖范围内。"))
    policy = policy_services.policy_for(township)
    initial = {
        name: getattr(policy, name)
        for name in ("min_balance_to_redeem", "notice_days", "expiry_mode", "clearing_month", "clearing_day")
    }
    form = PolicyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            policy_services.policy_update(actor=request.user, township=township, **form.cleaned_data)
        except DomainError as error:
            if error.status == 404:
                raise
            _form_error(form, error)
        else:
            messages.success(request, _("已保存积分兑换政策。"))
            return redirect("points:township_policy", township.pk)
    return render(request, "points/rules/policy.html", {"form": form, "township": township})

"""Donation pages: the funds a user may see, a fund with its movements (running balance) and donations,
recording a donation (money or goods), and a canteen's public thank-you list (致谢榜, no log-in: donors
named only with their consent, amounts, no personal data). Thin: parse, one gate, one service."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from canteens.access import can_run_site, site_get_visible
from canteens.models import DonationKind, DonorKind, Site, SiteKind
from canteens.selectors import funds as selectors
from canteens.services import funds as services
from canteens.services._common import yuan_to_fen
from canteens.views._common import REQUIRED, form_error, key_field, new_key, pages
from common.errors import DomainError, NotFound


class DonationForm(forms.Form):
    donor_kind = forms.ChoiceField(label=gettext_lazy("捐赠方类型"), choices=DonorKind.choices)
    donor_name = forms.CharField(
        label=gettext_lazy("捐赠方"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("个人、企业或组织的名称；匿名捐赠可不填。"),
    )
    kind = forms.ChoiceField(label=gettext_lazy("捐赠形式"), choices=DonationKind.choices)
    amount = forms.CharField(
        label=gettext_lazy("金额（元）"),
        max_length=20,
        help_text=gettext_lazy("物资按折合金额填写，例如 1200 或 1,200.50。"),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    goods_description = forms.CharField(
        label=gettext_lazy("物资明细"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("捐赠物资时必填，例如：大米 20 袋、食用油 10 桶。"),
    )
    received_on = forms.DateField(
        label=gettext_lazy("捐赠日期"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": gettext_lazy("日期格式不对，例如 2026-03-08。")},
    )
    receipt_number = forms.CharField(label=gettext_lazy("收据编号"), max_length=30)
    purpose = forms.CharField(label=gettext_lazy("用途"), max_length=100, required=False)
    is_public = forms.BooleanField(
        label=gettext_lazy("同意在致谢榜上公开捐赠方名称"), required=False, initial=True
    )
    idempotency_key = key_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.error_messages["required"] = REQUIRED


@require_GET
@pages
def fund_list(request: HttpRequest) -> HttpResponse:
    funds = list(selectors.funds_visible(request.user).order_by("township_id", "site__name", "id"))
    return render(request, "canteens/donations/funds.html", {"funds": funds})


@pages
def site_fund(request: HttpRequest, site_id: int) -> HttpResponseBase:
    """The fund a canteen's meals draw from; POST (whoever runs it) sets up the canteen's own fund."""
    site = site_get_visible(request.user, site_id)
    if request.method == "POST":
        if site.kind != SiteKind.CANTEEN or not can_run_site(request.user, site):
            return HttpResponse(status=404)
        fund = services.donation_fund_ensure(actor=request.user, site=site)
        return redirect("canteens:fund", fund.pk)
    found = services.fund_for_site(site)
    if found is not None and (
        found.site_id == site.pk or selectors.funds_visible(request.user).filter(pk=found.pk).exists()
    ):
        return redirect("canteens:fund", found.pk)
    return render(
        request,
        "canteens/donations/no_fund.html",
        {"site": site, "can_run": site.kind == SiteKind.CANTEEN and can_run_site(request.user, site)},
    )


@require_GET
@pages
def fund_detail(request: HttpRequest, fund_id: int) -> HttpResponse:
    fund = selectors.fund_get_visible(request.user, fund_id)
    return render(
        request,
        "canteens/donations/fund.html",
        {
            "fund": fund,
            "movements": selectors.fund_movements(fund),
            "donations": list(selectors.fund_donations(fund)[:200]),
            "can_manage": services.fund_can_manage(request.user, fund),
        },
    )


@pages
def donation_create(request: HttpRequest, fund_id: int) -> HttpResponse:
    fund = selectors.fund_get_visible(request.user, fund_id)
    if not services.fund_can_manage(request.user, fund):
        return HttpResponse(status=404)
    if request.method == "POST":
        form = DonationForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                amount = yuan_to_fen(data["amount"], field="amount", maximum=services.AMOUNT_MAX_FEN)
                donation = services.donation_record(
                    actor=request.user,
                    idempotency_key=data["idempotency_key"],
                    fund=fund,
                    donor_name=data["donor_name"],
                    donor_kind=data["donor_kind"],
                    kind=data["kind"],
                    amount_fen=int(amount or 0),
                    received_on=data["received_on"],
                    receipt_number=data["receipt_number"],
                    purpose=data["purpose"],
                    goods_description=data["goods_description"],
                    is_public=data["is_public"],
                )
            except DomainError as error:
                if error.status == 404:
                    raise
                form_error(form, error)
            else:
                messages.success(
                    request,
                    _("已登记 %(donor)s 的捐赠，收据编号 %(number)s。")
                    % {"donor": donation.donor_name, "number": donation.receipt_number},
                )
                return redirect("canteens:fund", fund.pk)
    else:
        form = DonationForm(
            initial={"idempotency_key": new_key(), "received_on": timezone.localdate(), "is_public": True}
        )
    return render(
        request,
        "canteens/donations/form.html",
        {"fund": fund, "form": form},
        status=400 if form.errors else 200,
    )


@require_GET
def thanks(request: HttpRequest, site_id: int) -> HttpResponse:
    """The canteen's public thank-you list, viewable without logging in."""
    try:
        site: Site = selectors.site_public_get(site_id)
    except NotFound as error:
        raise Http404(str(error.message)) from None
    fund, rows = selectors.thanks_list(site)
    total = sum(row.amount_fen for row in rows)
    return render(
        request, "canteens/donations/thanks.html", {"site": site, "fund": fund, "rows": rows, "total": total}
    )

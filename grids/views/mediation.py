"""Mediation pages: "我的调解" (/grids/mediation/), the cases handed to the signed-in mediator and nothing
else; and the mediation section of the case page with its forms (hand over to a mediator, take it back,
record a session, record the agreement), which the case page delegates here.

Thin: reads through grids.selectors.mediation, writes through grids.services.mediation. A mediator opens
only the cases handed to them (grids.access: any other answers 404).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.errors import DomainError
from governance.models import User
from grids.models import Case
from grids.selectors import mediation as mediation_selectors
from grids.services import mediation as mediation_services
from grids.views.cases import add_domain_error, idempotency_field, scoped_page

PAGE_SIZE = 30


class HandOverForm(forms.Form):
    mediator = forms.ModelChoiceField(
        label=gettext_lazy("调解员"),
        queryset=User.objects.none(),
        empty_label=gettext_lazy("请选择评理团成员或调解员"),
        error_messages={
            "required": gettext_lazy("请选择调解员。"),
            "invalid_choice": gettext_lazy("请从列表中选择调解员。"),
        },
    )
    note = forms.CharField(label=gettext_lazy("移交说明"), required=False, max_length=500)

    prefix = "mediation"

    def __init__(self, *args: Any, candidates: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["mediator"]
        field.queryset = User.objects.filter(pk__in=[u.pk for u in candidates])  # type: ignore[attr-defined]
        field.label_from_instance = lambda u: str(u)  # type: ignore[attr-defined]


class RevokeForm(forms.Form):
    prefix = "revoke"

    mediator = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=gettext_lazy("收回原因"),
        max_length=300,
        error_messages={"required": gettext_lazy("请填写收回调解的原因。")},
    )


class SessionForm(forms.Form):
    prefix = "session"

    held_at = forms.DateTimeField(
        label=gettext_lazy("调解时间"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        error_messages={
            "required": gettext_lazy("请填写调解时间。"),
            "invalid": gettext_lazy("请输入有效的时间，如 2026-05-01 09:30。"),
        },
    )
    place = forms.CharField(label=gettext_lazy("地点"), required=False, max_length=100)
    participants = forms.CharField(
        label=gettext_lazy("参加人员"),
        max_length=300,
        error_messages={"required": gettext_lazy("请填写参加人员。")},
    )
    summary = forms.CharField(
        label=gettext_lazy("调解情况"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": gettext_lazy("请填写调解情况。")},
    )
    idempotency_key = idempotency_field()


class AgreementForm(forms.Form):
    prefix = "agreement"

    parties = forms.CharField(
        label=gettext_lazy("当事人"),
        max_length=300,
        error_messages={"required": gettext_lazy("请填写当事人。")},
    )
    terms = forms.CharField(
        label=gettext_lazy("协议内容"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": gettext_lazy("请填写协议内容。")},
    )
    signed_on = forms.DateField(
        label=gettext_lazy("签订日期"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": gettext_lazy("请填写签订日期。"),
            "invalid": gettext_lazy("请输入有效的日期，如 2026-05-01。"),
        },
    )


def handle(
    request: HttpRequest, case: Case, action: str
) -> tuple[HttpResponseBase | None, dict[str, forms.Form]]:
    """One of the mediation forms of the case page: a redirect on success, else the bound form."""
    section = mediation_selectors.mediation_section(user=request.user, case=case)
    back = redirect("grids:case_detail", number=case.number)
    if action == "mediation_hand_over":
        if not section.can_hand_over:
            raise PermissionDenied(_("只有村党组织书记及乡镇、县管理员可以移交调解。"))
        form: forms.Form = HandOverForm(request.POST, candidates=section.candidates)
        if form.is_valid():
            try:
                mediation_services.case_mediation_hand_over(
                    actor=request.user,
                    case=case,
                    mediator=form.cleaned_data["mediator"],
                    note=form.cleaned_data["note"],
                    request=request,
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, _("已移交%(name)s调解。") % {"name": form.cleaned_data["mediator"]})
                return back, {}
        return None, {"mediation_hand_over": form}
    if action == "mediation_revoke":
        if not section.can_hand_over:
            raise PermissionDenied(_("只有村党组织书记及乡镇、县管理员可以收回调解。"))
        form = RevokeForm(request.POST)
        if form.is_valid():
            mediator = next((m for m in section.mediators if m.pk == form.cleaned_data["mediator"]), None)
            try:
                if mediator is None:
                    raise DomainError("mediation_not_handed", _("该诉求未移交此人调解。"))
                mediation_services.case_mediation_revoke(
                    actor=request.user,
                    case=case,
                    mediator=mediator,
                    reason=form.cleaned_data["reason"],
                    request=request,
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, _("已收回%(name)s的调解授权。") % {"name": mediator})
                return back, {}
        return None, {"mediation_revoke": form}
    if action == "mediation_session":
        if not section.can_record:
            raise PermissionDenied(_("只有受托调解员或村党组织书记可以记录调解。"))
        form = SessionForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                mediation_services.mediation_session_record(
                    actor=request.user,
                    case=case,
                    held_at=data["held_at"],
                    place=data["place"],
                    participants=data["participants"],
                    summary=data["summary"],
                    idempotency_key=data["idempotency_key"],
                    request=request,
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, _("已记录调解情况。"))
                return back, {}
        return None, {"mediation_session": form}
    if action == "mediation_agreement":
        if not section.can_record:
            raise PermissionDenied(_("只有受托调解员或村党组织书记可以录入调解协议。"))
        form = AgreementForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                mediation_services.mediation_agreement_record(
                    actor=request.user,
                    case=case,
                    parties=data["parties"],
                    terms=data["terms"],
                    signed_on=data["signed_on"],
                    request=request,
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, _("已录入调解协议。"))
                return back, {}
        return None, {"mediation_agreement": form}
    raise PermissionDenied(_("未知的操作。"))


def section_context(request: HttpRequest, case: Case, bound: dict[str, forms.Form]) -> dict[str, Any]:
    """The mediation section's data and forms for the case page template (`m`, `m_forms`)."""
    section = mediation_selectors.mediation_section(user=request.user, case=case)
    if not section.is_shown:
        return {"m": section, "m_forms": {}}
    now = timezone.localtime().replace(second=0, microsecond=0)
    m_forms: dict[str, forms.Form] = {}
    if section.can_hand_over and section.candidates:
        m_forms["hand_over"] = bound.get("mediation_hand_over") or HandOverForm(candidates=section.candidates)
    if section.can_hand_over and section.mediators:
        m_forms["revoke"] = bound.get("mediation_revoke") or RevokeForm()
    # Sessions and the agreement are recorded once the case has been handed to someone (the secretary
    # may type them up for the mediator; the service allows it).
    if section.can_record and (section.mediators or section.sessions):
        m_forms["session"] = bound.get("mediation_session") or SessionForm(initial={"held_at": now})
        if section.agreement is None:
            m_forms["agreement"] = bound.get("mediation_agreement") or AgreementForm(
                initial={"signed_on": now.date()}
            )
    return {"m": section, "m_forms": m_forms}


@scoped_page
def mediation_list(request: HttpRequest) -> HttpResponse:
    """我的调解: the cases handed to the signed-in user for mediation."""
    cases = mediation_selectors.mediation_my_cases(user=request.user)
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "grids/mediation/list.html", {"page": page, "query": ""})

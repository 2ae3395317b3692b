"""Pages of households and residents: lists (filter, sort, paginate, export), a household with its
members, forms to register and edit, and the audited "查看完整信息" button.

Thin: each page parses its input, calls one selector or service and renders. Personal data is shown
masked; the clear values appear only in the response to the reveal button (POST, audited) and in an
export the user explicitly asks for, which only roles that see personal data may get (audited too).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from common.errors import DomainError
from common.views import pages
from governance import access
from governance.models import (
    ExportKind,
    Gender,
    Household,
    HouseholdTagKind,
    Region,
    RegionLevel,
    RelationToHead,
    Resident,
    ResidentStatus,
    ResidentTagKind,
)
from governance.selectors import people as people_selectors
from governance.services import people as people_services
from governance.views.exports import export_new_url
from governance.views.regions import region_picker_context

PAGE_SIZE = 20


def _querystring(params: QueryDict, **changes: str | None) -> str:
    """The current filters with `changes` applied (None drops a key), for links that keep them."""
    kept = params.copy()
    for key, value in changes.items():
        kept.pop(key, None)
        if value is not None:
            kept[key] = value
    return kept.urlencode()


def _paginate(request: HttpRequest, queryset: Any) -> Page:
    # One COUNT for the total and one query for the page's rows (plus one per prefetch), whatever the page.
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    return page


def _with_ages(residents: Sequence[Resident]) -> Sequence[Resident]:
    today = timezone.localdate()
    for resident in residents:
        resident.age = people_selectors.age_on(resident.birth_date, today)  # type: ignore[attr-defined]
    return residents


def _form_errors(form: forms.Form, error: DomainError) -> None:
    """Put a service's error next to its field, or above the form when it names no field of it."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, str(error.message))


# ---------------------------------------------------------------------------------------------------------
# Lists


def _list_context(request: HttpRequest, filterset: Any, queryset: Any, *, kind: str) -> dict[str, Any]:
    page = _paginate(request, queryset)
    options = people_selectors.people_list_options(user=request.user)
    narrowing = [k for k in request.GET if k not in ("page", "q", "sort") and request.GET.get(k)]
    return {
        "page": page,
        "filter_form": filterset.form,
        "filters_used": bool(narrowing),
        "region_choices": options.region_choices,
        "querystring": _querystring(request.GET, page=None),
        "can_export_full": bool(options.personal_data_paths),
        "can_create": options.can_create,
        "kind": kind,
    }


@pages
@require_GET
def household_list(request: HttpRequest) -> HttpResponse:
    filterset = people_selectors.household_filterset(user=request.user, filters=request.GET)
    queryset = filterset.qs if filterset.is_valid() else filterset.queryset
    context = _list_context(request, filterset, queryset, kind="household")
    return render(request, "governance/people/household_list.html", context)


@pages
@require_GET
def resident_list(request: HttpRequest) -> HttpResponse:
    filterset = people_selectors.resident_filterset(user=request.user, filters=request.GET)
    queryset = filterset.qs if filterset.is_valid() else filterset.queryset
    context = _list_context(request, filterset, queryset, kind="resident")
    _with_ages(context["page"].object_list)
    return render(request, "governance/people/resident_list.html", context)


# ---------------------------------------------------------------------------------------------------------
# Exports: the list's export links lead to the export page (governance.views.exports), which shows what
# will be exported and starts the job; the file is made as the user, in their scope, by a Celery task.


def _export_redirect(request: HttpRequest, kind: str) -> HttpResponseRedirect:
    filters = {k: v for k, v in request.GET.items() if k not in ("page", "full") and v}
    return HttpResponseRedirect(export_new_url(kind, filters, full=request.GET.get("full") == "1"))


@pages
@require_GET
def household_export(request: HttpRequest) -> HttpResponseBase:
    """The household list's export link (`full=1` for ID numbers, phones and addresses in clear): on to
    the export page with the same filters."""
    return _export_redirect(request, ExportKind.HOUSEHOLDS)


@pages
@require_GET
def resident_export(request: HttpRequest) -> HttpResponseBase:
    """The resident list's export link: on to the export page (see household_export)."""
    return _export_redirect(request, ExportKind.RESIDENTS)


# ---------------------------------------------------------------------------------------------------------
# A household and its members


def _member_context(request: HttpRequest, household: Household) -> dict[str, Any]:
    path = household.grid.path
    return {
        "household": household,
        "members": _with_ages(list(household.members.all())),
        "can_edit": people_selectors.people_can_edit(user=request.user, region_path=path),
        "can_reveal": access.can_view_personal_data(request.user, path),
        "today": timezone.localdate(),
    }


@pages
@require_GET
def household_detail(request: HttpRequest, household_id: int) -> HttpResponse:
    household = people_selectors.household_detail(user=request.user, household_id=household_id)
    context = _member_context(request, household)
    context["address_masked"] = people_selectors.address_mask(household.address)
    return render(request, "governance/people/household_detail.html", context)


@never_cache
@pages
@require_POST
def resident_reveal(request: HttpRequest, resident_id: int) -> HttpResponse:
    """The "查看完整信息" button: the member's card again with the clear values (htmx swaps it in);
    without htmx, the household page with that card opened. Audited by the service, refusals too."""
    revealed = people_services.resident_personal_data_reveal(
        actor=request.user, resident=resident_id, request=request
    )
    resident = people_selectors.resident_detail(user=request.user, resident_id=resident_id)
    _with_ages([resident])
    context = {
        "member": resident,
        "household": resident.household,
        "revealed": revealed,
        "can_reveal": True,
        "can_edit": people_selectors.people_can_edit(
            user=request.user, region_path=resident.household.grid.path
        ),
        "today": timezone.localdate(),
    }
    if request.headers.get("HX-Request") == "true":
        return render(request, "governance/people/_member.html", context)
    household = people_selectors.household_detail(user=request.user, household_id=resident.household_id)
    page_context = _member_context(request, household)
    page_context.update(revealed=revealed, revealed_id=resident.pk)
    page_context["address_masked"] = people_selectors.address_mask(household.address)
    return render(request, "governance/people/household_detail.html", page_context)


@pages
@require_POST
def household_head_set(request: HttpRequest, household_id: int, resident_id: int) -> HttpResponse:
    household = people_selectors.household_detail(user=request.user, household_id=household_id)
    resident = people_selectors.resident_detail(user=request.user, resident_id=resident_id)
    people_services.household_head_set(
        actor=request.user, household=household, resident=resident, request=request
    )
    messages.success(request, _("已将%(name)s设为户主。") % {"name": resident.name})
    return HttpResponseRedirect(reverse("governance:people_household_detail", args=[household.pk]))


# ---------------------------------------------------------------------------------------------------------
# Forms


class GridChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Region) -> str:
        return f"{obj.parent.name} · {obj.name}" if obj.parent else obj.name


def _grid_groups(grids: Sequence[Region]) -> list[tuple[str, list[tuple[int, str]]]]:
    """The grids as <optgroup>s, one per village ("城关镇 · 新华村"), in the order given."""
    groups: dict[int | None, tuple[str, list[tuple[int, str]]]] = {}
    for grid in grids:
        village = grid.parent
        if village is None:
            continue
        if village.pk not in groups:
            township = village.parent.name if village.parent else ""
            groups[village.pk] = (f"{township} · {village.name}" if township else village.name, [])
        groups[village.pk][1].append((grid.pk, grid.name))
    return list(groups.values())


def _key_field() -> forms.CharField:
    """The hidden idempotency key of a create form: a fresh uuid4 on GET, posted back unchanged when
    the form is shown again with errors, so a double tap or a retried POST registers once. Optional so
    a form loaded before the key existed still saves (without the replay guard)."""
    return forms.CharField(
        widget=forms.HiddenInput,
        required=False,
        max_length=64,
        error_messages={"max_length": gettext_lazy("防重复提交标识过长。")},
    )


def _fresh_key() -> str:
    return uuid.uuid4().hex


def _tag_field(choices: Any) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=gettext_lazy("标签"), choices=choices, required=False, widget=forms.CheckboxSelectMultiple
    )


class HouseholdForm(forms.Form):
    grid = GridChoiceField(
        label=gettext_lazy("网格"),
        queryset=Region.objects.none(),
        empty_label=gettext_lazy("请选择网格"),
        error_messages={
            "required": gettext_lazy("请选择网格。"),
            "invalid_choice": gettext_lazy("请选择列表中的网格：只能登记在您可以编辑的网格上。"),
        },
    )
    number = forms.CharField(
        label=gettext_lazy("户号"),
        max_length=30,
        error_messages={"required": gettext_lazy("请填写户号。")},
    )
    address = forms.CharField(label=gettext_lazy("住址"), max_length=200, required=False)
    tags = _tag_field(HouseholdTagKind.choices)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        grid_field = self.fields["grid"]
        assert isinstance(grid_field, GridChoiceField)
        grid_field.queryset = people_selectors.people_grid_choices(user=user)
        # Grouped by village in the official order: the <select> that works without JavaScript, and
        # that static/js/regions.js turns into township → village → grid steps.
        self.grids = {
            grid.pk: grid
            for grid in grid_field.queryset.select_related("parent__parent").order_by(
                "parent__parent__code", "parent__parent_id", "parent__code", "parent_id", "code", "name"
            )
        }
        grid_field.choices = [("", _("请选择网格")), *_grid_groups(list(self.grids.values()))]
        self.fields["number"].widget.attrs.update({"autocomplete": "off", "placeholder": _("如：XH-001")})
        self.fields["address"].widget.attrs.update({"placeholder": _("如：谷城县城关镇新华村一组12号")})


class HouseholdCreateForm(HouseholdForm):
    idempotency_key = _key_field()


class HouseholdEditForm(HouseholdForm):
    is_active = forms.BooleanField(label=gettext_lazy("在册"), required=False)


def _household_form_context(form: HouseholdForm, household: Household | None) -> dict[str, Any]:
    """The form, and the grid picker's steps opened at the grid chosen so far (if any)."""
    value = str(form["grid"].value() or "")
    chosen = form.grids.get(int(value)) if value.isdigit() else None
    picker = region_picker_context(
        purpose="people", target=RegionLevel.GRID, selected_path=chosen.path if chosen else ""
    )
    return {"form": form, "household": household, "picker": picker}


@pages
@require_http_methods(["GET", "POST"])
def household_create(request: HttpRequest) -> HttpResponse:
    initial: dict[str, Any] = {"idempotency_key": _fresh_key()}
    if (grid_id := request.GET.get("grid", "")).isdigit():
        initial["grid"] = int(grid_id)
    form = HouseholdCreateForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            household = people_services.household_create(
                actor=request.user,
                grid=data["grid"],
                number=data["number"],
                address=data["address"],
                tags=data["tags"],
                idempotency_key=data["idempotency_key"],
                request=request,
            )
        except DomainError as error:
            if error.status == 404:
                raise
            _form_errors(form, error)
        else:
            messages.success(request, _("已登记户%(number)s。") % {"number": household.number})
            return HttpResponseRedirect(reverse("governance:people_household_detail", args=[household.pk]))
    return render(request, "governance/people/household_form.html", _household_form_context(form, None))


@pages
@require_http_methods(["GET", "POST"])
def household_edit(request: HttpRequest, household_id: int) -> HttpResponse:
    household = people_selectors.household_detail(user=request.user, household_id=household_id)
    if not people_selectors.people_can_edit(user=request.user, region_path=household.grid.path):
        raise PermissionDenied(_("您的角色只能查看户籍和居民信息，不能修改。"))
    initial = {
        "grid": household.grid_id,
        "number": household.number,
        "address": household.address,
        "tags": [t.tag for t in household.tags.all()],
        "is_active": household.is_active,
    }
    form = HouseholdEditForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            people_services.household_update(
                actor=request.user,
                household=household,
                grid=data["grid"],
                number=data["number"],
                address=data["address"],
                is_active=data["is_active"],
                tags=data["tags"],
                request=request,
            )
        except DomainError as error:
            if error.status == 404:
                raise
            _form_errors(form, error)
        else:
            messages.success(request, _("已保存。"))
            return HttpResponseRedirect(reverse("governance:people_household_detail", args=[household.pk]))
    return render(request, "governance/people/household_form.html", _household_form_context(form, household))


class ResidentForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("姓名"), max_length=50, error_messages={"required": gettext_lazy("请填写姓名。")}
    )
    id_number = forms.CharField(
        label=gettext_lazy("身份证号"),
        max_length=30,
        error_messages={"required": gettext_lazy("请填写身份证号。")},
    )
    gender = forms.ChoiceField(
        label=gettext_lazy("性别"),
        choices=[("", gettext_lazy("按身份证号")), *Gender.choices],
        required=False,
    )
    birth_date = forms.DateField(
        label=gettext_lazy("出生日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": gettext_lazy("请输入有效的日期，如 1950-03-08。")},
        help_text=gettext_lazy("可不填，按身份证号自动填写；填写时须与身份证号一致。"),
    )
    phone = forms.CharField(label=gettext_lazy("手机号"), max_length=20, required=False)
    relation_to_head = forms.ChoiceField(
        label=gettext_lazy("与户主关系"),
        choices=RelationToHead.choices,
        error_messages={"required": gettext_lazy("请选择与户主关系。")},
    )
    status = forms.ChoiceField(label=gettext_lazy("状态"), choices=ResidentStatus.choices)
    tags = _tag_field(ResidentTagKind.choices)

    def __init__(self, *args: Any, editing: Resident | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        attrs = {"autocomplete": "off", "inputmode": "text", "autocapitalize": "characters"}
        self.fields["id_number"].widget.attrs.update(attrs, placeholder=_("18位，末位可为X"))
        self.fields["phone"].widget.attrs.update({"inputmode": "tel", "autocomplete": "off"})
        self.fields["name"].widget.attrs.update({"autocomplete": "off"})
        if editing is not None:
            # The form never carries the clear ID number or phone: left empty, they stay as they are.
            self.fields["id_number"].required = False
            self.fields["id_number"].widget.attrs["placeholder"] = _("留空则不修改（现为 %(masked)s）") % {
                "masked": editing.id_number_masked
            }
            self.fields["phone"].widget.attrs["placeholder"] = (
                _("留空则不修改（现为 %(masked)s）") % {"masked": editing.phone_masked}
                if editing.phone_masked
                else _("未登记")
            )
            self.fields["clear_phone"] = forms.BooleanField(label=gettext_lazy("删除手机号"), required=False)


class ResidentCreateForm(ResidentForm):
    idempotency_key = _key_field()


@pages
@require_http_methods(["GET", "POST"])
def resident_create(request: HttpRequest, household_id: int) -> HttpResponse:
    household = people_selectors.household_detail(user=request.user, household_id=household_id)
    if not people_selectors.people_can_edit(user=request.user, region_path=household.grid.path):
        raise PermissionDenied(_("您的角色只能查看户籍和居民信息，不能修改。"))
    first = household.head_id is None
    initial = {
        "status": ResidentStatus.RESIDENT,
        "relation_to_head": RelationToHead.SELF if first else RelationToHead.CHILD,
        "idempotency_key": _fresh_key(),
    }
    form = ResidentCreateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            resident = people_services.resident_create(
                actor=request.user,
                household=household,
                name=data["name"],
                id_number=data["id_number"],
                gender=data["gender"] or None,
                birth_date=data["birth_date"],
                phone=data["phone"],
                relation_to_head=data["relation_to_head"],
                status=data["status"],
                tags=data["tags"],
                idempotency_key=data["idempotency_key"],
                request=request,
            )
        except DomainError as error:
            if error.status == 404:
                raise
            _form_errors(form, error)
        else:
            messages.success(request, _("已登记%(name)s。") % {"name": resident.name})
            return HttpResponseRedirect(reverse("governance:people_household_detail", args=[household.pk]))
    return render(
        request,
        "governance/people/resident_form.html",
        {"form": form, "household": household, "resident": None},
    )


@pages
@require_http_methods(["GET", "POST"])
def resident_edit(request: HttpRequest, resident_id: int) -> HttpResponse:
    resident = people_selectors.resident_detail(user=request.user, resident_id=resident_id)
    household = resident.household
    if not people_selectors.people_can_edit(user=request.user, region_path=household.grid.path):
        raise PermissionDenied(_("您的角色只能查看户籍和居民信息，不能修改。"))
    initial = {
        "name": resident.name,
        "gender": resident.gender,
        "birth_date": resident.birth_date,
        "relation_to_head": resident.relation_to_head,
        "status": resident.status,
        "tags": [t.tag for t in resident.tags.all()],
    }
    form = ResidentForm(request.POST or None, initial=initial, editing=resident)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        phone: str | None = data["phone"] or None
        if data.get("clear_phone"):
            phone = ""
        birth_date: dt.date | None = data["birth_date"]
        try:
            people_services.resident_update(
                actor=request.user,
                resident=resident,
                name=data["name"],
                id_number=data["id_number"] or None,
                gender=data["gender"] or None,
                birth_date=birth_date,
                phone=phone,
                relation_to_head=data["relation_to_head"],
                status=data["status"],
                tags=data["tags"],
                request=request,
            )
        except DomainError as error:
            if error.status == 404:
                raise
            _form_errors(form, error)
        else:
            messages.success(request, _("已保存%(name)s的信息。") % {"name": resident.name})
            return HttpResponseRedirect(reverse("governance:people_household_detail", args=[household.pk]))
    return render(
        request,
        "governance/people/resident_form.html",
        {"form": form, "household": household, "resident": resident},
    )

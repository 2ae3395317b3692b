"""The county's configuration pages (/grids/config/...): the category tree, the time limits table, the
holiday calendar, handling units and their members, the routing table and the response templates.

County admins only; anyone else gets the ordinary 404 (the pages' existence does not leak). Thin: reads
through grids.selectors.config, each write through one service of grids.services.config; a refusal is
shown next to its field with what was typed kept (status 400); a success redirects (PRG).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.errors import DomainError, NotFound
from governance import access
from grids.models import CaseCategory, HandlingUnit, Urgency
from grids.selectors import config as selectors
from grids.services import config as services
from grids.views.cases import add_domain_error, idempotency_field


def county_admin_page(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Signed-in county admins only; everyone else, and any NotFound, gets the 404 page."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not access.is_county_admin(request.user):
            raise Http404(_("未找到该页面。"))
        try:
            return view(request, *args, **kwargs)
        except NotFound as error:
            raise Http404(str(error.message)) from None

    return login_required(wrapped)


SECTIONS = (
    ("grids:config_categories", gettext_lazy("民情类别")),
    ("grids:config_time_limits", gettext_lazy("办理时限")),
    ("grids:config_calendar", gettext_lazy("节假日")),
    ("grids:config_units", gettext_lazy("承办单位")),
    ("grids:config_routing", gettext_lazy("派单规则")),
    ("grids:config_templates", gettext_lazy("答复模板")),
)


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], forms_: list[forms.Form]
) -> HttpResponse:
    here = request.resolver_match.view_name if request.resolver_match else ""
    # A unit's or a template's own page sits under its list's tab.
    here = {"grids:config_unit": "grids:config_units", "grids:config_template": "grids:config_templates"}.get(
        here, here
    )
    tabs = [(reverse(name), label, here == name) for name, label in SECTIONS]
    status = 400 if any(form.is_bound and form.errors for form in forms_) else 200
    return render(request, template, {"tabs": tabs, **context}, status=status)


def _positive_int(label: Any, *, required: bool = True, max_value: int = 60) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        required=required,
        min_value=1,
        max_value=max_value,
        error_messages={
            "required": gettext_lazy("请填写天数。"),
            "invalid": gettext_lazy("请输入整数。"),
            "min_value": gettext_lazy("不能小于 %(limit_value)s。"),
            "max_value": gettext_lazy("不能大于 %(limit_value)s。"),
        },
    )


def _text(label: Any, max_length: int, *, required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=required,
        error_messages={
            "required": gettext_lazy("请填写%(label)s。") % {"label": label},
            "max_length": gettext_lazy("不能超过 %(limit_value)s 个字。"),
        },
    )


@county_admin_page
def config_home(request: HttpRequest) -> HttpResponseBase:
    return redirect("grids:config_categories")


# --- categories ----------------------------------------------------------------------------------------


class CategoryCreateForm(forms.Form):
    idempotency_key = idempotency_field()
    parent = forms.TypedChoiceField(
        label=gettext_lazy("所属职责"),
        coerce=int,
        choices=[],
        error_messages={
            "required": gettext_lazy("请选择所属职责。"),
            "invalid_choice": gettext_lazy("请选择所属职责。"),
        },
    )
    name = _text(gettext_lazy("类别名称"), 40)
    is_mediable = forms.BooleanField(label=gettext_lazy("可交乡贤调解"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        duties = CaseCategory.objects.filter(parent=None).order_by("sort_order", "pk")
        self.fields["parent"].choices = [("", _("请选择")), *((d.pk, d.name) for d in duties)]  # type: ignore[attr-defined]


class CategoryRenameForm(forms.Form):
    name = _text(gettext_lazy("类别名称"), 40)
    is_mediable = forms.BooleanField(label=gettext_lazy("可交乡贤调解"), required=False)


@county_admin_page
def config_categories(request: HttpRequest) -> HttpResponseBase:
    """The category tree: add a sub-category under a duty, rename one (and whether it may go to
    mediation), deactivate or reactivate it, delete one nobody has used."""
    create_form = CategoryCreateForm()
    edit_forms: dict[int, CategoryRenameForm] = {}
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "create":
                create_form = CategoryCreateForm(request.POST)
                if create_form.is_valid():
                    data = create_form.cleaned_data
                    try:
                        category = services.category_create(
                            actor=request.user,
                            parent=data["parent"],
                            name=data["name"],
                            is_mediable=data["is_mediable"],
                            idempotency_key=data["idempotency_key"],
                        )
                    except DomainError as error:
                        add_domain_error(create_form, error)
                    else:
                        messages.success(request, _("已添加类别“%(name)s”。") % {"name": category.name})
                        return redirect("grids:config_categories")
            elif action == "rename":
                pk = _int(request.POST.get("category"))
                form = CategoryRenameForm(request.POST, prefix=f"c{pk}")
                edit_forms[pk] = form
                if form.is_valid():
                    try:
                        category = services.category_update(
                            actor=request.user,
                            category=pk,
                            name=form.cleaned_data["name"],
                            is_mediable=form.cleaned_data["is_mediable"],
                        )
                    except DomainError as error:
                        add_domain_error(form, error)
                    else:
                        messages.success(request, _("已保存类别“%(name)s”。") % {"name": category.name})
                        return redirect("grids:config_categories")
            elif action in ("deactivate", "activate"):
                category = services.category_update(
                    actor=request.user,
                    category=_int(request.POST.get("category")),
                    is_active=action == "activate",
                )
                messages.success(
                    request,
                    (
                        _("已启用“%(name)s”。")
                        if category.is_active
                        else _("已停用“%(name)s”，不再用于新上报。")
                    )
                    % {"name": category.name},
                )
                return redirect("grids:config_categories")
            elif action == "delete":
                services.category_delete(actor=request.user, category=_int(request.POST.get("category")))
                messages.success(request, _("已删除类别。"))
                return redirect("grids:config_categories")
            else:
                raise Http404(_("未知的操作。"))
        except DomainError as error:
            if isinstance(error, NotFound):
                raise
            messages.error(request, str(error.message))
            return redirect("grids:config_categories")
    tree = selectors.category_tree()
    for node in tree:
        for child in node.children:
            child.edit_form = edit_forms.get(child.pk) or CategoryRenameForm(  # type: ignore[attr-defined]
                prefix=f"c{child.pk}", initial={"name": child.name, "is_mediable": child.is_mediable}
            )
        node.category.edit_form = edit_forms.get(node.category.pk) or CategoryRenameForm(  # type: ignore[attr-defined]
            prefix=f"c{node.category.pk}",
            initial={"name": node.category.name, "is_mediable": node.category.is_mediable},
        )
    return _render(
        request,
        "grids/config/categories.html",
        {"tree": tree, "create_form": create_form, "open_edit": next(iter(edit_forms), None)},
        [create_form, *edit_forms.values()],
    )


def _int(value: Any) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        raise Http404(_("未找到该记录。")) from None


# --- time limits ---------------------------------------------------------------------------------------


class TimeLimitRowForm(forms.Form):
    """One category's limits: for each urgency, sign and resolve days; both empty = inherit."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for urgency, label in Urgency.choices:
            self.fields[f"{urgency}_sign_days"] = _positive_int(
                _("%(urgency)s签收") % {"urgency": label}, required=False
            )
            self.fields[f"{urgency}_resolve_days"] = _positive_int(
                _("%(urgency)s办结") % {"urgency": label}, required=False
            )

    def limits(self) -> dict[str, tuple[int | None, int | None]]:
        data = self.cleaned_data
        return {u: (data.get(f"{u}_sign_days"), data.get(f"{u}_resolve_days")) for u in Urgency.values}


@county_admin_page
def config_time_limits(request: HttpRequest) -> HttpResponseBase:
    """The time limits table: per category and urgency, working days to sign for and to resolve; an empty
    pair inherits from the duty (or the default)."""
    bound: TimeLimitRowForm | None = None
    bound_pk: int | None = None
    if request.method == "POST":
        bound_pk = _int(request.POST.get("category"))
        bound = TimeLimitRowForm(request.POST, prefix=f"t{bound_pk}")
        if bound.is_valid():
            try:
                services.time_limits_set(actor=request.user, category=bound_pk, limits=bound.limits())
            except DomainError as error:
                add_domain_error(bound, error)
            else:
                name = CaseCategory.objects.filter(pk=bound_pk).values_list("name", flat=True).first()
                messages.success(request, _("已保存“%(name)s”的办理时限。") % {"name": name})
                return redirect(f"{reverse('grids:config_time_limits')}#t{bound_pk}")
    rows = selectors.time_limit_table()
    for row in rows:
        if bound is not None and row.category.pk == bound_pk:
            row.form = bound  # type: ignore[attr-defined]
        else:
            initial: dict[str, int] = {}
            for cell in row.cells:
                if cell.own:
                    initial[f"{cell.urgency}_sign_days"], initial[f"{cell.urgency}_resolve_days"] = cell.own
            row.form = TimeLimitRowForm(prefix=f"t{row.category.pk}", initial=initial)  # type: ignore[attr-defined]
        form = row.form  # type: ignore[attr-defined]
        row.inherits = any(cell.own is None for cell in row.cells)  # type: ignore[attr-defined]
        row.pairs = [  # type: ignore[attr-defined]
            (cell, form[f"{cell.urgency}_sign_days"], form[f"{cell.urgency}_resolve_days"])
            for cell in row.cells
        ]
    return _render(
        request,
        "grids/config/time_limits.html",
        {
            "rows": rows,
            "urgencies": Urgency.choices,
            "defaults": [(label, services.DEFAULT_TIME_LIMITS[u]) for u, label in Urgency.choices],
        },
        [bound] if bound is not None else [],
    )


# --- calendar ------------------------------------------------------------------------------------------

DAY_KINDS = (("holiday", gettext_lazy("放假")), ("workday", gettext_lazy("调休上班")))


class CalendarDayForm(forms.Form):
    date = forms.DateField(
        label=gettext_lazy("日期"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": gettext_lazy("请选择日期。"),
            "invalid": gettext_lazy("请输入有效的日期，如 2026-10-01。"),
        },
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("类型"),
        choices=DAY_KINDS,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("请选择放假或调休上班。")},
    )
    name = _text(gettext_lazy("名称"), 40, required=False)


@county_admin_page
def config_calendar(request: HttpRequest) -> HttpResponseBase:
    """A year of the working-day calendar (?year=): add a holiday or a make-up working day, remove one."""
    year = _year(request.GET.get("year") or request.POST.get("year"))
    form = CalendarDayForm(initial={"kind": "holiday"})
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "set":
            form = CalendarDayForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    row = services.calendar_day_set(
                        actor=request.user,
                        date=data["date"],
                        is_workday=data["kind"] == "workday",
                        name=data["name"],
                    )
                except DomainError as error:
                    add_domain_error(form, error)
                else:
                    if row is not None:
                        messages.success(
                            request,
                            _("已设置 %(date)s：%(name)s。") % {"date": _date_zh(row.date), "name": row.name},
                        )
                    return redirect(f"{reverse('grids:config_calendar')}?year={data['date'].year}")
        elif action == "remove":
            try:
                day = dt.date.fromisoformat(request.POST.get("date", ""))
            except ValueError:
                raise Http404(_("未找到该日期。")) from None
            services.calendar_day_remove(actor=request.user, date=day)
            messages.success(request, _("已删除 %(date)s 的设置。") % {"date": _date_zh(day)})
            return redirect(f"{reverse('grids:config_calendar')}?year={day.year}")
        else:
            raise Http404(_("未知的操作。"))
    return _render(
        request,
        "grids/config/calendar.html",
        {
            "cal": selectors.calendar_year(year),
            "form": form,
            "prev_year": year - 1,
            "next_year": year + 1,
            "weekdays": [_("一"), _("二"), _("三"), _("四"), _("五"), _("六"), _("日")],
        },
        [form],
    )


def _year(value: Any) -> int:
    try:
        year = int(str(value))
    except (TypeError, ValueError):
        return timezone.localdate().year
    return year if 2000 <= year <= 2100 else timezone.localdate().year


def _date_zh(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


# --- handling units ------------------------------------------------------------------------------------


class RegionChoiceField(forms.TypedChoiceField):
    def __init__(self, label: Any, **kwargs: Any) -> None:
        super().__init__(
            label=label,
            coerce=int,
            choices=[],
            error_messages={
                "required": gettext_lazy("请选择区域。"),
                "invalid_choice": gettext_lazy("请选择县、乡镇或村（社区）。"),
            },
            **kwargs,
        )

    def setup(self) -> None:
        groups = selectors.region_choices()
        self.choices = [
            ("", _("请选择区域")),
            *((g.label, [(r.pk, r.name) for r in g.regions]) for g in groups),
        ]


class UnitForm(forms.Form):
    idempotency_key = idempotency_field()
    name = _text(gettext_lazy("承办单位名称"), 60)
    region = RegionChoiceField(gettext_lazy("所在区域"))
    phone = _text(gettext_lazy("联系电话"), 20, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].setup()  # type: ignore[attr-defined]


class UnitEditForm(forms.Form):
    name = _text(gettext_lazy("承办单位名称"), 60)
    phone = _text(gettext_lazy("联系电话"), 20, required=False)
    is_active = forms.BooleanField(label=gettext_lazy("启用"), required=False)


class MemberAddForm(forms.Form):
    idempotency_key = idempotency_field()
    username = _text(gettext_lazy("用户名"), 150)


@county_admin_page
def config_units(request: HttpRequest) -> HttpResponseBase:
    """The handling units (where each sits, its members, whether it takes cases) and the form to add one."""
    form = UnitForm()
    if request.method == "POST":
        form = UnitForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                unit = services.unit_create(
                    actor=request.user,
                    name=data["name"],
                    region=data["region"],
                    phone=data["phone"],
                    idempotency_key=data["idempotency_key"],
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(
                    request, _("已添加承办单位“%(name)s”，请添加承办人员。") % {"name": unit.name}
                )
                return redirect("grids:config_unit", unit_id=unit.pk)
    return _render(request, "grids/config/units.html", {"units": selectors.units_all(), "form": form}, [form])


@county_admin_page
def config_unit(request: HttpRequest, unit_id: int) -> HttpResponseBase:
    """One unit: rename, phone, (de)activate; add a member by user name, remove one."""
    unit = selectors.unit_get(unit_id)
    if unit is None:
        raise Http404(_("未找到该承办单位。"))
    edit_form = UnitEditForm(initial={"name": unit.name, "phone": unit.phone, "is_active": unit.is_active})
    member_form = MemberAddForm()
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "edit":
            edit_form = UnitEditForm(request.POST)
            if edit_form.is_valid():
                try:
                    services.unit_update(actor=request.user, unit=unit, **edit_form.cleaned_data)
                except DomainError as error:
                    add_domain_error(edit_form, error)
                else:
                    messages.success(request, _("已保存承办单位。"))
                    return redirect("grids:config_unit", unit_id=unit.pk)
        elif action == "member_add":
            member_form = MemberAddForm(request.POST)
            if member_form.is_valid():
                try:
                    user = services.unit_member_add(
                        actor=request.user,
                        unit=unit,
                        username=member_form.cleaned_data["username"],
                        idempotency_key=member_form.cleaned_data["idempotency_key"],
                    )
                except DomainError as error:
                    add_domain_error(member_form, error)
                else:
                    messages.success(
                        request, _("已添加承办人员 %(name)s。") % {"name": user.full_name or user.username}
                    )
                    return redirect("grids:config_unit", unit_id=unit.pk)
        elif action == "member_remove":
            services.unit_member_remove(actor=request.user, unit=unit, user=_int(request.POST.get("user")))
            messages.success(request, _("已移除承办人员。"))
            return redirect("grids:config_unit", unit_id=unit.pk)
        else:
            raise Http404(_("未知的操作。"))
    return _render(
        request,
        "grids/config/unit.html",
        {"unit": unit, "edit_form": edit_form, "member_form": member_form},
        [edit_form, member_form],
    )


# --- routing -------------------------------------------------------------------------------------------


class RoutingForm(forms.Form):
    category = forms.TypedChoiceField(
        label=gettext_lazy("类别"),
        coerce=int,
        choices=[],
        error_messages={
            "required": gettext_lazy("请选择类别。"),
            "invalid_choice": gettext_lazy("请选择类别。"),
        },
    )
    region = RegionChoiceField(gettext_lazy("适用区域"))
    unit = forms.TypedChoiceField(
        label=gettext_lazy("承办单位"),
        coerce=int,
        choices=[],
        error_messages={
            "required": gettext_lazy("请选择承办单位。"),
            "invalid_choice": gettext_lazy("请选择在用的承办单位。"),
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tree = selectors.category_tree()
        self.fields["category"].choices = [  # type: ignore[attr-defined]
            ("", _("请选择类别")),
            *(
                (
                    node.category.name,
                    [(node.category.pk, _("%(name)s（全部）") % {"name": node.category.name})]
                    + [(c.pk, c.name) for c in node.children if c.is_active],
                )
                for node in tree
            ),
        ]
        self.fields["region"].setup()  # type: ignore[attr-defined]
        units = (
            HandlingUnit.objects.filter(is_active=True)
            .select_related("region")
            .order_by("region__path", "name")
        )
        self.fields["unit"].choices = [  # type: ignore[attr-defined]
            ("", _("请选择承办单位")),
            *((u.pk, f"{u.name}（{u.region.name}）") for u in units),
        ]


@county_admin_page
def config_routing(request: HttpRequest) -> HttpResponseBase:
    """The routing table (category × region → unit): set a rule (replacing the one for the same category
    and region) or delete one. The case page suggests the unit of the most specific rule."""
    form = RoutingForm()
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "set":
            form = RoutingForm(request.POST)
            if form.is_valid():
                try:
                    services.routing_rule_set(actor=request.user, **form.cleaned_data)
                except DomainError as error:
                    add_domain_error(form, error)
                else:
                    messages.success(request, _("已保存派单规则。"))
                    return redirect("grids:config_routing")
        elif action == "delete":
            services.routing_rule_delete(actor=request.user, rule=_int(request.POST.get("rule")))
            messages.success(request, _("已删除派单规则。"))
            return redirect("grids:config_routing")
        else:
            raise Http404(_("未知的操作。"))
    return _render(
        request, "grids/config/routing.html", {"rules": selectors.routing_rules_all(), "form": form}, [form]
    )


# --- response templates --------------------------------------------------------------------------------


def transition_label(name: str) -> str:
    from grids.selectors.case_page import event_label

    return _("上报回执（发给群众）") if name == "file" else event_label(name)


class TemplateForm(forms.Form):
    idempotency_key = idempotency_field()
    transition = forms.ChoiceField(
        label=gettext_lazy("办理环节"),
        choices=[],
        error_messages={
            "required": gettext_lazy("请选择办理环节。"),
            "invalid_choice": gettext_lazy("请选择办理环节。"),
        },
    )
    category = forms.TypedChoiceField(
        label=gettext_lazy("适用类别"), coerce=int, required=False, empty_value=None, choices=[]
    )
    text = forms.CharField(
        label=gettext_lazy("模板内容"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "可用占位符：{number} 编号、{category} 类别、{deadline} 办结期限、{unit} 承办单位。"
        ),
        error_messages={
            "required": gettext_lazy("请填写模板内容。"),
            "max_length": gettext_lazy("不能超过 %(limit_value)s 个字。"),
        },
    )
    is_sent_to_resident = forms.BooleanField(label=gettext_lazy("以短信发送给群众"), required=False)
    is_active = forms.BooleanField(label=gettext_lazy("启用"), required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["transition"].choices = [  # type: ignore[attr-defined]
            ("", _("请选择")),
            *((name, transition_label(name)) for name in services.TEMPLATE_TRANSITIONS),
        ]
        tree = selectors.category_tree()
        self.fields["category"].choices = [  # type: ignore[attr-defined]
            ("", _("全部类别（通用）")),
            *(
                (
                    node.category.name,
                    [(node.category.pk, node.category.name)] + [(c.pk, c.name) for c in node.children],
                )
                for node in tree
            ),
        ]


@county_admin_page
def config_templates(request: HttpRequest, template_id: int | None = None) -> HttpResponseBase:
    """The response templates per workflow step (the acknowledgement sent to the resident on filing
    first); the form below adds one, or edits the one at /templates/<id>/."""
    editing = selectors.template_get(template_id) if template_id is not None else None
    if template_id is not None and editing is None:
        raise Http404(_("未找到该答复模板。"))
    initial: dict[str, Any] = {"is_active": True}
    if editing is not None:
        initial = {
            "transition": editing.transition,
            "category": editing.category_id,
            "text": editing.text,
            "is_sent_to_resident": editing.is_sent_to_resident,
            "is_active": editing.is_active,
        }
    form = TemplateForm(initial=initial)
    if request.method == "POST":
        form = TemplateForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.template_save(
                    actor=request.user,
                    transition=data["transition"],
                    text=data["text"],
                    category=data["category"],
                    is_sent_to_resident=data["is_sent_to_resident"],
                    is_active=data["is_active"],
                    template=editing,
                    idempotency_key=data["idempotency_key"],
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, _("已保存答复模板。"))
                return redirect("grids:config_templates")
    templates = list(selectors.templates_all())
    for row in templates:
        row.transition_label = transition_label(row.transition)  # type: ignore[attr-defined]
    return _render(
        request,
        "grids/config/templates.html",
        {"templates": templates, "form": form, "editing": editing},
        [form],
    )

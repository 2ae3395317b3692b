"""The case page (/grids/cases/<number>/): the case, its photos, the timeline, and the forms of the actions
the user may take on it now (from the workflow table through grids.access.case_can), plus the mediation
section (grids/views/mediation.py handles its forms) and, where the deadlines service is installed, the
extension and supervision forms.

Every form POSTs to the page with `action` naming it. Thin: reads through grids.selectors.case_page,
each write through one service. Out of scope answers 404; a domain error is shown next to the field it
names (the top of the form if none), with everything typed kept and the form left open.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.errors import DomainError, NotFound
from governance.models import Region, User
from grids import access as grids_access
from grids.models import Case, HandlingUnit, Satisfaction
from grids.selectors import case_page as page_selectors
from grids.selectors import queue as queue_selectors
from grids.services import cases as case_services
from grids.services import config as config_services
from grids.services import deadlines as deadline_services
from grids.services import projects as project_services
from grids.workflow import TRANSITIONS, Actor, Transition


def scoped_page(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Signed-in only; an out-of-scope object (NotFound) renders the ordinary 404 page."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except NotFound as error:
            raise Http404(str(error.message)) from None

    return login_required(wrapped)


def add_domain_error(form: forms.Form, error: DomainError, field_map: dict[str, str] | None = None) -> None:
    """Put a service's message next to the form field it names (the top of the form if it names none)."""
    name = (field_map or {}).get(error.field or "", error.field)
    form.add_error(name if name in form.fields else None, str(error.message))


def idempotency_field() -> forms.CharField:
    """A hidden uuid4 the page sends with a creating POST, so a retried submit writes once."""
    return forms.CharField(widget=forms.HiddenInput, max_length=64, initial=lambda: uuid.uuid4().hex)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


# --- the action forms -----------------------------------------------------------------------------------

NOTE_LABELS: dict[str, Any] = {
    "return": gettext_lazy("退回理由"),
    "escalate": gettext_lazy("上报提级理由"),
    "send_down": gettext_lazy("下派说明"),
    "not_responsible": gettext_lazy("说明"),
    "withdraw": gettext_lazy("撤回理由"),
    "resolve": gettext_lazy("办理情况说明"),
    "follow_up": gettext_lazy("回访记录"),
}


class ActionForm(forms.Form):
    """A transition with its note (required when the table says so)."""

    note = forms.CharField(
        label=gettext_lazy("办理意见"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": gettext_lazy("不能超过2000个字。")},
    )

    def __init__(self, *args: Any, transition: Transition, case: Case, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Each action's fields carry its name, so several forms live on one page.
        self.prefix = transition.name
        self.transition = transition
        note = self.fields["note"]
        note.label = NOTE_LABELS.get(transition.name, note.label)
        if transition.needs_note and transition.name != "resolve":
            note.required = True
            # The service's own words (grids.services.cases.NOTE_REQUIRED), so the page and the API agree.
            note.error_messages["required"] = str(case_services.NOTE_REQUIRED[transition.name])
        self.setup(case=case, user=user)

    def setup(self, *, case: Case, user: Any) -> None:
        """Per-action fields and their choices."""

    def params(self) -> dict[str, Any]:
        """The transition's parameters from the cleaned data (beyond the note)."""
        return {}


class UnitField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}（{obj.region.name}）"


class PersonField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj)


class AssignForm(ActionForm):
    unit = UnitField(
        label=gettext_lazy("承办单位"),
        queryset=HandlingUnit.objects.none(),
        empty_label=gettext_lazy("请选择承办单位"),
        error_messages={
            "required": gettext_lazy("请选择承办单位。"),
            "invalid_choice": gettext_lazy("请从列表中选择承办单位。"),
        },
    )
    user = PersonField(
        label=gettext_lazy("承办人（可不选）"),
        queryset=User.objects.none(),
        required=False,
        empty_label=gettext_lazy("由单位内部分派"),
        error_messages={"invalid_choice": gettext_lazy("请从列表中选择承办人。")},
    )

    def setup(self, *, case: Case, user: Any) -> None:
        units = page_selectors.assign_unit_choices(case=case)
        self.unit_people = page_selectors.assign_person_choices(units=units)
        unit_field = self.fields["unit"]
        user_field = self.fields["user"]
        assert isinstance(unit_field, forms.ModelChoiceField)
        assert isinstance(user_field, forms.ModelChoiceField)
        unit_field.queryset = HandlingUnit.objects.filter(pk__in=[u.pk for u in units]).select_related(
            "region"
        )
        people = {p.pk for _unit, members in self.unit_people for p in members}
        user_field.queryset = User.objects.filter(pk__in=people)
        unit_field.choices = [("", _("请选择承办单位"))] + [
            (u.pk, f"{u.name}（{u.region.name}）") for u in units
        ]
        user_field.choices = [("", _("由单位内部分派"))] + [
            (str(unit.name), [(p.pk, str(p)) for p in members])
            for unit, members in self.unit_people
            if members
        ]
        self.order_fields(["unit", "user", "note"])
        suggested = _route_for(case)
        if suggested is not None and not self.is_bound and any(u.pk == suggested.pk for u in units):
            self.initial["unit"] = suggested.pk
            self.suggested_unit = suggested

    def params(self) -> dict[str, Any]:
        return {"unit": self.cleaned_data["unit"], "user": self.cleaned_data.get("user")}


class ResolveForm(ActionForm):
    result = forms.CharField(
        label=gettext_lazy("办理结果"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": gettext_lazy("请填写办理结果。"),
            "max_length": gettext_lazy("办理结果不能超过2000个字。"),
        },
    )
    photos = forms.Field(
        label=gettext_lazy("办结照片"),
        required=False,
        widget=MultipleFileInput(attrs={"accept": "image/*"}),
    )

    def setup(self, *, case: Case, user: Any) -> None:
        del self.fields["note"]
        self.order_fields(["result", "photos"])

    def params(self) -> dict[str, Any]:
        return {"result": self.cleaned_data["result"]}


class FollowUpForm(ActionForm):
    satisfaction = forms.ChoiceField(
        label=gettext_lazy("群众满意度"),
        choices=Satisfaction.choices,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("请选择群众的满意度。")},
    )

    def setup(self, *, case: Case, user: Any) -> None:
        self.order_fields(["satisfaction", "note"])
        self.fields["note"].widget.attrs["placeholder"] = _("例如：电话回访，群众表示问题已解决")

    def params(self) -> dict[str, Any]:
        return {"satisfaction": self.cleaned_data["satisfaction"]}


class SendDownForm(ActionForm):
    region = forms.ModelChoiceField(
        label=gettext_lazy("下派到"),
        queryset=Region.objects.none(),
        empty_label=gettext_lazy("请选择"),
        error_messages={
            "required": gettext_lazy("请选择下派到哪一级。"),
            "invalid_choice": gettext_lazy("请从列表中选择。"),
        },
    )

    def setup(self, *, case: Case, user: Any) -> None:
        choices = page_selectors.send_down_choices(case=case)
        field = self.fields["region"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Region.objects.filter(pk__in=[r.pk for r in choices])
        field.choices = [("", _("请选择"))] + [(r.pk, f"{r.get_level_display()} · {r.name}") for r in choices]
        self.order_fields(["region", "note"])

    def params(self) -> dict[str, Any]:
        return {"region": self.cleaned_data["region"]}


class DuplicateForm(ActionForm):
    original = forms.CharField(
        label=gettext_lazy("原件编号"),
        max_length=20,
        error_messages={"required": gettext_lazy("请填写或选择原件的编号。")},
    )

    def setup(self, *, case: Case, user: Any) -> None:
        self.candidates = page_selectors.duplicate_choices(user=user, case=case)
        self.fields["original"].widget.attrs.update(
            {"list": f"{self.prefix}-originals", "autocomplete": "off", "placeholder": _("原件的编号")}
        )
        self.order_fields(["original", "note"])
        self._user = user

    def clean_original(self) -> Case:
        number = (self.cleaned_data.get("original") or "").strip().upper()
        try:
            return grids_access.case_get_visible(self._user, number)
        except NotFound:
            raise forms.ValidationError(
                _("没有找到编号为 %(number)s 的诉求。") % {"number": number}
            ) from None

    def params(self) -> dict[str, Any]:
        return {"original": self.cleaned_data["original"]}


class NotResponsibleForm(ActionForm):
    routed_to = forms.CharField(
        label=gettext_lazy("转办去向"),
        max_length=100,
        help_text=gettext_lazy("告知群众应向哪个部门反映，如：县供电公司、12345 热线。"),
        error_messages={"required": gettext_lazy("请填写转办去向。")},
    )

    def setup(self, *, case: Case, user: Any) -> None:
        self.order_fields(["routed_to", "note"])

    def params(self) -> dict[str, Any]:
        return {"routed_to": self.cleaned_data["routed_to"]}


ACTION_FORMS: dict[str, type[ActionForm]] = {
    "assign": AssignForm,
    "resolve": ResolveForm,
    "follow_up": FollowUpForm,
    "send_down": SendDownForm,
    "mark_duplicate": DuplicateForm,
    "not_responsible": NotResponsibleForm,
}
# Service error fields → this page's form fields.
FIELD_MAP = {"reason": "note", "unit_id": "unit", "user_id": "user", "original_id": "original"}


class NoteAddForm(forms.Form):
    prefix = "note"

    note = forms.CharField(
        label=gettext_lazy("办理说明"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": gettext_lazy("请填写说明内容。"),
            "max_length": gettext_lazy("不能超过2000个字。"),
        },
    )
    is_public = forms.BooleanField(
        label=gettext_lazy("在公开进度页显示（不要写群众姓名、电话、住址）"), required=False
    )


def _route_for(case: Case) -> HandlingUnit | None:
    """The unit the routing table suggests for this case."""
    return config_services.route_for(case.category, case.grid)


def _template_text(name: str, case: Case) -> str:
    """The county's response template for this transition, filled in for the case; "" if there is none
    or if it speaks of a handling unit or deadline the case does not have yet (the assignment's reply is
    written once the unit and the deadline exist)."""
    template = config_services.template_for(name, case.category_id)
    if template is None:
        return ""
    needs = {"{unit}": case.assigned_unit_id, "{deadline}": case.resolve_deadline}
    if any(placeholder in template.text and not value for placeholder, value in needs.items()):
        return ""
    return config_services.template_render_text(template.text, case)


def _form_for(
    transition: Transition,
    case: Case,
    user: Any,
    data: Any = None,
    files: Any = None,
    initial: dict[str, Any] | None = None,
) -> ActionForm:
    form_class = ACTION_FORMS.get(transition.name, ActionForm)
    if data is not None:
        return form_class(data, files, transition=transition, case=case, user=user)
    return form_class(transition=transition, case=case, user=user, initial=initial)


# --- the page ----------------------------------------------------------------------------------------


@scoped_page
def case_detail(request: HttpRequest, number: str) -> HttpResponseBase:
    """The case page. POST `action` = a transition name, "note", or one of the mediation, extension and
    supervision forms; a success redirects back here (the form closes), an error re-renders with the
    form open, the message next to its field and the input kept."""
    case = page_selectors.case_page_case(user=request.user, number=number)
    bound: dict[str, forms.Form] = {}
    if request.method == "POST":
        action = request.POST.get("action") or ""
        response, bound = _post(request, case, action)
        if response is not None:
            return response
    return _render(request, case, bound)


def _post(
    request: HttpRequest, case: Case, action: str
) -> tuple[HttpResponseBase | None, dict[str, forms.Form]]:
    from grids.views import mediation as mediation_views

    if action.startswith("mediation_"):
        return mediation_views.handle(request, case, action)
    if action in ("extension_request", "extension_decide", "supervise"):
        return _deadline_action(request, case, action)
    if action == "note":
        return _note(request, case)
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise PermissionDenied(_("未知的操作。"))
    if not grids_access.case_can(request.user, case, action):
        if case.status not in transition.sources:
            # The page was stale: someone else moved the case on. Say so and show it as it is now.
            messages.error(
                request,
                _("该诉求当前为“%(status)s”，不能再“%(action)s”，页面已刷新。")
                % {"status": case.get_status_display(), "action": transition.label},
            )
            return redirect("grids:case_detail", number=case.number), {}
        raise PermissionDenied(_("您不能对该诉求执行“%(action)s”。") % {"action": transition.label})
    form = _form_for(transition, case, request.user, request.POST, request.FILES)
    if not form.is_valid():
        return None, {action: form}
    params = form.params()
    photos = request.FILES.getlist(f"{form.prefix}-photos") if action == "resolve" else []
    if action == "resolve":
        params["photos"] = photos
    try:
        case_services.case_transition(
            actor=request.user,
            case=case,
            name=action,
            note=form.cleaned_data.get("note", "")
            or (params.get("result", "") if action == "resolve" else ""),
            **params,
        )
    except DomainError as error:
        add_domain_error(form, error, FIELD_MAP)
        if photos and "photos" in form.fields and "photos" not in form.errors:
            # A browser never re-fills a file input: say so, so the photos are not silently lost.
            form.add_error("photos", _("照片未保存，请重新选择照片后提交。"))
        return None, {action: form}
    messages.success(
        request,
        _("已%(action)s：%(number)s。") % {"action": transition.label, "number": case.number},
    )
    return redirect("grids:case_detail", number=case.number), {}


def _note(request: HttpRequest, case: Case) -> tuple[HttpResponseBase | None, dict[str, forms.Form]]:
    if not page_selectors.case_can_note(user=request.user, case=case):
        raise PermissionDenied(_("您不能为该诉求添加办理说明。"))
    form = NoteAddForm(request.POST)
    if not form.is_valid():
        return None, {"note": form}
    try:
        case_services.case_note_add(
            actor=request.user,
            case=case,
            note=form.cleaned_data["note"],
            is_public=form.cleaned_data["is_public"],
        )
    except DomainError as error:
        add_domain_error(form, error)
        return None, {"note": form}
    messages.success(request, _("已添加办理说明。"))
    return redirect("grids:case_detail", number=case.number), {}


class ExtensionRequestForm(forms.Form):
    prefix = "extension"

    days = forms.IntegerField(
        label=gettext_lazy("延长工作日"),
        min_value=1,
        max_value=deadline_services.EXTENSION_MAX_DAYS,
        error_messages={
            "required": gettext_lazy("请填写延长的工作日数。"),
            "invalid": gettext_lazy("请填写整数。"),
            "min_value": gettext_lazy("延长天数应为 1 至 30 个工作日。"),
            "max_value": gettext_lazy("延长天数应为 1 至 30 个工作日。"),
        },
    )
    reason = forms.CharField(
        label=gettext_lazy("延期理由"),
        max_length=deadline_services.REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": gettext_lazy("请填写延期理由。")},
    )
    idempotency_key = idempotency_field()


class ExtensionDecideForm(forms.Form):
    prefix = "decide"

    decision = forms.ChoiceField(
        label=gettext_lazy("审批结果"),
        choices=[("approve", gettext_lazy("同意延期")), ("reject", gettext_lazy("不同意"))],
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("请选择同意或不同意。")},
    )
    decision_note = forms.CharField(
        label=gettext_lazy("审批意见"),
        required=False,
        max_length=deadline_services.NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class SuperviseForm(forms.Form):
    prefix = "supervise"

    note = forms.CharField(
        label=gettext_lazy("督办意见"),
        max_length=deadline_services.NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": gettext_lazy("请填写督办意见。")},
    )
    idempotency_key = idempotency_field()


def _deadline_state(user: Any, case: Case) -> dict[str, Any]:
    """Which of the deadline forms `user` may use on `case` now, and the pending request."""
    roles = grids_access.case_actor_roles(user, case)
    pending = deadline_services.extension_pending(case)
    return {
        "pending": pending,
        "can_request": Actor.HANDLER in roles
        and case.status in deadline_services.EXTENSION_STATES
        and case.resolve_deadline is not None
        and pending is None,
        "can_decide": pending is not None and Actor.LEVEL in roles,
        "can_supervise": deadline_services.can_supervise(user, case),
    }


def _deadline_action(
    request: HttpRequest, case: Case, action: str
) -> tuple[HttpResponseBase | None, dict[str, forms.Form]]:
    """延期申请, 延期审批, 督办: a redirect on success, else the bound form."""
    state = _deadline_state(request.user, case)
    back = redirect("grids:case_detail", number=case.number)
    form: forms.Form
    if action == "extension_request":
        if not state["can_request"]:
            raise PermissionDenied(_("只有承办人在签收后、办结前可以申请延期。"))
        form = ExtensionRequestForm(request.POST)
        if form.is_valid():
            try:
                deadline_services.case_extension_request(
                    actor=request.user,
                    case=case,
                    days=form.cleaned_data["days"],
                    reason=form.cleaned_data["reason"],
                    idempotency_key=form.cleaned_data["idempotency_key"],
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, _("已提交延期申请，等待审批。"))
                return back, {}
        return None, {action: form}
    if action == "extension_decide":
        if not state["can_decide"]:
            raise PermissionDenied(_("只有派单的一级可以审批延期申请。"))
        form = ExtensionDecideForm(request.POST)
        if form.is_valid():
            approve = form.cleaned_data["decision"] == "approve"
            try:
                deadline_services.case_extension_decide(
                    actor=request.user,
                    extension=state["pending"],
                    approve=approve,
                    note=form.cleaned_data["decision_note"],
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, _("已同意延期。") if approve else _("已驳回延期申请。"))
                return back, {}
        return None, {action: form}
    if action == "supervise":
        if not state["can_supervise"]:
            raise PermissionDenied(_("只有上级可以督办该诉求。"))
        form = SuperviseForm(request.POST)
        if form.is_valid():
            try:
                deadline_services.case_supervise(
                    actor=request.user,
                    case=case,
                    note=form.cleaned_data["note"],
                    idempotency_key=form.cleaned_data["idempotency_key"],
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, _("已督办。"))
                return back, {}
        return None, {action: form}
    raise PermissionDenied(_("未知的操作。"))


def _render(request: HttpRequest, case: Case, bound: dict[str, forms.Form]) -> HttpResponse:
    from grids.views import mediation as mediation_views

    page = page_selectors.case_page(user=request.user, case=case)
    action_forms: list[tuple[Transition, forms.Form, str]] = []
    for transition in page.actions:
        template = _template_text(transition.name, case)
        # The county's response template prefills the note of a fresh form; after a refusal the form
        # keeps what was typed and the template is a button away.
        form = bound.get(transition.name) or _form_for(
            transition, case, request.user, initial={"note": template} if template else None
        )
        action_forms.append((transition, form, template))
    note_form = bound.get("note") or NoteAddForm()
    extra = mediation_views.section_context(request, case, bound)
    deadline = _deadline_state(request.user, case)
    deadline_forms: dict[str, forms.Form] = {}
    if deadline["can_request"]:
        deadline_forms["extension_request"] = bound.get("extension_request") or ExtensionRequestForm()
    if deadline["can_decide"]:
        deadline_forms["extension_decide"] = bound.get("extension_decide") or ExtensionDecideForm()
    if deadline["can_supervise"]:
        deadline_forms["supervise"] = bound.get("supervise") or SuperviseForm()
    status = 400 if any(f.errors for f in bound.values()) else 200
    village = case.grid.parent
    projects = page_selectors.case_projects(case=case)
    return render(
        request,
        "grids/case_detail.html",
        {
            "p": page,
            "has_queue": queue_selectors.queue_has_desk(request.user),
            "projects": projects,
            "can_make_project": village is not None
            and case.status not in project_services.NOT_PROJECT_STATES
            and project_services.project_can_manage(user=request.user, village=village),
            "case": case,
            "action_forms": action_forms,
            "open_action": next(iter(bound), None),
            "note_form": note_form if page.can_note else None,
            "note_template": _template_text("note", case),
            "deadline": deadline,
            "deadline_forms": deadline_forms,
            "extensions": page_selectors.case_extensions(case=case),
            "supervisions": page_selectors.case_supervisions(case=case),
            **extra,
        },
        status=status,
    )

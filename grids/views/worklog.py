"""Pages of the grid work log (phone first: a grid leader records a visit standing in a courtyard) and of
a grid's leaders past and present with the election form.

Thin: each page parses its input, calls one selector or service and renders. Domain errors show next to
their field and keep what was typed; out of scope answers 404, a role that may only read answers 403.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from common.errors import DomainError
from common.excel import xlsx_response
from common.modules import MODULES_BY_SLUG
from common.views import pages
from governance.models import Household, Region, Resident, User
from grids.models import Case, WorkKind
from grids.selectors import worklog as selectors
from grids.services import leaders as leader_services
from grids.services import worklog as services

PAGE_SIZE = 20
EXPORT_MAX_ROWS = 50_000
# Above this many writable grids the form first asks for the village (a township's or the county's staff).
GRID_LIST_MAX = 200


def _querystring(params: QueryDict, **changes: str | None) -> str:
    kept = params.copy()
    for key, value in changes.items():
        kept.pop(key, None)
        if value is not None:
            kept[key] = value
    return kept.urlencode()


def _int_param(request: HttpRequest, name: str) -> int | None:
    value = request.GET.get(name, "")
    return int(value) if value.isdigit() else None


def _form_error(form: forms.Form, error: DomainError) -> None:
    """Put a service's error next to its field, or above the form when it names no field of it."""
    form.add_error(error.field if error.field in form.fields else None, str(error.message))


def _fresh_key() -> str:
    return uuid.uuid4().hex


def _idempotency_field() -> forms.CharField:
    missing = gettext_lazy("缺少防重复提交标识，请刷新页面后重新提交。")
    return forms.CharField(
        widget=forms.HiddenInput, max_length=64, error_messages={"required": missing, "max_length": missing}
    )


def _date_field(label: Any, *, required_message: Any) -> forms.DateField:
    return forms.DateField(
        label=label,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": required_message,
            "invalid": gettext_lazy("请输入有效的日期，如 2026-03-08。"),
        },
    )


def case_url(case: Case) -> str | None:
    """The case page, when the cases area has one (it lives in another module of grids)."""
    try:
        return reverse("grids:case_detail", args=[case.number])
    except NoReverseMatch:
        return None


# ---------------------------------------------------------------------------------------------------------
# The list


class _Counter:
    """Counts rows as the workbook consumes them."""

    def __init__(self, rows: Iterator[Sequence[Any]]) -> None:
        self.rows = rows
        self.count = 0

    def __iter__(self) -> Iterator[Sequence[Any]]:
        for row in self.rows:
            self.count += 1
            yield row


def _narrowing_choices(user: Any, village_id: int | None) -> tuple[list[Region], list[Region]]:
    """The villages the list can be narrowed to, and the grids of the chosen (or only) village."""
    villages = list(selectors.work_log_village_list(user=user))
    if village_id is None and len(villages) == 1:
        village_id = villages[0].pk
    grids = list(selectors.work_log_grid_list(user=user, village_id=village_id)) if village_id else []
    return villages, grids


@pages
@require_GET
def work_log_list(request: HttpRequest) -> HttpResponse:
    """A grid's (or village's, or the whole scope's) work log: this month's counts per kind, filters,
    cards."""
    filterset = selectors.work_log_filterset(user=request.user, filters=request.GET)
    if not filterset.is_bound:
        queryset = filterset.queryset
    else:
        queryset = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    page: Page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    region_id = _int_param(request, "grid") or _int_param(request, "village") or _int_param(request, "region")
    region = None
    if region_id is not None:
        region = selectors.work_log_grid_get(user=request.user, grid_id=region_id)
    counts = selectors.work_log_month_counts(user=request.user, region=region)
    villages, grids = _narrowing_choices(request.user, _int_param(request, "village"))
    month = timezone.localdate()
    narrowing = [k for k in ("kind", "date_from", "date_to", "q") if request.GET.get(k)]
    return render(
        request,
        "grids/worklog/list.html",
        {
            "page": page,
            "filter_form": filterset.form,
            "filters_used": bool(narrowing),
            "region": region,
            "village_choices": villages,
            "grid_choices": grids,
            "counts": [(kind, label, counts[kind]) for kind, label in WorkKind.choices],
            "month_total": sum(counts.values()),
            "month": month,
            "querystring": _querystring(request.GET, page=None),
            "can_write": selectors.work_log_grid_choices(user=request.user).exists(),
            "kinds": WorkKind.choices,
            "grids_home_url": MODULES_BY_SLUG["grids"].url,
        },
    )


@pages
@require_GET
def work_log_export(request: HttpRequest) -> HttpResponseBase:
    """The list as filtered, as .xlsx (no personal data beyond the household number and head's name)."""
    queryset = selectors.work_log_list(user=request.user, filters=request.GET).select_related(
        "grid__parent__parent"
    )

    def rows() -> Iterator[Sequence[Any]]:
        for entry in queryset[:EXPORT_MAX_ROWS].iterator(chunk_size=2000):
            village = entry.grid.parent
            township = village.parent if village else None
            yield [
                entry.occurred_on,
                entry.get_kind_display(),
                entry.topic,
                township.name if township else "",
                village.name if village else "",
                entry.grid.name,
                entry.attendees_count,
                entry.household.number if entry.household else "",
                entry.cases_count,  # type: ignore[attr-defined]
                entry.photos_count,  # type: ignore[attr-defined]
                str(entry.author),
                entry.summary,
            ]

    return xlsx_response(
        filename=f"worklog-{timezone.localtime():%Y%m%d-%H%M}.xlsx",
        sheet_title=_("网格工作记录"),
        headers=[
            _("日期"),
            _("工作类型"),
            _("主题"),
            _("乡镇"),
            _("村（社区）"),
            _("网格"),
            _("参加人数"),
            _("走访户"),
            _("关联诉求"),
            _("照片"),
            _("记录人"),
            _("内容"),
        ],
        rows=_Counter(rows()),
        widths=[12, 10, 28, 10, 12, 12, 8, 12, 8, 6, 10, 60],
    )


# ---------------------------------------------------------------------------------------------------------
# Recording


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name; their content is checked by the service (common.images)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "widget",
            MultipleFileInput(attrs={"accept": "image/*", "multiple": True, "data-testid": "photos"}),
        )
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class HouseholdChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Household) -> str:
        head = obj.head.name if obj.head else _("未设户主")
        return f"{obj.number} · {head}"


class CaseChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Case) -> str:
        text = obj.description[:24] + ("…" if len(obj.description) > 24 else "")
        return f"{obj.number} · {obj.category.name} · {text}"


class WorkLogForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("工作类型"),
        choices=WorkKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("请选择工作类型。")},
    )
    occurred_on = _date_field(gettext_lazy("日期"), required_message=gettext_lazy("请填写日期。"))
    topic = forms.CharField(
        label=gettext_lazy("主题"),
        max_length=services.TOPIC_MAX,
        error_messages={
            "required": gettext_lazy("请填写主题。"),
            "max_length": gettext_lazy("主题不能超过100个字。"),
        },
    )
    attendees_count = forms.IntegerField(
        label=gettext_lazy("参加人数"),
        required=False,
        min_value=1,
        max_value=services.ATTENDEES_MAX,
        help_text=gettext_lazy("政策宣传、支部会议必填"),
        error_messages={
            "invalid": gettext_lazy("参加人数请填写整数。"),
            "min_value": gettext_lazy("参加人数应在1到10000之间。"),
            "max_value": gettext_lazy("参加人数应在1到10000之间。"),
        },
    )
    household = HouseholdChoiceField(
        label=gettext_lazy("走访户"),
        queryset=Household.objects.none(),
        required=False,
        empty_label=gettext_lazy("请选择户"),
        help_text=gettext_lazy("入户走访必填"),
        error_messages={"invalid_choice": gettext_lazy("请选择本网格的户。")},
    )
    summary = forms.CharField(
        label=gettext_lazy("内容"),
        required=False,
        max_length=services.SUMMARY_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"max_length": gettext_lazy("内容不能超过4000个字。")},
    )
    cases = CaseChoiceField(
        label=gettext_lazy("讨论的诉求"),
        queryset=Case.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("支部会议纪要可关联会上讨论的本村诉求"),
        error_messages={
            "invalid_choice": gettext_lazy("只能关联本村（社区）中您有权查看的诉求，请重新选择。")
        },
    )
    photos = MultipleFileField(
        label=gettext_lazy("照片"),
        required=False,
        help_text=gettext_lazy("最多9张，上传后自动压缩并去除位置等信息"),
    )
    idempotency_key = _idempotency_field()

    def __init__(self, *args: Any, grid: Region, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["occurred_on"].widget.attrs["max"] = today.isoformat()
        household_field = self.fields["household"]
        assert isinstance(household_field, forms.ModelChoiceField)
        household_field.queryset = selectors.work_log_household_choices(user=user, grid=grid)
        cases_field = self.fields["cases"]
        assert isinstance(cases_field, forms.ModelMultipleChoiceField)
        cases_field.queryset = (
            Case.objects.filter(pk__in=[c.pk for c in selectors.work_log_case_choices(user=user, grid=grid)])
            .select_related("category")
            .order_by("-filed_at", "-id")
        )
        self.fields["attendees_count"].widget.attrs.update({"inputmode": "numeric", "min": 1})
        self.fields["topic"].widget.attrs.update(
            {"placeholder": gettext_lazy("如：医保缴费政策宣讲、走访独居老人"), "enterkeyhint": "next"}
        )


def _grid_picker(request: HttpRequest) -> HttpResponse:
    """Staff who write in several grids choose one first (by village when they have very many)."""
    village_id = _int_param(request, "village")
    village = None
    if village_id is not None:
        village = selectors.work_log_grid_get(user=request.user, grid_id=village_id)
    writable = selectors.work_log_grid_choices(user=request.user, village=village)
    grids: list[Region] = []
    villages: list[Region] = []
    if village is None and writable.count() > GRID_LIST_MAX:
        villages = list(selectors.work_log_village_choices(user=request.user))
    else:
        grids = list(writable)
    return render(
        request,
        "grids/worklog/pick_grid.html",
        {"grids": grids, "villages": villages, "village": village},
    )


@pages
@require_http_methods(["GET", "POST"])
def work_log_create(request: HttpRequest) -> HttpResponseBase:
    """The phone-first form: ?grid=<id> names the grid; without it the only writable grid is used, or
    the user picks one."""
    grid_id = _int_param(request, "grid")
    if grid_id is None:
        writable = list(selectors.work_log_grid_choices(user=request.user)[:2])
        if not writable:
            raise PermissionDenied(_("只有本网格的百户网格长或村（社区）及以上工作人员可以记录网格工作。"))
        if len(writable) > 1 or request.GET.get("village"):
            return _grid_picker(request)
        grid = writable[0]
    else:
        grid = selectors.work_log_grid_get(user=request.user, grid_id=grid_id)
    if not services.work_log_can_write(user=request.user, grid=grid):
        # Readers in scope, and regions that are not grids.
        if grid.level != "grid":
            raise Http404(_("请选择一个网格。"))
        raise PermissionDenied(_("只有本网格的百户网格长或村（社区）及以上工作人员可以记录网格工作。"))

    if request.method == "POST":
        form = WorkLogForm(request.POST, request.FILES, grid=grid, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                entry = services.work_log_record(
                    actor=request.user,
                    idempotency_key=data["idempotency_key"],
                    grid=grid,
                    kind=data["kind"],
                    occurred_on=data["occurred_on"],
                    topic=data["topic"],
                    summary=data["summary"],
                    attendees_count=data["attendees_count"],
                    household=data["household"],
                    cases=list(data["cases"]),
                    photos=data["photos"],
                    request=request,
                )
            except DomainError as error:
                if error.status in (403, 404):
                    raise
                _form_error(form, error)
            else:
                messages.success(request, _("已记录：%(topic)s") % {"topic": entry.topic})
                return redirect("grids:work_log_detail", entry_id=entry.pk)
    else:
        kind = request.GET.get("kind")
        form = WorkLogForm(
            initial={
                "idempotency_key": _fresh_key(),
                "occurred_on": timezone.localdate(),
                "kind": kind if kind in WorkKind.values else WorkKind.VISIT,
            },
            grid=grid,
            user=request.user,
        )
    return render(
        request,
        "grids/worklog/form.html",
        {"form": form, "grid": grid, "max_photos": services.MAX_PHOTOS},
    )


# ---------------------------------------------------------------------------------------------------------
# One entry, and its photos


@pages
@require_GET
def work_log_detail(request: HttpRequest, entry_id: int) -> HttpResponse:
    entry = selectors.work_log_detail(user=request.user, entry_id=entry_id)
    cases, hidden = selectors.work_log_cases_visible(user=request.user, entry=entry)
    return render(
        request,
        "grids/worklog/detail.html",
        {
            "entry": entry,
            "cases": [(case, case_url(case)) for case in cases],
            "hidden_cases": hidden,
            "photos": list(entry.photos.all()),
        },
    )


@pages
@require_GET
def work_log_photo(request: HttpRequest, photo_id: int) -> FileResponse:
    """A photo of an entry in the user's scope (media is never served publicly: it shows residents)."""
    photo = selectors.work_log_photo_get(user=request.user, photo_id=photo_id)
    try:
        handle = photo.image.open("rb")
    except FileNotFoundError:
        raise Http404(_("照片文件不存在。")) from None
    response = FileResponse(handle, content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=86400"
    return response


# ---------------------------------------------------------------------------------------------------------
# Grid leaders past and present


class ResidentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Resident) -> str:
        return f"{obj.name}（{obj.household.number}）"


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj.full_name or obj.username}（{obj.username}）"


class GridLeaderElectForm(forms.Form):
    resident = ResidentChoiceField(
        label=gettext_lazy("当选人"),
        queryset=Resident.objects.none(),
        empty_label=gettext_lazy("请选择本网格居民"),
        error_messages={
            "required": gettext_lazy("请选择当选人。"),
            "invalid_choice": gettext_lazy("请选择本网格的居民。"),
        },
    )
    elected_on = _date_field(gettext_lazy("当选日期"), required_message=gettext_lazy("请填写当选日期。"))
    term_end = _date_field(gettext_lazy("任期届满"), required_message=gettext_lazy("请填写任期届满日期。"))
    user = UserChoiceField(
        label=gettext_lazy("关联登录账号"),
        queryset=User.objects.none(),
        required=False,
        empty_label=gettext_lazy("不关联"),
        help_text=gettext_lazy("只能选择已被授予本网格“百户网格长”角色的账号"),
        error_messages={"invalid_choice": gettext_lazy("请选择已被授予本网格网格长角色的账号。")},
    )
    idempotency_key = _idempotency_field()

    def __init__(self, *args: Any, grid: Region, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        resident_field = self.fields["resident"]
        assert isinstance(resident_field, forms.ModelChoiceField)
        resident_field.queryset = selectors.grid_leader_resident_choices(user=user, grid=grid)
        user_field = self.fields["user"]
        assert isinstance(user_field, forms.ModelChoiceField)
        user_field.queryset = selectors.grid_leader_user_choices(grid=grid)
        self.fields["elected_on"].widget.attrs["max"] = timezone.localdate().isoformat()


def _term_initial() -> dict[str, Any]:
    today = timezone.localdate()
    try:
        term_end = today.replace(year=today.year + 3)
    except ValueError:
        term_end = today.replace(year=today.year + 3, day=28)
    return {"idempotency_key": _fresh_key(), "elected_on": today, "term_end": term_end}


@pages
@require_http_methods(["GET", "POST"])
def grid_leaders(request: HttpRequest, grid_id: int) -> HttpResponseBase:
    """A grid's leaders, the current term first; village staff and above record a new election here."""
    grid = selectors.grid_get_visible(user=request.user, grid_id=grid_id)
    can_elect = leader_services.grid_leader_can_elect(user=request.user, grid=grid)
    form: GridLeaderElectForm | None = None
    if request.method == "POST":
        if not can_elect:
            raise PermissionDenied(_("只有村（社区）及以上工作人员可以登记网格长换届。"))
        form = GridLeaderElectForm(request.POST, grid=grid, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                term = leader_services.grid_leader_elect(
                    actor=request.user,
                    grid=grid,
                    resident=data["resident"],
                    elected_on=data["elected_on"],
                    term_end=data["term_end"],
                    user=data["user"],
                    idempotency_key=data["idempotency_key"],
                    request=request,
                )
            except DomainError as error:
                if error.status in (403, 404):
                    raise
                _form_error(form, error)
            else:
                messages.success(
                    request,
                    _("已登记：%(name)s当选%(grid)s百户网格长。")
                    % {"name": term.resident.name, "grid": grid.name},
                )
                return redirect("grids:grid_leaders", grid_id=grid.pk)
    elif can_elect:
        form = GridLeaderElectForm(initial=_term_initial(), grid=grid, user=request.user)
    terms = selectors.grid_leader_terms(user=request.user, grid=grid)
    current = next((t for t in terms if t.ended_on is None), None)
    return render(
        request,
        "grids/leaders.html",
        {
            "grid": grid,
            "terms": terms,
            "current": current,
            "form": form,
            "can_elect": can_elect,
            "today": timezone.localdate(),
            "open_form": request.method == "POST",
        },
    )

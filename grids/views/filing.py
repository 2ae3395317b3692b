"""The phone filing page (/grids/file/), the similar-cases suggestions it shows while filing, the
"我也遇到" (me too) button, and the recurring-problems page (/grids/hotspots/).

The page works without JavaScript (a plain multipart POST, errors next to the fields, what was typed
kept). static/js/grids-filing.js enhances it: photos shrunk on the device, a draft kept on the device,
and a submit that is queued when there is no network and retried with the same idempotency key; the
same view answers that submit with JSON ({"ok", "number", "url"} or {"ok": false, "errors"}).
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable
from decimal import Decimal
from functools import wraps
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from common.errors import DomainError
from governance.models import Region, Resident, ResidentStatus, User
from grids.access import grid_leader_grids
from grids.models import CaseCategory, Duty, Privacy, Urgency
from grids.selectors.similar import recurring_problems, similar_open_cases
from grids.services.cases import COUNTY_BOUNDS, case_file, location_in_county
from grids.services.photos import MAX_PHOTOS_PER_STAGE
from grids.services.support import case_me_too

# Above this many residents in the grids a user files in, the page does not list them all: the search
# asks the server instead.
RESIDENT_OPTIONS_MAX = 600
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9-]{8,64}$")
PRIVACY_HELP = {
    Privacy.PUBLIC: gettext_lazy("办理进展可在公开页面展示，不显示反映人信息。"),
    Privacy.ANONYMOUS: gettext_lazy("不公开反映人姓名，只有上报人和承办人知道是谁反映的。"),
    Privacy.CONFIDENTIAL: gettext_lazy("诉求不公开；反映人身份只有上报人和承办人可见。"),
}


def wants_json(request: HttpRequest) -> bool:
    """Whether the page's script asked (fetch with Accept: application/json)."""
    return "application/json" in request.headers.get("Accept", "")


def filing_page(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Signed in only (a JSON caller gets 401 instead of the login page, so it keeps its queue);
    NotFound renders the 404 page, and a JSON caller gets {"ok": false} with the status."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            if wants_json(request):
                return JsonResponse(
                    {"ok": False, "code": "not_authenticated", "detail": _("登录已过期，请重新登录。")},
                    status=401,
                )
            return redirect_to_login(request.get_full_path())
        try:
            return view(request, *args, **kwargs)
        except DomainError as error:
            if wants_json(request):
                return JsonResponse(
                    {"ok": False, "code": error.code, "detail": str(error.message)}, status=error.status
                )
            if error.status == 404:
                raise Http404(str(error.message)) from None
            raise

    return wrapped


def reverse_or(name: str, fallback: str, *args: Any) -> str:
    """reverse(name), or `fallback` while the page named is not built yet."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return fallback


def case_url(number: str) -> str:
    return reverse_or("grids:case_detail", reverse("grids:home"), number)


# ---------------------------------------------------------------------------------------------------------
# The form


class GridField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Region) -> str:
        return f"{obj.parent.name} · {obj.name}" if obj.parent else obj.name


class ResidentField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Resident) -> str:
        return f"{obj.name} · {obj.household.number}"


class CategoryField(forms.ModelChoiceField):
    def label_from_instance(self, obj: CaseCategory) -> str:
        return obj.name


class FilingForm(forms.Form):
    category = CategoryField(
        label=gettext_lazy("问题类别"),
        queryset=CaseCategory.objects.none(),
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy("请选择问题类别。"),
            "invalid_choice": gettext_lazy("所选类别已停用，请重新选择。"),
        },
    )
    description = forms.CharField(
        label=gettext_lazy("情况描述"),
        max_length=2000,
        min_length=5,
        widget=forms.Textarea(
            attrs={
                "rows": 4,
                "placeholder": gettext_lazy("说清楚：什么事、在哪里、影响了谁、群众希望怎么解决"),
            }
        ),
        error_messages={
            "required": gettext_lazy("请描述群众反映的情况。"),
            "min_length": gettext_lazy("描述太短了，请至少写 5 个字。"),
            "max_length": gettext_lazy("描述不能超过 2000 字。"),
        },
    )
    # Not bound to data: the files come from request.FILES; this field carries their errors.
    photos = forms.Field(label=gettext_lazy("现场照片"), required=False, widget=forms.HiddenInput)
    grid = GridField(
        label=gettext_lazy("所在网格"),
        queryset=Region.objects.none(),
        empty_label=None,
        error_messages={
            "required": gettext_lazy("请选择网格。"),
            "invalid_choice": gettext_lazy("只能在您负责的网格上报。"),
        },
    )
    latitude = forms.FloatField(required=False, widget=forms.HiddenInput)
    longitude = forms.FloatField(required=False, widget=forms.HiddenInput)
    # Carries the location's errors (the two hidden numbers are one thing to the user).
    location = forms.Field(label=gettext_lazy("位置"), required=False, widget=forms.HiddenInput)
    address = forms.CharField(
        label=gettext_lazy("地点说明"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("如：村委会东侧小桥、3组王家门口")}),
        error_messages={"max_length": gettext_lazy("地点说明不能超过 200 字。")},
    )
    urgency = forms.ChoiceField(
        label=gettext_lazy("紧急程度"),
        choices=Urgency.choices,
        initial=Urgency.NORMAL,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("请选择紧急程度。")},
    )
    resident = ResidentField(
        label=gettext_lazy("反映人"),
        queryset=Resident.objects.none(),
        required=False,
        empty_label=gettext_lazy("本人发现（不代群众反映）"),
        error_messages={"invalid_choice": gettext_lazy("只能选择您网格内的在册居民。")},
    )
    privacy = forms.ChoiceField(
        label=gettext_lazy("公开方式"),
        choices=Privacy.choices,
        initial=Privacy.PUBLIC,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("请选择公开方式。")},
    )
    handle_in_grid = forms.BooleanField(label=gettext_lazy("本网格自行处理，不上报村里"), required=False)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, user: Any, grids: QuerySet[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["category"].queryset = categories_active()  # type: ignore[attr-defined]
        self.fields["grid"].queryset = grids  # type: ignore[attr-defined]
        self.fields["resident"].queryset = residents_in(grids)  # type: ignore[attr-defined]
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)
            only = list(grids[:2])
            if len(only) == 1:
                self.initial.setdefault("grid", only[0].pk)

    def clean_idempotency_key(self) -> str:
        key = self.cleaned_data["idempotency_key"].strip()
        if not IDEMPOTENCY_KEY.match(key):
            raise forms.ValidationError(_("页面已过期，请刷新后重新提交。"))
        return key

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        latitude, longitude = data.get("latitude"), data.get("longitude")
        if (latitude is None) != (longitude is None):
            self.add_error("location", _("定位不完整，请重新定位或清除位置。"))
        elif (
            latitude is not None
            and longitude is not None
            and not (
                math.isfinite(latitude)
                and math.isfinite(longitude)
                and location_in_county(latitude, longitude)
            )
        ):
            self.add_error("location", _("该位置不在谷城县范围内，请到现场重新定位，或清除位置后只填网格。"))
        resident = data.get("resident")
        grid = data.get("grid")
        if resident is not None and grid is not None and resident.household.grid_id != grid.pk:
            self.add_error("resident", _("该居民不在所选网格，请重新选择反映人或网格。"))
        return data


def categories_active() -> QuerySet[CaseCategory]:
    """Active sub-categories under active duties, and a duty with no active sub-category (then the duty
    itself is what is chosen)."""
    active_children = CaseCategory.objects.filter(parent=OuterRef("pk"), is_active=True)
    return (
        CaseCategory.objects.alias(has_children=Exists(active_children))
        .filter(is_active=True)
        .filter(Q(parent__isnull=False, parent__is_active=True) | Q(parent__isnull=True, has_children=False))
    )


def residents_in(grids: QuerySet[Region]) -> QuerySet[Resident]:
    return (
        Resident.objects.filter(household__grid__in=grids, status=ResidentStatus.RESIDENT)
        .select_related("household")
        .order_by("household__number", "name", "id")
    )


def category_tree() -> list[dict[str, Any]]:
    """The five duties with their active sub-categories, for the picker: [{duty, label, choices}]."""
    tops: dict[str, dict[str, Any]] = {
        duty.value: {"duty": duty.value, "label": duty.label, "choices": []} for duty in Duty
    }
    for category in categories_active().select_related("parent").order_by("duty", "sort_order", "code"):
        tops.setdefault(category.duty, {"duty": category.duty, "label": category.duty, "choices": []})
        tops[category.duty]["choices"].append(category)
    return [top for top in tops.values() if top["choices"]]


# ---------------------------------------------------------------------------------------------------------
# Pages


def _errors(form: forms.Form) -> dict[str, list[str]]:
    return {name: [str(message) for message in messages_] for name, messages_ in form.errors.items()}


def _domain_error_to_form(form: FilingForm, error: DomainError) -> None:
    field = {"latitude": "location", "longitude": "location", "category_id": "category"}.get(
        error.field or "", error.field
    )
    form.add_error(field if field in form.fields else None, str(error.message))


def _file(form: FilingForm, request: HttpRequest) -> Any:
    """Call the workflow's case_file with the form's data and the uploaded photos."""
    data = form.cleaned_data
    latitude = data.get("latitude")
    longitude = data.get("longitude")
    return case_file(
        actor=cast(User, request.user),
        idempotency_key=data["idempotency_key"],
        category=data["category"],
        description=data["description"].strip(),
        urgency=data["urgency"],
        privacy=data["privacy"],
        grid=data["grid"],
        resident=data.get("resident"),
        latitude=Decimal(f"{latitude:.6f}") if latitude is not None else None,
        longitude=Decimal(f"{longitude:.6f}") if longitude is not None else None,
        address=data.get("address", "").strip(),
        photos=request.FILES.getlist("photos"),
        handle_in_grid=bool(data.get("handle_in_grid")),
    )


def _page_context(request: HttpRequest, form: FilingForm, grids: QuerySet[Region]) -> dict[str, Any]:
    residents_count = form.fields["resident"].queryset.count()  # type: ignore[attr-defined]
    first_two = list(grids.select_related("parent")[:2])
    similar: list[Any] = []
    cleaned = getattr(form, "cleaned_data", {})
    if form.is_bound and cleaned.get("category") and cleaned.get("grid"):
        # Shown again after a refused POST, so the "我也遇到" buttons work without the script too.
        latitude, longitude = cleaned.get("latitude"), cleaned.get("longitude")
        if latitude is None or longitude is None or not location_in_county(latitude, longitude):
            latitude = longitude = None
        similar = similar_open_cases(request.user, cleaned["category"], cleaned["grid"], latitude, longitude)
    return {
        "form": form,
        "category_tree": category_tree(),
        "single_grid": first_two[0] if len(first_two) == 1 else None,
        "similar_cases": similar,
        "resident_options": residents_count <= RESIDENT_OPTIONS_MAX,
        "privacy_help": PRIVACY_HELP,
        "bounds": COUNTY_BOUNDS,
        "max_photos": MAX_PHOTOS_PER_STAGE,
        "draft_owner": request.user.pk,
    }


@never_cache
@filing_page
@require_http_methods(["GET", "POST"])
def file_page(request: HttpRequest) -> HttpResponseBase:
    """GET: the form. POST: file the case (case_file) and redirect to the case (JSON for the script);
    refusals are shown next to their fields with what was typed kept. A replay of the same idempotency
    key answers with the case filed the first time."""
    grids = grid_leader_grids(request.user)
    if request.method == "GET" and not grids.exists():
        return render(request, "grids/file.html", {"no_grid": True}, status=403)
    if request.method == "GET":
        form = FilingForm(user=request.user, grids=grids)
        return render(request, "grids/file.html", _page_context(request, form, grids))

    form = FilingForm(request.POST, user=request.user, grids=grids)
    case = None
    if form.is_valid():
        try:
            case = _file(form, request)
        except DomainError as error:
            if error.status == 404:
                raise
            _domain_error_to_form(form, error)
    if case is None:
        if wants_json(request):
            return JsonResponse({"ok": False, "errors": _errors(form)}, status=400)
        if request.FILES.getlist("photos") and "photos" not in form.errors:
            # A browser never re-fills a file input: say so, so the photos are not silently lost.
            form.add_error("photos", _("照片未保存，请重新选择照片后提交。"))
        return render(request, "grids/file.html", _page_context(request, form, grids), status=400)

    url = case_url(case.number)
    if wants_json(request):
        return JsonResponse({"ok": True, "number": case.number, "url": url}, status=201)
    messages.success(request, _("已提交，编号 %(number)s。") % {"number": case.number})
    return HttpResponseRedirect(url)


@filing_page
@require_GET
def resident_search(request: HttpRequest) -> JsonResponse:
    """Residents of the user's filing grids matching `q` (name or household number), at most 20, for
    the resident search when the page does not list them all."""
    query = request.GET.get("q", "").strip()[:30]
    grids = grid_leader_grids(request.user)
    residents = residents_in(grids)
    grid_id = request.GET.get("grid", "")
    if grid_id.isdigit():
        residents = residents.filter(household__grid_id=int(grid_id))
    if query:
        residents = residents.filter(Q(name__contains=query) | Q(household__number__contains=query))
    rows = [
        {"id": r.pk, "label": f"{r.name} · {r.household.number}", "grid": r.household.grid_id}
        for r in residents[:20]
    ]
    return JsonResponse({"results": rows})


@filing_page
@require_GET
def similar_cases(request: HttpRequest) -> HttpResponse:
    """The fragment of similar open cases for the chosen category, grid and point (may be empty)."""
    category = request.GET.get("category", "")
    grid = request.GET.get("grid", "")
    if not (category.isdigit() and grid.isdigit()):
        return HttpResponse("")
    grids = grid_leader_grids(request.user)
    if not grids.filter(pk=int(grid)).exists():
        return HttpResponse("")
    latitude = _float_or_none(request.GET.get("latitude"))
    longitude = _float_or_none(request.GET.get("longitude"))
    if latitude is None or longitude is None or not location_in_county(latitude, longitude):
        latitude = longitude = None
    cases = similar_open_cases(request.user, int(category), int(grid), latitude, longitude)
    return render(
        request,
        "grids/_file_similar.html",
        {"cases": cases, "next": reverse("grids:file")},
    )


def _float_or_none(value: str | None) -> float | None:
    try:
        number = float(value or "")
    except ValueError:
        return None
    return number if math.isfinite(number) else None


@filing_page
@require_POST
def me_too(request: HttpRequest, case_id: int) -> HttpResponseBase:
    """ "我也遇到": count the user (or the resident chosen on the filing page) once for the case."""
    resident = request.POST.get("resident", "")
    try:
        result = case_me_too(
            actor=cast(User, request.user),
            case=case_id,
            resident=int(resident) if resident.isdigit() else None,
        )
    except DomainError as error:
        if error.status == 404:
            raise
        if wants_json(request):
            return JsonResponse(
                {"ok": False, "code": error.code, "detail": str(error.message)}, status=error.status
            )
        messages.error(request, str(error.message))
        return HttpResponseRedirect(_next_url(request))
    text = (
        _("已附议，共 %(n)s 人反映同一问题。") % {"n": result.case.me_too_count}
        if result.created
        else _("已经附议过了，共 %(n)s 人反映同一问题。") % {"n": result.case.me_too_count}
    )
    if wants_json(request):
        return JsonResponse(
            {"ok": True, "created": result.created, "me_too_count": result.case.me_too_count, "detail": text}
        )
    messages.success(request, text)
    return HttpResponseRedirect(_next_url(request))


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("grids:file")


@filing_page
@require_GET
def hotspots(request: HttpRequest) -> HttpResponse:
    """Recurring problems: category × grid with the most cases in the last 90 days, in the user's scope."""
    rows = recurring_problems(request.user)
    return render(request, "grids/hotspots.html", {"rows": rows, "days": 90})

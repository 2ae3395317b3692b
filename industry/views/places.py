"""Pages of places under /industry/places/: the overview (counts per kind and per theme or development
type), the regions holding a kind or one theme with their key figures (filters, sort, pages, Excel), and
the county admin's add/remove of designations. Map-free by design.

URL names: industry:places, industry:places-kind(kind), industry:places-type(kind, theme) where kind is a
DesignationKind value (featured_town, featured_village, development_type) and theme is the theme's text
(茶旅小镇) or, for development types, the DevelopmentType value (red_beautiful).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from common.errors import DomainError
from governance.models import Region
from industry import access
from industry.models import DesignationKind, DevelopmentType, RegionDesignation
from industry.selectors import places as selectors
from industry.services import places as services
from industry.views.economy import (
    REQUIRED,
    Cell,
    Column,
    excel,
    form_error,
    headers_for,
    new_key,
    pages,
    paginate,
    query_without,
    wan,
    yuan_decimal,
)


class DesignationForm(forms.Form):
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    kind = forms.ChoiceField(
        label=gettext_lazy("类别"), choices=DesignationKind.choices, error_messages={"required": REQUIRED}
    )
    region = forms.TypedChoiceField(
        label=gettext_lazy("区域"),
        coerce=int,
        error_messages={"required": REQUIRED},
        help_text=gettext_lazy("特色乡镇选乡镇，特色村和发展类型选村（社区）"),
    )
    theme = forms.CharField(
        label=gettext_lazy("名称/主题"),
        max_length=40,
        error_messages={"required": REQUIRED},
        help_text=gettext_lazy(
            "如 茶旅小镇、蜜旅小镇；发展类型填其中之一："
            "红色美丽村、绿色发展村、乡风文明村、和谐善治村、生态宜居村"
        ),
        widget=forms.TextInput(attrs={"list": "ie-theme-list", "autocomplete": "off"}),
    )
    designated_year = forms.IntegerField(
        label=gettext_lazy("命名年度"),
        required=False,
        min_value=2000,
        max_value=2100,
        error_messages={"invalid": gettext_lazy("命名年度须是年份，例如 2022。")},
    )
    note = forms.CharField(label=gettext_lazy("说明"), required=False, max_length=200)

    def __init__(self, *args: Any, regions: list[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: forms.TypedChoiceField = self.fields["region"]  # type: ignore[assignment]
        townships = [(r.pk, r.name) for r in regions if r.level == "township"]
        villages = [
            (r.pk, f"{r.parent.name if r.parent else ''} · {r.name}") for r in regions if r.level == "village"
        ]
        field.choices = [("", _("请选择")), (_("乡镇"), townships), (_("村（社区）"), villages)]


def _kind_or_404(kind: str) -> DesignationKind:
    if kind not in DesignationKind.values:
        raise Http404
    return DesignationKind(kind)


@require_GET
@pages
def places_overview(request: HttpRequest) -> HttpResponseBase:
    kinds = selectors.overview(request.user)
    return render(
        request,
        "industry/places/overview.html",
        {
            "kinds": [
                {
                    "kind": k,
                    "url": reverse("industry:places-kind", args=[k.kind]),
                    "themes": [
                        {"theme": t, "url": reverse("industry:places-type", args=[k.kind, t.theme])}
                        for t in k.themes
                    ],
                }
                for k in kinds
            ],
            "can_manage": access.can_manage_chains(request.user),
        },
    )


class FilterForm(forms.Form):
    township = forms.TypedChoiceField(
        label=gettext_lazy("乡镇"), coerce=int, required=False, empty_value=None
    )
    q = forms.CharField(label=gettext_lazy("名称"), required=False, max_length=30)

    def __init__(self, *args: Any, townships: list[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: forms.TypedChoiceField = self.fields["township"]  # type: ignore[assignment]
        field.choices = [("", _("全部乡镇")), *[(t.pk, t.name) for t in townships]]
        if len(townships) < 2:
            del self.fields["township"]

    def value(self, name: str, default: Any = None) -> Any:
        if not self.is_bound or not self.is_valid():
            return default
        found = self.cleaned_data.get(name)
        return default if found in (None, "") else found


def _count(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


@require_GET
@pages
def places_kind(request: HttpRequest, kind: str, theme: str = "") -> HttpResponseBase:
    """The regions holding `kind` (and `theme`) with their key figures; ?export=xlsx for Excel."""
    kind_value = _kind_or_404(kind)
    if kind_value == DesignationKind.DEVELOPMENT_TYPE and theme and theme not in DevelopmentType.values:
        raise Http404
    is_village = kind_value in selectors.VILLAGE_KINDS
    form = FilterForm(request.GET or None, townships=selectors.townships_for_filter(request.user))
    sort = request.GET.get("sort") or "region"
    rows: Any = selectors.designations_list(
        request.user,
        kind=kind_value,
        theme=theme,
        township_id=form.value("township"),
        q=form.value("q", ""),
        sort=sort,
    )
    last_year = selectors.last_year()
    title = selectors.theme_label(kind_value, theme) if theme else str(kind_value.label)
    region_label = _("村（社区）") if is_village else _("乡镇")
    if is_village:
        columns = [
            Column("region", region_label),
            Column("", _("所属乡镇")),
            Column("theme", _("名称/主题")),
            Column("year", _("命名年度"), number=True),
            Column("households", _("户数"), number=True),
            Column("residents", _("人口"), number=True),
            Column("income", _("%(year)s年集体经济（万元）") % {"year": last_year}, number=True),
            Column("participations", _("产业链参与"), number=True),
        ]
    else:
        columns = [
            Column("region", region_label),
            Column("", ""),
            Column("theme", _("名称/主题")),
            Column("year", _("命名年度"), number=True),
            Column("villages", _("村（社区）数"), number=True),
            Column("businesses", _("经营主体"), number=True),
            Column("events", _("展会节会"), number=True),
        ]
        columns = [c for c in columns if c.label]

    def cells(d: RegionDesignation) -> list[Cell]:
        label = selectors.theme_label(d.kind, d.theme)
        theme_url = reverse("industry:places-type", args=[d.kind, d.theme])
        if is_village:
            return [
                Cell(d.region.name, reverse("industry:economy-village", args=[d.region_id])),
                Cell(d.region.parent.name if d.region.parent else ""),
                Cell(label, theme_url),
                Cell(str(d.designated_year or "—"), number=True),
                Cell(_count(d.households), number=True),  # type: ignore[attr-defined]
                Cell(_count(d.residents), number=True),  # type: ignore[attr-defined]
                Cell(wan(d.income_last_fen), number=True),  # type: ignore[attr-defined]
                Cell(_count(d.participations), number=True),  # type: ignore[attr-defined]
            ]
        return [
            Cell(d.region.name, reverse("industry:economy") + f"?township={d.region_id}"),
            Cell(label, theme_url),
            Cell(str(d.designated_year or "—"), number=True),
            Cell(_count(d.villages), number=True),  # type: ignore[attr-defined]
            Cell(_count(d.businesses), number=True),  # type: ignore[attr-defined]
            Cell(_count(d.events), number=True),  # type: ignore[attr-defined]
        ]

    if request.GET.get("export") == "xlsx":
        headers = [str(c.label) for c in columns]
        if is_village:
            headers[6] = _("%(year)s年集体经济（元）") % {"year": last_year}

        def values(d: RegionDesignation) -> list[Any]:
            base: list[Any] = [d.region.name]
            if is_village:
                base.append(d.region.parent.name if d.region.parent else "")
            base += [selectors.theme_label(d.kind, d.theme), d.designated_year]
            if is_village:
                income = yuan_decimal(d.income_last_fen)  # type: ignore[attr-defined]
                return [*base, d.households, d.residents, income, d.participations]  # type: ignore[attr-defined]
            return [*base, d.villages, d.businesses, d.events]  # type: ignore[attr-defined]

        return excel(title=title, headers=headers, rows=(values(d) for d in rows))
    page = paginate(request, rows)
    return render(
        request,
        "industry/places/list.html",
        {
            "kind": kind_value,
            "kind_label": kind_value.label,
            "theme": theme,
            "title": title,
            "form": form,
            "headers": headers_for(request, columns, sort),
            "table": [list(zip(columns, cells(d), strict=True)) for d in page.object_list],
            "page": page,
            "query": query_without(request, "page", "export"),
            "can_manage": access.can_manage_chains(request.user),
            "removable": [
                (d.pk, d.region.name, selectors.theme_label(d.kind, d.theme)) for d in page.object_list
            ],
            "is_village": is_village,
            "last_year": last_year,
        },
    )


@pages
@require_http_methods(["GET", "POST"])
def designation_create(request: HttpRequest) -> HttpResponseBase:
    if not access.can_manage_chains(request.user):
        raise Http404(_("未找到该页面，或者您没有权限。"))
    regions = selectors.regions_for_designation(request.user)
    initial = {"idempotency_key": new_key(), "kind": request.GET.get("kind") or DesignationKind.FEATURED_TOWN}
    if request.GET.get("theme"):
        initial["theme"] = request.GET["theme"]
    form = DesignationForm(request.POST or None, regions=regions, initial=initial)
    if request.method == "POST" and form.is_valid():
        region = next((r for r in regions if r.pk == form.cleaned_data["region"]), None)
        try:
            designation = services.designation_add(
                actor=request.user,
                idempotency_key=form.cleaned_data["idempotency_key"],
                region=region,
                kind=form.cleaned_data["kind"],
                theme=form.cleaned_data["theme"],
                designated_year=form.cleaned_data["designated_year"],
                note=form.cleaned_data["note"],
            )
        except DomainError as error:
            if error.status == 404:
                raise
            form_error(form, error)
        else:
            messages.success(
                request,
                _("已将%(region)s命名为“%(theme)s”。")
                % {"region": designation.region.name, "theme": services.designation_label(designation)},
            )
            return redirect("industry:places-type", kind=designation.kind, theme=designation.theme)
    return render(
        request,
        "industry/places/form.html",
        {
            "form": form,
            "development_types": DevelopmentType.labels,
            "town_themes": ["茶旅小镇", "蜜旅小镇", "电商小镇", "鲟游小镇"],
        },
    )


@require_POST
@pages
def designation_remove(request: HttpRequest, pk: int) -> HttpResponseBase:
    if not access.can_manage_chains(request.user):
        raise Http404(_("未找到该页面，或者您没有权限。"))
    designation = selectors.designation_get_visible(request.user, pk)
    services.designation_remove(actor=request.user, designation=designation)
    messages.success(
        request,
        _("已取消%(region)s的“%(theme)s”命名。")
        % {"region": designation.region.name, "theme": services.designation_label(designation)},
    )
    back = request.POST.get("next", "")
    if back.startswith("/industry/places/"):
        return redirect(back)
    return redirect("industry:places-kind", kind=designation.kind)

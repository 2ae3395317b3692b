"""Reads of households and residents. Every selector takes the acting user and filters to their scope.

A household is in a user's scope when its grid's path lies under one of the user's regions; a resident,
through their household's grid. Out of scope reads raise NotFound (404), so existence does not leak.
Lists return querysets with everything a list row shows already joined or prefetched, so a page of
rows costs a fixed number of queries whatever its length, and a count is one query.

Personal data leaves here only masked (the *_masked columns and address_mask); the unmasked values
come from services.people.resident_personal_data_reveal, which checks the role and writes the audit row.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import django_filters
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.errors import DomainError
from governance import access, pii
from governance.models import (
    Gender,
    Household,
    HouseholdTag,
    HouseholdTagKind,
    Region,
    RegionLevel,
    RelationToHead,
    Resident,
    ResidentStatus,
    ResidentTag,
    ResidentTagKind,
)
from governance.roles import Role

AnyUser = AbstractBaseUser | AnonymousUser

HOUSEHOLD_PATH = "grid__path"
RESIDENT_PATH = "household__grid__path"
# Who may add and change households and residents, within their scope: the roles that also see
# personal data unmasked (a canteen manager sees the register of its community, masked, read-only).
PEOPLE_EDITOR_ROLES = frozenset(
    {Role.COUNTY_ADMIN, Role.TOWNSHIP_ADMIN, Role.VILLAGE_SECRETARY, Role.GRID_LEADER}
)

# Age bands of the elderly-care work (留守老人, 爱心食堂 meal subsidies): inclusive ages, None = no limit.
AGE_BANDS: dict[str, tuple[int, int | None]] = {
    "60-69": (60, 69),
    "70-79": (70, 79),
    "80-89": (80, 89),
    "90+": (90, None),
}
AGE_BAND_CHOICES = [
    ("60-69", _("60–69岁")),
    ("70-79", _("70–79岁")),
    ("80-89", _("80–89岁")),
    ("90+", _("90岁及以上")),
]

HOUSEHOLD_SORTS: dict[str, tuple[str, ...]] = {
    "grid": ("grid__path", "number", "pk"),
    "number": ("number", "pk"),
    "-number": ("-number", "-pk"),
    "members": ("members_count", "grid__path", "number", "pk"),
    "-members": ("-members_count", "grid__path", "number", "pk"),
    "-updated": ("-updated_at", "-pk"),
}
HOUSEHOLD_SORT_CHOICES = [
    ("grid", _("按网格、户号")),
    ("number", _("户号升序")),
    ("-number", _("户号降序")),
    ("-members", _("人口从多到少")),
    ("members", _("人口从少到多")),
    ("-updated", _("最近更新")),
]
DEFAULT_HOUSEHOLD_SORT = "grid"

RESIDENT_SORTS: dict[str, tuple[str, ...]] = {
    "household": ("household__grid__path", "household__number", "head_rank", "birth_date", "pk"),
    "name": ("name", "pk"),
    "-name": ("-name", "-pk"),
    "-age": ("birth_date", "pk"),
    "age": ("-birth_date", "pk"),
    "-updated": ("-updated_at", "-pk"),
}
RESIDENT_SORT_CHOICES = [
    ("household", _("按网格、户")),
    ("name", _("姓名")),
    ("-age", _("年龄从大到小")),
    ("age", _("年龄从小到大")),
    ("-updated", _("最近更新")),
]
DEFAULT_RESIDENT_SORT = "household"

_ID_NUMBER_RE = re.compile(r"^\d{17}[\dXx]$")
_PHONE_RE = re.compile(r"^(?:\+86|0086)?1[3-9]\d{9}$")
# The exact address is kept only down to the village or community: "谷城县城关镇新华村****".
_ADDRESS_REGION_END = re.compile(r"(?:社区|街道|村|镇|乡)")


def address_mask(address: str) -> str:
    """The address cut after its last village/community/town name, the rest starred; "" stays ""."""
    if not address:
        return ""
    ends = [m.end() for m in _ADDRESS_REGION_END.finditer(address)]
    kept = address[: ends[-1]] if ends else address[:3]
    return f"{kept}****" if kept != address else kept


def people_can_edit(*, user: AnyUser, region_path: str) -> bool:
    return access.covers(user, region_path, PEOPLE_EDITOR_ROLES)


def years_before(day: dt.date, years: int) -> dt.date:
    """The same calendar day `years` earlier (29 February becomes 28 February in common years)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def age_on(birth_date: dt.date, day: dt.date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def age_band_q(band: str, *, today: dt.date | None = None, field: str = "birth_date") -> Q:
    """Q for people whose age today falls in `band` (a key of AGE_BANDS): a range on the birth date, so
    the birth_date index serves it."""
    today = today or timezone.localdate()
    low, high = AGE_BANDS[band]
    q = Q(**{f"{field}__lte": years_before(today, low)})
    if high is not None:
        # Aged at most `high`: born after the day that is (high + 1) years ago.
        q &= Q(**{f"{field}__gt": years_before(today, high + 1)})
    return q


def _region_prefix_q(region_id: int, path_field: str) -> Q:
    path = Region.objects.filter(pk=region_id).values_list("path", flat=True).first()
    return Q(**{f"{path_field}__startswith": path}) if path else Q(pk__in=[])


class HouseholdFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("户号、户主或家庭成员姓名"))
    number = django_filters.CharFilter(field_name="number", lookup_expr="icontains", label=_("户号"))
    grid = django_filters.NumberFilter(field_name="grid_id", label=_("网格编号"))
    village = django_filters.NumberFilter(field_name="grid__parent_id", label=_("村（社区）编号"))
    township = django_filters.NumberFilter(field_name="grid__parent__parent_id", label=_("乡镇编号"))
    region = django_filters.NumberFilter(method="in_region", label=_("区域编号（任一层级，含全部下级）"))
    tag = django_filters.ChoiceFilter(
        choices=HouseholdTagKind.choices, method="with_tag", label=_("户标签"), empty_label=_("全部")
    )
    member_tag = django_filters.ChoiceFilter(
        choices=ResidentTagKind.choices,
        method="with_member_tag",
        label=_("有成员带此标签"),
        empty_label=_("全部"),
    )
    is_active = django_filters.BooleanFilter(field_name="is_active", label=_("在册"))
    sort = django_filters.ChoiceFilter(
        choices=HOUSEHOLD_SORT_CHOICES, method="sort_by", label=_("排序"), empty_label=_("默认排序")
    )

    class Meta:
        model = Household
        fields = ["q", "number", "grid", "village", "township", "region", "tag", "member_tag", "is_active"]

    def search(self, queryset: QuerySet[Household], name: str, value: str) -> QuerySet[Household]:
        value = value.strip()
        if not value:
            return queryset
        members = Resident.objects.filter(household=OuterRef("pk"), name__contains=value)
        return queryset.filter(Q(number__icontains=value) | Q(head__name__contains=value) | Exists(members))

    def in_region(self, queryset: QuerySet[Household], name: str, value: int) -> QuerySet[Household]:
        return queryset.filter(_region_prefix_q(int(value), HOUSEHOLD_PATH))

    def with_tag(self, queryset: QuerySet[Household], name: str, value: str) -> QuerySet[Household]:
        return queryset.filter(Exists(HouseholdTag.objects.filter(household=OuterRef("pk"), tag=value)))

    def with_member_tag(self, queryset: QuerySet[Household], name: str, value: str) -> QuerySet[Household]:
        tagged = ResidentTag.objects.filter(resident__household=OuterRef("pk"), tag=value)
        return queryset.filter(Exists(tagged))

    def sort_by(self, queryset: QuerySet[Household], name: str, value: str) -> QuerySet[Household]:
        return queryset.order_by(*HOUSEHOLD_SORTS[value])


class ResidentFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("姓名，或完整的身份证号、手机号"))
    household = django_filters.NumberFilter(field_name="household_id", label=_("户编号"))
    household_number = django_filters.CharFilter(
        field_name="household__number", lookup_expr="icontains", label=_("户号")
    )
    grid = django_filters.NumberFilter(field_name="household__grid_id", label=_("网格编号"))
    village = django_filters.NumberFilter(field_name="household__grid__parent_id", label=_("村（社区）编号"))
    township = django_filters.NumberFilter(
        field_name="household__grid__parent__parent_id", label=_("乡镇编号")
    )
    region = django_filters.NumberFilter(method="in_region", label=_("区域编号（任一层级，含全部下级）"))
    tag = django_filters.ChoiceFilter(
        choices=ResidentTagKind.choices, method="with_tag", label=_("标签"), empty_label=_("全部")
    )
    age_band = django_filters.ChoiceFilter(
        choices=AGE_BAND_CHOICES, method="in_age_band", label=_("年龄段"), empty_label=_("全部")
    )
    status = django_filters.ChoiceFilter(
        choices=ResidentStatus.choices, label=_("状态"), empty_label=_("全部")
    )
    gender = django_filters.ChoiceFilter(choices=Gender.choices, label=_("性别"), empty_label=_("全部"))
    relation_to_head = django_filters.ChoiceFilter(
        choices=RelationToHead.choices, label=_("与户主关系"), empty_label=_("全部")
    )
    sort = django_filters.ChoiceFilter(
        choices=RESIDENT_SORT_CHOICES, method="sort_by", label=_("排序"), empty_label=_("默认排序")
    )

    class Meta:
        model = Resident
        fields = [
            "q",
            "household",
            "household_number",
            "grid",
            "village",
            "township",
            "region",
            "tag",
            "age_band",
            "status",
            "gender",
            "relation_to_head",
        ]

    def search(self, queryset: QuerySet[Resident], name: str, value: str) -> QuerySet[Resident]:
        value = value.strip().replace(" ", "")
        if not value:
            return queryset
        # A full ID number or phone is found by its keyed hash: the plain value is never stored.
        if _ID_NUMBER_RE.match(value):
            return queryset.filter(id_number_hash=pii.lookup_hash(value.upper()))
        if _PHONE_RE.match(value):
            try:
                return queryset.filter(phone_hash=pii.lookup_hash(pii.phone_parse(value)))
            except DomainError:
                return queryset.none()
        return queryset.filter(name__contains=value)

    def in_region(self, queryset: QuerySet[Resident], name: str, value: int) -> QuerySet[Resident]:
        return queryset.filter(_region_prefix_q(int(value), RESIDENT_PATH))

    def with_tag(self, queryset: QuerySet[Resident], name: str, value: str) -> QuerySet[Resident]:
        return queryset.filter(Exists(ResidentTag.objects.filter(resident=OuterRef("pk"), tag=value)))

    def in_age_band(self, queryset: QuerySet[Resident], name: str, value: str) -> QuerySet[Resident]:
        return queryset.filter(age_band_q(value))

    def sort_by(self, queryset: QuerySet[Resident], name: str, value: str) -> QuerySet[Resident]:
        return queryset.order_by(*RESIDENT_SORTS[value])


def _filtered(filterset: django_filters.FilterSet) -> QuerySet[Any]:
    """The filtered queryset; an invalid filter value (a typo in a link) filters nothing out rather than
    failing the page, and the form shows the error next to the field."""
    return filterset.qs if filterset.is_valid() else filterset.queryset


def household_base(*, user: AnyUser) -> QuerySet[Household]:
    """Households in the user's scope, with what a list row shows joined, counted and prefetched."""
    queryset = (
        Household.objects.select_related("grid", "grid__parent", "head")
        .prefetch_related("tags")
        .annotate(members_count=Count("members"))
        .order_by(*HOUSEHOLD_SORTS[DEFAULT_HOUSEHOLD_SORT])
    )
    return access.scoped(queryset, user, HOUSEHOLD_PATH)


def household_list(*, user: AnyUser, filters: Mapping[str, Any] | None = None) -> QuerySet[Household]:
    """Households in the user's scope matching `filters` (HouseholdFilter's fields), sorted by
    filters["sort"] (grid and number by default)."""
    base = household_base(user=user)
    if not filters:
        return base
    return _filtered(HouseholdFilter(filters, queryset=base))


def household_filterset(*, user: AnyUser, filters: Mapping[str, Any] | None) -> HouseholdFilter:
    """The bound filter set (its form renders the filter bar); `.qs` is household_list's answer."""
    return HouseholdFilter(filters or None, queryset=household_base(user=user))


def _head_rank() -> Case:
    return Case(
        When(relation_to_head=RelationToHead.SELF, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )


def resident_base(*, user: AnyUser) -> QuerySet[Resident]:
    queryset = (
        Resident.objects.select_related("household", "household__grid", "household__grid__parent")
        .prefetch_related("tags")
        .annotate(head_rank=_head_rank())
        .order_by(*RESIDENT_SORTS[DEFAULT_RESIDENT_SORT])
    )
    return access.scoped(queryset, user, RESIDENT_PATH)


def resident_list(*, user: AnyUser, filters: Mapping[str, Any] | None = None) -> QuerySet[Resident]:
    """Residents in the user's scope matching `filters` (ResidentFilter's fields), sorted by
    filters["sort"] (grid, household, head first, then oldest first, by default)."""
    base = resident_base(user=user)
    if not filters:
        return base
    return _filtered(ResidentFilter(filters, queryset=base))


def resident_filterset(*, user: AnyUser, filters: Mapping[str, Any] | None) -> ResidentFilter:
    return ResidentFilter(filters or None, queryset=resident_base(user=user))


def household_detail(*, user: AnyUser, household_id: int) -> Household:
    """The household with its grid, village, township and head; NotFound (404) when out of scope."""
    queryset = Household.objects.select_related(
        "grid", "grid__parent", "grid__parent__parent", "head"
    ).prefetch_related(
        "tags",
        Prefetch(
            "members",
            queryset=Resident.objects.prefetch_related("tags")
            .annotate(head_rank=_head_rank())
            .order_by("head_rank", "birth_date", "pk"),
        ),
    )
    return access.get_in_scope(queryset, user, HOUSEHOLD_PATH, pk=household_id)


def resident_detail(*, user: AnyUser, resident_id: int) -> Resident:
    """The resident with their household and its grid and village; NotFound (404) when out of scope."""
    queryset = Resident.objects.select_related(
        "household", "household__grid", "household__grid__parent", "household__grid__parent__parent"
    ).prefetch_related("tags")
    return access.get_in_scope(queryset, user, RESIDENT_PATH, pk=resident_id)


def people_grid_get(*, user: AnyUser, grid_id: int) -> Region:
    """A region in the user's scope by id (the services check it is a grid the user may edit)."""
    return access.get_in_scope(Region.objects.select_related("parent"), user, "path", pk=grid_id)


def people_grid_choices(*, user: AnyUser, editable_only: bool = True) -> QuerySet[Region]:
    """The grids a household may be put on by `user`: in scope (and, by default, where the user may edit),
    in reading order with their village joined."""
    grids = Region.objects.filter(level=RegionLevel.GRID).select_related("parent").order_by("path")
    if editable_only:
        return grids.filter(access.scope_q(user, "path", PEOPLE_EDITOR_ROLES))
    return access.scoped(grids, user)


@dataclass(frozen=True)
class PeopleListOptions:
    """What a list page offers the user: the regions to narrow to, whether they may register households,
    and where they may see (and export) personal data in clear."""

    region_choices: list[Region]
    can_create: bool
    personal_data_paths: list[str]


def people_list_options(*, user: AnyUser, with_grids_up_to: int = 60) -> PeopleListOptions:
    """Region choices are the user's townships and villages, and grids too when there are at most
    `with_grids_up_to` of them (a village secretary picks a grid; a county admin picks a village).
    Three queries: the user's assignments, a count of grids, the regions."""
    held = access.assignments(user)
    paths = access.outermost([path for _role, path in held])
    scope = Q(pk__in=[])
    for path in paths:
        scope |= Q(path__startswith=path)
    regions = Region.objects.filter(scope).exclude(level=RegionLevel.COUNTY).order_by("path")
    if paths and regions.filter(level=RegionLevel.GRID).count() > with_grids_up_to:
        regions = regions.exclude(level=RegionLevel.GRID)
    return PeopleListOptions(
        region_choices=list(regions.only("id", "name", "level", "path")) if paths else [],
        can_create=any(role in PEOPLE_EDITOR_ROLES for role, _path in held),
        personal_data_paths=access.outermost(
            [path for role, path in held if role in access.PERSONAL_DATA_ROLES]
        ),
    )


def personal_data_paths(*, user: AnyUser) -> list[str]:
    """The region paths under which `user` sees personal data unmasked (one query)."""
    return access.outermost([path for _role, path in access.assignments(user, access.PERSONAL_DATA_ROLES)])


def path_covered(path: str, paths: list[str]) -> bool:
    return any(path.startswith(p) for p in paths)

"""Reads for love classrooms, love workshops and red service stations: every list given the acting user and
kept to the sites they may see (canteens.access.sites_visible), with the same filters (region = a township
or village, site, date range, status) for the pages, the Excel exports and the API; the per-classroom,
per-volunteer and monthly totals; the count of livelihood sites by kind for a region's page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from canteens import access
from canteens.models import (
    ClassAttendance,
    ClassSession,
    OrderStatus,
    ServiceLog,
    Site,
    SiteKind,
    StationService,
    Volunteer,
    VolunteerHours,
    WagePayment,
    WorkshopOrder,
    WorkshopProduct,
    WorkshopWorker,
)
from common.errors import NotFound
from governance import access as governance_access
from governance.models import Region, RegionLevel
from governance.roles import Role

AnyUser = access.AnyUser
VOLUNTEER_NOT_FOUND = "未找到该志愿者，或者他不在您的管辖范围内。"
RECORD_NOT_FOUND = "未找到该记录，或者它不在您的管辖范围内。"


@dataclass(frozen=True)
class ListFilters:
    """What a list may be narrowed to; every field optional. `region` is a township or village id (its
    subtree), `site` a site id; dates are inclusive."""

    region: int | None = None
    site: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    status: str = ""
    service: int | None = None
    year: int | None = None
    month: int | None = None
    active: bool | None = None
    q: str = ""


def site_scoped(
    queryset: QuerySet[Any], user: AnyUser, filters: ListFilters, prefix: str = "site__"
) -> QuerySet[Any]:
    queryset = queryset.filter(**{f"{prefix}in" if prefix else "pk__in": access.sites_visible(user)})
    if filters.site:
        queryset = queryset.filter(**{f"{prefix}pk": filters.site})
    if filters.region:
        path = Region.objects.filter(pk=filters.region).values_list("path", flat=True).first()
        queryset = queryset.filter(**{f"{prefix}region__path__startswith": path}) if path else queryset.none()
    return queryset


def _dated(queryset: QuerySet[Any], name: str, filters: ListFilters) -> QuerySet[Any]:
    if filters.date_from:
        queryset = queryset.filter(**{f"{name}__gte": filters.date_from})
    if filters.date_to:
        queryset = queryset.filter(**{f"{name}__lte": filters.date_to})
    return queryset


def sites_of_kind(user: AnyUser, kind: str, *, runnable: bool = False) -> QuerySet[Site]:
    """The sites of `kind` the user may see (or run), by township, village and name."""
    base = access.sites_runnable(user) if runnable else access.sites_visible(user)
    return base.filter(kind=kind).select_related("region", "region__parent").order_by("region__path", "name")


def filter_regions(user: AnyUser) -> list[Region]:
    """The townships and villages a list may be filtered by: those holding a site the user sees."""
    paths = set(access.sites_visible(user).values_list("region__path", flat=True))
    ids: set[int] = set()
    for path in paths:
        parts = [int(p) for p in path.strip("/").split("/")]
        ids.update(parts[1:3])
    return list(
        Region.objects.filter(pk__in=ids, level__in=[RegionLevel.TOWNSHIP, RegionLevel.VILLAGE]).order_by(
            "path"
        )
    )


# --- volunteers ---------------------------------------------------------------------------------------


def _volunteer_condition(user: AnyUser, roles: frozenset[Role], granted: QuerySet[Site]) -> Q:
    return governance_access.scope_q(user, "region__path", roles) | Q(region__in=granted.values("region"))


def volunteers_visible(user: AnyUser) -> QuerySet[Volunteer]:
    """Volunteers registered in the user's region scope or at the village of a site they were granted."""
    if not user.is_authenticated:
        return Volunteer.objects.none()
    granted = Site.objects.filter(
        pk__in=governance_access.granted_ids(user, Site, access.MANAGE_SITE_CODENAME)
    )
    return Volunteer.objects.filter(_volunteer_condition(user, access.READ_ROLES, granted))


def volunteers_runnable(user: AnyUser) -> QuerySet[Volunteer]:
    if not user.is_authenticated:
        return Volunteer.objects.none()
    granted = Site.objects.filter(
        pk__in=governance_access.granted_ids(user, Site, access.MANAGE_SITE_CODENAME)
    )
    return Volunteer.objects.filter(_volunteer_condition(user, access.RUN_ROLES, granted))


def volunteer_get_visible(user: AnyUser, volunteer_id: int | str) -> Volunteer:
    found = volunteers_visible(user).select_related("region").filter(pk=volunteer_id).first()
    if found is None:
        raise NotFound(VOLUNTEER_NOT_FOUND)
    return found


def volunteer_get_runnable(user: AnyUser, volunteer_id: int | str, *, lock: bool = False) -> Volunteer:
    """The volunteer if the user may change them, else NotFound (404); `lock` takes the row lock."""
    queryset = volunteers_runnable(user).select_related("region")
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    found = queryset.filter(pk=volunteer_id).first()
    if found is None:
        raise NotFound(VOLUNTEER_NOT_FOUND)
    return found


def volunteers_for_site(site: Site) -> QuerySet[Volunteer]:
    """The active volunteers who may teach or help at `site`: registered in its township."""
    parts = str(site.region.path).strip("/").split("/")
    township_path = "/".join(parts[:2]) + "/"
    return Volunteer.objects.filter(region__path__startswith=township_path, is_active=True).order_by(
        "name", "id"
    )


def volunteer_rows(user: AnyUser, filters: ListFilters) -> QuerySet[Volunteer]:
    """Volunteers with their totals over the filter's dates: sessions taught, hours given."""
    queryset = volunteers_visible(user).select_related("region")
    if filters.region:
        path = Region.objects.filter(pk=filters.region).values_list("path", flat=True).first()
        queryset = queryset.filter(region__path__startswith=path) if path else queryset.none()
    if filters.active is not None:
        queryset = queryset.filter(is_active=filters.active)
    if filters.q:
        queryset = queryset.filter(Q(name__contains=filters.q) | Q(speciality__contains=filters.q))
    # Two separate aggregates over two joins would multiply each other: take each from a subquery.
    sessions = (
        ClassSession.objects.filter(teacher=OuterRef("pk"))
        .filter(**_date_kwargs("held_on", filters))
        .values("teacher")
        .annotate(n=Count("pk"))
        .values("n")
    )
    hours = (
        VolunteerHours.objects.filter(volunteer=OuterRef("pk"))
        .filter(**_date_kwargs("worked_on", filters))
        .values("volunteer")
        .annotate(total=Sum("hours"))
        .values("total")
    )
    return queryset.annotate(
        session_count=Coalesce(Subquery(sessions), 0),
        hours_total=Coalesce(Subquery(hours), Decimal("0")),
    ).order_by("region__path", "name", "id")


def _date_kwargs(name: str, filters: ListFilters) -> dict[str, dt.date]:
    kwargs: dict[str, dt.date] = {}
    if filters.date_from:
        kwargs[f"{name}__gte"] = filters.date_from
    if filters.date_to:
        kwargs[f"{name}__lte"] = filters.date_to
    return kwargs


# --- classrooms ---------------------------------------------------------------------------------------


def session_list(user: AnyUser, filters: ListFilters) -> QuerySet[ClassSession]:
    """Class sessions, newest first, with the number of named children (`named_count`)."""
    queryset = site_scoped(ClassSession.objects.all(), user, filters)
    queryset = _dated(queryset, "held_on", filters)
    if filters.q:
        queryset = queryset.filter(Q(subject__contains=filters.q) | Q(teacher__name__contains=filters.q))
    return (
        queryset.select_related("site", "site__region", "teacher")
        .annotate(named_count=Count("attendees", distinct=True))
        .order_by("-held_on", "-starts", "-id")
    )


def hours_list(user: AnyUser, filters: ListFilters) -> QuerySet[VolunteerHours]:
    queryset = _dated(site_scoped(VolunteerHours.objects.all(), user, filters), "worked_on", filters)
    return queryset.select_related("volunteer", "site", "session").order_by("-worked_on", "-id")


def session_get_visible(user: AnyUser, session_id: int | str) -> ClassSession:
    """One session of a classroom `user` sees (with its site and teacher), else NotFound (404)."""
    found = (
        ClassSession.objects.filter(site__in=access.sites_visible(user), pk=session_id)
        .select_related("site", "site__region", "teacher")
        .first()
    )
    if found is None:
        raise NotFound(RECORD_NOT_FOUND)
    return found


def session_get_runnable(user: AnyUser, session_id: int | str) -> ClassSession:
    """One session of a classroom `user` runs (for its edit and delete forms), else NotFound (404)."""
    found = (
        ClassSession.objects.filter(site__in=access.sites_runnable(user), pk=session_id)
        .select_related("site", "site__region", "teacher")
        .first()
    )
    if found is None:
        raise NotFound(RECORD_NOT_FOUND)
    return found


def session_hours_entered(session: ClassSession) -> Decimal | None:
    """The teacher's hours of `session` as somebody typed them, or None when they are (or would be) the
    length of its times: an edit form leaves the field blank then, so changed times change the hours."""
    recorded = (
        VolunteerHours.objects.filter(session=session).order_by("id").values_list("hours", flat=True).first()
    )
    if recorded is None:
        return None
    times = (session.starts, session.ends)
    if times[0] is not None and times[1] is not None and recorded == session_length(times[0], times[1]):
        return None
    return Decimal(recorded)


def session_length(starts: dt.time, ends: dt.time) -> Decimal:
    """A session's length in hours, to one decimal (half up), at least 0.1: 14:00–15:40 is 1.7 — the
    teacher's hours when nobody typed them."""
    minutes = (ends.hour * 60 + ends.minute) - (starts.hour * 60 + starts.minute)
    length = (Decimal(minutes) / Decimal(60)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return max(length, Decimal("0.1"))


def hours_get_visible(user: AnyUser, hours_id: int | str) -> VolunteerHours:
    """One hours entry at a site `user` sees, else NotFound (404)."""
    found = (
        VolunteerHours.objects.filter(site__in=access.sites_visible(user), pk=hours_id)
        .select_related("volunteer", "site", "site__region", "session")
        .first()
    )
    if found is None:
        raise NotFound(RECORD_NOT_FOUND)
    return found


def hours_get_runnable(user: AnyUser, hours_id: int | str) -> VolunteerHours:
    """One hours entry at a site `user` runs, else NotFound (404)."""
    found = (
        VolunteerHours.objects.filter(site__in=access.sites_runnable(user), pk=hours_id)
        .select_related("volunteer", "site", "site__region", "session")
        .first()
    )
    if found is None:
        raise NotFound(RECORD_NOT_FOUND)
    return found


@dataclass(frozen=True)
class ClassroomTotals:
    sessions: int
    child_visits: int  # 人次: the sum of the head counts
    named_children: int  # distinct children named from the register
    hours: Decimal
    teachers: int


def classroom_totals(site: Site, filters: ListFilters | None = None) -> ClassroomTotals:
    """A classroom's totals over the filter's dates (all time without one)."""
    filters = filters or ListFilters()
    sessions = _dated(ClassSession.objects.filter(site=site), "held_on", filters)
    figures = sessions.aggregate(
        n=Count("pk"), visits=Coalesce(Sum("children_count"), 0), teachers=Count("teacher", distinct=True)
    )
    named = ClassAttendance.objects.filter(session__in=sessions).values("resident").distinct().count()
    hours = _dated(VolunteerHours.objects.filter(site=site), "worked_on", filters).aggregate(
        total=Coalesce(Sum("hours"), Decimal("0"))
    )["total"]
    return ClassroomTotals(
        sessions=figures["n"],
        child_visits=figures["visits"],
        named_children=named,
        hours=Decimal(hours).quantize(Decimal("0.1")),
        teachers=figures["teachers"],
    )


def session_attendees(session: ClassSession) -> list[Any]:
    return list(session.attendees.order_by("name", "id"))


def children_for_site(site: Site, on: dt.date, q: str = "", limit: int = 50) -> list[Any]:
    """Residents of the site's township under 18 on `on` whose name contains `q` (for the session form's
    picker), by name."""
    from governance.models import Resident, ResidentStatus

    parts = str(site.region.path).strip("/").split("/")
    township_path = "/".join(parts[:2]) + "/"
    born_after = dt.date(on.year - 18, on.month, min(on.day, 28))
    queryset = Resident.objects.filter(
        household__grid__path__startswith=township_path, birth_date__gt=born_after
    ).exclude(status__in=[ResidentStatus.DECEASED, ResidentStatus.MOVED_OUT])
    if q:
        queryset = queryset.filter(name__contains=q)
    return list(queryset.order_by("name", "id")[:limit])


# --- workshops ----------------------------------------------------------------------------------------


def products_of(site: Site) -> QuerySet[WorkshopProduct]:
    return WorkshopProduct.objects.filter(site=site).order_by("-is_active", "name")


def worker_list(user: AnyUser, filters: ListFilters) -> QuerySet[WorkshopWorker]:
    """Workers (current first), with whether they are tagged 留守妇女 (`is_left_behind`)."""
    from governance.models import ResidentTag, ResidentTagKind

    queryset = site_scoped(WorkshopWorker.objects.all(), user, filters)
    if filters.active is True:
        queryset = queryset.filter(left_on__isnull=True)
    elif filters.active is False:
        queryset = queryset.filter(left_on__isnull=False)
    if filters.q:
        queryset = queryset.filter(resident__name__contains=filters.q)
    tagged = ResidentTag.objects.filter(resident=OuterRef("resident"), tag=ResidentTagKind.LEFT_BEHIND_WOMAN)
    return (
        queryset.select_related("site", "resident")
        .annotate(is_left_behind=Exists(tagged))
        .order_by("site__name", "left_on", "joined_on", "id")
    )


def worker_get_runnable(user: AnyUser, worker_id: int | str) -> WorkshopWorker:
    found = (
        WorkshopWorker.objects.filter(site__in=access.sites_runnable(user), pk=worker_id)
        .select_related("site", "site__region", "resident")
        .first()
    )
    if found is None:
        raise NotFound(RECORD_NOT_FOUND)
    return found


def order_list(user: AnyUser, filters: ListFilters) -> QuerySet[WorkshopOrder]:
    queryset = _dated(site_scoped(WorkshopOrder.objects.all(), user, filters), "ordered_on", filters)
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.q:
        queryset = queryset.filter(Q(customer__contains=filters.q) | Q(product__name__contains=filters.q))
    return queryset.select_related("site", "product").order_by("-ordered_on", "-id")


def order_get_runnable(user: AnyUser, order_id: int | str) -> WorkshopOrder:
    found = (
        WorkshopOrder.objects.filter(site__in=access.sites_runnable(user), pk=order_id)
        .select_related("site", "site__region", "product")
        .first()
    )
    if found is None:
        raise NotFound(RECORD_NOT_FOUND)
    return found


def wage_list(user: AnyUser, filters: ListFilters) -> QuerySet[WagePayment]:
    queryset = site_scoped(WagePayment.objects.all(), user, filters)
    if filters.year:
        queryset = queryset.filter(year=filters.year)
    if filters.month:
        queryset = queryset.filter(month=filters.month)
    queryset = _dated(queryset, "paid_on", filters)
    if filters.q:
        queryset = queryset.filter(worker__resident__name__contains=filters.q)
    return queryset.select_related("site", "worker__resident").order_by(
        "-year", "-month", "worker__resident__name", "id"
    )


@dataclass
class WorkshopMonth:
    site: Site
    orders_placed: int = 0
    orders_placed_fen: int = 0
    orders_delivered: int = 0
    orders_delivered_fen: int = 0
    orders_open: int = 0  # open at the end of the month (placed by then, not delivered or cancelled)
    wages_paid: int = 0
    wages_fen: int = 0
    workers: int = 0  # employed at some time during the month


def workshop_month_summary(
    user: AnyUser, year: int, month: int, filters: ListFilters | None = None
) -> list[WorkshopMonth]:
    """Per workshop the user sees (narrowed by `filters`' region/site): the month's orders placed and
    delivered (count and amount), orders still open at its end, wages paid for it, workers employed in it."""
    filters = filters or ListFilters()
    first = dt.date(year, month, 1)
    last = dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)
    sites = site_scoped(Site.objects.filter(kind=SiteKind.WORKSHOP), user, filters, prefix="")
    rows = {
        site.pk: WorkshopMonth(site=site)
        for site in sites.select_related("region").order_by("region__path", "name")
    }
    if not rows:
        return []
    ids = list(rows)
    for r in (
        WorkshopOrder.objects.filter(site_id__in=ids, ordered_on__range=(first, last))
        .values("site_id")
        .annotate(n=Count("pk"), fen=Coalesce(Sum("amount_fen"), 0))
    ):
        rows[r["site_id"]].orders_placed, rows[r["site_id"]].orders_placed_fen = r["n"], r["fen"]
    for r in (
        WorkshopOrder.objects.filter(
            site_id__in=ids, status=OrderStatus.DELIVERED, delivered_on__range=(first, last)
        )
        .values("site_id")
        .annotate(n=Count("pk"), fen=Coalesce(Sum("amount_fen"), 0))
    ):
        rows[r["site_id"]].orders_delivered, rows[r["site_id"]].orders_delivered_fen = r["n"], r["fen"]
    for r in (
        WorkshopOrder.objects.filter(site_id__in=ids, ordered_on__lte=last)
        .filter(Q(status=OrderStatus.OPEN) | Q(status=OrderStatus.DELIVERED, delivered_on__gt=last))
        .values("site_id")
        .annotate(n=Count("pk"))
    ):
        rows[r["site_id"]].orders_open = r["n"]
    for r in (
        WagePayment.objects.filter(site_id__in=ids, year=year, month=month)
        .values("site_id")
        .annotate(n=Count("pk"), fen=Coalesce(Sum("amount_fen"), 0))
    ):
        rows[r["site_id"]].wages_paid, rows[r["site_id"]].wages_fen = r["n"], r["fen"]
    for r in (
        WorkshopWorker.objects.filter(site_id__in=ids, joined_on__lte=last)
        .filter(Q(left_on__isnull=True) | Q(left_on__gte=first))
        .values("site_id")
        .annotate(n=Count("resident", distinct=True))
    ):
        rows[r["site_id"]].workers = r["n"]
    return list(rows.values())


# --- red stations -------------------------------------------------------------------------------------


def services_of(site: Site) -> QuerySet[StationService]:
    return StationService.objects.filter(site=site).order_by("-is_active", "name")


def service_get_runnable(user: AnyUser, service_id: int | str) -> StationService:
    found = (
        StationService.objects.filter(site__in=access.sites_runnable(user), pk=service_id)
        .select_related("site")
        .first()
    )
    if found is None:
        raise NotFound(RECORD_NOT_FOUND)
    return found


def log_list(user: AnyUser, filters: ListFilters) -> QuerySet[ServiceLog]:
    queryset = _dated(site_scoped(ServiceLog.objects.all(), user, filters), "served_on", filters)
    if filters.service:
        queryset = queryset.filter(service_id=filters.service)
    if filters.q:
        queryset = queryset.filter(Q(description__contains=filters.q) | Q(service__name__contains=filters.q))
    return queryset.select_related("site", "service").order_by("-served_on", "-id")


@dataclass
class StationMonth:
    site: Site
    entries: int = 0
    people_served: int = 0
    by_service: list[tuple[str, int, int]] = field(default_factory=list)  # (service, entries, people)


def station_month_summary(
    user: AnyUser, year: int, month: int, filters: ListFilters | None = None
) -> list[StationMonth]:
    """Per red station the user sees: the month's log entries and people served, and both per service."""
    filters = filters or ListFilters()
    first = dt.date(year, month, 1)
    last = dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)
    sites = site_scoped(Site.objects.filter(kind=SiteKind.RED_STATION), user, filters, prefix="")
    rows = {
        site.pk: StationMonth(site=site)
        for site in sites.select_related("region").order_by("region__path", "name")
    }
    if not rows:
        return []
    for r in (
        ServiceLog.objects.filter(site_id__in=list(rows), served_on__range=(first, last))
        .values("site_id", "service__name")
        .annotate(n=Count("pk"), people=Coalesce(Sum("people_served"), 0))
        .order_by("site_id", "service__name")
    ):
        row = rows[r["site_id"]]
        row.entries += r["n"]
        row.people_served += r["people"]
        row.by_service.append((r["service__name"], r["n"], r["people"]))
    return list(rows.values())


# --- the region page ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class KindCount:
    kind: str
    label: str
    count: int


def region_site_counts(region: Region) -> list[KindCount]:
    """The active livelihood sites in `region`'s subtree by kind, every kind listed (0 included), in the
    order 爱心食堂 / 爱心讲堂 / 爱心作坊 / 红色驿站. Aggregate counts only: the region page is already
    gated by the region scope."""
    counts = dict(
        Site.objects.filter(region__path__startswith=region.path, is_active=True)
        .values("kind")
        .annotate(n=Count("pk"))
        .values_list("kind", "n")
    )
    return [KindCount(kind, str(label), counts.get(kind, 0)) for kind, label in SiteKind.choices]

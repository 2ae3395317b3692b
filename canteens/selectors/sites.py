"""Reading the livelihood-site registry, always for an acting user and within their scope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

from canteens import access
from canteens.models import Enrolment, Site, SiteKind, SiteUserObjectPermission
from governance import access as region_access
from governance.models import Region, RegionLevel, RoleAssignment, User
from governance.roles import Role


@dataclass(frozen=True)
class KindCount:
    kind: str
    label: str
    count: int
    active: int


def site_counts_by_kind(user: Any) -> list[KindCount]:
    """Per kind, in SiteKind's order: how many sites `user` sees and how many of them are running."""
    rows = {
        row["kind"]: row
        for row in access.sites_visible(user)
        .values("kind")
        .annotate(total=Count("id"), active=Count("id", filter=Q(is_active=True)))
        .order_by()
    }
    return [
        KindCount(kind, str(label), rows.get(kind, {}).get("total", 0), rows.get(kind, {}).get("active", 0))
        for kind, label in SiteKind.choices
    ]


def township_of(path: str) -> str:
    """The township's path for any path under it ("1/5/…" → "1/5/")."""
    return "/".join(path.strip("/").split("/")[:2]) + "/"


def sites_list(
    user: Any, *, kind: str = "", township_id: int | None = None, village_id: int | None = None, q: str = ""
) -> QuerySet[Site]:
    """The sites `user` sees, filtered by kind, township, village and a name fragment; ordered by kind,
    region and name, with region, host and (for canteens) the number of open enrolments."""
    sites = access.sites_visible(user).select_related("region", "region__parent", "host")
    if kind:
        sites = sites.filter(kind=kind)
    if village_id:
        sites = sites.filter(region_id=village_id)
    elif township_id:
        township = Region.objects.filter(pk=township_id).only("path").first()
        sites = sites.filter(region__path__startswith=township.path) if township else sites.none()
    if q:
        sites = sites.filter(Q(name__icontains=q) | Q(operator__icontains=q))
    return sites.annotate(
        enrolled=Count("enrolments", filter=Q(enrolments__ends_on__isnull=True), distinct=True)
    ).order_by("kind", "region__path", "name")


def townships_for_filter(user: Any) -> list[Region]:
    """The townships holding a site `user` sees (for the registry's filter)."""
    paths = {township_of(path) for path in access.sites_visible(user).values_list("region__path", flat=True)}
    return list(Region.objects.filter(path__in=paths, level=RegionLevel.TOWNSHIP).order_by("code", "name"))


def villages_for_filter(user: Any, township_id: int | None) -> list[Region]:
    """The villages of `township_id` holding a site `user` sees."""
    if not township_id:
        return []
    ids = access.sites_visible(user).filter(region__parent_id=township_id).values_list("region_id", flat=True)
    return list(Region.objects.filter(pk__in=ids).order_by("code", "name"))


def regions_for_new_site(user: Any) -> list[Region]:
    """The villages/communities where `user` may register a site (township or county admin), by path."""
    q = region_access.scope_q(user, "path", access.APPROVER_ROLES)
    return list(Region.objects.filter(q, level=RegionLevel.VILLAGE).select_related("parent").order_by("path"))


def canteens_for_host(site_region: Region) -> QuerySet[Site]:
    """The canteens of the region's township (a classroom may be held in one of them)."""
    return (
        Site.objects.filter(kind=SiteKind.CANTEEN, region__path__startswith=township_of(site_region.path))
        .select_related("region")
        .order_by("region__path", "name")
    )


@dataclass(frozen=True)
class ManagerRow:
    user: User
    granted: bool  # a guardian grant on this site (revocable here), else a canteen_manager role


def site_managers(site: Site) -> list[ManagerRow]:
    """Who runs the site day to day: users granted manage_site on it, and canteen managers by role over
    its village (the region's own assignments and its ancestors')."""
    granted = list(
        User.objects.filter(
            pk__in=SiteUserObjectPermission.objects.filter(
                content_object=site, permission__codename=access.MANAGE_SITE_CODENAME
            ).values("user_id")
        ).order_by("username")
    )
    ancestor_paths = []
    parts = site.region.path.strip("/").split("/")
    for depth in range(1, len(parts) + 1):
        ancestor_paths.append("/".join(parts[:depth]) + "/")
    role_users = User.objects.filter(
        pk__in=RoleAssignment.objects.filter(
            role=Role.CANTEEN_MANAGER, region__path__in=ancestor_paths
        ).values("user_id")
    ).order_by("username")
    rows = [ManagerRow(user, True) for user in granted]
    seen = {user.pk for user in granted}
    rows += [ManagerRow(user, False) for user in role_users if user.pk not in seen]
    return rows


def site_enrolment_count(site: Site) -> int:
    return Enrolment.objects.filter(site=site, ends_on__isnull=True).count()


def canteens_runnable(user: Any) -> QuerySet[Site]:
    """The active canteens `user` may run (for today's check-in links), by region and name."""
    return (
        access.sites_runnable(user)
        .filter(kind=SiteKind.CANTEEN, is_active=True)
        .select_related("region")
        .order_by("region__path", "name")
    )

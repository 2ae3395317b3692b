"""The gates of the canteens module: who may run a livelihood site (check-in, enrolment, donations, the
monthly settlement), who approves subsidy claims, who sets the county's tiers, and who sees what. One
place, tested in tests/canteens/.

Region scope is governance.access's path-prefix filter (a role at a region reaches its subtree), widened
by the sparse exception of design.md §3: a site's manager granted `canteens.manage_site` on that one site
(guardian, direct foreign-key rows on SiteUserObjectPermission). Deny by default; out of scope is 404.

    Who                  does                                                    where
    county_admin         everything; subsidy tiers; approves claims              the county
    township_admin       runs sites, approves or returns claims                  their township
    canteen_manager      runs the sites (check-in, enrolment, donations, claim)  their village/community
    village_secretary    reads sites, meals, settlements                         their village
    viewer               reads                                                   their region
    (granted manager)    runs that one site                                      the site
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy

from canteens.models import Site
from common.errors import NotFound
from governance import access
from governance.roles import Role

AnyUser = AbstractBaseUser | AnonymousUser

MANAGE_SITE_CODENAME = "manage_site"
RUN_ROLES = frozenset({Role.COUNTY_ADMIN, Role.TOWNSHIP_ADMIN, Role.CANTEEN_MANAGER})
READ_ROLES = RUN_ROLES | {Role.VILLAGE_SECRETARY, Role.VIEWER}
APPROVER_ROLES = frozenset({Role.COUNTY_ADMIN, Role.TOWNSHIP_ADMIN})
TIER_ROLES = frozenset({Role.COUNTY_ADMIN})
NOT_FOUND_MESSAGE = gettext_lazy("未找到该阵地，或者它不在您的管辖范围内。")


def _site_path(site: Site) -> str:
    return str(site.region.path)


def _granted_site_ids(user: AnyUser) -> QuerySet[Any, Any]:
    return access.granted_ids(user, Site, MANAGE_SITE_CODENAME)


def can_run_site(user: AnyUser, site: Site) -> bool:
    """Whether `user` may run `site` day to day: check meals in, enrol elders, record donations, prepare
    and submit the monthly settlement, log sessions, orders, wages and services."""
    if not user.is_authenticated:
        return False
    if access.covers(user, _site_path(site), RUN_ROLES):
        return True
    return _granted_site_ids(user).filter(pk=site.pk).exists()


def can_approve_claims(user: AnyUser, site: Site) -> bool:
    """Whether `user` may approve or return `site`'s subsidy claims (the township or the county)."""
    return user.is_authenticated and access.covers(user, _site_path(site), APPROVER_ROLES)


def can_approve_any_claims(user: AnyUser) -> bool:
    """Whether `user` approves subsidy claims somewhere (a county or township admin anywhere): who the
    claim list and the hub's link to it are for. Which claims is can_approve_claims, per site."""
    return user.is_authenticated and bool(access.assignments(user, APPROVER_ROLES))


def can_set_budgets(user: AnyUser, site: Site) -> bool:
    """Whether `user` may set `site`'s yearly budgets per funder (the township or the county)."""
    return can_approve_claims(user, site)


def can_manage_tiers(user: AnyUser) -> bool:
    """The county's subsidy tiers are the county admin's."""
    return user.is_authenticated and bool(access.assignments(user, TIER_ROLES))


def can_create_site(user: AnyUser, region_path: str) -> bool:
    """Whether `user` may register a site in the region at `region_path` (township and county admins)."""
    return user.is_authenticated and access.covers(user, region_path, APPROVER_ROLES)


def sites_visible(user: AnyUser) -> QuerySet[Site]:
    """The sites `user` may see: those in their region scope and those they were granted."""
    if not user.is_authenticated:
        return Site.objects.none()
    condition = access.scope_q(user, "region__path", READ_ROLES) | Q(pk__in=_granted_site_ids(user))
    return Site.objects.filter(condition)


def sites_runnable(user: AnyUser) -> QuerySet[Site]:
    """The sites `user` may run (see can_run_site)."""
    if not user.is_authenticated:
        return Site.objects.none()
    condition = access.scope_q(user, "region__path", RUN_ROLES) | Q(pk__in=_granted_site_ids(user))
    return Site.objects.filter(condition)


def site_get_visible(user: AnyUser, site_id: int | str) -> Site:
    """The site if visible to `user`, else NotFound (404)."""
    found = sites_visible(user).select_related("region").filter(pk=site_id).first()
    if found is None:
        raise NotFound(NOT_FOUND_MESSAGE)
    return found


def site_get_runnable(user: AnyUser, site_id: int | str) -> Site:
    """The site if `user` may run it, else NotFound (404) — also for a site they may only read, so a
    write form never shows a site's existence to someone who cannot act on it."""
    found = sites_runnable(user).select_related("region").filter(pk=site_id).first()
    if found is None:
        raise NotFound(NOT_FOUND_MESSAGE)
    return found

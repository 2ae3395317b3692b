"""The gates of the industry module: who keeps the county's chains and catalogue, who records a village's
collective income, businesses, projects, work and tourism, who runs an expo or festival (exhibitors,
sales, imports), and who sees what. One place, tested in tests/industry/test_access.py.

Region scope is governance.access's path-prefix filter (a role at a region reaches its subtree), widened by
the sparse exception of design.md §3: an event's organiser granted `industry.manage_event` on that one
event (guardian, direct foreign-key rows on EventUserObjectPermission). Deny by default; out of scope is 404.

    Who                  does                                                          where
    county_admin         everything; chains and their links; designations; thresholds   the county
    township_admin       events (exhibitors, sales, imports), joint communities,        their township
                         businesses, collective income, projects, work, tourism
    village_secretary    businesses, collective income, projects, work, tourism          their village
    viewer               reads                                                         their region
    (granted organiser)  runs that one event                                           the event
The chains, their links and the product catalogue are county-wide reference data: anyone holding a
reading role sees them (a chain's participants are still filtered by the reader's scope).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy

from common.errors import NotFound
from governance import access
from governance.roles import Role
from industry.models import Business, Event, JointCommunity

AnyUser = AbstractBaseUser | AnonymousUser

MANAGE_EVENT_CODENAME = "manage_event"
COUNTY_ROLES = frozenset({Role.COUNTY_ADMIN})
EVENT_ROLES = frozenset({Role.COUNTY_ADMIN, Role.TOWNSHIP_ADMIN})
RECORD_ROLES = frozenset({Role.COUNTY_ADMIN, Role.TOWNSHIP_ADMIN, Role.VILLAGE_SECRETARY})
READ_ROLES = RECORD_ROLES | {Role.VIEWER}
EVENT_NOT_FOUND = gettext_lazy("未找到该展会节会，或者它不在您的管辖范围内。")
BUSINESS_NOT_FOUND = gettext_lazy("未找到该经营主体，或者它不在您的管辖范围内。")
COMMUNITY_NOT_FOUND = gettext_lazy("未找到该联建共同体，或者它不在您的管辖范围内。")


def can_read_industry(user: AnyUser) -> bool:
    """Whether `user` may open the industry module at all (any reading role anywhere, or a granted event)."""
    if not user.is_authenticated:
        return False
    return bool(access.assignments(user, READ_ROLES)) or _granted_event_ids(user).exists()


def can_manage_chains(user: AnyUser) -> bool:
    """Chains, their links and Party branches, designations and thresholds are the county's."""
    return user.is_authenticated and bool(access.assignments(user, COUNTY_ROLES))


def can_manage_catalogue(user: AnyUser) -> bool:
    """The product catalogue: county and township admins add and edit products."""
    return user.is_authenticated and bool(access.assignments(user, EVENT_ROLES))


def can_record_for_region(user: AnyUser, region_path: str) -> bool:
    """Whether `user` may record a region's businesses, collective income, household projects, residents'
    work and tourism figures (county, township admin, village secretary over that region)."""
    return user.is_authenticated and access.covers(user, region_path, RECORD_ROLES)


def can_create_event(user: AnyUser, region_path: str) -> bool:
    """Whether `user` may create an event held in the region at `region_path`."""
    return user.is_authenticated and access.covers(user, region_path, EVENT_ROLES)


def can_manage_joint(user: AnyUser, lead_region_path: str) -> bool:
    """Whether `user` may create or edit a joint community led from the village at `lead_region_path`."""
    return user.is_authenticated and access.covers(user, lead_region_path, EVENT_ROLES)


def _granted_event_ids(user: AnyUser) -> QuerySet[Any, Any]:
    return access.granted_ids(user, Event, MANAGE_EVENT_CODENAME)


def can_run_event(user: AnyUser, event: Event) -> bool:
    """Whether `user` may run `event`: edit it, add exhibitors, record and import sales, reverse them."""
    if not user.is_authenticated:
        return False
    if access.covers(user, str(event.region.path), EVENT_ROLES):
        return True
    return _granted_event_ids(user).filter(pk=event.pk).exists()


def events_visible(user: AnyUser) -> QuerySet[Event]:
    """Events held in `user`'s region scope, and those they were granted."""
    if not user.is_authenticated:
        return Event.objects.none()
    condition = access.scope_q(user, "region__path", READ_ROLES) | Q(pk__in=_granted_event_ids(user))
    return Event.objects.filter(condition)


def events_runnable(user: AnyUser) -> QuerySet[Event]:
    if not user.is_authenticated:
        return Event.objects.none()
    condition = access.scope_q(user, "region__path", EVENT_ROLES) | Q(pk__in=_granted_event_ids(user))
    return Event.objects.filter(condition)


def event_get_visible(user: AnyUser, event_id: int | str) -> Event:
    found = events_visible(user).select_related("region").filter(pk=event_id).first()
    if found is None:
        raise NotFound(EVENT_NOT_FOUND)
    return found


def event_get_runnable(user: AnyUser, event_id: int | str) -> Event:
    """The event if `user` may run it, else NotFound (404) — also for one they may only read."""
    found = events_runnable(user).select_related("region").filter(pk=event_id).first()
    if found is None:
        raise NotFound(EVENT_NOT_FOUND)
    return found


def businesses_visible(user: AnyUser) -> QuerySet[Business]:
    """Businesses sitting in `user`'s region scope, and those exhibiting at an event granted to them."""
    if not user.is_authenticated:
        return Business.objects.none()
    condition = access.scope_q(user, "region__path", READ_ROLES) | Q(
        exhibits__event_id__in=_granted_event_ids(user)
    )
    return Business.objects.filter(condition).distinct()


def business_get_visible(user: AnyUser, business_id: int | str) -> Business:
    found = businesses_visible(user).select_related("region").filter(pk=business_id).first()
    if found is None:
        raise NotFound(BUSINESS_NOT_FOUND)
    return found


def joint_communities_visible(user: AnyUser) -> QuerySet[JointCommunity]:
    """Joint communities led from, or with a member village in, `user`'s region scope."""
    if not user.is_authenticated:
        return JointCommunity.objects.none()
    condition = access.scope_q(user, "lead_region__path", READ_ROLES) | Q(
        pk__in=JointCommunity.objects.filter(
            access.scope_q(user, "members__region__path", READ_ROLES)
        ).values("pk")
    )
    return JointCommunity.objects.filter(condition)


def joint_community_get_visible(user: AnyUser, community_id: int | str) -> JointCommunity:
    found = joint_communities_visible(user).select_related("lead_region").filter(pk=community_id).first()
    if found is None:
        raise NotFound(COMMUNITY_NOT_FOUND)
    return found

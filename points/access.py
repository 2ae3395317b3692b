"""The gates of the points module: who may manage rules, propose and review awards, run a store's till,
and see which accounts, awards and stores. One place, tested in tests/points/.

Region scope is governance.access's path-prefix filter (a role at a region reaches its subtree), widened
only by the sparse exceptions: a clerk granted one store's till through django-guardian
(`points.run_till`, direct foreign-key rows on StoreUserObjectPermission), who then also sees that store
and the household accounts of its township (to serve them). A village or grid user also sees the stores
of their own township (their households redeem there). Deny by default; out of scope answers 404.

    Who                       does                                         where
    county_admin              rules, propose, review; sees everything      the county
    township_admin            rules, propose, review, runs the till        their township
    village_secretary         village rule additions, propose, review      their village
    grid_leader               proposes                                     their grid
    viewer                    reads accounts and awards                     their region
    canteen_manager, mediator nothing in points
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy

from common.errors import NotFound
from governance import access
from governance.models import Household, Region
from governance.roles import Role
from points.models import Account, AccountKind, Award, Store

AnyUser = AbstractBaseUser | AnonymousUser

# Roles that see points data (accounts, awards, stores) in their subtree.
POINTS_SCOPE_ROLES = frozenset(
    {Role.COUNTY_ADMIN, Role.TOWNSHIP_ADMIN, Role.VILLAGE_SECRETARY, Role.GRID_LEADER, Role.VIEWER}
)
# The catalog: the county's items by the county, a township's additions by it, a village's by it.
RULE_MANAGER_ROLES = frozenset({Role.COUNTY_ADMIN, Role.TOWNSHIP_ADMIN, Role.VILLAGE_SECRETARY})
# 申报: the grid leader of the household's grid, or the village staff and those above.
PROPOSER_ROLES = frozenset({Role.GRID_LEADER, Role.VILLAGE_SECRETARY, Role.TOWNSHIP_ADMIN, Role.COUNTY_ADMIN})
# 审核: the village secretary of the household's village, or those above.
REVIEWER_ROLES = frozenset({Role.VILLAGE_SECRETARY, Role.TOWNSHIP_ADMIN, Role.COUNTY_ADMIN})
# The till: the township admin of the store's township (and guardian grants, below).
TILL_ROLES = frozenset({Role.TOWNSHIP_ADMIN})
# System accounts (issuance, sinks, expiry) are the township's books: its admins and the county's.
SYSTEM_ACCOUNT_ROLES = frozenset({Role.COUNTY_ADMIN, Role.TOWNSHIP_ADMIN})

RUN_TILL_CODENAME = "run_till"
NOT_FOUND_MESSAGE = gettext_lazy("未找到该记录，或者它不在您的管辖范围内。")


def _grid_path(household: Household) -> str:
    grid = household.grid if hasattr(household, "grid") else Region.objects.get(pk=household.grid_id)
    return grid.path


def can_manage_rules(user: AnyUser, region: Region) -> bool:
    """Whether `user` may add or change rule items at `region` (the county's catalog, or a township's or
    village's own additions)."""
    return access.covers(user, region.path, RULE_MANAGER_ROLES)


def can_propose(user: AnyUser, household: Household) -> bool:
    """Whether `user` may propose (申报) an award for `household`: the grid leader of its grid, or a
    village secretary, township or county admin above it."""
    return access.covers(user, _grid_path(household), PROPOSER_ROLES)


def can_review(user: AnyUser, award: Award) -> bool:
    """Whether `user` may review (审核) `award` and decide objections to it: the village secretary of the
    household's village, or a township or county admin above it."""
    return access.covers(user, _grid_path(award.household), REVIEWER_ROLES)


def _granted_store_ids(user: AnyUser) -> QuerySet[Any, Any]:
    return access.granted_ids(user, Store, RUN_TILL_CODENAME)


def can_run_till(user: AnyUser, store: Store) -> bool:
    """Whether `user` may redeem at `store`'s till (and take returns): the township admin of the store's
    township, or a clerk granted `points.run_till` on this store."""
    if not user.is_authenticated:
        return False
    township = store.township if hasattr(store, "township") else Region.objects.get(pk=store.township_id)
    if access.covers(user, township.path, TILL_ROLES):
        return True
    return _granted_store_ids(user).filter(pk=store.pk).exists()


def _township_ids_of_user(user: AnyUser) -> list[int]:
    """The townships the user's points roles lie in (from the assignments' paths; county roles none)."""
    ids: set[int] = set()
    for _role, path in access.assignments(user, POINTS_SCOPE_ROLES):
        parts = [part for part in path.strip("/").split("/") if part]
        if len(parts) >= 2:
            ids.add(int(parts[1]))
    return sorted(ids)


def stores_visible(user: AnyUser) -> QuerySet[Store]:
    """The stores `user` may see: those in their region scope, those of their own township (a village's
    people redeem at the township's store), and those whose till they were granted."""
    if not user.is_authenticated:
        return Store.objects.none()
    condition = access.scope_q(user, "region__path", POINTS_SCOPE_ROLES)
    townships = _township_ids_of_user(user)
    if townships:
        condition |= Q(township_id__in=townships, region__level="township")
    condition |= Q(pk__in=_granted_store_ids(user))
    return Store.objects.filter(condition)


def store_get_visible(user: AnyUser, store_id: int | str) -> Store:
    """The store if visible to `user`, else NotFound (404)."""
    found = stores_visible(user).select_related("township", "region").filter(pk=store_id).first()
    if found is None:
        raise NotFound(NOT_FOUND_MESSAGE)
    return found


def awards_visible(user: AnyUser) -> QuerySet[Award]:
    """The awards of the households in `user`'s points scope."""
    return Award.objects.filter(access.scope_q(user, "household__grid__path", POINTS_SCOPE_ROLES))


def award_get_visible(user: AnyUser, award_id: int | str) -> Award:
    """The award if visible to `user` (with household, grid and rule joined), else NotFound (404)."""
    found = (
        awards_visible(user).select_related("household__grid", "rule", "resident").filter(pk=award_id).first()
    )
    if found is None:
        raise NotFound(NOT_FOUND_MESSAGE)
    return found


def households_visible(user: AnyUser) -> QuerySet[Household]:
    """The households whose points `user` may see: in their points scope, or in the township of a store
    whose till they were granted."""
    return Household.objects.filter(_household_q(user, "grid__path"))


def household_get_visible(user: AnyUser, household_id: int | str) -> Household:
    """The household if its points are visible to `user` (grid joined), else NotFound (404)."""
    found = households_visible(user).select_related("grid").filter(pk=household_id).first()
    if found is None:
        raise NotFound(NOT_FOUND_MESSAGE)
    return found


def _household_q(user: AnyUser, path_field: str) -> Q:
    if not user.is_authenticated:
        return Q(pk__in=[])
    condition = access.scope_q(user, path_field, POINTS_SCOPE_ROLES)
    granted = list(
        Store.objects.filter(pk__in=_granted_store_ids(user)).values_list("township__path", flat=True)
    )
    for path in access.outermost(granted):
        condition |= Q(**{f"{path_field}__startswith": path})
    return condition


def accounts_visible(user: AnyUser) -> QuerySet[Account]:
    """The accounts `user` may see: household accounts of the households visible to them
    (households_visible), and the system accounts (issuance, store sinks, expiry) of the townships where
    they are township or county admin."""
    if not user.is_authenticated:
        return Account.objects.none()
    household_accounts = Q(kind=AccountKind.HOUSEHOLD) & _household_q(user, "household__grid__path")
    system_accounts = ~Q(kind=AccountKind.HOUSEHOLD) & access.scope_q(
        user, "township__path", SYSTEM_ACCOUNT_ROLES
    )
    return Account.objects.filter(household_accounts | system_accounts)


def account_get_visible(user: AnyUser, account_id: int | str) -> Account:
    """The account if visible to `user`, else NotFound (404)."""
    found = accounts_visible(user).filter(pk=account_id).first()
    if found is None:
        raise NotFound(NOT_FOUND_MESSAGE)
    return found

"""Reads of the points ledger, always given the acting user and filtered to their scope (points.access).

household_balance is the hot read (the till, the account page, the API): ONE query — the household by
primary key, its account by the UNIQUE household_id index, the scope as EXISTS sub-queries on the user's
role assignments and till grants — whatever the length of the household's history.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.paginator import Page, Paginator
from django.db.models import CharField, Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet

from common.errors import NotFound
from governance import access
from governance.models import Household, Region, RegionLevel, RoleAssignment
from points.access import (
    NOT_FOUND_MESSAGE,
    POINTS_SCOPE_ROLES,
    RUN_TILL_CODENAME,
    awards_visible,
    household_get_visible,
    households_visible,
)
from points.models import (
    Account,
    Award,
    AwardStatus,
    Posting,
    StoreGroupObjectPermission,
    StoreUserObjectPermission,
)

AnyUser = AbstractBaseUser | AnonymousUser
STATEMENT_PAGE_SIZE = 20


def _outer_grid_path() -> ExpressionWrapper:
    # Typed, so a lookup (startswith) can be applied to the outer query's column.
    return ExpressionWrapper(OuterRef("grid__path"), output_field=CharField())


def _household_scope_exists(user: AnyUser) -> Q:
    """A Q over Household: the user holds a points role at the household's grid or above, or a till grant
    on a store of its township — as EXISTS sub-queries, so the check costs no query of its own."""
    user_id = int(user.pk or 0)
    roles = RoleAssignment.objects.filter(user_id=user_id, role__in=POINTS_SCOPE_ROLES).alias(
        grid_path=_outer_grid_path()
    )
    by_role = Exists(roles.filter(grid_path__startswith=F("region__path")))
    user_grants = StoreUserObjectPermission.objects.filter(
        user_id=user_id, permission__codename=RUN_TILL_CODENAME
    ).alias(grid_path=_outer_grid_path())
    group_grants = StoreGroupObjectPermission.objects.filter(
        group__user=user.pk, permission__codename=RUN_TILL_CODENAME
    ).alias(grid_path=_outer_grid_path())
    by_grant = Exists(user_grants.filter(grid_path__startswith=F("content_object__township__path")))
    by_group = Exists(group_grants.filter(grid_path__startswith=F("content_object__township__path")))
    return Q(by_role) | Q(by_grant) | Q(by_group)


def household_balance(user: AnyUser, household: Household | int) -> tuple[int, int]:
    """(spendable balance, pending points under public notice) of the household; (0, 0) when it has no
    account yet. One indexed query. NotFound (404) when the household is missing or out of `user`'s scope."""
    if not user.is_authenticated:
        raise NotFound(NOT_FOUND_MESSAGE)
    household_id = household if isinstance(household, int) else household.pk
    row = (
        Household.objects.filter(pk=household_id)
        .filter(_household_scope_exists(user))
        .values_list("points_account__balance", "points_account__pending")
        .first()
    )
    if row is None:
        raise NotFound(NOT_FOUND_MESSAGE)
    return int(row[0] or 0), int(row[1] or 0)


def household_account(user: AnyUser, household: Household | int) -> tuple[Household, Account | None]:
    """The household (scoped: NotFound otherwise) and its points account, None before the first posting
    or award opened one."""
    household_id = household if isinstance(household, int) else household.pk
    found = household_get_visible(user, household_id)
    return found, Account.objects.filter(household_id=found.pk).first()


def account_statement_qs(account: Account) -> QuerySet[Posting]:
    """The account's postings, newest first, with their transaction (served by the (account, id) index)."""
    return (
        Posting.objects.filter(account_id=account.pk)
        .select_related("transaction", "transaction__created_by", "transaction__reverses")
        .order_by("-id")
    )


def account_statement(
    user: AnyUser, household: Household | int, *, page: Any = 1, per_page: int = STATEMENT_PAGE_SIZE
) -> tuple[Household, Account | None, Page[Posting]]:
    """The household's account statement: (household, account, one page of postings, newest first, each
    with its transaction). Scoped like household_account (NotFound out of scope); a page number out of
    range gives the last page."""
    found, account = household_account(user, household)
    postings: QuerySet[Posting] = account_statement_qs(account) if account else Posting.objects.none()
    return found, account, Paginator(postings, per_page).get_page(page)


def household_notice_awards(user: AnyUser, household: Household) -> QuerySet[Award]:
    """The household's awards under public notice (what its `pending` points are), oldest end first;
    scoped through awards_visible."""
    return (
        awards_visible(user)
        .filter(household_id=household.pk, status=AwardStatus.NOTICE)
        .select_related("rule")
        .order_by("notice_ends_at", "id")
    )


def grid_get_for_cards(user: AnyUser, grid_id: int | str) -> Region:
    """The grid (village and township joined) if it lies in `user`'s points scope, else NotFound (404)."""
    if not user.is_authenticated:
        raise NotFound(NOT_FOUND_MESSAGE)
    found = (
        Region.objects.filter(pk=grid_id, level=RegionLevel.GRID)
        .filter(access.scope_q(user, "path", POINTS_SCOPE_ROLES))
        .select_related("parent__parent")
        .first()
    )
    if found is None:
        raise NotFound(NOT_FOUND_MESSAGE)
    return found


def grid_card_households(user: AnyUser, grid: Region) -> list[Household]:
    """The grid's households on the register (in `user`'s scope), by number, head and account joined."""
    return list(
        households_visible(user)
        .filter(grid_id=grid.pk, is_active=True)
        .select_related("head", "points_account")
        .order_by("number", "id")
    )

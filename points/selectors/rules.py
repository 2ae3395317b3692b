"""Reads of the rules catalog: what applies to a household, and what a user's catalog page shows."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from common.errors import NotFound
from governance import access
from points.access import POINTS_SCOPE_ROLES
from points.models import Rule
from points.services.rules import ancestor_paths

AnyUser = AbstractBaseUser | AnonymousUser


def rules_applicable(grid_path: str, *, active_only: bool = True) -> QuerySet[Rule]:
    """The items that apply at a grid: the county's and those its township and village added."""
    rules = Rule.objects.filter(region__path__in=ancestor_paths(grid_path)).select_related("region")
    if active_only:
        rules = rules.filter(is_active=True)
    return rules.order_by("category", "code")


def _catalog_q(user: AnyUser) -> Q:
    """Items the user's catalog shows: at their regions or above (what applies to them), and the
    additions made below their regions."""
    paths = [path for _role, path in access.assignments(user, POINTS_SCOPE_ROLES)]
    if not paths:
        return Q(pk__in=[])
    above: set[str] = set()
    for path in paths:
        above.update(ancestor_paths(path))
    condition = Q(region__path__in=sorted(above))
    for path in access.outermost(paths):
        condition |= Q(region__path__startswith=path)
    return condition


def rules_visible(user: AnyUser, *, category: str = "", active: str = "", query: str = "") -> QuerySet[Rule]:
    """The catalog page's items for `user`, filtered; each with `awards_count`."""
    rules = Rule.objects.filter(_catalog_q(user)).select_related("region")
    if category:
        rules = rules.filter(category=category)
    if active == "1":
        rules = rules.filter(is_active=True)
    elif active == "0":
        rules = rules.filter(is_active=False)
    if query:
        rules = rules.filter(Q(name__contains=query) | Q(code__icontains=query))
    return rules.annotate(awards_count=Count("awards")).order_by("region__path", "category", "code")


def rule_get_visible(user: AnyUser, rule_id: int | str) -> Rule:
    found = Rule.objects.filter(_catalog_q(user)).select_related("region").filter(pk=rule_id).first()
    if found is None:
        raise NotFound(_("未找到该条目，或者它不在您的管辖范围内。"))
    return found

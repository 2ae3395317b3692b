"""Reads of the region tree for the region browser and the regions API.

Every function takes the acting user and answers only inside that user's scope. Counts per region are
computed with one GROUP BY per metric, never one query per region: a row's region at a given depth is
a segment of its grid's materialized path, so "the child of X this row lies under" is
split_part(path, '/', depth + 1) on rows filtered by X's path prefix (an indexed LIKE 'x/%').
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import CharField, Count, Exists, F, Func, OuterRef, Q, QuerySet, Value
from django.db.models.expressions import OrderBy
from django.db.models.functions import Collate
from django.utils.translation import gettext as _

from common.errors import NotFound
from governance import access
from governance.models import (
    Household,
    MembershipStage,
    PartyMember,
    Region,
    RegionCode,
    RegionLevel,
    RegionMove,
    Resident,
    ResidentStatus,
)
from governance.roles import Role
from grids.models import GridLeader

AnyUser = AbstractBaseUser | AnonymousUser

# Residents who still live in the county: those away for work stay on the register; moved out and
# deceased do not count. Party members are full and probationary members (not applicants, activists or
# candidates, who are still on the way in).
CURRENT_RESIDENT_STATUSES = (ResidentStatus.RESIDENT, ResidentStatus.AWAY)
PARTY_MEMBER_STAGES = (MembershipStage.PROBATIONARY, MembershipStage.FULL)
SEARCH_LIMIT = 50
PINYIN_COLLATION = "zh-Hans-x-icu"


@dataclass(frozen=True)
class RegionCounts:
    households: int = 0
    residents: int = 0
    party_members: int = 0
    grid_leaders: int = 0

    def __add__(self, other: RegionCounts) -> RegionCounts:
        return RegionCounts(
            households=self.households + other.households,
            residents=self.residents + other.residents,
            party_members=self.party_members + other.party_members,
            grid_leaders=self.grid_leaders + other.grid_leaders,
        )


@dataclass(frozen=True)
class RegionWithCounts:
    region: Region
    counts: RegionCounts


@dataclass
class RegionNode:
    """A node of the browser: the region, its in-scope ancestors (top first), its counts, its children."""

    region: Region
    ancestors: list[Region]
    counts: RegionCounts
    children: list[RegionWithCounts] = field(default_factory=list)


def _metrics() -> dict[str, tuple[QuerySet[Any], str]]:
    """Per metric: the rows counted and the lookup to the path of the grid each row belongs to."""
    return {
        "households": (Household.objects.filter(is_active=True), "grid__path"),
        "residents": (
            Resident.objects.filter(status__in=CURRENT_RESIDENT_STATUSES, household__is_active=True),
            "household__grid__path",
        ),
        "party_members": (
            PartyMember.objects.filter(
                stage__in=PARTY_MEMBER_STAGES,
                resident__status__in=CURRENT_RESIDENT_STATUSES,
                resident__household__is_active=True,
            ),
            "resident__household__grid__path",
        ),
        "grid_leaders": (GridLeader.objects.filter(ended_on__isnull=True), "grid__path"),
    }


def _path_segment(path_field: str, position: int) -> Func:
    """The id (as text) at 1-based `position` of a materialized path: the row's region at that depth."""
    return Func(F(path_field), Value("/"), Value(position), function="split_part", output_field=CharField())


def _counts_grouped(prefix_q: dict[str, Q], position: int) -> dict[str, dict[str, int]]:
    """{metric: {path segment at `position`: rows}} over the rows selected by each metric's prefix Q."""
    found: dict[str, dict[str, int]] = {}
    for metric, (rows, path_field) in _metrics().items():
        grouped = (
            rows.filter(prefix_q[path_field])
            .annotate(segment=_path_segment(path_field, position))
            .order_by()
            .values("segment")
            .annotate(n=Count("pk"))
            .values_list("segment", "n")
        )
        found[metric] = dict(grouped)
    return found


def _prefix_q(paths: Iterable[str]) -> dict[str, Q]:
    """For each metric's path lookup, a Q keeping rows under any of `paths` (one indexed LIKE each)."""
    paths = list(paths)
    lookups = {path_field for _rows, path_field in _metrics().values()}
    result: dict[str, Q] = {}
    for lookup in lookups:
        q = Q()
        for path in paths:
            q |= Q(**{f"{lookup}__startswith": path})
        result[lookup] = q
    return result


def _counts_at(found: dict[str, dict[str, int]], key: str) -> RegionCounts:
    return RegionCounts(**{metric: by_segment.get(key, 0) for metric, by_segment in found.items()})


def _parent_path(path: str) -> str:
    """ "1/5/23/" → "1/5/"; a root's parent path is ""."""
    return path[: path.rstrip("/").rfind("/") + 1]


def region_counts(*, regions: Sequence[Region]) -> dict[int, RegionCounts]:
    """The counts in each region's subtree, for regions whose subtrees do not overlap.

    Four queries per distinct depth among `regions` (usually one depth: siblings), whatever their number.
    """
    by_depth: dict[int, list[Region]] = {}
    for region in regions:
        by_depth.setdefault(region.path.count("/"), []).append(region)
    result: dict[int, RegionCounts] = {}
    for segments, group in by_depth.items():
        parent_paths = {_parent_path(r.path) for r in group}
        if len(group) > 1 and len(parent_paths) == 1 and "" not in parent_paths:
            # Siblings: one prefix (the parent's) reads the same rows as one prefix per child.
            prefixes = list(parent_paths)
        else:
            prefixes = [r.path for r in group]
        found = _counts_grouped(_prefix_q(prefixes), segments)
        for region in group:
            result[region.pk] = _counts_at(found, str(region.pk))
    return result


def region_counts_with_children(
    *, region: Region, children: Sequence[Region]
) -> tuple[RegionCounts, dict[int, RegionCounts]]:
    """(counts in `region`'s subtree, counts per child): both from the same four GROUP BY queries.

    Rows are grouped on the path segment one below `region`; rows attached to `region` itself have an
    empty segment there, and the region's total is the sum of every group.
    """
    found = _counts_grouped(_prefix_q([region.path]), region.path.count("/") + 1)
    total = RegionCounts(**{metric: sum(by_segment.values()) for metric, by_segment in found.items()})
    return total, {child.pk: _counts_at(found, str(child.pk)) for child in children}


def region_scope_q(*, user: AnyUser) -> Q:
    """The user's scope over regions, read once (one query) and reused within a request."""
    return access.scope_q(user, "path")


def region_list_visible(*, user: AnyUser, scope: Q | None = None) -> QuerySet[Region]:
    return Region.objects.filter(scope if scope is not None else region_scope_q(user=user))


def region_roots(*, user: AnyUser) -> list[Region]:
    """The top regions of the user's scope (where the region browser starts), by path."""
    paths = access.outermost([path for _role, path in access.assignments(user)])
    return list(Region.objects.filter(path__in=paths).order_by("path"))


def region_get(*, user: AnyUser, region_id: int, scope: Q | None = None) -> Region:
    """One region in the user's scope; NotFound (404) otherwise."""
    found = region_list_visible(user=user, scope=scope).filter(pk=region_id).first()
    if found is None:
        raise NotFound(_("未找到该区域，或者它不在您的管辖范围内。"))
    return found


def region_subtree(*, region: Region) -> QuerySet[Region]:
    """Everything under `region`, itself included: one prefix LIKE on the indexed path, at any depth."""
    return Region.objects.filter(path__startswith=region.path)


def region_ancestors(*, region: Region, scope: Q) -> list[Region]:
    """The ancestors of `region` that lie in `scope`, top first (the breadcrumb)."""
    ids = [int(part) for part in region.path.split("/")[:-2]]
    if not ids:
        return []
    return list(Region.objects.filter(scope, pk__in=ids).order_by("path"))


@cache
def _pinyin_collation(alias: str) -> str | None:
    """PostgreSQL's ICU collation for Chinese (pinyin order), if the server has ICU; else None."""
    if connections[alias].vendor != "postgresql":
        return None
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT collname FROM pg_collation WHERE collname = %s", [PINYIN_COLLATION])
        return PINYIN_COLLATION if cursor.fetchone() else None


def pinyin_order(field_name: str, *, descending: bool = False) -> OrderBy:
    """Order Chinese names as people expect (陈 before 刘 before 王: by pinyin), where the database
    can; otherwise by code point."""
    collation = _pinyin_collation(DEFAULT_DB_ALIAS)
    expression = Collate(F(field_name), collation) if collation else F(field_name)
    return OrderBy(expression, descending=descending)


def region_children(*, region: Region, order: str = "code") -> QuerySet[Region]:
    """The direct children, by statistical code (the official order) or by name in pinyin order."""
    children = Region.objects.filter(parent=region)
    if order == "name":
        return children.order_by(pinyin_order("name"), "code")
    return children.order_by("code", "name")


def region_node(*, user: AnyUser, region_id: int, order: str = "code") -> RegionNode:
    """The browser's view of one region: ancestors, counts, and each child with its counts.

    Bounded queries whatever the size of the subtree: the scope, the region, its ancestors, its
    children, and one GROUP BY per metric.
    """
    scope = region_scope_q(user=user)
    region = region_get(user=user, region_id=region_id, scope=scope)
    children = list(region_children(region=region, order=order))
    total, per_child = region_counts_with_children(region=region, children=children)
    return RegionNode(
        region=region,
        ancestors=region_ancestors(region=region, scope=scope),
        counts=total,
        children=[RegionWithCounts(child, per_child[child.pk]) for child in children],
    )


def region_roots_with_counts(*, user: AnyUser) -> list[RegionWithCounts]:
    roots = region_roots(user=user)
    counts = region_counts(regions=roots)
    return [RegionWithCounts(root, counts[root.pk]) for root in roots]


def region_search_q(*, q: str) -> Q:
    """Regions whose name, current code or any former code starts with `q` (a prefix match)."""
    q = q.strip()
    former = RegionCode.objects.filter(region_id=OuterRef("pk"), code__startswith=q)
    return Q(name__startswith=q) | Q(code__startswith=q) | Q(Exists(former))


def region_search(*, user: AnyUser, q: str, scope: Q | None = None) -> QuerySet[Region]:
    """Regions in scope matching `q` (region_search_q) by statistical code: the codes nest, so this is
    the tree in reading order (a township, then its villages, each followed by its grids)."""
    if not q.strip():
        return Region.objects.none()
    return (
        region_list_visible(user=user, scope=scope)
        .filter(region_search_q(q=q))
        .order_by("code", "name", "pk")
    )


def region_names_by_id(*, regions: Iterable[Region], scope: Q) -> dict[int, str]:
    """Names of every in-scope ancestor of `regions`, in one query: search results show where they are."""
    ids: set[int] = set()
    for region in regions:
        ids.update(int(part) for part in region.path.split("/")[:-2])
    if not ids:
        return {}
    return dict(Region.objects.filter(scope, pk__in=ids).values_list("pk", "name"))


# --- managing the tree --------------------------------------------------------------------------------


def region_code_history(*, region: Region) -> list[RegionCode]:
    """The statistical codes `region` has held, newest first (the open period, valid_to None, on top).
    The region was already scope-checked."""
    return list(RegionCode.objects.filter(region=region).order_by("-valid_from", "-pk"))


def region_move_history(*, region: Region) -> list[RegionMove]:
    """Where `region` was moved from and to, newest first, with the villages and who moved it."""
    return list(
        RegionMove.objects.filter(region=region)
        .select_related("from_parent", "to_parent", "moved_by")
        .order_by("-moved_at", "-pk")
    )


def region_move_targets(*, user: AnyUser) -> list[Region]:
    """The villages a grid could be moved to by `user`: those where the user may edit the tree, by
    township then code (the township is joined for grouping). The grid's own village stays among them,
    so that a replayed move still names a valid choice; the service refuses a move to it."""
    return list(
        Region.objects.filter(access.scope_q(user, "path", access.REGION_EDITOR_ROLES))
        .filter(level=RegionLevel.VILLAGE)
        .select_related("parent")
        .order_by("parent__code", "parent__name", "parent_id", "code", "name")
    )


def _reach_q(user: AnyUser, roles: frozenset[Role] | None) -> Q | None:
    """Regions in the user's scope (for `roles`) and the ancestors of its top regions: the nodes a
    picker walks through to reach what the user may choose. None without any assignment."""
    roots = access.outermost([path for _role, path in access.assignments(user, roles)])
    if not roots:
        return None
    ancestors = {int(part) for root in roots for part in root.split("/")[:-2]}
    reach = Q(pk__in=ancestors)
    for root in roots:
        reach |= Q(path__startswith=root)
    return reach


def region_picker_choices(
    *, user: AnyUser, parent_id: int | None, roles: frozenset[Role] | None = None
) -> list[Region]:
    """The choices one step of a township → village → grid picker offers: the townships (no parent) or
    the children of `parent_id` that lie in the user's scope for `roles` or on the way to it, by code.

    A village secretary's picker thus offers their own township and village, and then their grids; a
    parent outside that reach answers NotFound (404). At most three queries: the assignments, the
    parent, its children.
    """
    reach = _reach_q(user, roles)
    if reach is None:
        if parent_id is not None:
            raise NotFound(_("未找到该区域，或者它不在您的管辖范围内。"))
        return []
    if parent_id is None:
        choices = Region.objects.filter(reach, level=RegionLevel.TOWNSHIP)
    else:
        parent = Region.objects.filter(reach, pk=parent_id).first()
        if parent is None:
            raise NotFound(_("未找到该区域，或者它不在您的管辖范围内。"))
        choices = Region.objects.filter(reach, parent=parent)
    return list(choices.order_by("code", "name", "pk"))

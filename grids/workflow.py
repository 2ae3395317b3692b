"""The case workflow in one table: every transition, the states it may start from, the state it leads to,
who may take it and what it requires. Services (grids/services/cases.py) apply it; pages and the API ask
it which buttons to show; the tests walk it exhaustively.

Who acts (`Actor`):
- LEVEL: staff of the level whose queue holds the case (grid leader for a grid-level case, the village
  Party secretary for a village, the township admin, the county admin), or anyone above them in the tree;
- HANDLER: the assigned person, or a member of the assigned handling unit;
- REPORTER: the grid leader who filed it;
- SYSTEM: Celery beat (automatic escalation).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from grids.models import CaseStatus, HandlingLevel

S = CaseStatus


class Actor(enum.Enum):
    LEVEL = "level"
    HANDLER = "handler"
    REPORTER = "reporter"
    SYSTEM = "system"


@dataclass(frozen=True)
class Transition:
    name: str
    label: str | Promise
    sources: frozenset[CaseStatus]
    # None: the service decides (follow_up: satisfied → followed_up, unsatisfied → reopened).
    target: CaseStatus | None
    actors: frozenset[Actor]
    needs_note: bool = False
    # Whether its timeline entry shows on the public timeline of a public case.
    is_public: bool = True


def _t(
    name: str,
    label: str | Promise,
    sources: set[CaseStatus],
    target: CaseStatus | None,
    actors: set[Actor],
    *,
    needs_note: bool = False,
    is_public: bool = True,
) -> Transition:
    return Transition(name, label, frozenset(sources), target, frozenset(actors), needs_note, is_public)


# States in which nobody has yet taken ownership: the queue of the level.
QUEUE_STATES = frozenset({S.SUBMITTED, S.ACCEPTED, S.RETURNED, S.REOPENED})
# States that end the case: no transition leaves them.
FINAL_STATES = frozenset({S.CLOSED, S.DUPLICATE, S.NOT_RESPONSIBLE, S.WITHDRAWN})
# States in which the handling clock runs (deadlines, warnings).
CLOCK_STATES = frozenset({S.ASSIGNED, S.SIGNED, S.IN_PROGRESS})
OPEN_STATES = frozenset(set(S) - FINAL_STATES - {S.RESOLVED, S.FOLLOWED_UP})

TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        _t("accept", _("受理"), {S.SUBMITTED}, S.ACCEPTED, {Actor.LEVEL}),
        # Re-assigning a case nobody signed for yet counts as a transfer without an owner.
        _t("assign", _("派单"), {S.ACCEPTED, S.RETURNED, S.REOPENED, S.ASSIGNED}, S.ASSIGNED, {Actor.LEVEL}),
        _t("sign_for", _("签收"), {S.ASSIGNED}, S.SIGNED, {Actor.HANDLER}),
        _t("return", _("退回"), {S.ASSIGNED, S.SIGNED}, S.RETURNED, {Actor.HANDLER}, needs_note=True),
        _t("start", _("开始处置"), {S.SIGNED}, S.IN_PROGRESS, {Actor.HANDLER}),
        _t("resolve", _("办结"), {S.SIGNED, S.IN_PROGRESS}, S.RESOLVED, {Actor.HANDLER}, needs_note=True),
        _t("follow_up", _("回访"), {S.RESOLVED}, None, {Actor.LEVEL, Actor.REPORTER}),
        _t("archive", _("归档"), {S.FOLLOWED_UP}, S.CLOSED, {Actor.LEVEL}),
        # 上报/提级: one level up (grid → village → township → county), back into that level's queue.
        _t(
            "escalate",
            _("上报提级"),
            set(QUEUE_STATES),
            S.SUBMITTED,
            {Actor.LEVEL, Actor.SYSTEM},
            needs_note=True,
        ),
        # 下派: to a region below the current one, accepted there.
        _t("send_down", _("下派"), set(QUEUE_STATES), S.ACCEPTED, {Actor.LEVEL}, needs_note=True),
        _t("mark_duplicate", _("标记重复"), {S.SUBMITTED, S.ACCEPTED}, S.DUPLICATE, {Actor.LEVEL}),
        _t(
            "not_responsible",
            _("非职责范围"),
            {S.SUBMITTED, S.ACCEPTED, S.RETURNED},
            S.NOT_RESPONSIBLE,
            {Actor.LEVEL},
            needs_note=True,
        ),
        _t(
            "withdraw",
            _("撤回"),
            set(OPEN_STATES) - {S.REOPENED},
            S.WITHDRAWN,
            {Actor.REPORTER},
            needs_note=True,
        ),
    )
}

# Filing is the transition into the first state; it has no source.
FILE = "file"

# The levels from the grid up, and the role that staffs each (governance.roles.Role values).
LEVEL_ORDER: tuple[HandlingLevel, ...] = (
    HandlingLevel.GRID,
    HandlingLevel.VILLAGE,
    HandlingLevel.TOWNSHIP,
    HandlingLevel.COUNTY,
)
LEVEL_ROLE: dict[HandlingLevel, str] = {
    HandlingLevel.GRID: "grid_leader",
    HandlingLevel.VILLAGE: "village_secretary",
    HandlingLevel.TOWNSHIP: "township_admin",
    HandlingLevel.COUNTY: "county_admin",
}

# A case re-handled this many times, or passed on this many times without anyone signing for it,
# escalates one level by itself.
AUTO_ESCALATE_AFTER = 3


def level_above(level: HandlingLevel) -> HandlingLevel | None:
    index = LEVEL_ORDER.index(level)
    return LEVEL_ORDER[index + 1] if index + 1 < len(LEVEL_ORDER) else None


def transitions_from(status: CaseStatus | str) -> list[Transition]:
    """The transitions that may start from `status`, in table order."""
    return [t for t in TRANSITIONS.values() if status in t.sources]


def is_allowed(name: str, status: CaseStatus | str) -> bool:
    transition = TRANSITIONS.get(name)
    return transition is not None and status in transition.sources

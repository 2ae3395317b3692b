"""The points module's landing page (/points/, points:home): a hub that offers each signed-in user the
parts of 百分奖 their roles reach — propose, review, the till, the public boards, reports, the rules.

Links are built from URL names; a part whose pages are not installed is left out rather than linked to
a page that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Case, When
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from governance.access import assignments
from governance.roles import Role
from points import access as points_access
from points.models import DayStatus


@dataclass(frozen=True)
class HubLink:
    key: str
    label: str | Promise
    summary: str | Promise
    url: str
    is_primary: bool = False


# (key, URL names to try in order, label, summary, roles that get it; empty: any points role).
_LINKS: tuple[tuple[str, tuple[str, ...], Promise, Promise, frozenset[str]], ...] = (
    (
        "propose",
        ("points:award_propose", "points:award_batch", "points:awards"),
        _("积分申报"),
        _("为本网格的户申报加分、扣分，附照片；也可按月批量评分。"),
        frozenset({Role.GRID_LEADER, Role.VILLAGE_SECRETARY, Role.TOWNSHIP_ADMIN, Role.COUNTY_ADMIN}),
    ),
    (
        "review",
        ("points:award_review_queue", "points:award_list"),
        _("审核与公示"),
        _("审核申报，处理公示期内群众提出的异议。"),
        frozenset({Role.VILLAGE_SECRETARY, Role.TOWNSHIP_ADMIN, Role.COUNTY_ADMIN}),
    ),
    (
        "till",
        ("points:till_home", "points:till", "points:days"),
        _("兑换日收银"),
        _("在积分超市兑换日为村民兑换商品，打印小票。"),
        frozenset({Role.TOWNSHIP_ADMIN}),
    ),
    (
        "stores",
        ("points:store_list", "points:stores"),
        _("积分超市与库存"),
        _("商品、兑换积分、入库与盘点。"),
        frozenset({Role.TOWNSHIP_ADMIN, Role.COUNTY_ADMIN}),
    ),
    (
        "accounts",
        ("points:account_list", "points:accounts", "points:ledger"),
        _("积分账户"),
        _("各户可用积分、公示中积分和流水；打印积分卡。"),
        frozenset(),
    ),
    (
        "evaluations",
        ("points:evaluation_list",),
        _("评选活动"),
        _("“最美村民”等评选：提名、审核、村民代表投票、评定。"),
        frozenset({Role.VILLAGE_SECRETARY, Role.TOWNSHIP_ADMIN, Role.COUNTY_ADMIN, Role.VIEWER}),
    ),
    (
        "board",
        ("points:board_index",),
        _("积分公示榜"),
        _("各村公开的积分排行、公示与光荣榜，可分享链接、二维码或打印张贴。"),
        frozenset(),
    ),
    (
        "reports",
        ("points:reports",),
        _("统计报表"),
        _("按村、乡镇、月份统计积分发放、兑换、清零；库存与兑换日汇总；导出 Excel。"),
        frozenset({Role.VILLAGE_SECRETARY, Role.TOWNSHIP_ADMIN, Role.COUNTY_ADMIN, Role.VIEWER}),
    ),
    (
        "rules",
        ("points:rule_list", "points:rules"),
        _("积分细则"),
        _("加分项、扣分项、分值和次数上限；乡镇兑换政策。"),
        frozenset(),
    ),
)


def _reverse_first(names: tuple[str, ...]) -> str:
    for name in names:
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return ""


def hub_links(user: Any) -> list[HubLink]:
    """The hub's links for `user`: those their roles reach, whose pages exist; the first of their main
    tasks (propose for a grid leader, review for a village secretary, the till for a township admin) is
    marked primary."""
    held = {role for role, _path in assignments(user, points_access.POINTS_SCOPE_ROLES)}
    if not held and points_access.stores_visible(user).exists():
        held = {"till_clerk"}  # a guardian grant on a store's till, without a region role
    links: list[HubLink] = []
    for key, names, label, summary, roles in _LINKS:
        if not held:
            break
        if key == "till" and "till_clerk" in held:
            pass
        elif held == {"till_clerk"} or (roles and not (held & roles)):
            continue
        url = _reverse_first(names)
        if url:
            links.append(HubLink(key=key, label=label, summary=summary, url=url))
    primary = next(
        (
            k
            for role, k in (
                (Role.TOWNSHIP_ADMIN, "till"),
                ("till_clerk", "till"),
                (Role.VILLAGE_SECRETARY, "review"),
                (Role.GRID_LEADER, "propose"),
                (Role.COUNTY_ADMIN, "reports"),
                (Role.VIEWER, "board"),
            )
            if role in held and any(link.key == k for link in links)
        ),
        None,
    )
    return [
        HubLink(key=x.key, label=x.label, summary=x.summary, url=x.url, is_primary=x.key == primary)
        for x in links
    ]


@login_required
def points_home(request: HttpRequest) -> HttpResponse:
    """百分奖积分 hub: the user's parts of the module (a note only, for a user without a points role)."""
    links = hub_links(request.user)
    return render(request, "points/home.html", {"links": links})


@login_required
def points_start(request: HttpRequest) -> HttpResponseRedirect:
    """Where a township admin lands after logging in (common.views.LANDING_BY_ROLE): the till of a
    redemption day open now at a store of their township (today's first), else the points hub."""
    from points.selectors.till import days_for_till

    day = (
        days_for_till(request.user)
        .filter(status=DayStatus.OPEN)
        .order_by(Case(When(date=timezone.localdate(), then=0), default=1), "-date", "store__name")
        .first()
    )
    if day is not None:
        return HttpResponseRedirect(reverse("points:till", args=[day.pk]))
    return HttpResponseRedirect(reverse("points:home"))

"""The industry module's landing page (/industry/, industry:home): what the reader can do here by role,
the events running today that they may enter sales for, and a few headline figures of their scope.

Other areas' pages are linked by their URL names (industry.md) through url_or_blank, so a page not built
yet leaves its link out instead of breaking the hub. Someone with no industry role gets a polite empty
page, not an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from governance import access as region_access
from governance.models import Region, RegionLevel
from governance.roles import Role
from industry import access
from industry.access import AnyUser
from industry.models import CollectiveIncome, CollectiveThreshold, SalesRecord
from industry.selectors import events as event_selectors
from industry.templatetags.industry_tags import url_or_blank
from industry.views.events import pages


@dataclass(frozen=True)
class Link:
    label: str
    url: str
    key: str
    primary: bool = False


@dataclass(frozen=True)
class LinkGroup:
    title: str
    key: str
    links: list[Link]


@dataclass(frozen=True)
class Figures:
    """The headline figures of the reader's scope: `year` is this year, or the latest year with events
    when this year has none yet; weak villages count for `weak_year` (the latest year with a line)."""

    year: int
    events: int
    sales_fen: int
    products_sold: int
    businesses: int
    weak_villages: int | None
    weak_year: int | None


def _roles(user: AnyUser) -> set[str]:
    return {role for role, _path in region_access.assignments(user)}


def _group(title: str, key: str, links: list[Link]) -> LinkGroup | None:
    present = [link for link in links if link.url]
    return LinkGroup(title, key, present) if present else None


def _link(label: str, name: str, key: str, *args: Any, primary: bool = False) -> Link:
    return Link(label, url_or_blank(name, *args), key, primary)


def _own_village(user: AnyUser) -> Region | None:
    """The village a village secretary holds (the first one, by path)."""
    paths = [path for role, path in region_access.assignments(user) if role == Role.VILLAGE_SECRETARY]
    if not paths:
        return None
    return Region.objects.filter(path__in=paths, level=RegionLevel.VILLAGE).order_by("path").first()


def hub_groups(user: AnyUser) -> list[LinkGroup]:
    """The areas the reader may open, grouped, in the order their role uses them."""
    roles = _roles(user)
    county = Role.COUNTY_ADMIN in roles
    township = Role.TOWNSHIP_ADMIN in roles
    village = Role.VILLAGE_SECRETARY in roles
    reader = bool(roles & {str(r) for r in access.READ_ROLES})
    granted = access.events_runnable(user).exists()
    groups: list[LinkGroup | None] = []

    if county or township or granted or reader:
        sales: list[Link] = [_link(_("展会节会"), "industry:events", "go-events", primary=county or township)]
        if county or township or granted:
            sales.append(_link(_("销售录入"), "industry:sales", "go-sales"))
        if county or township:
            sales.append(_link(_("Excel 导入销售"), "industry:imports", "go-imports"))
        if reader:
            sales.append(_link(_("农产品目录"), "industry:products", "go-products"))
            sales.append(_link(_("年度销售看板"), "industry:sales-dashboard", "go-sales-dashboard"))
        groups.append(_group(_("展会节会与销售"), "events", sales))

    if reader:
        economy: list[Link] = []
        own = _own_village(user) if village and not (county or township) else None
        if own is not None:
            economy.append(
                _link(
                    _("本村集体经济收入"),
                    "industry:economy-village",
                    "go-economy-village",
                    own.pk,
                    primary=True,
                )
            )
        else:
            economy.append(_link(_("村级集体经济"), "industry:economy", "go-economy", primary=county))
        economy.append(_link(_("经营主体"), "industry:businesses", "go-businesses", primary=village))
        if county or village or township:
            economy.append(_link(_("户户有项目"), "industry:projects", "go-projects"))
            economy.append(_link(_("人人有事干"), "industry:employment", "go-employment"))
        economy.append(_link(_("产业覆盖率"), "industry:coverage", "go-coverage"))
        groups.append(_group(_("集体经济与经营主体"), "economy", economy))

        chains: list[Link] = [
            _link(_("产业链"), "industry:chains", "go-chains", primary=county),
            _link(_("村企联建·村村联建"), "industry:joint", "go-joint"),
            _link(_("特色乡镇与村庄类型"), "industry:places", "go-places"),
            _link(_("游客接待与旅游收入"), "industry:tourism", "go-tourism"),
        ]
        groups.append(_group(_("产业链、联建与文旅"), "chains", chains))
    return [g for g in groups if g is not None]


def hub_figures(user: AnyUser) -> Figures:
    """A handful of aggregates over indexed columns: cheap enough for every visit of the hub."""
    today = timezone.localdate()
    visible = access.events_visible(user)
    year = today.year
    if not visible.filter(starts_on__year=year).exists():
        latest = visible.order_by("-starts_on").values_list("starts_on", flat=True).first()
        if latest is not None:
            year = latest.year
    events = visible.filter(starts_on__year=year)
    sales = SalesRecord.objects.filter(event__in=events).order_by()
    total = sales.aggregate(t=Sum("amount_fen"))["t"] or 0
    products = sales.values("product").annotate(t=Sum("amount_fen")).filter(t__gt=0).count()
    businesses = access.businesses_visible(user).filter(is_active=True).count()
    weak: int | None = None
    weak_year: int | None = None
    line = CollectiveThreshold.objects.filter(year__lte=today.year).order_by("-year").first()
    if line is not None:
        weak_year = line.year
        weak = (
            CollectiveIncome.objects.filter(
                region_access.scope_q(user, "village__path", access.READ_ROLES), year=line.year
            )
            .order_by()
            .values("village")
            .annotate(t=Sum("amount_fen"))
            .filter(t__lt=line.weak_below_fen)
            .count()
        )
    return Figures(
        year=year,
        events=events.count(),
        sales_fen=total,
        products_sold=products,
        businesses=businesses,
        weak_villages=weak,
        weak_year=weak_year,
    )


@require_GET
@pages
def home(request: HttpRequest) -> HttpResponse:
    if not access.can_read_industry(request.user):
        return render(request, "industry/hub.html", {"empty": True})
    today = timezone.localdate()
    running = list(
        access.events_runnable(request.user)
        .filter(starts_on__lte=today, ends_on__gte=today)
        .select_related("region")
        .order_by("starts_on", "name")[:12]
    )
    return render(
        request,
        "industry/hub.html",
        {
            "empty": False,
            "groups": hub_groups(request.user),
            "figures": hub_figures(request.user),
            "running": running,
            "can_create_event": bool(event_selectors.regions_for_new_event(request.user)),
            "today": today,
        },
    )

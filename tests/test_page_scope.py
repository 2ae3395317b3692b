"""The authorization matrix of the HTML pages (issue 9): every URL of the site × every demo role × an object
inside and an object outside the role's subtree — the page counterpart of tests/test_api_scope.py, on the
same two separate subtrees (城关镇 / 新华村 / 第一网格 and 石花镇 / 民营社区 / 民营第一网格).

For every URL pattern outside /api/, /admin/ and static files, as each role (session log-in):
- GET and POST with an object of the other subtree in its path answer exactly as the same URL with ids
  that do not exist (the same status, a 403 or a 404), so a page neither shows nor tells that an object
  exists outside the caller's scope, and a POST to it changes nothing (the test asserts the database's
  row counts of the objects involved did not move);
- GET with an object inside answers 200, a redirect, or (for a role the page is not meant for) 403/404 —
  never a server error; the county admin, whose subtree is the whole county, gets 200 or a redirect
  except where a page names a narrower audience below;
- a URL without an object in its path answers every role without a server error.

A new URL pattern fails this test until its parameters are in PARAMS or ROUTES below: the model its
object is and the lookup to its region path, or the value to use for a parameter that is not an object.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.db.models import Model, Q
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from canteens.models import (
    ClassSession,
    DonationFund,
    Enrolment,
    Meal,
    MealCorrection,
    PriceRule,
    Settlement,
    Site,
    SitePhoto,
    StationService,
    SubsidyTier,
    Volunteer,
    VolunteerHours,
    WorkshopOrder,
    WorkshopProduct,
    WorkshopWorker,
)
from governance import access
from governance.models import (
    AuditEvent,
    ExportJob,
    Household,
    PartyLeadership,
    PartyMember,
    PartyOrganisation,
    Region,
    Resident,
    RoleAssignment,
    SagesGroup,
    ShennongGathering,
    Talent,
    User,
)
from governance.models.imports import ImportJob
from grids.models import (
    Case,
    FeedbackProject,
    HandlingUnit,
    ResponseTemplate,
    WorkLogEntry,
    WorkLogPhoto,
)
from industry.models import (
    Business,
    ChainLink,
    ChainParticipation,
    Employment,
    Event,
    Exhibitor,
    HouseholdProject,
    IndustryChain,
    JointCommunity,
    JointMember,
    Product,
    RegionDesignation,
    SalesImportJob,
    SalesRecord,
)
from points.models import (
    Award,
    Evaluation,
    Item,
    Objection,
    Redemption,
    RedemptionDay,
    RedemptionLine,
    Store,
)
from points.models import Rule as PointsRule
from tests.test_api_scope import ROLES, two_subtrees  # noqa: F401  (the fixture, shared)

pytestmark = pytest.mark.django_db

# Pages for everyone, logged in or not, by design: they show public data only (their own tests check that
# a non-public object is not shown).
PUBLIC = {
    "grids:public_case": "a public case's timeline without personal data (tests/grids/test_public*.py)",
    "points:board_objection": "an objection to an award under public notice on the village's board",
    "canteens:thanks": "a canteen's public thank-you list of donors, viewable without logging in",
}

MISSING_ID = 2_147_483_000  # no row has this id


@dataclass(frozen=True)
class Obj:
    """A path parameter naming a `model` row (by `field`, the primary key unless said), whose region path
    `path_field` leads to. `path_field=None`: a county-wide row (reference data) — any row will do, and
    being outside a subtree means nothing."""

    model: type[Model]
    path_field: str | None
    field: str = "pk"
    where: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Value:
    """A path parameter that is not an object (a day, a kind of list): the value to put in it."""

    value: Callable[[dict[str, Any]], str]


Param = Obj | Value

REGION = Obj(Region, "path")
GRID = Obj(Region, "path", where=(("level", "grid"),))
VILLAGE = Obj(Region, "path", where=(("level", "village"),))
TOWNSHIP = Obj(Region, "path", where=(("level", "township"),))
SITE = Obj(Site, "region__path")
CANTEEN = Obj(Site, "region__path", where=(("kind", "canteen"),))
WORKSHOP = Obj(Site, "region__path", where=(("kind", "workshop"),))
STATION = Obj(Site, "region__path", where=(("kind", "red_station"),))
CLASSROOM = Obj(Site, "region__path", where=(("kind", "classroom"),))
HOUSEHOLD = Obj(Household, "grid__path")
USER = Value(lambda made: str(User.objects.get(username="county_admin").pk))

# A parameter's meaning by its name, wherever it appears.
PARAMS: dict[str, Param] = {
    "region_id": REGION,
    "grid_id": GRID,
    "township_id": TOWNSHIP,
    "household_id": HOUSEHOLD,
    "resident_id": Obj(Resident, "household__grid__path"),
    "org_id": Obj(PartyOrganisation, "region__path"),
    "leadership_id": Obj(PartyLeadership, "organisation__region__path"),
    "group_id": Obj(SagesGroup, "village__path"),
    "talent_id": Obj(Talent, "resident__household__grid__path"),
    "gathering_id": Obj(ShennongGathering, None),
    "job_id": Obj(ImportJob, "region__path"),
    "assignment_id": Obj(RoleAssignment, "region__path"),
    "event_id": Obj(AuditEvent, "region_path"),
    "case_id": Obj(Case, "grid__path"),
    "number": Obj(Case, "grid__path", field="number"),
    "unit_id": Obj(HandlingUnit, "region__path"),
    "template_id": Obj(ResponseTemplate, None),
    "entry_id": Obj(WorkLogEntry, "grid__path"),
    "photo_id": Obj(WorkLogPhoto, "entry__grid__path"),
    "project_id": Obj(FeedbackProject, "village__path"),
    "award_id": Obj(Award, "household__grid__path"),
    "objection_id": Obj(Objection, "award__household__grid__path"),
    "rule_id": Obj(PointsRule, None),
    "store_id": Obj(Store, "region__path"),
    "day_id": Obj(RedemptionDay, "store__region__path"),
    "item_id": Obj(Item, "store__region__path"),
    "redemption_id": Obj(Redemption, "household__grid__path"),
    "line_id": Obj(RedemptionLine, "redemption__household__grid__path"),
    "evaluation_id": Obj(Evaluation, "village__path"),
    "site_id": CANTEEN,
    "enrolment_id": Obj(Enrolment, "site__region__path"),
    "tier_id": Obj(SubsidyTier, None),
    "meal_id": Obj(Meal, "site__region__path"),
    "correction_id": Obj(MealCorrection, "meal__site__region__path"),
    "fund_id": Obj(DonationFund, "site__region__path"),
    "session_id": Obj(ClassSession, "site__region__path"),
    "hours_id": Obj(VolunteerHours, "site__region__path"),
    "volunteer_id": Obj(Volunteer, "region__path"),
    "product_id": Obj(WorkshopProduct, "site__region__path"),
    "worker_id": Obj(WorkshopWorker, "site__region__path"),
    "order_id": Obj(WorkshopOrder, "site__region__path"),
    "service_id": Obj(StationService, "site__region__path"),
    "link_id": Obj(ChainLink, None),
    "user_id": USER,
    "member_id": Obj(PartyMember, "organisation__region__path"),
    "code": Value(lambda made: made["regions"]["新华村"].code),
    "module": Value(lambda made: "grids"),
    "day": Value(lambda made: dt.date.today().isoformat()),
    "which": Value(lambda made: "volunteers"),
    "kind": Value(lambda made: "featured_town"),
    "theme": Value(lambda made: "tea_tourism"),
}

# Where a parameter means something else on one URL (by the URL's name): `pk` everywhere, and the few
# names two apps use for different things.
ROUTES: dict[str, dict[str, Param]] = {
    # `rule_id` is a points rule elsewhere: here a canteen's price rule.
    "canteens:rule_end": {"rule_id": Obj(PriceRule, "site__region__path")},
    "canteens:settlement": {"pk": Obj(Settlement, "site__region__path")},
    "canteens:claim_print": {"pk": Obj(Settlement, "site__region__path")},
    "canteens:photo_delete": {"photo_id": Obj(SitePhoto, "site__region__path")},
    "canteens:product_edit": {"product_id": Obj(WorkshopProduct, "site__region__path")},
    "industry:joint-member-remove": {"member_id": Obj(JointMember, "community__lead_region__path")},
    "industry:product-detail": {"pk": Obj(Product, None)},
    "industry:product-edit": {"pk": Obj(Product, None)},
    "governance:export_new": {"kind": Value(lambda made: "residents")},
    "governance:export_job_detail": {"job_id": Obj(ExportJob, None)},
    "governance:export_job_download": {"job_id": Obj(ExportJob, None)},
    "governance:roster_import_detail": {"job_id": Obj(ImportJob, "region__path")},
    "module-home": {"module": Value(lambda made: "governance")},
    "industry:places-kind": {"kind": Value(lambda made: "featured_town")},
    **{
        f"industry:{name}": {"pk": Obj(IndustryChain, None)}
        for name in (
            "chain-detail",
            "chain-edit",
            "chain-links",
            "chain-link-rename",
            "chain-link-move",
            "chain-link-remove",
        )
    },
    **{
        f"industry:{name}": {"pk": Obj(Business, "region__path")}
        for name in (
            "business-detail",
            "business-edit",
            "business-deactivate",
            "business-reactivate",
            "participation-create",
        )
    },
    "industry:participation-edit": {"pk": Obj(ChainParticipation, "business__region__path")},
    "industry:participation-end": {"pk": Obj(ChainParticipation, "business__region__path")},
    "industry:project-end": {"pk": Obj(HouseholdProject, "household__grid__path")},
    "industry:employment-end": {"pk": Obj(Employment, "resident__household__grid__path")},
    "industry:economy-village": {"pk": VILLAGE},
    "industry:economy-village-edit": {"pk": VILLAGE},
    **{
        f"industry:{name}": {"pk": Obj(JointCommunity, "lead_region__path")}
        for name in (
            "joint-detail",
            "joint-edit",
            "joint-member-add",
            "joint-result-set",
            "tourism-brand",
            "tourism-brand-edit",
        )
    },
    "industry:designation-remove": {"pk": Obj(RegionDesignation, "region__path")},
    **{
        f"industry:{name}": {"pk": Obj(Event, "region__path")}
        for name in (
            "event-detail",
            "event-edit",
            "event-organiser-grant",
            "event-organiser-revoke",
            "event-exhibitors",
            "event-sales",
            "sale-create",
            "event-dashboard",
        )
    },
    "industry:exhibitor-remove": {"pk": Obj(Exhibitor, "event__region__path")},
    "industry:sale-reverse": {"pk": Obj(SalesRecord, "event__region__path")},
    "industry:sale-correct": {"pk": Obj(SalesRecord, "event__region__path")},
    **{
        f"industry:{name}": {"pk": Obj(SalesImportJob, "region_path")}
        for name in ("import-detail", "import-progress", "import-report", "import-retry")
    },
    "industry:tourism-region": {"pk": VILLAGE},
    "industry:tourism-region-edit": {"pk": VILLAGE},
    "governance:regions_grid_move": {"region_id": GRID},
    **{
        f"canteens:{name}": {"site_id": WORKSHOP}
        for name in ("workshop", "order_create", "product_create", "wage_create", "worker_add")
    },
    **{f"canteens:{name}": {"site_id": STATION} for name in ("station", "log_create", "service_create")},
    **{f"canteens:{name}": {"site_id": CLASSROOM} for name in ("classroom", "session_create")},
    **{
        f"canteens:{name}": {"site_id": SITE}
        for name in (
            "site_detail",
            "site_edit",
            "manager_grant",
            "manager_revoke",
            "photo_add",
            "photo_delete",
            "volunteer_create",
            "hours_create",
        )
    },
    # The till and its summary serve an open redemption day.
    **{
        f"points:{name}": {"day_id": Obj(RedemptionDay, "store__region__path", where=(("status", "open"),))}
        for name in ("till", "till_summary")
    },
}

# Pages with a narrower audience than the county admin: who they are for, and why the county admin gets
# 403/404 on an object inside its (county-wide) scope.
NOT_FOR_COUNTY_ADMIN: dict[str, str] = {
    "points:till": "the till is run by the store's township admins and granted clerks, not the county",
    "points:till_summary": "the day's till summary belongs to who runs that till",
}

SUCCESS = {200, 302, 303}
REFUSED = {403, 404}


def _patterns() -> Iterator[tuple[str, str]]:
    """(route, name) of every URL pattern outside the API, the admin and the static and media files."""

    def walk(resolver: URLResolver, prefix: str, namespace: str) -> Iterator[tuple[str, str]]:
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                inner = (
                    f"{namespace}:{entry.namespace}"
                    if namespace and entry.namespace
                    else (entry.namespace or namespace)
                )
                yield from walk(entry, prefix + str(entry.pattern), inner or "")
            elif isinstance(entry, URLPattern):
                name = f"{namespace}:{entry.name}" if namespace else (entry.name or "")
                yield prefix + str(entry.pattern), name

    for route, name in walk(get_resolver(), "", ""):
        route = route.lstrip("^").rstrip("$")
        if route.startswith(("api/", "admin/", "static", "media", "i18n/", "__")):
            continue
        yield route, name


def _params(route: str) -> list[str]:
    return re.findall(r"<(?:\w+:)?(\w+)>", route)


def _rule(name: str, param: str) -> Param | None:
    return ROUTES.get(name, {}).get(param) or PARAMS.get(param)


def _pick(rule: Obj, paths: list[str], *, inside: bool) -> Model | None:
    """A row inside (or outside) the caller's subtree; for county-wide rows any row, inside only."""
    rows = rule.model._default_manager.filter(**dict(rule.where)).order_by("pk")
    if rule.path_field is None:
        return rows.first() if inside else None
    in_scope = Q(pk__in=[])
    for path in paths:
        in_scope |= Q(**{f"{rule.path_field}__startswith": path})
    if inside:
        return rows.filter(in_scope).first()
    return rows.exclude(in_scope).exclude(**{rule.path_field: ""}).first()


def _url(route: str, values: dict[str, str]) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], route)


def test_every_url_parameter_is_mapped():
    unmapped = sorted(
        f"{name} <{param}>"
        for route, name in _patterns()
        for param in _params(route)
        if _rule(name, param) is None
    )
    assert not unmapped, (
        f"URL parameters the page scope test does not know: {unmapped}. Say in PARAMS or ROUTES of "
        "tests/test_page_scope.py which model each names and how it leads to a region path."
    )


def _jpeg() -> bytes:
    from io import BytesIO

    from PIL import Image

    output = BytesIO()
    Image.new("RGB", (8, 6), "white").save(output, "JPEG")
    return output.getvalue()


@pytest.fixture
def page_subtrees(two_subtrees, settings, tmp_path):  # noqa: F811
    """The API scope test's two subtrees and, on each side, the rows only pages name: a canteen photo,
    a meal correction, a branch secretary's term, a work-log photo and a redemption day."""
    import hashlib

    from django.core.files.base import ContentFile

    settings.MEDIA_ROOT = tmp_path
    made = two_subtrees
    admin = User.objects.get(username="county_admin")
    image = _jpeg()
    for side, township in (("xinhua", "城关镇"), ("minying", "石花镇")):
        path = made["regions"][township].path
        site = Site.objects.filter(region__path__startswith=path).order_by("pk").first()
        photo = SitePhoto(site=site, caption=f"{township}阵地")
        photo.image.save(f"{side}.jpg", ContentFile(image), save=True)
        meal = Meal.objects.filter(site__region__path__startswith=path).order_by("pk").first()
        MealCorrection.objects.create(meal=meal, reason="误录", requested_by=admin)
        member = made[side]["member"]
        PartyLeadership.objects.create(
            organisation=member.organisation,
            member=member,
            position="secretary",
            term_start=dt.date(2021, 10, 1),
        )
        entry = WorkLogEntry.objects.filter(grid__path__startswith=path).order_by("pk").first()
        log_photo = WorkLogPhoto(
            entry=entry, width=8, height=6, size_bytes=len(image), sha256=hashlib.sha256(image).hexdigest()
        )
        log_photo.image.save(f"{side}.jpg", ContentFile(image), save=True)
        store = Store.objects.filter(region__path__startswith=path).order_by("pk").first()
        RedemptionDay.objects.create(
            store=store, date=dt.date.today() + dt.timedelta(days=7), title="兑换日", created_by=admin
        )
        RedemptionDay.objects.create(
            store=store, date=dt.date.today(), title="兑换日", status="open", created_by=admin
        )
        HandlingUnit.objects.create(region=made["regions"][township], name=f"{township}综治中心")
    ResponseTemplate.objects.create(transition="accept", text="您反映的问题已受理，编号{number}。")
    job = ExportJob(
        requested_by=admin, kind="households", status="done", file_name="户名单.xlsx", rows_total=1
    )
    job.file.save("households.xlsx", ContentFile(b"PK"), save=True)
    return made


def test_no_page_shows_or_changes_an_object_outside_the_callers_subtree(page_subtrees):
    """Every role in one test: the two subtrees take longer to build than the walk of all pages."""
    problems: list[str] = []
    for username in ROLES:
        problems += _walk_as(page_subtrees, username)
    assert not problems, "\n".join(problems)


def _walk_as(made: dict[str, Any], username: str) -> list[str]:
    user = User.objects.get(username=username)
    paths = access.outermost([path for _role, path in access.assignments(user)])
    client = Client()
    client.force_login(user)
    checked: list[str] = []
    problems: list[str] = []
    for route, name in sorted(_patterns()):
        params = _params(route)
        where = f"{name} as {username}"
        if not params:
            response = client.get("/" + route)
            if response.status_code >= 500:
                problems.append(f"GET /{route} ({where}): {response.status_code}")
            continue
        inside: dict[str, str] = {}
        outside: dict[str, str] = {}
        missing: dict[str, str] = {}
        scoped: list[Obj] = []
        for param in params:
            rule = _rule(name, param)
            assert rule is not None, where
            if isinstance(rule, Value):
                inside[param] = outside[param] = missing[param] = rule.value(made)
                continue
            row_in = _pick(rule, paths, inside=True)
            row_out = _pick(rule, paths, inside=False)
            inside[param] = str(getattr(row_in, rule.field)) if row_in is not None else ""
            if rule.path_field is None:
                # County-wide: the same row inside and outside; a scope cannot exclude it.
                outside[param] = inside[param]
            else:
                scoped.append(rule)
                outside[param] = str(getattr(row_out, rule.field)) if row_out is not None else ""
            missing[param] = "X-MISSING" if rule.field != "pk" else str(MISSING_ID)
        if scoped and username != "county_admin" and name not in PUBLIC:
            if not all(outside.values()):
                problems.append(f"{where}: the fixture has no object outside for {outside}")
                continue
            url_out, url_missing = _url(route, outside), _url(route, missing)
            counts = {rule.model: rule.model._default_manager.count() for rule in scoped}
            for method in ("get", "post"):
                answer_missing = getattr(client, method)(url_missing)
                answer_out = getattr(client, method)(url_out)
                if answer_out.status_code != answer_missing.status_code:
                    problems.append(
                        f"{method.upper()} {url_out} ({where}): {answer_out.status_code}, but "
                        f"{answer_missing.status_code} for ids that do not exist"
                    )
                elif answer_out.status_code not in REFUSED | {405}:
                    problems.append(f"{method.upper()} {url_out} ({where}): {answer_out.status_code}")
            if {rule.model: rule.model._default_manager.count() for rule in scoped} != counts:
                problems.append(f"POST {url_out} ({where}) changed rows outside the caller's subtree")
            checked.append(name)
        if not all(inside.values()):
            if username == "county_admin":
                problems.append(f"{where}: the fixture has no object inside for {inside}")
            continue
        url_in = _url(route, inside)
        status = client.get(url_in).status_code
        if username == "county_admin" and name not in NOT_FOR_COUNTY_ADMIN:
            expected = SUCCESS | {405}
        else:
            expected = SUCCESS | REFUSED | {405}
        if status not in expected:
            problems.append(f"GET {url_in} ({where}): {status}")
    if username != "county_admin" and len(checked) < 100:
        problems.append(f"only {len(checked)} URLs were checked outside {username}'s scope")
    return problems

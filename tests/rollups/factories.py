"""A small county for the rollup tests, and writers of source rows that also tell the expected facts.

The world: county C; townships T1 (villages V1, V2) and T2 (village V3); grids G1, G2 under V1, G3 under
V2, G4 under V3. Grid G2 is re-zoned from V1 (T1) to V3 (T2) at MOVED_AT, so its rows before the move
belong to V1/T1 and after it to V3/T2. Each grid has two households with two residents each; canteens
in V1 and V3, a classroom in V2; businesses in V1 and V3 exhibit at an expo in T1.

Every writer inserts the source rows directly (no services: the tests want hundreds of rows fast and
exact control of their times) and adds what they must contribute to `Expected`, computed in Python from
the world's own idea of where each grid was — an oracle independent of the engine's SQL.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection

from canteens.models import ClassAttendance, ClassSession, Meal, Site, Volunteer
from governance.models import Household, Region, RegionMove, Resident, User
from grids.models import Case, CaseCategory, CaseEvent, CaseSupervision
from industry.models import Business, Event, Exhibitor, JointCommunity, Product, SalesRecord, TourismRecord
from points.models import Account, LedgerTransaction, Posting

TZ = ZoneInfo("Asia/Shanghai")
MOVED_AT = dt.datetime(2026, 3, 15, 10, 0, tzinfo=TZ)
FIRST_DAY = dt.date(2026, 1, 1)
_numbers = itertools.count(1)

FactKey = tuple[str, dt.date, int, int, int, int]
MemberKey = tuple[str, dt.date, int, int, int, int, int]


@dataclass
class Expected:
    facts: dict[FactKey, int] = field(default_factory=lambda: defaultdict(int))
    members: set[MemberKey] = field(default_factory=set)
    # Members that a later reversal takes back out (removed at the end: membership is "any standing").
    standing: dict[MemberKey, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, metric: str, day: dt.date, where: tuple[int, int, int, int], value: int) -> None:
        self.facts[(metric, day, *where)] += value

    def fact_rows(self) -> dict[FactKey, int]:
        return {k: v for k, v in self.facts.items() if v != 0}

    def member_rows(self) -> set[MemberKey]:
        return {k for k, n in self.standing.items() if n > 0} | self.members


def region_make(name: str, level: str, kind: str, parent: Region | None) -> Region:
    region = Region.objects.create(
        name=name, level=level, kind=kind, parent=parent, path=f"tmp-{uuid.uuid4().hex}/"
    )
    region.path = f"{parent.path if parent else ''}{region.pk}/"
    Region.objects.filter(pk=region.pk).update(path=region.path)
    return region


def resident_make(household: Household, name: str) -> Resident:
    token = uuid.uuid4().hex
    return Resident.objects.create(
        household=household,
        name=name,
        gender="M",
        birth_date=dt.date(1950, 1, 1),
        id_number_encrypted=token,
        id_number_hash=token,
        id_number_masked="4206**********0000",
        relation_to_head="self",
    )


@dataclass
class World:
    county: Region
    townships: dict[str, Region]
    villages: dict[str, Region]
    grids: dict[str, Region]
    user: User
    households: list[Household]
    residents: list[Resident]
    accounts: dict[int, Account]  # by household id
    issuance: dict[int, Account]  # by township id
    canteens: list[Site]
    classroom: Site
    teacher: Volunteer
    category: CaseCategory
    event: Event
    exhibitors: list[Exhibitor]
    products: list[Product]
    community: JointCommunity
    expected: Expected = field(default_factory=Expected)

    # ---- where things were
    def grid_at(self, grid: Region, at: dt.datetime) -> tuple[int, int, int, int]:
        """(county, township, village, grid) of `grid` at `at`: G2 sat in V1 before MOVED_AT."""
        if grid.pk == self.grids["G2"].pk and at < MOVED_AT:
            village = self.villages["V1"]
        else:
            village = Region.objects.get(pk=int(grid.parent_id or 0))
        return (self.county.pk, village.parent_id or 0, village.pk, grid.pk)

    def village_ids(self, village: Region) -> tuple[int, int, int, int]:
        return (self.county.pk, village.parent_id or 0, village.pk, 0)

    def grid_of(self, household: Household) -> Region:
        return next(g for g in self.grids.values() if g.pk == household.grid_id)


def world_make() -> World:
    county = region_make("测试县", "county", "county", None)
    t1 = region_make("一镇", "township", "town", county)
    t2 = region_make("二镇", "township", "town", county)
    v1 = region_make("甲村", "village", "village", t1)
    v2 = region_make("乙村", "village", "village", t1)
    v3 = region_make("丙村", "village", "village", t2)
    grids = {
        "G1": region_make("第一网格", "grid", "grid", v1),
        "G2": region_make("第二网格", "grid", "grid", v1),
        "G3": region_make("第三网格", "grid", "grid", v2),
        "G4": region_make("第四网格", "grid", "grid", v3),
    }
    # G2 re-zoned from V1 to V3 (another township) at MOVED_AT.
    g2 = grids["G2"]
    old_path = g2.path
    new_path = f"{v3.path}{g2.pk}/"
    Region.objects.filter(pk=g2.pk).update(parent=v3, path=new_path)
    move = RegionMove.objects.create(
        region=g2, from_parent=v1, to_parent=v3, old_path=old_path, new_path=new_path, reason="测试调整"
    )
    RegionMove.objects.filter(pk=move.pk).update(moved_at=MOVED_AT)
    g2.refresh_from_db()

    user = User.objects.create(username=f"u{uuid.uuid4().hex[:8]}", full_name="测试员")
    households, residents, accounts = [], [], {}
    issuance = {t.pk: Account.objects.create(kind="issuance", township=t) for t in (t1, t2)}
    for grid in grids.values():
        for _i in range(2):
            household = Household.objects.create(grid=grid, number=f"H{next(_numbers)}")
            households.append(household)
            residents += [resident_make(household, f"居民{next(_numbers)}") for _j in range(2)]
            township = t1 if grid.pk in (grids["G1"].pk, grids["G3"].pk) else t2
            accounts[household.pk] = Account.objects.create(
                kind="household", township=township, household=household
            )
    canteens = [
        Site.objects.create(kind="canteen", name="甲村爱心食堂", region=v1),
        Site.objects.create(kind="canteen", name="丙村爱心食堂", region=v3),
    ]
    classroom = Site.objects.create(kind="classroom", name="乙村爱心讲堂", region=v2)
    teacher = Volunteer.objects.create(region=v2, name="李老师")
    category = CaseCategory.objects.create(duty="service", code=f"T{next(_numbers)}", name="测试类别")
    event = Event.objects.create(
        kind="expo",
        name=f"测试展会{next(_numbers)}",
        region=t1,
        starts_on=FIRST_DAY,
        ends_on=dt.date(2026, 12, 31),
    )
    businesses = [
        Business.objects.create(kind="cooperative", name="甲村合作社", region=v1),
        Business.objects.create(kind="cooperative", name="丙村合作社", region=v3),
    ]
    exhibitors = [Exhibitor.objects.create(event=event, business=b) for b in businesses]
    products = [
        Product.objects.create(code=f"P{next(_numbers)}", name=f"产品{i}", category="tea") for i in range(3)
    ]
    community = JointCommunity.objects.create(kind="village_village", name="联建体", lead_region=v2)
    return World(
        county=county,
        townships={"T1": t1, "T2": t2},
        villages={"V1": v1, "V2": v2, "V3": v3},
        grids={k: Region.objects.get(pk=g.pk) for k, g in grids.items()},
        user=user,
        households=households,
        residents=residents,
        accounts=accounts,
        issuance=issuance,
        canteens=canteens,
        classroom=classroom,
        teacher=teacher,
        category=category,
        event=event,
        exhibitors=exhibitors,
        products=products,
        community=community,
    )


def at_of(day_offset: int, hour: int) -> dt.datetime:
    day = FIRST_DAY + dt.timedelta(days=day_offset)
    return dt.datetime.combine(day, dt.time(hour, 30), tzinfo=TZ)


# ---- grids


def case_write(world: World, *, grid: str, at: dt.datetime) -> Case:
    region = world.grids[grid]
    case = Case.objects.create(
        number=f"C{next(_numbers)}",
        category=world.category,
        description="测试",
        grid=region,
        reporter=world.user,
        idempotency_key=uuid.uuid4().hex,
        level="grid",
        handling_region=region,
        filed_at=at,
    )
    world.expected.add("grids.cases_filed", at.astimezone(TZ).date(), world.grid_at(region, at), 1)
    return case


def case_event_write(
    world: World,
    case: Case,
    *,
    kind: str,
    at: dt.datetime,
    on_time: bool | None = None,
    satisfaction: str = "",
) -> None:
    data: dict[str, object] = {}
    if kind == "resolve":
        data = {"on_time": on_time}
    elif kind == "follow_up":
        data = {"satisfaction": satisfaction}
    CaseEvent.objects.create(case=case, kind=kind, at=at, data=data)
    where = world.grid_at(case.grid, at)
    day = at.astimezone(TZ).date()
    if kind == "resolve":
        world.expected.add("grids.cases_resolved", day, where, 1)
        world.expected.add("grids.cases_resolved_on_time", day, where, 1 if on_time else 0)
    elif kind == "follow_up":
        world.expected.add("grids.satisfaction_total", day, where, 1)
        world.expected.add(
            "grids.satisfaction_yes", day, where, 1 if satisfaction in ("satisfied", "basically") else 0
        )


def supervision_write(world: World, case: Case, *, at: dt.datetime) -> None:
    CaseSupervision.objects.create(
        case=case, kind="red", deadline=at - dt.timedelta(hours=next(_numbers)), raised_at=at
    )
    world.expected.add("grids.cases_overdue", at.astimezone(TZ).date(), world.grid_at(case.grid, at), 1)


# ---- points


def _transaction(
    world: World, *, kind: str, township: Region, at: dt.datetime, reverses: int | None = None
) -> int:
    # Plain INSERTs: created_at is auto_now_add on the models and the ledger refuses UPDATEs.
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {LedgerTransaction._meta.db_table} "  # noqa: S608
            "(kind, township_id, memo, reverses_id, created_at) "
            "VALUES (%s, %s, %s, %s, %s) RETURNING id",
            [kind, township.pk, "测试", reverses, at],
        )
        return int(cursor.fetchone()[0])


def posting_write(
    world: World,
    *,
    household: Household,
    kind: str,
    amount: int,
    at: dt.datetime,
    reversed_at: dt.datetime | None = None,
) -> PostingWritten:
    """A household posting of `kind` ("award": +amount, "redemption"/"deduction": −amount) and its
    counter-leg on a system account; with `reversed_at`, its reversal then (or later: posting_reverse)."""
    account = world.accounts[household.pk]
    township = Region.objects.get(pk=account.township_id)
    counter = world.issuance[township.pk]
    signed = amount if kind == "award" else -amount
    grid = world.grid_of(household)

    def legs(entry: int, value: int, when: dt.datetime) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {Posting._meta.db_table} (transaction_id, account_id, amount, created_at) "  # noqa: S608
                "VALUES (%s, %s, %s, %s), (%s, %s, %s, %s)",
                [entry, account.pk, value, when, entry, counter.pk, -value, when],
            )

    original = _transaction(world, kind=kind, township=township, at=at)
    legs(original, signed, at)
    written = PostingWritten(original, household, kind, signed, legs)
    if reversed_at is not None:
        posting_reverse(world, written, at=reversed_at)
    _posting_expect(world, written, at, signed)
    if kind == "award":
        world.expected.members.add(
            (
                "points.households_awarded",
                at.astimezone(TZ).date().replace(day=1),
                *world.grid_at(grid, at),
                household.pk,
            )
        )
    return written


@dataclass
class PostingWritten:
    """What posting_reverse needs of a posting_write."""

    transaction_id: int
    household: Household
    kind: str
    signed: int
    legs: Any
    reversed: bool = False


def posting_reverse(world: World, written: PostingWritten, *, at: dt.datetime) -> None:
    """The reversal of a posting_write's transaction at `at` (legs negated). A reversed award still
    counts its household as awarded in the award's month."""
    if written.reversed:
        return
    written.reversed = True
    township = Region.objects.get(pk=world.accounts[written.household.pk].township_id)
    reversal = _transaction(world, kind="reversal", township=township, at=at, reverses=written.transaction_id)
    written.legs(reversal, -written.signed, at)
    _posting_expect(world, written, at, -written.signed)


def _posting_expect(world: World, written: PostingWritten, when: dt.datetime, value: int) -> None:
    day = when.astimezone(TZ).date()
    where = world.grid_at(world.grid_of(written.household), when)
    world.expected.add("points.balance", day, where, value)
    if written.kind == "award":
        world.expected.add("points.issued", day, where, value)
    elif written.kind == "redemption":
        world.expected.add("points.redeemed", day, where, -value)


# ---- canteens

_MEAL = {
    "price_fen": 1000,
    "resident_fen": 300,
    "government_fen": 500,
    "community_fen": 100,
    "donation_fen": 100,
}


def meal_write(world: World, *, site: int, resident: Resident | None, day: dt.date, slot: str) -> Meal:
    """A meal at canteen `site` (a guest's when `resident` is None)."""
    place = world.canteens[site]
    guest = resident is None
    parts = dict(_MEAL) if not guest else {**{k: 0 for k in _MEAL}, "price_fen": 1200, "resident_fen": 1200}
    meal = Meal.objects.create(
        site=place,
        served_on=day,
        slot=slot,
        resident=resident,
        is_guest=guest,
        guest_name="路人" if guest else "",
        verified_by="name",
        created_by=world.user,
        **parts,
    )
    where = world.village_ids(Region.objects.get(pk=place.region_id))
    world.expected.add("canteens.meals", day, where, 1)
    world.expected.add("canteens.subsidy_government_fen", day, where, parts["government_fen"])
    if resident is not None:
        world.expected.standing[("canteens.beneficiaries", day.replace(day=1), *where, resident.pk)] += 1
    return meal


def meal_reverse(world: World, meal: Meal, *, day: dt.date) -> None:
    """The correction: `meal` voided and a reversal meal dated `day` (in its own period)."""
    Meal.objects.filter(pk=meal.pk).update(voided_at=dt.datetime.combine(day, dt.time(12), tzinfo=TZ))
    parts = {k: -getattr(meal, k) for k in _MEAL}
    Meal.objects.create(
        site=meal.site,
        served_on=day,
        slot=meal.slot,
        resident=meal.resident,
        is_guest=meal.is_guest,
        guest_name=meal.guest_name,
        verified_by="name",
        created_by=world.user,
        reverses=meal,
        **parts,
    )
    where = world.village_ids(Region.objects.get(pk=meal.site.region_id))
    world.expected.add("canteens.meals", day, where, -1)
    world.expected.add("canteens.subsidy_government_fen", day, where, parts["government_fen"])
    if meal.resident_id is not None:
        world.expected.standing[
            ("canteens.beneficiaries", meal.served_on.replace(day=1), *where, meal.resident_id)
        ] -= 1


def attendance_write(world: World, *, day: dt.date, residents: list[Resident]) -> None:
    session = ClassSession.objects.create(
        site=world.classroom,
        held_on=day,
        subject="书法",
        teacher=world.teacher,
        children_count=len(residents),
        created_by=world.user,
    )
    village = Region.objects.get(pk=world.classroom.region_id)
    for resident in residents:
        ClassAttendance.objects.create(session=session, resident=resident)
        world.expected.standing[
            ("canteens.beneficiaries", day.replace(day=1), *world.village_ids(village), resident.pk)
        ] += 1


# ---- industry


def sale_write(world: World, *, exhibitor: int, product: int, day: dt.date, amount_fen: int) -> SalesRecord:
    booth = world.exhibitors[exhibitor]
    record = SalesRecord.objects.create(
        event=world.event,
        exhibitor=booth,
        product=world.products[product],
        channel="offline",
        sold_on=day,
        quantity=Decimal("1.00"),
        amount_fen=amount_fen,
    )
    where = world.village_ids(Region.objects.get(pk=booth.business.region_id))
    world.expected.add("industry.sales_fen", day, where, amount_fen)
    world.expected.add("industry.sales_records", day, where, 1)
    world.expected.standing[("industry.product_kinds", day.replace(day=1), *where, record.product_id)] += 1
    return record


def sale_reverse(world: World, record: SalesRecord, *, day: dt.date) -> None:
    """The reversal of `record`, dated `day`; it counts on the original's day."""
    SalesRecord.objects.create(
        event=record.event,
        exhibitor=record.exhibitor,
        product=record.product,
        channel=record.channel,
        sold_on=day,
        quantity=-record.quantity,
        amount_fen=-record.amount_fen,
        reverses=record,
        reason="录错",
    )
    where = world.village_ids(Region.objects.get(pk=record.exhibitor.business.region_id))
    world.expected.add("industry.sales_fen", record.sold_on, where, -record.amount_fen)
    world.expected.add("industry.sales_records", record.sold_on, where, -1)
    world.expected.standing[
        ("industry.product_kinds", record.sold_on.replace(day=1), *where, record.product_id)
    ] -= 1


def tourism_write(
    world: World, *, subject: str, month: dt.date, visits: int, income_fen: int
) -> TourismRecord:
    """A month's tourism figures for subject "V1"/"V2"/"V3" (a village), "T2" (a whole township) or
    "community" (the joint community, counted at its lead village V2)."""
    if subject == "community":
        record = TourismRecord.objects.create(
            month=month, community=world.community, visits=visits, income_fen=income_fen
        )
        where = world.village_ids(world.villages["V2"])
    elif subject == "T2":
        record = TourismRecord.objects.create(
            month=month, region=world.townships["T2"], visits=visits, income_fen=income_fen
        )
        where = (world.county.pk, world.townships["T2"].pk, 0, 0)
    else:
        record = TourismRecord.objects.create(
            month=month, region=world.villages[subject], visits=visits, income_fen=income_fen
        )
        where = world.village_ids(world.villages[subject])
    world.expected.add("industry.visits", month, where, visits)
    world.expected.add("industry.tourism_income_fen", month, where, income_fen)
    return record


# ---- reading the facts back


def stored_facts() -> dict[FactKey, int]:
    from governance.models import MetricFact

    return {
        (f.metric, f.day, f.county_id, f.township_id, f.village_id, f.grid_id): f.value
        for f in MetricFact.objects.all()
    }


def stored_members() -> set[MemberKey]:
    from governance.models import MetricMember

    return {
        (m.metric, m.month, m.county_id, m.township_id, m.village_id, m.grid_id, m.member_id)
        for m in MetricMember.objects.all()
    }


def tourism_edit(world: World, record: TourismRecord, *, visits: int, income_fen: int) -> None:
    """Edit a month's figures in place (the record's updated_at moves)."""
    if record.community_id is not None:
        where = world.village_ids(world.villages["V2"])
    elif record.region_id == world.townships["T2"].pk:
        where = (world.county.pk, world.townships["T2"].pk, 0, 0)
    else:
        where = world.village_ids(Region.objects.get(pk=int(record.region_id or 0)))
    world.expected.add("industry.visits", record.month, where, visits - record.visits)
    world.expected.add("industry.tourism_income_fen", record.month, where, income_fen - record.income_fen)
    record.visits, record.income_fen = visits, income_fen
    record.save()

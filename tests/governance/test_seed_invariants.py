"""The demo county at the test scale: the bulk-built rows keep every invariant the services guarantee.

The county is seeded once for the module inside a transaction that is rolled back at the end, so the
other test modules still start from an empty database.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest
from django.db import transaction
from django.test import override_settings

from governance import pii
from governance.demo import DEMO_LOGINS, VILLAGES, demo_county_counts, seed_demo_county
from governance.demo_data import AS_OF, INDUSTRY_CHAINS, TOWNSHIP_LAYOUT, grid_name
from governance.models import (
    AuditAction,
    AuditEvent,
    Household,
    MemberCategory,
    MembershipStage,
    PartyLeadership,
    PartyMember,
    PartyOrganisation,
    Region,
    RegionCode,
    RegionKind,
    Resident,
    ResidentTag,
    ResidentTagKind,
    RoleModel,
    RoleModelSelection,
    SagesGroup,
    SagesMember,
    ShennongGathering,
    Talent,
    TalentCategory,
    User,
)
from governance.services import regions as region_services
from grids.models import GridLeader

pytestmark = pytest.mark.django_db
PIPELINE = [stage.value for stage in MembershipStage]


@pytest.fixture(scope="module")
def county(django_db_setup, django_db_blocker):
    # MD5: the demo log-ins' passwords are hashed on every seed; PBKDF2 would dominate.
    fast_hashing = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    with fast_hashing, django_db_blocker.unblock(), transaction.atomic():
        regions = seed_demo_county(password="xiangzhi-demo", scale="test")
        yield regions
        transaction.set_rollback(True)


def _village_of(resident: Resident) -> Region | None:
    return resident.household.grid.parent


def test_headline_counts(county):
    assert demo_county_counts() == {
        "townships": 10,
        "villages": 31,
        "grids": 62,
        "grid_leaders": 62,
        "households": 248,
        "residents": 663,
        "party_organisations": 49,
        "party_members": 222,
        "pipeline": 31,
        "sages_members": 217,
        "talents": 21,
        "gatherings": 5,
        "role_models": 45,
        "points_stores": 10,
        "points_items": 140,
    }
    # The demo log-ins, and the duty accounts grids/demo.py opens: every other grid leader (61), every
    # other village (30) and township (9).
    assert User.objects.count() == len(DEMO_LOGINS) + 61 + 30 + 9


def test_region_tree_paths_codes_and_validity(county):
    root = county["谷城县"]
    assert (root.code, root.path, root.parent_id) == ("420625000000", f"{root.pk}/", None)
    regions = {r.pk: r for r in Region.objects.all()}
    for region in regions.values():
        parent = regions.get(region.parent_id or 0)
        assert region.path == f"{parent.path if parent else ''}{region.pk}/"
        assert region.path.count("/") - 1 == region.depth
    townships = {r.name: r.code for r in regions.values() if r.level == "township"}
    assert townships == {name: code for name, _kind, code, _c, _v in TOWNSHIP_LAYOUT}
    for region in regions.values():
        if region.level == "village":
            assert region.code[:9] == regions[region.parent_id or 0].code[:9]
            assert region.code[9:] >= ("200" if region.kind == "village" else "001")
        if region.level == "grid":
            parent = regions[region.parent_id or 0]
            number = int(region.code[12:])
            assert (len(region.code), region.code[:12], region.name) == (15, parent.code, grid_name(number))
    for _township, name, kind, code in VILLAGES:
        assert (county[name].code, county[name].kind) == (code, kind)
    assert county["第一网格"].code == "420625100201001"
    # Every region has its code as one open period with a start date.
    codes = list(RegionCode.objects.values_list("region_id", "code", "valid_from", "valid_to"))
    assert sorted((r, c) for r, c, _f, _t in codes) == sorted((r.pk, r.code) for r in regions.values())
    assert all(start is not None and end is None for _r, _c, start, end in codes)
    assert all(r.valid_from is not None for r in regions.values() if r.level in ("village", "grid"))
    assert len({r.code for r in regions.values()}) == len(regions)


def test_every_grid_has_exactly_one_current_leader_who_lives_there(county):
    terms = defaultdict(list)
    for term in GridLeader.objects.select_related("resident__household"):
        terms[term.grid_id].append(term)
        assert term.resident.household.grid_id == term.grid_id
        assert term.term_end > term.elected_on
    grids = list(Region.objects.filter(level="grid"))
    assert {g.pk for g in grids} == set(terms)
    for grid in grids:
        current = [t for t in terms[grid.pk] if t.ended_on is None]
        assert len(current) == 1
        for past in terms[grid.pk]:
            if past.ended_on is not None:
                assert past.ended_on < current[0].elected_on
    # Every current leader has an account (grids/demo.py opens one); the demo log-in leads 第一网格.
    assert not GridLeader.objects.filter(ended_on=None, user__isnull=True).exists()
    linked = GridLeader.objects.get(user__username="grid_leader")
    assert linked.user is not None
    assert linked.user.username == "grid_leader"
    assert (linked.grid_id, linked.resident.name, linked.ended_on) == (county["第一网格"].pk, "王秀英", None)


def test_personal_data_is_stored_as_governance_pii_stores_it(county):
    residents = list(Resident.objects.all())
    for r in residents:
        id_number = pii.decrypt(r.id_number_encrypted)
        parsed = pii.id_number_parse(id_number)
        assert (parsed.value, parsed.birth_date, parsed.gender) == (id_number, r.birth_date, r.gender)
        assert id_number.startswith("420625")
        assert r.id_number_hash == pii.lookup_hash(id_number)
        assert r.id_number_masked == pii.mask_id_number(id_number)
        phone = pii.decrypt(r.phone_encrypted)
        if phone:
            assert pii.phone_parse(phone) == phone
        assert (r.phone_hash, r.phone_masked) == (pii.lookup_hash(phone), pii.mask_phone(phone))
        assert r.status in ("resident", "away")
    assert len({r.id_number_hash for r in residents}) == len(residents)
    phones = [r.phone_hash for r in residents if r.phone_hash]
    assert len(set(phones)) == len(phones) > len(residents) // 2


def test_each_household_has_one_head_living_in_it(county):
    heads = Counter(Resident.objects.filter(relation_to_head="self").values_list("household_id", flat=True))
    for household in Household.objects.select_related("head", "grid"):
        assert heads[household.pk] == 1
        head = household.head
        assert head is not None
        assert (head.household_id, head.relation_to_head) == (household.pk, "self")
        assert household.number.startswith(household.grid.code)
        assert household.address.startswith("谷城县")
    addresses = list(Household.objects.values_list("address", flat=True))
    assert len(set(addresses)) == len(addresses)


def test_party_organisation_tree(county):
    root = PartyOrganisation.objects.get(parent=None)
    assert (root.name, root.kind, root.region_id, root.path) == (
        "中共谷城县委",
        "county_committee",
        county["谷城县"].pk,
        f"{root.pk}/",
    )
    for org in PartyOrganisation.objects.exclude(parent=None).select_related("parent"):
        assert org.parent is not None
        assert org.path == f"{org.parent.path}{org.pk}/"
    committees = PartyOrganisation.objects.filter(parent=root)
    assert sorted(c.region.name for c in committees) == sorted(name for name, *_rest in TOWNSHIP_LAYOUT)
    assert all(c.kind == "township_committee" for c in committees)
    branches = PartyOrganisation.objects.filter(kind__in=["village_branch", "village_general_branch"])
    villages = Region.objects.filter(level="village")
    assert sorted(b.region_id for b in branches) == sorted(v.pk for v in villages)
    for branch in branches.select_related("region", "parent"):
        assert branch.parent is not None
        assert branch.parent.region_id == branch.region.parent_id
    xinhua = PartyOrganisation.objects.get(region=county["新华村"])
    assert (xinhua.name, xinhua.kind) == ("中共新华村支部委员会", "village_branch")

    joint = PartyOrganisation.objects.get(kind="joint_committee")
    assert joint.parent is not None
    assert (joint.name, joint.region_id, joint.parent.region.name) == (
        "堰河村联合党委",
        county["堰河村"].pk,
        "五山镇",
    )
    spanned = list(joint.villages.all())
    assert len(spanned) == 8
    assert "堰河村" in {v.name for v in spanned}
    assert {v.parent_id for v in spanned} == {county["五山镇"].pk}

    chains = PartyOrganisation.objects.filter(kind="chain_branch").select_related("region")
    assert sorted((c.name, c.region.name) for c in chains) == sorted(
        (f"{town}{chain}产业链党支部", town) for chain, town in INDUSTRY_CHAINS
    )
    assert {"茶叶", "食用菌", "油茶", "畜牧水产"} <= {chain for chain, _town in INDUSTRY_CHAINS}


def test_membership_pipeline_is_in_order_with_consistent_dates(county):
    steps = defaultdict(list)
    for member_id, stage, on in PartyMember.objects.values_list(
        "pk", "steps__stage", "steps__occurred_on"
    ).order_by("pk", "steps__occurred_on"):
        steps[member_id].append((stage, on))
    members = list(PartyMember.objects.select_related("resident"))
    for m in members:
        stages = [stage for stage, _on in steps[m.pk]]
        assert stages == PIPELINE[: PIPELINE.index(m.stage) + 1]
        dates = [on for _stage, on in steps[m.pk]]
        assert dates == sorted(set(dates))  # strictly increasing
        birth = m.resident.birth_date
        assert (dates[0].year - birth.year, dates[0].month, dates[0].day) >= (18, birth.month, birth.day) or (
            dates[0].year - birth.year > 18
        )
        assert dates[-1] <= AS_OF
        if m.stage == "full":
            probationary, full = dates[3], dates[4]
            assert (full.year - probationary.year, full.month) == (1, probationary.month)
    assert set(Counter(m.stage for m in members)) == set(PIPELINE)
    categories = Counter(m.category for m in members)
    assert categories[MemberCategory.VETERAN] > 0
    assert categories[MemberCategory.YOUNG_FARMER] > 0
    # The 党员 tag marks exactly the members who are in the Party (probationary or full).
    tagged = set(
        ResidentTag.objects.filter(tag=ResidentTagKind.PARTY_MEMBER).values_list("resident_id", flat=True)
    )
    assert tagged == {m.resident_id for m in members if m.stage in ("probationary", "full")}


def test_sponsors_were_full_members_before_the_candidate_stage(county):
    full_on = dict(
        PartyMember.objects.filter(stage="full", steps__stage="full").values_list("pk", "steps__occurred_on")
    )
    township_of = {
        m.pk: m.resident.household.grid.path.split("/")[1]
        for m in PartyMember.objects.select_related("resident__household__grid")
    }
    candidates = PartyMember.objects.filter(steps__stage="candidate").values_list(
        "pk", "stage", "sponsor_1_id", "sponsor_2_id", "steps__occurred_on"
    )
    for pk, stage, first, second, candidate_on in candidates:
        if first is None:
            assert second is None
            assert stage == "full"
            # Nobody in the township could have sponsored them: the first members on record.
            earlier = [
                m for m, on in full_on.items() if on < candidate_on and township_of[m] == township_of[pk]
            ]
            assert len(earlier) < 2
            continue
        assert len({pk, first, second}) == 3
        assert full_on[first] < candidate_on
        assert full_on[second] < candidate_on


def test_leadership_terms(county):
    def current(org):
        return [
            (leader.member.resident.name, leader.position)
            for leader in PartyLeadership.objects.filter(organisation=org, term_end__gt=AS_OF).select_related(
                "member__resident"
            )
        ]

    for leader in PartyLeadership.objects.select_related("member", "organisation"):
        assert leader.term_end is not None
        assert leader.term_end > leader.term_start
        if leader.organisation.kind != "joint_committee":
            assert leader.member.organisation_id == leader.organisation_id
    for org in PartyOrganisation.objects.exclude(kind="joint_committee"):
        assert [position for _name, position in current(org)].count("secretary") == 1, org.name
    xinhua = PartyOrganisation.objects.get(region=county["新华村"])
    secretary = PartyLeadership.objects.get(organisation=xinhua, position="secretary", term_end__gt=AS_OF)
    assert secretary.member.resident.name == "刘强"
    assert _village_of(secretary.member.resident) == county["新华村"]

    joint = PartyOrganisation.objects.get(kind="joint_committee")
    yanhe_branch = PartyOrganisation.objects.get(region=county["堰河村"], kind__startswith="village")
    yanhe_secretary = PartyLeadership.objects.get(
        organisation=yanhe_branch, position="secretary", term_end__gt=AS_OF
    )
    assert Counter(p for _n, p in current(joint)) == {
        "secretary": 1,
        "deputy_secretary": 1,
        "committee_member": 6,
    }
    assert (
        PartyLeadership.objects.get(organisation=joint, position="secretary").member_id
        == yanhe_secretary.member_id
    )


def test_sages_groups_have_five_to_nine_members_of_their_village(county):
    groups = SagesGroup.objects.select_related("village")
    assert sorted(g.village_id for g in groups) == sorted(
        Region.objects.filter(level="village").values_list("pk", flat=True)
    )
    for group in groups:
        assert group.name == f"{group.village.name}乡贤说事评理团"
        members = list(SagesMember.objects.filter(group=group).select_related("resident__household__grid"))
        assert 5 <= len(members) <= 9
        assert all(m.resident.household.grid.parent_id == group.village_id for m in members)
        assert group.established_on is not None
        assert all(m.joined_on >= group.established_on for m in members)


def test_talents_gatherings_and_role_models(county):
    per_category = Counter(Talent.objects.values_list("category", flat=True))
    assert per_category == {category.value: 3 for category in TalentCategory}
    assert all(1 <= t.trainings.count() <= 3 for t in Talent.objects.all())

    gatherings = list(ShennongGathering.objects.order_by("session"))
    assert [g.session for g in gatherings] == [1, 2, 3, 4, 5]
    assert [g.selections.count() for g in gatherings] == [9] * 5
    assert [g.held_on.year for g in gatherings] == [2018, 2019, 2020, 2021, 2022]
    assert RoleModel.objects.count() == 45
    assert RoleModel.objects.values("resident").distinct().count() == 45
    assert RoleModelSelection.objects.values("role_model").distinct().count() == 45


def test_one_audit_entry_for_the_run(county):
    # One for the county, one for its year of cases (grids/demo.py), one for its points (points/demo.py),
    # one for its livelihood sites (canteens/demo.py), one for its industry (industry/demo.py).
    event, cases_event, points_event, canteens_event, industry_event = AuditEvent.objects.order_by("pk")
    assert cases_event.detail.startswith("演示数据：一年的群众诉求")
    assert points_event.detail.startswith("演示数据：一年的百分奖积分")
    assert canteens_event.detail.startswith("演示数据：民生阵地一年的运行")
    assert industry_event.detail.startswith("演示数据：产业振兴")
    assert (event.action, event.object_type, event.object_id, event.actor_id) == (
        AuditAction.IMPORT,
        "governance.region",
        str(county["谷城县"].pk),
        None,
    )
    assert event.region_path == county["谷城县"].path
    assert event.changes["governance.resident"] == [0, 663]
    assert event.changes["grids.gridleader"][1] >= 62
    assert event.detail.startswith("演示数据：谷城县（test 规模）")


def test_services_continue_after_the_bulk_keys(county):
    """The sequences were moved past the explicit keys: a region made by the service gets a new id."""
    largest = max(Region.objects.values_list("pk", flat=True))
    grid = region_services.region_create(
        parent=county["新华村"], name="第三网格", kind=RegionKind.GRID, code="420625100201003"
    )
    assert grid.pk > largest
    assert grid.path == f"{county['新华村'].path}{grid.pk}/"

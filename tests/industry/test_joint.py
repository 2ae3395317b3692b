"""Joint building: creating a community (the lead is its first member; the joint Party organisation must be
a joint committee), members (exactly one of village or business — the service and the DB CHECK; no
business in a village–village community; no duplicates; not the lead), yearly results with tourism summed
from the months, scope (who sees and who edits), the pages and the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from common.errors import DomainError, NotFound
from governance.models import AuditEvent, PartyOrgKind, User
from industry.models import (
    JointCommunity,
    JointKind,
    JointMember,
    JointResult,
    TourismRecord,
)
from industry.selectors import joint as selectors
from industry.services import joint as services
from tests.industry.factories_places import PASSWORD, key, places_world, user

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(demo_county):
    return places_world(demo_county, incomes=False)


def make(world, actor="township_admin", **kwargs):
    args = {
        "actor": user(actor),
        "idempotency_key": key(),
        "kind": JointKind.VILLAGE_ENTERPRISE,
        "name": "新华茶旅联建",
        "brand": "新华茶旅",
        "lead_region": world.r["新华村"],
        "party_organisation": world.joint_committee,
        "established_on": dt.date(2021, 5, 1),
    }
    args.update(kwargs)
    return services.joint_community_create(**args)


def api_for(username: str) -> APIClient:
    client = APIClient()
    token, _created = Token.objects.get_or_create(user=User.objects.get(username=username))
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def client_for(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


# --- the service ----------------------------------------------------------------------------------------


def test_create_makes_the_lead_the_first_member_exactly_once(world):
    community = make(world, idempotency_key="same")
    assert list(community.members.values_list("region__name", "business_id")) == [("新华村", None)]
    again = make(world, idempotency_key="same")
    assert again.pk == community.pk
    assert JointCommunity.objects.count() == 1
    event = AuditEvent.objects.get(object_type="industry.jointcommunity", object_id=str(community.pk))
    assert event.changes == {"name": [None, "新华茶旅联建"], "idempotency_key": [None, "same"]}
    with pytest.raises(DomainError) as error:
        make(world)
    assert (error.value.code, error.value.field) == ("name_taken", "name")


def test_create_rules(world):
    r = world.r
    with pytest.raises(NotFound):
        make(world, lead_region=r["石花村"], name="石花联建")
    with pytest.raises(NotFound):
        make(world, actor="village_secretary", name="书记联建")
    with pytest.raises(DomainError) as error:
        make(world, lead_region=r["城关镇"], name="镇联建")
    assert (error.value.code, str(error.value.message)) == ("lead_not_village", "牵头单位须是村（社区）。")
    township_committee = world.joint_committee.parent
    assert township_committee.kind == PartyOrgKind.TOWNSHIP_COMMITTEE
    with pytest.raises(DomainError) as error:
        make(world, party_organisation=township_committee, name="党委联建")
    assert (error.value.code, error.value.field, str(error.value.message)) == (
        "not_joint_committee",
        "party_organisation",
        "联合党组织须是“联合党委”类型的党组织。",
    )


def test_member_rules_and_the_database_check(world):
    r = world.r
    community = make(world)
    admin = user("township_admin")
    village = services.joint_member_add(
        actor=admin,
        idempotency_key=key(),
        community=community,
        region=r["东风村"],
        joined_on=dt.date(2022, 1, 1),
    )
    business = services.joint_member_add(
        actor=admin, idempotency_key=key(), community=community, business=world.business
    )
    assert (village.region_id, village.business_id) == (r["东风村"].pk, None)
    assert (business.region_id, business.business_id) == (None, world.business.pk)
    cases = [
        ({"region": r["红星社区"], "business": world.business}, "member_one_kind"),
        ({}, "member_one_kind"),
        ({"region": r["城关镇"]}, "member_not_village"),
        ({"region": r["东风村"]}, "already_member"),
        ({"business": world.business}, "already_member"),
        ({"region": r["石花村"]}, "member_out_of_scope"),
        ({"business": world.other_business}, "member_out_of_scope"),
    ]
    for kwargs, code in cases:
        with pytest.raises(DomainError) as error:
            services.joint_member_add(actor=admin, idempotency_key=key(), community=community, **kwargs)
        assert error.value.code == code, kwargs
    assert community.members.count() == 3
    # The database holds the rule too: a member is exactly one of a village or a business.
    for both_or_neither in ({"region": r["红星社区"], "business": world.other_business}, {}):
        with pytest.raises(IntegrityError), transaction.atomic():
            JointMember.objects.create(community=community, **both_or_neither)


def test_village_village_takes_villages_only(world):
    community = make(world, kind=JointKind.VILLAGE_VILLAGE, name="城关村村联建")
    with pytest.raises(DomainError) as error:
        services.joint_member_add(
            actor=user("county_admin"), idempotency_key=key(), community=community, business=world.business
        )
    assert str(error.value.message) == "村村联建的成员只能是村（社区）。"
    enterprise = make(world, name="村企转村村")
    services.joint_member_add(
        actor=user("county_admin"), idempotency_key=key(), community=enterprise, business=world.business
    )
    with pytest.raises(DomainError) as error:
        services.joint_community_update(
            actor=user("county_admin"),
            community=enterprise,
            kind=JointKind.VILLAGE_VILLAGE,
            name="村企转村村",
            lead_region=world.r["新华村"],
        )
    assert error.value.code == "has_businesses"


def test_remove_member_but_not_the_lead(world):
    community = make(world)
    admin = user("township_admin")
    member = services.joint_member_add(
        actor=admin, idempotency_key=key(), community=community, region=world.r["东风村"]
    )
    lead = community.members.get(region=world.r["新华村"])
    with pytest.raises(DomainError) as error:
        services.joint_member_remove(actor=admin, member=lead)
    assert error.value.code == "lead_member"
    with pytest.raises(NotFound):
        services.joint_member_remove(actor=user("village_secretary"), member=member)
    services.joint_member_remove(actor=admin, member=member)
    assert list(community.members.values_list("region__name", flat=True)) == ["新华村"]


def test_results_and_tourism_per_year(world):
    community = make(world)
    admin = user("township_admin")
    services.joint_result_set(
        actor=admin,
        idempotency_key=key(),
        community=community,
        year=2025,
        jobs="120",
        income_yuan="350000.50",
        households_benefited=80,
    )
    services.joint_result_set(
        actor=admin,
        idempotency_key=key(),
        community=community,
        year=2025,
        jobs=130,
        income_yuan="360000",
        households_benefited=85,
        note="第二次更正",
    )
    assert JointResult.objects.get(community=community, year=2025).income_fen == 36_000_000
    for month, visits, income in (
        (dt.date(2025, 1, 1), 40_000, 1_000_000_000),
        (dt.date(2025, 2, 1), 45_000, 1_200_000_000),
        (dt.date(2024, 12, 1), 30_000, 900_000_000),
    ):
        TourismRecord.objects.create(community=community, month=month, visits=visits, income_fen=income)
    years = selectors.community_years(community)
    assert [(y.year, y.visits, y.tourism_income_fen, y.months) for y in years] == [
        (2025, 85_000, 2_200_000_000, 2),
        (2024, 30_000, 900_000_000, 1),
    ]
    assert (years[0].result.jobs, years[0].result.households_benefited) == (130, 85)
    assert years[1].result is None
    row = selectors.communities_list(user("county_admin"), year=2025).get()
    assert (
        row.village_count,
        row.business_count,
        row.visits,
        row.tourism_income_fen,
        row.jobs,
        row.income_fen,
    ) == (
        1,
        0,
        85_000,
        2_200_000_000,
        130,
        36_000_000,
    )
    with pytest.raises(DomainError) as error:
        services.joint_result_set(
            actor=admin, idempotency_key=key(), community=community, year=2025, jobs="-3"
        )
    assert (error.value.code, error.value.field) == ("bad_number", "jobs")


def test_scope_of_reads(world):
    r = world.r
    mine = make(world)
    shihua = make(
        world, actor="county_admin", name="石花联建", lead_region=r["石花村"], party_organisation=None
    )
    # Led from 石花镇 but with 新华村 as a member: 新华村's secretary sees it too.
    services.joint_member_add(
        actor=user("county_admin"), idempotency_key=key(), community=shihua, region=r["新华村"]
    )
    assert {c.name for c in selectors.communities_list(user("township_admin"), year=2025)} == {
        mine.name,
        shihua.name,
    }
    assert {c.name for c in selectors.communities_list(user("village_secretary"), year=2025)} == {
        mine.name,
        shihua.name,
    }
    other = make(
        world, actor="county_admin", name="石花独立", lead_region=r["石花村"], party_organisation=None
    )
    assert other.name not in {c.name for c in selectors.communities_list(user("township_admin"), year=2025)}
    assert list(selectors.communities_list(user("grid_leader"), year=2025)) == []
    # Seeing is not editing: the township admin cannot run a community led from another township.
    with pytest.raises(NotFound):
        services.joint_result_set(
            actor=user("township_admin"), idempotency_key=key(), community=shihua, year=2025
        )


# --- pages -----------------------------------------------------------------------------------------------


def test_pages_list_detail_create_and_members(world):
    client = client_for("township_admin")
    form = client.get("/industry/joint/new/")
    assert form.status_code == 200
    created = client.post(
        "/industry/joint/new/",
        {
            "idempotency_key": form.context["form"].initial["idempotency_key"],
            "kind": JointKind.VILLAGE_ENTERPRISE,
            "name": "新华茶旅联建",
            "brand": "新华茶旅",
            "lead_region": world.r["新华村"].pk,
            "party_organisation": world.joint_committee.pk,
            "established_on": "2021-05-01",
        },
    )
    community = JointCommunity.objects.get(name="新华茶旅联建")
    assert created.status_code == 302
    assert created["Location"] == f"/industry/joint/{community.pk}/"
    detail = client.get(f"/industry/joint/{community.pk}/")
    assert detail.status_code == 200
    assert [m.region.name for m in detail.context["members"]] == ["新华村"]
    key_ = detail.context["member_form"].initial["idempotency_key"]
    both = client.post(
        f"/industry/joint/{community.pk}/members/",
        {"idempotency_key": key_, "region": world.r["东风村"].pk, "business": world.business.pk},
    )
    assert both.status_code == 200
    assert both.context["member_form"].non_field_errors() == [
        "成员须是一个村（社区）或一个经营主体，二者选其一。"
    ]
    added = client.post(
        f"/industry/joint/{community.pk}/members/", {"idempotency_key": key_, "region": world.r["东风村"].pk}
    )
    assert added.status_code == 302
    member = community.members.get(region=world.r["东风村"])
    assert client.post(f"/industry/joint/members/{member.pk}/remove/").status_code == 302
    assert not community.members.filter(pk=member.pk).exists()
    listing = client.get("/industry/joint/?year=2025")
    assert [row[0][1].text for row in listing.context["table"]] == ["新华茶旅联建"]
    export = client.get("/industry/joint/?year=2025&export=xlsx")
    assert export.status_code == 200
    # Other roles: the village secretary reads, cannot edit; another township's admin does not see it.
    secretary = client_for("village_secretary")
    assert secretary.get(f"/industry/joint/{community.pk}/").context["can_manage"] is False
    assert secretary.get(f"/industry/joint/{community.pk}/edit/").status_code == 404
    assert client_for("grid_leader").get(f"/industry/joint/{community.pk}/").status_code == 404


# --- API -------------------------------------------------------------------------------------------------


def test_api_create_members_results_detail(world):
    api = api_for("township_admin")
    created = api.post(
        "/api/v1/industry/joint-communities/",
        {
            "kind": "village_enterprise",
            "name": "新华茶旅联建",
            "brand": "新华茶旅",
            "lead_region": world.r["新华村"].pk,
            "party_organisation": world.joint_committee.pk,
            "idempotency_key": "api-1",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    community_id = created.json()["id"]
    replay = api.post(
        "/api/v1/industry/joint-communities/",
        {
            "kind": "village_enterprise",
            "name": "新华茶旅联建",
            "brand": "新华茶旅",
            "lead_region": world.r["新华村"].pk,
            "party_organisation": world.joint_committee.pk,
            "idempotency_key": "api-1",
        },
        format="json",
    )
    assert (replay.status_code, replay.json()["id"]) == (201, community_id)
    bad = api.post(
        f"/api/v1/industry/joint-communities/{community_id}/members/",
        {"idempotency_key": "m-0"},
        format="json",
    )
    assert (bad.status_code, bad.json()["code"]) == (400, "member_one_kind")
    member = api.post(
        f"/api/v1/industry/joint-communities/{community_id}/members/",
        {"business": world.business.pk, "idempotency_key": "m-1"},
        format="json",
    )
    assert member.status_code == 201
    assert member.json()["business_name"] == "新华茶业有限公司"
    result = api.post(
        f"/api/v1/industry/joint-communities/{community_id}/results/",
        {
            "year": 2025,
            "jobs": 12,
            "income_fen": 500_000,
            "households_benefited": 9,
            "idempotency_key": "r-1",
        },
        format="json",
    )
    assert result.status_code == 200
    TourismRecord.objects.create(
        community_id=community_id, month=dt.date(2025, 3, 1), visits=500, income_fen=70_000
    )
    detail = api.get(f"/api/v1/industry/joint-communities/{community_id}/").json()
    assert [m["region_name"] or m["business_name"] for m in detail["members"]] == [
        "新华村",
        "新华茶业有限公司",
    ]
    assert detail["years"] == [
        {
            "year": 2025,
            "visits": 500,
            "tourism_income_fen": 70_000,
            "months": 1,
            "jobs": 12,
            "income_fen": 500_000,
            "households_benefited": 9,
        }
    ]
    removed = api.delete(f"/api/v1/industry/joint-members/{member.json()['id']}/")
    assert removed.status_code == 204
    assert (
        api_for("village_secretary")
        .delete(f"/api/v1/industry/joint-members/{member.json()['id']}/")
        .status_code
        == 404
    )
    rows = api.get("/api/v1/industry/joint-communities/?year=2025").json()["results"]
    assert [(r["name"], r["visits"], r["jobs"]) for r in rows] == [("新华茶旅联建", 500, 12)]

"""A joint Party committee spans several villages: the secretary of any of them sees the committee and its
leadership (selectors, pages, API), while the members stay scoped by where their organisation sits, so
no village sees another village's members through the committee."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from common.errors import NotFound
from governance.models import (
    LeadershipPosition,
    PartyMember,
    PartyOrganisation,
    PartyOrgKind,
    Region,
    User,
)
from governance.roles import Role
from governance.selectors import party as party_selectors
from governance.services import party as party_services
from governance.services import roles as role_services
from tests.governance.party_factories import full_member_make, party_tree_make, village_make

pytestmark = pytest.mark.django_db

API = "/api/v1/governance"


@dataclass
class Joint:
    committee: PartyOrganisation
    orgs: dict[str, PartyOrganisation]
    members: dict[str, PartyMember]
    regions: dict[str, Region]


@pytest.fixture
def joint(demo_county) -> Joint:
    """五山镇: 堰河村 (党总支) leads 堰河村联合党委, which also spans 黄畈村 (党支部); 东庄村 (党支部) is not
    in it. Members: 王军 (堰河村党总支), 张华 (the committee itself, living in 堰河村), 李明 (黄畈村),
    赵东 (东庄村). The committee's leadership: 王军 书记, 李明 副书记. A village secretary in each village,
    and the grid leader of 黄畈村's grid."""
    tree = party_tree_make(demo_county)
    r = tree.regions
    r["黄畈村"], r["黄畈村第一网格"] = village_make(r["五山镇"], "黄畈村")
    r["东庄村"], r["东庄村第一网格"] = village_make(r["五山镇"], "东庄村")
    orgs = {"堰河村党总支": tree.yanhe, "五山镇党委": tree.wushan}
    for village in ("黄畈村", "东庄村"):
        orgs[f"{village}党支部"] = party_services.party_org_create(
            actor=None,
            kind=PartyOrgKind.VILLAGE_BRANCH,
            name=f"{village}党支部",
            region=r[village],
            parent=tree.wushan,
        )
    committee = party_services.party_org_create(
        actor=None,
        kind=PartyOrgKind.JOINT_COMMITTEE,
        name="堰河村联合党委",
        region=r["堰河村"],
        parent=tree.wushan,
        villages=[r["黄畈村"]],
    )
    members = {
        "王军": full_member_make(tree.yanhe, r["堰河村第一网格"], "王军"),
        "张华": full_member_make(committee, r["堰河村第一网格"], "张华"),
        "李明": full_member_make(orgs["黄畈村党支部"], r["黄畈村第一网格"], "李明"),
        "赵东": full_member_make(orgs["东庄村党支部"], r["东庄村第一网格"], "赵东"),
    }
    for name, position in (
        ("王军", LeadershipPosition.SECRETARY),
        ("李明", LeadershipPosition.DEPUTY_SECRETARY),
    ):
        party_services.party_leadership_assign(
            actor=None,
            organisation=committee,
            member=members[name],
            position=position,
            term_start=dt.date(2024, 1, 1),
        )
    for username, role, region in (
        ("huangfan_secretary", Role.VILLAGE_SECRETARY, "黄畈村"),
        ("dongzhuang_secretary", Role.VILLAGE_SECRETARY, "东庄村"),
        ("yanhe_secretary", Role.VILLAGE_SECRETARY, "堰河村"),
        ("huangfan_grid_leader", Role.GRID_LEADER, "黄畈村第一网格"),
    ):
        user = role_services.user_create(username=username, password="xiangzhi-demo", full_name=username)
        role_services.role_assign(user=user, role=role, region=r[region])
    return Joint(committee=committee, orgs=orgs, members=members, regions=r)


def user(username: str) -> User:
    return User.objects.get(username=username)


def org_names(username: str) -> list[str]:
    return sorted(o.name for o in party_selectors.party_org_list(user=user(username)))


def member_names(username: str, **filters) -> list[str]:
    return sorted(m.resident.name for m in party_selectors.party_member_list(user=user(username), **filters))


# ---------- selectors ----------


def test_a_spanned_villages_secretary_sees_the_committee_and_its_leadership(joint):
    secretary = user("huangfan_secretary")
    assert org_names("huangfan_secretary") == ["堰河村联合党委", "黄畈村党支部"]
    [listed] = [o for o in party_selectors.party_org_list(user=secretary) if o.pk == joint.committee.pk]
    assert listed.member_count == 1  # 张华, counted once: the villages do not multiply the row
    detail = party_selectors.party_org_detail(user=secretary, org_id=joint.committee.pk)
    assert [(lead.get_position_display(), lead.member.resident.name) for lead in detail.current_leaders] == [
        ("书记", "王军"),
        ("副书记", "李明"),
    ]
    assert [v.name for v in detail.villages] == ["堰河村", "黄畈村"]
    assert detail.can_manage is False  # it sits at 堰河村: 黄畈村's secretary only looks
    roots = party_selectors.party_org_tree(user=secretary)
    assert sorted(node.org.name for node in roots) == ["堰河村联合党委", "黄畈村党支部"]


def test_members_of_other_villages_stay_out_of_sight(joint):
    secretary = user("huangfan_secretary")
    assert member_names("huangfan_secretary") == ["李明"]
    assert member_names("huangfan_secretary", organisation_id=joint.committee.pk) == []
    for name in ("王军", "张华", "赵东"):
        with pytest.raises(NotFound):
            party_selectors.party_member_get(user=secretary, member_id=joint.members[name].pk)


def test_the_lead_villages_secretary_sees_the_committees_members(joint):
    assert org_names("yanhe_secretary") == ["堰河村党总支", "堰河村联合党委"]
    assert member_names("yanhe_secretary") == ["张华", "王军"]
    assert member_names("yanhe_secretary", organisation_id=joint.committee.pk) == ["张华"]


@pytest.mark.parametrize(
    ("username", "visible"),
    [
        ("dongzhuang_secretary", ["东庄村党支部"]),  # 五山镇, but not spanned by the committee
        ("huangfan_grid_leader", []),  # a grid is not the village
        ("village_secretary", ["新华村党支部"]),  # another township altogether
    ],
)
def test_others_do_not_see_the_committee(joint, username, visible):
    assert org_names(username) == visible
    with pytest.raises(NotFound):
        party_selectors.party_org_get(user=user(username), org_id=joint.committee.pk)


def test_wider_scopes_list_the_committee_once(joint):
    for username in ("county_admin",):
        orgs = list(party_selectors.party_org_list(user=user(username)))
        assert len(orgs) == PartyOrganisation.objects.count() == 8
        assert [o.name for o in orgs].count("堰河村联合党委") == 1


# ---------- pages ----------


def login(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password="xiangzhi-demo")
    return client


def test_pages_show_the_committee_to_a_spanned_village_only(joint):
    detail_url = reverse("governance:party_organisation_detail", args=[joint.committee.pk])
    client = login("huangfan_secretary")
    tree = client.get(reverse("governance:party_organisation_list")).content.decode()
    assert "堰河村联合党委" in tree
    assert "堰河村党总支" not in tree
    page = client.get(detail_url)
    assert page.status_code == 200
    html = page.content.decode()
    leaders = html[html.index('data-testid="org-leaders"') :]
    assert "王军" in leaders
    assert "李明" in leaders
    members = client.get(
        reverse("governance:party_member_list"), {"org": joint.committee.pk}
    ).content.decode()
    assert "张华" not in members
    assert "王军" not in members
    assert login("dongzhuang_secretary").get(detail_url).status_code == 404


# ---------- API ----------


def api_for(username: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(user(username))
    return client


def test_api_lists_and_reads_the_committee_for_a_spanned_village(joint):
    client = api_for("huangfan_secretary")
    listed = client.get(f"{API}/party-organisations/").json()
    assert sorted((o["name"], o["member_count"]) for o in listed["results"]) == [
        ("堰河村联合党委", 1),
        ("黄畈村党支部", 1),
    ]
    body = client.get(f"{API}/party-organisations/{joint.committee.pk}/").json()
    assert [(lead["position"], lead["name"]) for lead in body["current_leaders"]] == [
        ("secretary", "王军"),
        ("deputy_secretary", "李明"),
    ]
    assert [v["name"] for v in body["villages"]] == ["堰河村", "黄畈村"]
    members = client.get(f"{API}/party-members/").json()
    assert [m["name"] for m in members["results"]] == ["李明"]
    assert client.get(f"{API}/party-members/", {"organisation": joint.committee.pk}).json()["results"] == []
    assert client.get(f"{API}/party-members/{joint.members['王军'].pk}/").status_code == 404


def test_api_answers_404_for_the_committee_outside_its_villages(joint):
    response = api_for("dongzhuang_secretary").get(f"{API}/party-organisations/{joint.committee.pk}/")
    assert response.status_code == 404
    listed = api_for("dongzhuang_secretary").get(f"{API}/party-organisations/").json()
    assert [o["name"] for o in listed["results"]] == ["东庄村党支部"]

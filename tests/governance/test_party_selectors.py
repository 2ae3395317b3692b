"""The Party area's reads: scope, the organisation tree and detail, member filters and the timeline, the
young farmer members report, sages' groups, talents and gatherings."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from common.errors import NotFound
from governance.models import User
from governance.roles import Role
from governance.selectors import party as party_selectors
from governance.services import roles as role_services
from tests.governance.party_factories import party_world_make

D = dt.date


@pytest.fixture
def world(demo_county):
    return party_world_make(demo_county)


def user(name: str) -> User:
    return User.objects.get(username=name)


def flatten(nodes, depth=0):
    for node in nodes:
        yield depth, node.org.name, node.party_members, node.subtree_party_members, node.subtree_members
        yield from flatten(node.children, depth + 1)


def test_county_admin_sees_the_whole_tree_in_order(world):
    roots = party_selectors.party_org_tree(user=user("county_admin"))
    assert list(flatten(roots)) == [
        (0, "中共谷城县委员会", 0, 12, 14),
        (1, "中共城关镇委员会", 0, 6, 8),
        (2, "新华村党支部", 6, 6, 8),
        (1, "中共五山镇委员会", 0, 5, 5),
        (2, "堰河村党总支", 5, 5, 5),
        (1, "食用菌产业链党支部", 1, 1, 1),
    ]


def test_township_admin_sees_only_chengguan(world):
    township = user("township_admin")
    assert list(flatten(party_selectors.party_org_tree(user=township))) == [
        (0, "中共城关镇委员会", 0, 6, 8),
        (1, "新华村党支部", 6, 6, 8),
    ]
    assert [o.name for o in party_selectors.party_org_list(user=township)] == [
        "中共城关镇委员会",
        "新华村党支部",
    ]
    with pytest.raises(NotFound):
        party_selectors.party_org_get(user=township, org_id=world.tree.wushan.pk)
    with pytest.raises(NotFound):
        party_selectors.party_org_detail(user=township, org_id=world.tree.county.pk)
    assert party_selectors.party_org_tree(user=user("grid_leader")) == []  # a grid holds no organisation
    assert party_selectors.party_org_tree(user=AnonymousUser()) == []


def test_org_detail_counts_leadership_and_children(world):
    detail = party_selectors.party_org_detail(user=user("village_secretary"), org_id=world.tree.xinhua.pk)
    assert [(r.value, r.count) for r in detail.stage_counts] == [
        ("applicant", 1),
        ("activist", 0),
        ("candidate", 1),
        ("probationary", 3),
        ("full", 3),
    ]
    assert {r.value: r.count for r in detail.category_counts if r.count} == {
        "regular": 2,
        "veteran": 1,
        "young_farmer": 5,
    }
    assert detail.total_members == 8
    assert [(lead.member.resident.name, lead.position) for lead in detail.current_leaders] == [
        ("刘强", "secretary")
    ]
    assert detail.past_leaders == []
    assert detail.children == []
    assert detail.can_manage is True
    assert detail.parent_in_scope is False  # the secretary's scope is the village, not the township
    county = party_selectors.party_org_detail(user=user("county_admin"), org_id=world.tree.chengguan.pk)
    assert [c.name for c in county.children] == ["新华村党支部"]
    assert county.parent_in_scope is True


def test_member_list_filters_and_scope(world):
    admin = user("county_admin")

    def names(**filters):
        return sorted(m.resident.name for m in party_selectors.party_member_list(user=admin, **filters))

    assert len(names()) == 14
    assert names(stage="applicant") == ["孙浩宇"]
    assert names(category="young_farmer", stage="probationary") == sorted(
        ["青年甲", "青年丙", "青年戊", "青年庚", "青年辛"]
    )
    assert names(year_joined=2022) == sorted(["青年甲", "青年乙", "周平"])
    assert names(organisation_id=world.tree.chengguan.pk) == sorted(
        ["刘强", "赵国建", "青年甲", "青年乙", "青年丙", "青年丁", "周平", "孙浩宇"]
    )
    assert names(search="青年", organisation_id=world.tree.wushan.pk) == sorted(
        ["青年戊", "青年己", "青年庚"]
    )

    township = user("township_admin")
    visible = {m.resident.name for m in party_selectors.party_member_list(user=township)}
    assert visible == {"刘强", "赵国建", "青年甲", "青年乙", "青年丙", "青年丁", "周平", "孙浩宇"}
    assert "彭勇" not in visible  # transferred to 堰河村 (五山镇)
    with pytest.raises(NotFound):
        party_selectors.party_member_list(user=township, organisation_id=world.tree.yanhe.pk)
    with pytest.raises(NotFound):
        party_selectors.party_member_get(user=township, member_id=world.members["彭勇"].pk)


def test_member_list_sorts(world):
    admin = user("county_admin")
    joined = party_selectors.party_member_list(
        user=admin, organisation_id=world.tree.xinhua.pk, sort="-joined"
    )
    assert [(m.resident.name, m.joined_on) for m in joined] == [
        ("青年丙", D(2023, 6, 1)),
        ("青年甲", D(2022, 7, 1)),
        ("周平", D(2022, 5, 1)),
        ("青年乙", D(2022, 3, 1)),
        ("刘强", D(2003, 3, 1)),
        ("赵国建", D(1978, 3, 1)),
        ("孙浩宇", None),
        ("青年丁", None),
    ]
    by_stage = party_selectors.party_member_list(
        user=admin, organisation_id=world.tree.xinhua.pk, sort="stage"
    )
    assert [m.stage for m in by_stage][:3] == ["applicant", "candidate", "probationary"]


def test_member_detail_has_the_timeline_sponsors_and_transfers(world):
    admin = user("county_admin")
    detail = party_selectors.party_member_detail(user=admin, member_id=world.members["青年甲"].pk)
    assert [(e.stage, e.occurred_on, e.is_reached, e.is_current) for e in detail.timeline] == [
        ("applicant", D(2020, 7, 1), True, False),
        ("activist", D(2021, 7, 1), True, False),
        ("candidate", D(2022, 1, 2), True, False),
        ("probationary", D(2022, 7, 1), True, True),
        ("full", None, False, False),
    ]
    assert detail.next_stage == "full"
    assert (detail.member.sponsor_1.resident.name, detail.member.sponsor_2.resident.name) == (
        "刘强",
        "赵国建",
    )
    assert detail.transfers == []

    moved = party_selectors.party_member_detail(user=admin, member_id=world.members["彭勇"].pk)
    assert [
        (t.from_organisation.name, t.to_organisation.name, t.transferred_on) for t in moved.transfers
    ] == [("新华村党支部", "堰河村党总支", D(2023, 5, 1))]
    assert moved.next_stage is None
    secretary = party_selectors.party_member_detail(user=admin, member_id=world.members["刘强"].pk)
    assert [(p.organisation.name, p.position, p.term_end) for p in secretary.positions] == [
        ("新华村党支部", "secretary", None)
    ]


def test_young_farmer_members_per_year_per_township(world):
    report = party_selectors.young_farmer_members_by_year(user=user("county_admin"))
    assert report.years == [2022, 2023, 2024]
    assert [(r.township, r.counts, r.total) for r in report.rows] == [
        ("城关镇", [2, 1, 0], 3),
        ("石花镇", [0, 0, 0], 0),
        ("盛康镇", [0, 0, 0], 0),
        ("庙滩镇", [0, 0, 0], 0),
        ("五山镇", [0, 1, 2], 3),
        ("茨河镇", [0, 0, 0], 0),
        ("南河镇", [0, 0, 0], 0),
        ("紫金镇", [0, 0, 0], 0),
        ("冷集镇", [0, 0, 0], 0),
        ("赵湾乡", [0, 0, 0], 0),
        ("县直党组织", [0, 0, 1], 1),
    ]
    assert report.year_totals == [2, 2, 3]
    assert report.total == 7

    township = party_selectors.young_farmer_members_by_year(user=user("township_admin"))
    assert (township.years, [(r.township, r.counts) for r in township.rows], township.total) == (
        [2022, 2023],
        [("城关镇", [2, 1])],
        3,
    )
    secretary = party_selectors.young_farmer_members_by_year(user=user("village_secretary"))
    assert [(r.township, r.counts) for r in secretary.rows] == [("城关镇", [2, 1])]
    empty = party_selectors.young_farmer_members_by_year(user=user("canteen_manager"))
    assert (empty.years, empty.total) == ([], 0)
    assert all(r.total == 0 for r in empty.rows)


def test_young_farmer_report_counts_in_one_group_by(world):
    admin = user("county_admin")
    with CaptureQueriesContext(connection) as queries:
        party_selectors.young_farmer_members_by_year(user=admin)
    grouped = [q["sql"] for q in queries.captured_queries if "GROUP BY" in q["sql"]]
    assert len(grouped) == 1
    assert "split_part" in grouped[0]
    assert "governance_membershipstep" in grouped[0]


def test_sages_talents_and_gatherings_are_scoped(world):
    admin, township = user("county_admin"), user("township_admin")
    groups = party_selectors.sages_group_list(user=admin)
    assert [(g.village.name, g.member_count, g.veteran_count, g.villager_count) for g in groups] == [
        ("新华村", 1, 1, 0),
        ("堰河村", 1, 0, 1),
    ]
    assert [g.village.name for g in party_selectors.sages_group_list(user=township)] == ["新华村"]
    with pytest.raises(NotFound):
        party_selectors.sages_group_get(user=township, group_id=world.sages["堰河村"].pk)

    talents = party_selectors.talent_list(user=admin)
    assert [(t.resident.name, t.category, t.training_count, t.training_hours) for t in talents] == [
        ("堰河茶艺", "production", 0, 0),
        ("田茶农", "production", 2, 56),
        ("田茶农", "ecommerce", 0, 0),
    ]
    assert [t.resident.name for t in party_selectors.talent_list(user=township, category="production")] == [
        "田茶农"
    ]
    counts = party_selectors.talent_category_counts(user=township)
    assert [(c.value, c.count) for c in counts] == [
        ("production", 1),
        ("business", 0),
        ("craftsman", 0),
        ("ecommerce", 1),
        ("culture", 0),
        ("social_service", 0),
        ("returned_entrepreneur", 0),
    ]

    county_view = party_selectors.shennong_gathering_list(user=admin)
    assert [
        (g.gathering.session, g.total_selected, [s.role_model.title for s in g.selections])
        for g in county_view
    ] == [(1, 2, ["致富带头人", "乡村振兴带头人"])]
    township_view = party_selectors.shennong_gathering_list(user=township)
    assert [
        (g.total_selected, [s.role_model.resident.name for s in g.selections]) for g in township_view
    ] == [(2, ["田茶农"])]
    nobody = role_services.user_create(username="nobody", password="x-long-password-1")
    assert party_selectors.shennong_gathering_list(user=nobody) == []


def test_party_managers_are_county_township_and_village_secretary(world):
    xinhua_path = world.tree.regions["新华村"].path
    viewer = role_services.user_create(username="viewer", password="x-long-password-1")
    role_services.role_assign(user=viewer, role=Role.VIEWER, region=world.tree.regions["城关镇"])
    assert [
        party_selectors.party_can_manage(user=user(name), region_path=xinhua_path)
        for name in ("county_admin", "township_admin", "village_secretary", "grid_leader", "canteen_manager")
    ] == [True, True, True, False, False]
    assert party_selectors.party_can_manage(user=viewer, region_path=xinhua_path) is False

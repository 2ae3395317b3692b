"""Granting and revoking roles: never more than one holds, only within one's subtree, always audited."""

from __future__ import annotations

import pytest

from common.errors import DomainError
from governance.models import AuditAction, AuditEvent, RoleAssignment, User
from governance.roles import Role
from governance.selectors import roles as role_selectors
from governance.services import roles as role_services


def _user(username: str) -> User:
    return User.objects.get(username=username)


@pytest.fixture
def newcomer(demo_county) -> User:
    """An account with no role yet: only a county admin sees it until it is given one."""
    return role_services.user_create(username="newcomer", password="x-long-password-1", full_name="周新")


def test_county_admin_grants_any_role_anywhere_and_it_is_audited(demo_county, newcomer):
    admin = _user("county_admin")
    assignment = role_services.role_grant(
        actor=admin, user=newcomer, role=Role.TOWNSHIP_ADMIN, region=demo_county["石花镇"]
    )
    assert (assignment.user, assignment.role, assignment.region, assignment.granted_by) == (
        newcomer,
        Role.TOWNSHIP_ADMIN,
        demo_county["石花镇"],
        admin,
    )
    event = AuditEvent.objects.get(action=AuditAction.GRANT)
    assert event.object_type == "governance.roleassignment"
    assert event.object_id == str(assignment.pk)
    assert event.actor_id == admin.pk
    assert event.region_path == demo_county["石花镇"].path
    assert event.changes == {
        "user": [None, "newcomer"],
        "role": [None, "township_admin"],
        "region": [None, "石花镇"],
    }
    assert event.detail == "授予周新“乡镇管理员”角色，范围：石花镇"
    again = role_services.role_grant(
        actor=admin, user=newcomer, role=Role.COUNTY_ADMIN, region=demo_county["谷城县"]
    )
    assert again.role == Role.COUNTY_ADMIN


def test_township_admin_cannot_grant_county_admin(demo_county):
    township = _user("township_admin")
    target = _user("village_secretary")
    with pytest.raises(DomainError) as raised:
        role_services.role_grant(
            actor=township, user=target, role=Role.COUNTY_ADMIN, region=demo_county["谷城县"]
        )
    # The county is outside the township admin's subtree: it answers like a region that does not exist.
    assert (raised.value.status, raised.value.field) == (404, "region")
    assert raised.value.message == "未找到该区域，或者它不在您的管辖范围内。"
    # Not even at its own township: a county admin role is more than it holds.
    with pytest.raises(DomainError) as raised:
        role_services.role_grant(
            actor=township, user=target, role=Role.COUNTY_ADMIN, region=demo_county["城关镇"]
        )
    assert raised.value.code == "role_not_grantable"
    assert raised.value.status == 403
    assert raised.value.field == "role"
    assert raised.value.message == "您不能授予“县委组织部管理员”角色：只能授予不高于您本人所持有的角色。"
    assert not AuditEvent.objects.filter(action=AuditAction.GRANT).exists()


def test_township_admin_cannot_grant_in_another_township(demo_county):
    township = _user("township_admin")
    target = _user("village_secretary")
    with pytest.raises(DomainError) as raised:
        role_services.role_grant(
            actor=township, user=target, role=Role.VILLAGE_SECRETARY, region=demo_county["民营社区"]
        )
    assert raised.value.status == 404
    assert raised.value.message == "未找到该区域，或者它不在您的管辖范围内。"
    assert not RoleAssignment.objects.filter(user=target, region=demo_county["民营社区"]).exists()


def test_township_admin_grants_within_its_township(demo_county):
    township = _user("township_admin")
    target = _user("grid_leader")
    assignment = role_services.role_grant(
        actor=township, user=target, role=Role.VILLAGE_SECRETARY, region=demo_county["新华村"]
    )
    assert assignment.granted_by == township
    assert RoleAssignment.objects.filter(user=target).count() == 2


def test_only_admins_grant(demo_county):
    with pytest.raises(DomainError) as raised:
        role_services.role_grant(
            actor=_user("village_secretary"),
            user=_user("grid_leader"),
            role=Role.VIEWER,
            region=demo_county["第一网格"],
        )
    assert raised.value.status == 404


def test_grant_refusals(demo_county, newcomer):
    admin = _user("county_admin")
    with pytest.raises(DomainError) as raised:
        role_services.role_grant(
            actor=admin, user=newcomer, role=Role.GRID_LEADER, region=demo_county["新华村"]
        )
    assert (raised.value.message, raised.value.field) == ("“百户网格长”只能在网格一级授予。", "region")
    with pytest.raises(DomainError) as raised:
        role_services.role_grant(
            actor=admin, user=newcomer, role=Role.CANTEEN_MANAGER, region=demo_county["谷城县"]
        )
    assert raised.value.message == "“爱心食堂管理员”只能在乡镇、村（社区）一级授予。"
    with pytest.raises(DomainError) as raised:
        role_services.role_grant(actor=admin, user=admin, role=Role.VIEWER, region=demo_county["谷城县"])
    assert (raised.value.message, raised.value.field) == ("不能给自己授予角色。", "user")
    with pytest.raises(DomainError) as raised:
        role_services.role_grant(
            actor=admin, user=_user("grid_leader"), role=Role.GRID_LEADER, region=demo_county["第一网格"]
        )
    assert raised.value.status == 409
    assert raised.value.message == "王秀英已在“第一网格”担任“百户网格长”。"


def test_township_admin_does_not_see_accounts_outside_its_township(demo_county, newcomer):
    township = _user("township_admin")
    visible = set(role_selectors.user_list_visible(actor=township).values_list("username", flat=True))
    assert visible == {"township_admin", "village_secretary", "grid_leader"}
    with pytest.raises(DomainError) as raised:
        role_services.role_grant(
            actor=township, user=newcomer, role=Role.VIEWER, region=demo_county["新华村"]
        )
    assert (raised.value.status, raised.value.field) == (404, "user")
    county = set(
        role_selectors.user_list_visible(actor=_user("county_admin")).values_list("username", flat=True)
    )
    assert county == {
        "county_admin",
        "township_admin",
        "village_secretary",
        "grid_leader",
        "canteen_manager",
        "newcomer",
    }
    assert role_selectors.user_list_visible(actor=_user("grid_leader")).count() == 0


def test_revoke_is_audited_and_follows_the_grant_rules(demo_county):
    admin = _user("county_admin")
    township = _user("township_admin")
    grid_leader = _user("grid_leader")
    assignment = RoleAssignment.objects.get(user=grid_leader)
    role_services.role_revoke(actor=township, assignment=assignment)
    assert not RoleAssignment.objects.filter(pk=assignment.pk).exists()
    event = AuditEvent.objects.get(action=AuditAction.REVOKE)
    assert event.object_id == str(assignment.pk)
    assert event.actor_id == township.pk
    assert event.region_path == demo_county["第一网格"].path
    assert event.changes == {
        "user": ["grid_leader", None],
        "role": ["grid_leader", None],
        "region": ["第一网格", None],
    }
    assert event.detail == "撤销王秀英的“百户网格长”角色，范围：第一网格"

    # A township admin cannot revoke in another township, nor its own role, nor a county admin's.
    canteen = RoleAssignment.objects.get(user__username="canteen_manager")
    with pytest.raises(DomainError) as raised:
        role_services.role_revoke(actor=township, assignment=canteen)
    assert raised.value.status == 404
    own = RoleAssignment.objects.get(user=township)
    with pytest.raises(DomainError) as raised:
        role_services.role_revoke(actor=township, assignment=own)
    assert (raised.value.status, raised.value.message) == (403, "不能撤销您自己的角色。")
    second_admin = role_services.user_create(
        username="admin2", password="x-long-password-1", full_name="钱二"
    )
    county_role = role_services.role_grant(
        actor=admin, user=second_admin, role=Role.COUNTY_ADMIN, region=demo_county["谷城县"]
    )
    with pytest.raises(DomainError) as raised:
        role_services.role_revoke(actor=township, assignment=county_role)
    assert raised.value.status == 404  # the county is outside its subtree
    # A county admin can.
    role_services.role_revoke(actor=admin, assignment=county_role)
    assert AuditEvent.objects.filter(action=AuditAction.REVOKE).count() == 2


def test_user_create_with_role_opens_the_account_and_grants_in_one_step(demo_county):
    township = _user("township_admin")
    assignment = role_services.user_create_with_role(
        actor=township,
        username="zhang.wei",
        password="Qiaotou-2024!",
        full_name="张伟",
        role=Role.GRID_LEADER,
        region=demo_county["第一网格"],
    )
    user = assignment.user
    assert (user.username, user.full_name) == ("zhang.wei", "张伟")
    assert user.check_password("Qiaotou-2024!")
    assert list(AuditEvent.objects.order_by("id").values_list("action", "object_type")) == [
        ("create", "governance.user"),
        ("grant", "governance.roleassignment"),
    ]
    assert "zhang.wei" in set(
        role_selectors.user_list_visible(actor=township).values_list("username", flat=True)
    )


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"username": "ab"}, "username", "用户名为3至150个字符，只能包含字母、数字和 @ . + - _。"),
        ({"username": "有 空格"}, "username", "用户名为3至150个字符，只能包含字母、数字和 @ . + - _。"),
        ({"username": "GRID_LEADER"}, "username", "用户名“GRID_LEADER”已被使用。"),
        ({"full_name": " "}, "full_name", "请填写姓名。"),
        ({"password": "123"}, "password", None),
        (
            {"role": Role.COUNTY_ADMIN},
            "role",
            "您不能授予“县委组织部管理员”角色：只能授予不高于您本人所持有的角色。",
        ),
    ],
)
def test_user_create_with_role_refusals_write_nothing(demo_county, changes, field, message):
    data = {
        "username": "li.na",
        "password": "Qiaotou-2024!",
        "full_name": "李娜",
        "role": Role.VILLAGE_SECRETARY,
        "region": demo_county["新华村"],
        **changes,
    }
    users_before = User.objects.count()
    with pytest.raises(DomainError) as raised:
        role_services.user_create_with_role(actor=_user("township_admin"), **data)
    assert raised.value.field == field
    if message:
        assert raised.value.message == message
    else:
        assert "密码" in str(raised.value.message)  # Django's own password rules, in Chinese
    assert User.objects.count() == users_before
    assert not AuditEvent.objects.exists()

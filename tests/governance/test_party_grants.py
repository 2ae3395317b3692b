"""Object-level grants (django-guardian, direct foreign-key rows) widen region scope for one organisation."""

import pytest

from common.errors import DomainError, NotFound
from governance.models import (
    AuditAction,
    AuditEvent,
    PartyOrganisation,
    PartyOrganisationUserObjectPermission,
    PartyOrgKind,
    User,
)
from governance.selectors import party as party_selectors
from governance.services import party as party_services
from governance.services.roles import user_create
from tests.governance.party_factories import full_member_make, party_tree_make


@pytest.fixture
def world(demo_county):
    tree = party_tree_make(demo_county)
    enterprise = party_services.party_org_create(
        actor=None,
        kind=PartyOrgKind.ENTERPRISE_BRANCH,
        name="谷城茶业公司党支部",
        region=tree.regions["五山镇"],
        parent=tree.wushan,
    )
    member = full_member_make(enterprise, tree.regions["第一网格"], "周建国")
    secretary = user_create(username="tea_secretary", password="a-long-password-123", full_name="周书记")
    return tree, enterprise, member, secretary


def test_a_user_with_no_role_sees_only_the_granted_organisation_and_its_members(world):
    tree, enterprise, member, secretary = world
    assert list(party_selectors.party_org_list(user=secretary)) == []
    with pytest.raises(NotFound):
        party_selectors.party_org_get(user=secretary, org_id=enterprise.pk)

    county_admin = User.objects.get(username="county_admin")
    party_services.party_org_view_grant(actor=county_admin, user=secretary, organisation=enterprise)

    assert [o.name for o in party_selectors.party_org_list(user=secretary)] == ["谷城茶业公司党支部"]
    assert party_selectors.party_org_get(user=secretary, org_id=enterprise.pk).member_count == 1
    assert [m.pk for m in party_selectors.party_member_list(user=secretary)] == [member.pk]
    assert party_selectors.party_member_get(user=secretary, member_id=member.pk).pk == member.pk
    assert [n.org.name for n in party_selectors.party_org_tree(user=secretary)] == ["谷城茶业公司党支部"]
    # Nothing else leaks: the parent committee and other organisations stay 404.
    with pytest.raises(NotFound):
        party_selectors.party_org_get(user=secretary, org_id=tree.wushan.pk)
    event = AuditEvent.objects.get(action=AuditAction.GRANT, object_id=str(enterprise.pk))
    assert event.actor_name == "李华"
    assert event.detail == "授权 周书记 查看党组织"

    party_services.party_org_view_revoke(actor=county_admin, user=secretary, organisation=enterprise)
    assert list(party_selectors.party_org_list(user=secretary)) == []
    assert AuditEvent.objects.filter(action=AuditAction.REVOKE, object_id=str(enterprise.pk)).count() == 1


def test_only_county_or_covering_township_admins_grant(world):
    _tree, enterprise, _member, secretary = world
    for username in ("township_admin", "village_secretary", "grid_leader"):  # 城关镇 does not cover 五山镇
        with pytest.raises(DomainError) as raised:
            party_services.party_org_view_grant(
                actor=User.objects.get(username=username), user=secretary, organisation=enterprise
            )
        assert raised.value.code == "party_grant_forbidden"
        assert raised.value.status == 403
    assert PartyOrganisationUserObjectPermission.objects.count() == 0


def test_grant_rows_are_direct_foreign_keys_deleted_with_their_object(world):
    tree, _enterprise, _member, secretary = world
    empty = party_services.party_org_create(
        actor=None,
        kind=PartyOrgKind.CHAIN_BRANCH,
        name="油茶产业链党支部",
        region=tree.regions["五山镇"],
        parent=tree.wushan,
    )
    party_services.party_org_view_grant(
        actor=User.objects.get(username="county_admin"), user=secretary, organisation=empty
    )
    row = PartyOrganisationUserObjectPermission.objects.get()
    assert (row.content_object_id, row.user_id, row.permission.codename) == (
        empty.pk,
        secretary.pk,
        "view_partyorganisation",
    )
    PartyOrganisation.objects.filter(pk=empty.pk).delete()
    assert PartyOrganisationUserObjectPermission.objects.count() == 0


def test_superuser_status_and_global_permissions_never_widen_scope(world):
    _tree, _enterprise, _member, secretary = world
    User.objects.filter(pk=secretary.pk).update(is_superuser=True)
    secretary.refresh_from_db()
    assert list(party_selectors.party_org_list(user=secretary)) == []

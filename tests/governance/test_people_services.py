"""Households and residents: validation, de-duplication, encryption, audit rows and the reveal gate."""

# ruff: noqa: F811  (the people_world fixture is imported, then named as a test argument)

from __future__ import annotations

import json

import pytest

from common.errors import DomainError
from governance import pii
from governance.models import AuditAction, AuditEvent, Household, Resident, ResidentTag
from governance.services import people as people_services
from tests.governance.people_factories import born_aged, id_number_for, people_world  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db


def _create(world, actor="grid_leader", household="XH-002", **overrides):
    values = {
        "name": "王小红",
        "id_number": id_number_for(born_aged(12), "F"),
        "relation_to_head": "child",
    }
    values.update(overrides)
    return people_services.resident_create(
        actor=world.users[actor], household=world.households[household], **values
    )


def _raises(call, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as raised:
        call(*args, **kwargs)
    return raised.value


# ---------------------------------------------------------------------------------------------------------
# Validation


def test_a_bad_checksum_is_refused_with_the_reason_in_chinese(people_world):
    good = id_number_for(born_aged(12), "F")
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    before = Resident.objects.count()
    error = _raises(_create, people_world, id_number=bad)
    assert (error.code, str(error.message), error.field, error.status) == (
        "id_number_checksum",
        "身份证号校验码不正确，请核对后重新输入。",
        "id_number",
        400,
    )
    assert Resident.objects.count() == before


def test_a_birth_date_that_disagrees_with_the_id_number_is_refused(people_world):
    id_number = "11010519491231002X"
    error = _raises(
        _create,
        people_world,
        id_number=id_number,
        birth_date=pii.id_number_parse(id_number).birth_date.replace(day=30),
    )
    assert (error.code, str(error.message), error.field) == (
        "resident_birth_date_mismatch",
        "出生日期与身份证号不一致：身份证号中的出生日期是1949年12月31日。",
        "birth_date",
    )


def test_a_gender_that_disagrees_with_the_id_number_is_refused(people_world):
    error = _raises(_create, people_world, id_number="11010519491231002X", gender="M")
    assert (error.code, str(error.message), error.field) == (
        "resident_gender_mismatch",
        "性别与身份证号不一致：按身份证号应为女。",
        "gender",
    )


def test_birth_date_and_gender_come_from_the_id_number_when_left_empty(people_world):
    resident = _create(people_world, id_number="11010519491231002X")
    assert (resident.birth_date.isoformat(), resident.gender) == ("1949-12-31", "F")


def test_a_bad_phone_is_refused(people_world):
    error = _raises(_create, people_world, phone="1380000111")
    assert (error.code, str(error.message), error.field) == (
        "phone_format",
        "手机号应为11位数字，以1开头。",
        "phone",
    )


def test_id_number_and_phone_are_stored_encrypted_with_hash_and_mask(people_world):
    id_number = id_number_for(born_aged(30), "M")
    resident = _create(people_world, name="王强", id_number=id_number, phone="+86 139-1234-5678")
    row = Resident.objects.get(pk=resident.pk)
    assert id_number not in row.id_number_encrypted
    assert pii.decrypt(row.id_number_encrypted) == id_number
    assert row.id_number_hash == pii.lookup_hash(id_number)
    assert row.id_number_masked == f"{id_number[:4]}**********{id_number[-4:]}"
    assert pii.decrypt(row.phone_encrypted) == "13912345678"
    assert row.phone_hash == pii.lookup_hash("13912345678")
    assert row.phone_masked == "139****5678"


def test_a_household_has_one_head(people_world):
    error = _raises(_create, people_world, relation_to_head="self")
    assert (error.code, str(error.message), error.field) == (
        "household_has_head",
        "本户已有户主王建国。如需更换户主，请在户详情中“设为户主”。",
        "relation_to_head",
    )


# ---------------------------------------------------------------------------------------------------------
# One person, one row


def test_a_duplicate_person_is_refused_naming_where_they_live(people_world):
    before = Resident.objects.count()
    error = _raises(_create, people_world, id_number=people_world.id_numbers["张德明"])
    assert (error.code, error.status, error.field) == ("resident_duplicate", 409, "id_number")
    assert str(error.message) == (
        "该身份证号已登记：张德明，新华村第一网格XH-001户。同一个人只能登记一次；如果此人已迁入本户，请在原户办理迁移。"
    )
    assert error.extra == {"existing_resident_id": people_world.residents["张德明"].pk}
    assert Resident.objects.count() == before


def test_a_duplicate_outside_the_actors_scope_does_not_say_where(people_world):
    error = _raises(
        _create,
        people_world,
        actor="huapu_secretary",
        household="HP-001",
        id_number=people_world.id_numbers["张德明"],
    )
    assert (error.code, error.status) == ("resident_duplicate", 409)
    assert str(error.message) == (
        "该身份证号已在您管辖范围以外的地方登记，同一个人只能登记一次。如需迁入，请联系上级管理员办理。"
    )
    assert error.extra == {}


def test_the_unique_hash_settles_a_race_with_the_same_message(people_world, monkeypatch):
    """Two clerks registering one person at once both pass the look-up; the UNIQUE index refuses the
    second insert, and that is reported exactly like a plain duplicate (not as a 500)."""
    id_number = id_number_for(born_aged(40), "M")
    _create(people_world, name="陈一", id_number=id_number, household="XH-001", relation_to_head="other")
    found = people_services._duplicate_find
    calls = []

    def miss_first_time(id_hash):
        calls.append(id_hash)
        return None if len(calls) == 1 else found(id_hash)

    monkeypatch.setattr(people_services, "_duplicate_find", miss_first_time)
    error = _raises(_create, people_world, name="陈一", id_number=id_number, relation_to_head="other")
    assert (error.code, error.status) == ("resident_duplicate", 409)
    assert str(error.message) == (
        "该身份证号已登记：陈一，新华村第一网格XH-001户。同一个人只能登记一次；如果此人已迁入本户，请在原户办理迁移。"
    )
    assert len(calls) == 2
    assert Resident.objects.filter(id_number_hash=pii.lookup_hash(id_number)).count() == 1


# ---------------------------------------------------------------------------------------------------------
# Households


def test_household_number_is_unique_per_grid(people_world):
    error = _raises(
        people_services.household_create,
        actor=people_world.users["grid_leader"],
        grid=people_world.regions["第一网格"],
        number=" XH-001 ",
    )
    assert (error.code, str(error.message), error.field) == (
        "household_number_taken",
        "“第一网格”已有户号为“XH-001”的户，请换一个户号。",
        "number",
    )
    other = people_services.household_create(
        actor=people_world.users["county_admin"], grid=people_world.regions["民营一网格"], number="XH-001"
    )
    assert other.grid.name == "民营一网格"


def test_a_household_must_sit_on_a_grid(people_world):
    error = _raises(
        people_services.household_create,
        actor=people_world.users["village_secretary"],
        grid=people_world.regions["新华村"],
        number="XH-100",
    )
    assert (error.code, str(error.message), error.field) == (
        "household_grid_not_grid",
        "户只能登记在网格下：“新华村”不是网格，请选择一个网格。",
        "grid",
    )


def test_a_canteen_manager_reads_but_does_not_write_and_outside_scope_is_404(people_world):
    error = _raises(
        people_services.household_create,
        actor=people_world.users["canteen_manager"],
        grid=people_world.regions["民营一网格"],
        number="MY-002",
    )
    assert (error.code, error.status, str(error.message)) == (
        "people_edit_forbidden",
        403,
        "您的角色只能查看户籍和居民信息，不能修改。",
    )
    error = _raises(
        people_services.household_create,
        actor=people_world.users["canteen_manager"],
        grid=people_world.regions["第一网格"],
        number="XH-100",
    )
    assert (error.code, error.status) == ("not_found", 404)


def test_household_create_and_update_are_audited_with_before_and_after(people_world):
    actor = people_world.users["village_secretary"]
    household = people_services.household_create(
        actor=actor,
        grid=people_world.regions["第一网格"],
        number="XH-003",
        address="谷城县城关镇新华村三组7号",
        tags=["military_family"],
    )
    created = AuditEvent.objects.get(
        action=AuditAction.CREATE, object_type="governance.household", object_id=str(household.pk)
    )
    assert created.actor_id == actor.pk
    assert created.region_path == people_world.regions["第一网格"].path
    assert created.changes == {
        "address": [None, "谷城县城关镇新华村****"],
        "grid": [None, people_world.regions["第一网格"].pk],
        "is_active": [None, True],
        "number": [None, "XH-003"],
        "tags": [None, "military_family"],
    }
    people_services.household_update(
        actor=actor,
        household=household,
        number="XH-004",
        tags=["military_family", "civilised"],
        is_active=False,
    )
    updated = AuditEvent.objects.get(action=AuditAction.UPDATE, object_id=str(household.pk))
    assert updated.changes == {
        "is_active": [True, False],
        "number": ["XH-003", "XH-004"],
        "tags": ["military_family", "civilised,military_family"],
    }
    # Saving again with nothing changed writes nothing.
    people_services.household_update(actor=actor, household=household, number="XH-004")
    assert AuditEvent.objects.filter(action=AuditAction.UPDATE, object_id=str(household.pk)).count() == 1


def test_the_first_head_registered_becomes_the_households_head(people_world):
    household = people_world.households["XH-001"]
    assert household.head_id == people_world.residents["张德明"].pk
    event = AuditEvent.objects.get(
        action=AuditAction.UPDATE, object_type="governance.household", object_id=str(household.pk)
    )
    assert (event.changes, event.detail) == (
        {"head": [None, people_world.residents["张德明"].pk]},
        "设置户主：张德明",
    )


def test_household_head_set_makes_one_head_and_is_audited(people_world):
    household = people_world.households["XH-002"]
    old, new = people_world.residents["王建国"], people_world.residents["刘芳"]
    people_services.household_head_set(
        actor=people_world.users["grid_leader"], household=household, resident=new
    )
    household.refresh_from_db()
    assert household.head_id == new.pk
    assert dict(Resident.objects.filter(household=household).values_list("name", "relation_to_head")) == {
        "王建国": "other",
        "刘芳": "self",
        "王小明": "child",
        "王秀兰": "parent",
    }
    event = AuditEvent.objects.filter(action=AuditAction.UPDATE, object_id=str(household.pk)).latest("id")
    assert event.changes == {
        "head": [old.pk, new.pk],
        f"relation_to_head:{old.pk}": ["self", "other"],
        f"relation_to_head:{new.pk}": ["spouse", "self"],
    }
    error = _raises(
        people_services.household_head_set,
        actor=people_world.users["grid_leader"],
        household=household,
        resident=people_world.residents["张德明"],
    )
    assert str(error.message) == "张德明不是本户成员，不能设为户主。"


# ---------------------------------------------------------------------------------------------------------
# Residents: update and move


def test_resident_update_is_audited_with_masked_before_and_after(people_world):
    resident = people_world.residents["李桂兰"]
    people_services.resident_update(
        actor=people_world.users["grid_leader"],
        resident=resident,
        phone="13511112222",
        status="away",
        tags=["left_behind_elderly", "disability"],
    )
    event = AuditEvent.objects.get(
        action=AuditAction.UPDATE, object_type="governance.resident", object_id=str(resident.pk)
    )
    assert event.changes == {
        "phone": ["139****2222", "135****2222"],
        "status": ["resident", "away"],
        "tags": ["left_behind_elderly", "disability,left_behind_elderly"],
    }
    assert sorted(ResidentTag.objects.filter(resident=resident).values_list("tag", flat=True)) == [
        "disability",
        "left_behind_elderly",
    ]
    resident.refresh_from_db()
    assert pii.decrypt(resident.phone_encrypted) == "13511112222"


def test_correcting_the_id_number_corrects_birth_date_and_gender(people_world):
    resident = people_world.residents["刘芳"]
    new_id = id_number_for(born_aged(44), "F")
    people_services.resident_update(
        actor=people_world.users["grid_leader"], resident=resident, id_number=new_id
    )
    resident.refresh_from_db()
    assert resident.birth_date == pii.id_number_parse(new_id).birth_date
    event = AuditEvent.objects.get(
        action=AuditAction.UPDATE, object_id=str(resident.pk), object_type="governance.resident"
    )
    old_masked = pii.mask_id_number(people_world.id_numbers["刘芳"])
    assert event.changes["birth_date"] == [
        pii.id_number_parse(people_world.id_numbers["刘芳"]).birth_date.isoformat(),
        resident.birth_date.isoformat(),
    ]
    assert event.changes["id_number"][0] == old_masked


def test_updating_the_birth_date_alone_must_still_agree_with_the_id(people_world):
    resident = people_world.residents["刘芳"]
    error = _raises(
        people_services.resident_update,
        actor=people_world.users["grid_leader"],
        resident=resident,
        birth_date=resident.birth_date.replace(year=1900),
    )
    assert error.code == "resident_birth_date_mismatch"


def test_resident_move_is_audited_and_a_leaving_head_leaves_the_household_headless(people_world):
    mover = people_world.residents["王建国"]
    source, target = people_world.households["XH-002"], people_world.households["XH-001"]
    people_services.resident_move(
        actor=people_world.users["village_secretary"],
        resident=mover,
        to_household=target,
        relation_to_head="child",
    )
    mover.refresh_from_db()
    source.refresh_from_db()
    assert (mover.household_id, mover.relation_to_head, source.head_id) == (target.pk, "child", None)
    moved = AuditEvent.objects.get(
        action=AuditAction.UPDATE, object_type="governance.resident", object_id=str(mover.pk)
    )
    assert moved.changes == {"household": [source.pk, target.pk], "relation_to_head": ["self", "child"]}
    assert moved.detail == "从新华村第一网格XH-002户迁入新华村第一网格XH-001户"
    headless = AuditEvent.objects.filter(object_type="governance.household", object_id=str(source.pk)).latest(
        "id"
    )
    assert (headless.changes, headless.detail) == ({"head": [mover.pk, None]}, "户主王建国已迁出")


def test_a_move_needs_editing_rights_over_both_households(people_world):
    error = _raises(
        people_services.resident_move,
        actor=people_world.users["grid_leader"],
        resident=people_world.residents["王小明"],
        to_household=people_world.households["MY-001"],
        relation_to_head="grandchild",
    )
    assert (error.code, error.status) == ("not_found", 404)
    assert Resident.objects.get(pk=people_world.residents["王小明"].pk).household.number == "XH-002"


# ---------------------------------------------------------------------------------------------------------
# Personal data in clear


def test_village_secretary_reveals_in_its_village_and_it_is_audited(people_world):
    actor = people_world.users["village_secretary"]
    resident = people_world.residents["张德明"]
    revealed = people_services.resident_personal_data_reveal(actor=actor, resident=resident)
    assert (revealed.id_number, revealed.phone, revealed.address) == (
        people_world.id_numbers["张德明"],
        "13800001111",
        "谷城县城关镇新华村一组12号",
    )
    event = AuditEvent.objects.get(action=AuditAction.VIEW_PERSONAL_DATA)
    assert (event.actor_id, event.object_type, event.object_id, event.object_repr, event.detail) == (
        actor.pk,
        "governance.resident",
        str(resident.pk),
        "张德明",
        "查看完整个人信息：身份证号、手机号、住址",
    )
    assert event.region_path == people_world.regions["第一网格"].path


@pytest.mark.parametrize(
    ("username", "name", "status", "detail"),
    [
        ("canteen_manager", "张德明", 404, "拒绝：不在管辖范围内"),
        ("huapu_secretary", "张德明", 404, "拒绝：不在管辖范围内"),
        ("canteen_manager", "赵淑珍", 403, "拒绝：角色无权查看完整个人信息"),
    ],
)
def test_reveal_is_refused_and_the_refusal_is_audited(people_world, username, name, status, detail):
    actor = people_world.users[username]
    resident = people_world.residents[name]
    error = _raises(people_services.resident_personal_data_reveal, actor=actor, resident=resident.pk)
    assert error.status == status
    event = AuditEvent.objects.get(action=AuditAction.VIEW_PERSONAL_DATA)
    assert (event.actor_id, event.object_id, event.detail) == (actor.pk, str(resident.pk), detail)


def test_the_audit_log_never_holds_an_id_number_or_phone_in_clear(people_world):
    people_services.resident_update(
        actor=people_world.users["county_admin"],
        resident=people_world.residents["赵淑珍"],
        phone="13322223333",
    )
    log = json.dumps(list(AuditEvent.objects.values("changes", "detail", "object_repr")), ensure_ascii=False)
    for secret in [
        *people_world.id_numbers.values(),
        *filter(None, people_world.phones.values()),
        "13322223333",
    ]:
        assert secret not in log
    assert Household.objects.count() == 4

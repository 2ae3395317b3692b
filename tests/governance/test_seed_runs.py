"""Running the seed: idempotent, deterministic, the same rows through COPY and through executemany,
and the management command's report."""

from __future__ import annotations

import hashlib
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db import transaction

from governance.demo import demo_county_counts, seed_demo_county
from governance.models import (
    AuditEvent,
    Household,
    HouseholdTag,
    MembershipStep,
    MemberTransfer,
    PartyLeadership,
    PartyMember,
    PartyOrganisation,
    Region,
    RegionCode,
    Resident,
    ResidentTag,
    RoleAssignment,
    RoleModelSelection,
    SagesMember,
    Talent,
    TalentTraining,
    User,
)
from grids.models import GridLeader

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """The demo log-ins' passwords are hashed on every seed; PBKDF2 would dominate these tests."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _fingerprint() -> str:
    """A digest of the county's content by natural keys (ids and ciphertexts differ from run to run)."""
    person = "resident__id_number_hash"
    tables = [
        Region.objects.values_list("name", "code", "level", "kind", "valid_from", "parent__code"),
        RegionCode.objects.values_list("region__code", "code", "valid_from"),
        Household.objects.values_list("number", "address", "grid__code", "head__id_number_hash", "is_active"),
        HouseholdTag.objects.values_list("household__number", "tag"),
        Resident.objects.values_list(
            "id_number_hash",
            "name",
            "gender",
            "birth_date",
            "id_number_masked",
            "phone_hash",
            "phone_masked",
            "relation_to_head",
            "status",
            "household__number",
        ),
        ResidentTag.objects.values_list(person, "tag"),
        PartyOrganisation.objects.values_list(
            "name", "kind", "region__code", "parent__name", "established_on"
        ),
        PartyOrganisation.villages.through.objects.values_list("partyorganisation__name", "region__code"),
        PartyMember.objects.values_list(
            person,
            "organisation__name",
            "category",
            "stage",
            f"sponsor_1__{person}",
            f"sponsor_2__{person}",
        ),
        MembershipStep.objects.values_list(f"member__{person}", "stage", "occurred_on", "note"),
        MemberTransfer.objects.values_list(
            f"member__{person}",
            "from_organisation__name",
            "to_organisation__name",
            "transferred_on",
            "reason",
        ),
        PartyLeadership.objects.values_list(
            "organisation__name", f"member__{person}", "position", "term_start", "term_end"
        ),
        GridLeader.objects.values_list(
            "grid__code", person, "user__username", "elected_on", "term_end", "ended_on"
        ),
        SagesMember.objects.values_list("group__name", person, "kind", "joined_on", "is_active"),
        Talent.objects.values_list(person, "category", "speciality", "registered_on"),
        TalentTraining.objects.values_list(f"talent__{person}", "title", "held_on", "hours", "organiser"),
        RoleModelSelection.objects.values_list(
            "gathering__session",
            "gathering__held_on",
            "gathering__venue",
            f"role_model__{person}",
            "role_model__title",
            "role_model__deeds",
            "citation",
        ),
    ]
    digest = hashlib.sha256()
    for rows in tables:
        for row in sorted(rows, key=repr):
            digest.update(repr(row).encode())
    return digest.hexdigest()


def test_copy_and_executemany_write_the_same_county_every_time():
    """Deterministic: two runs give the same content, one through COPY, one through a prepared INSERT."""
    with transaction.atomic():
        seed_demo_county(password="xiangzhi-demo", scale="test", use_copy=True)
        through_copy, counts = _fingerprint(), demo_county_counts()
        transaction.set_rollback(True)
    assert not Region.objects.exists()
    seed_demo_county(password="xiangzhi-demo", scale="test", use_copy=False)
    assert demo_county_counts() == counts
    assert _fingerprint() == through_copy


def test_seeding_again_only_resets_the_demo_passwords():
    seed_demo_county(password="first-password", scale="test")
    counts, fingerprint = demo_county_counts(), _fingerprint()
    messages: list[str] = []
    seed_demo_county(password="second-password", scale="test", progress=messages.append)
    assert messages == ["演示县已有数据，不再重复生成；只重置了演示账号的密码。"]
    assert demo_county_counts() == counts
    assert _fingerprint() == fingerprint
    # The county's entry, its cases' (grids/demo.py), its points' (points/demo.py), its livelihood sites'
    # (canteens/demo.py) and its industry's (industry/demo.py); the log-ins and 100 duty accounts, one role
    # each.
    assert AuditEvent.objects.count() == 5
    assert (User.objects.count(), RoleAssignment.objects.count()) == (105, 105)
    assert authenticate(username="grid_leader", password="second-password") is not None
    assert authenticate(username="grid_leader", password="first-password") is None


def test_a_skeleton_seeded_before_is_completed():
    """The fixture's skeleton (16 regions, the log-ins) grows into the whole county, keeping its rows."""
    skeleton = seed_demo_county(password="xiangzhi-demo")
    assert (Region.objects.count(), Household.objects.count(), AuditEvent.objects.count()) == (16, 0, 0)
    regions = seed_demo_county(password="xiangzhi-demo", scale="test")
    assert {name: r.pk for name, r in regions.items()} == {name: r.pk for name, r in skeleton.items()}
    assert demo_county_counts()["grids"] == 62
    assert Region.objects.get(pk=skeleton["第一网格"].pk).valid_from is not None
    assert GridLeader.objects.get(user__username="grid_leader").grid_id == skeleton["第一网格"].pk


def test_unknown_scale_is_refused():
    with pytest.raises(ValueError, match="unknown scale 'province'"):
        seed_demo_county(scale="province")


def test_command_reports_progress_counts_and_log_ins():
    out = StringIO()
    call_command("seed_demo", "--scale", "test", stdout=out)
    text = out.getvalue()
    assert "区划：10 个乡镇，31 个村（社区），62 个网格。" in text
    assert "赵湾乡：2 个村（社区）已生成" in text
    lines = text.splitlines()
    assert [line.split()[-1] for line in lines if line.strip().startswith(("网格 ", "先进典型"))] == [
        "62",
        "45",
    ]
    assert "演示账号（密码均为 xiangzhi-demo）：" in text
    assert "grid_leader" in text
    again = StringIO()
    call_command("seed_demo", "--scale", "test", "--quiet-logins", stdout=again)
    assert "演示县谷城县已经生成过，本次不再重复生成。" in again.getvalue()
    assert "grid_leader" not in again.getvalue()

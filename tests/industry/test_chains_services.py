"""The chains area's services: credit codes, businesses, participation, links, projects and work — their
rules, scope, audit rows and exactly-once creates."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from common.errors import Conflict, DomainError, NotFound
from governance.models import AuditEvent, User
from industry.models import Business, BusinessKind, ChainLink, ChainParticipation, EmploymentKind, ProjectKind
from industry.services import chains as services
from tests.industry.factories_chains import chains_world, credit_code_make

pytestmark = pytest.mark.django_db


def key() -> str:
    return uuid.uuid4().hex


@pytest.fixture
def world(demo_county):
    return chains_world(demo_county)


@pytest.mark.parametrize(
    ("typed", "clean"),
    [("91350100M000100Y43", "91350100M000100Y43"), (" 91110000600037341l ", "91110000600037341L"), ("", "")],
)
def test_credit_code_accepts_valid_codes(typed, clean):
    assert services.credit_code_clean(typed) == clean


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("91350100M000100Y44", "统一社会信用代码校验位不对，请核对。"),
        ("91350100M000100Y4", "统一社会信用代码应为 18 位数字或大写字母（不含 I、O、S、V、Z）。"),
        ("9135010OM000100Y43", "统一社会信用代码应为 18 位数字或大写字母（不含 I、O、S、V、Z）。"),
        ("91350100M000100Z43", "统一社会信用代码应为 18 位数字或大写字母（不含 I、O、S、V、Z）。"),
    ],
)
def test_credit_code_refuses_bad_codes(typed, message):
    with pytest.raises(DomainError) as caught:
        services.credit_code_clean(typed)
    assert (caught.value.code, str(caught.value.message), caught.value.field) == (
        "bad_credit_code",
        message,
        "credit_code",
    )


def test_credit_code_check_character_can_be_zero():
    # The check is (31 − sum mod 31) mod 31: a sum divisible by 31 gives "0", not an out-of-range 31.
    for serial in range(40):
        code = credit_code_make(f"9142062500000{serial:04d}")
        assert services.credit_code_clean(code) == code
    assert any(credit_code_make(f"9142062500000{s:04d}").endswith("0") for s in range(40))


def test_business_create_is_exactly_once_and_audited(world):
    admin = world.admin
    body = {
        "kind": BusinessKind.FAMILY_FARM,
        "name": "新华家庭农场",
        "region": world.regions["新华村"],
        "credit_code": credit_code_make("92420625MA4X00001"),
    }
    first = services.business_create(actor=admin, idempotency_key="bk-1", **body)
    again = services.business_create(actor=admin, idempotency_key="bk-1", **body)
    assert first.pk == again.pk
    assert Business.objects.filter(name="新华家庭农场").count() == 1
    entry = AuditEvent.objects.get(object_type="industry.business", object_id=str(first.pk))
    assert entry.changes["idempotency_key"] == [None, "bk-1"]
    assert entry.region_path == world.regions["新华村"].path
    with pytest.raises(Conflict):
        services.business_create(actor=admin, idempotency_key="bk-1", **{**body, "name": "别的名字"})


def test_business_rules(world):
    admin = world.admin
    village = world.regions["新华村"]
    with pytest.raises(DomainError) as caught:
        services.business_create(
            actor=admin, idempotency_key=key(), kind="household", name="张家", region=village
        )
    assert (caught.value.code, caught.value.field) == ("household_required", "household_number")
    with pytest.raises(DomainError) as caught:
        services.business_create(
            actor=admin,
            idempotency_key=key(),
            kind="household",
            name="王家2",
            region=village,
            household_number="X-001",
        )
    assert caught.value.code == "household_registered"
    with pytest.raises(DomainError) as caught:
        services.business_create(
            actor=admin, idempotency_key=key(), kind="cooperative", name="新华茶叶合作社", region=village
        )
    assert (caught.value.code, caught.value.status) == ("business_duplicate", 409)
    with pytest.raises(DomainError) as caught:
        services.business_create(
            actor=admin,
            idempotency_key=key(),
            kind="cooperative",
            name="镇上合作社",
            region=world.regions["城关镇"],
        )
    assert caught.value.code == "business_region_level"
    household = services.business_create(
        actor=admin,
        idempotency_key=key(),
        kind="household",
        name="李四家",
        region=village,
        household_number=" X-002 ",
    )
    assert household.household_id == world.households["X-002"].pk


def test_business_scope(world):
    secretary = User.objects.get(username="village_secretary")
    with pytest.raises(NotFound):
        services.business_create(
            actor=secretary,
            idempotency_key=key(),
            kind="cooperative",
            name="越界合作社",
            region=world.regions["民营社区"],
        )
    with pytest.raises(NotFound):
        services.business_update(actor=secretary, business=world.businesses["石花菌业公司"], name="改名")
    grid_leader = User.objects.get(username="grid_leader")
    with pytest.raises(NotFound):
        services.business_update(actor=grid_leader, business=world.businesses["新华茶叶合作社"], name="改名")
    updated = services.business_update(
        actor=secretary,
        business=world.businesses["新华茶叶合作社"],
        name="新华茶叶专业合作社",
        legal_representative="刘强",
    )
    assert (updated.name, updated.legal_representative) == ("新华茶叶专业合作社", "刘强")
    entry = AuditEvent.objects.filter(object_type="industry.business", action="update").get()
    assert entry.changes == {
        "legal_representative": ["王大山", "刘强"],
        "name": ["新华茶叶合作社", "新华茶叶专业合作社"],
    }


def test_deactivating_a_business_ends_its_participations(world):
    business = world.businesses["石花菌业公司"]
    services.business_deactivate(actor=world.admin, business=business, on=dt.date(2026, 3, 1))
    assert list(
        ChainParticipation.objects.filter(business=business)
        .order_by("chain__name")
        .values_list("left_on", flat=True)
    ) == [dt.date(2026, 3, 1), dt.date(2026, 3, 1)]
    with pytest.raises(DomainError) as caught:
        services.participation_add(
            actor=world.admin, idempotency_key=key(), chain=world.tea, business=business
        )
    assert caught.value.code == "business_inactive"
    services.business_reactivate(actor=world.admin, business=business)
    business.refresh_from_db()
    assert business.is_active is True


def test_participation_rules(world):
    admin = world.admin
    business = world.businesses["新华茶叶合作社"]
    with pytest.raises(DomainError) as caught:
        services.participation_add(actor=admin, idempotency_key=key(), chain=world.tea, business=business)
    assert (caught.value.code, caught.value.status, caught.value.extra["participation"]) == (
        "participation_exists",
        409,
        ChainParticipation.objects.get(chain=world.tea, business=business).pk,
    )
    tea_link = ChainLink.objects.get(chain=world.tea, name="种植")
    with pytest.raises(DomainError) as caught:
        services.participation_add(
            actor=admin, idempotency_key=key(), chain=world.fungi, business=business, link=tea_link
        )
    assert caught.value.code == "bad_link"
    for field, value, code in (
        ("area_mu", "-1", "bad_area"),
        ("area_mu", "1.234", "bad_area"),
        ("output_value_yuan", "abc", "bad_output_value"),
        ("jobs", "2.5", "bad_jobs"),
        ("households_driven", "-3", "bad_households_driven"),
    ):
        with pytest.raises(DomainError) as caught:
            services.participation_add(
                actor=admin, idempotency_key=key(), chain=world.fungi, business=business, **{field: value}
            )
        assert caught.value.code == code
    made = services.participation_add(
        actor=admin,
        idempotency_key=key(),
        chain=world.fungi,
        business=business,
        area_mu="1,200.5",
        output_value_yuan="¥1,234.56",
        jobs="7",
        households_driven="",
    )
    assert (made.area_mu, made.output_value_fen, made.jobs, made.households_driven) == (
        Decimal("1200.50"),
        123456,
        7,
        0,
    )
    ended = services.participation_end(actor=admin, participation=made, left_on=dt.date(2026, 4, 1))
    again = services.participation_end(actor=admin, participation=made, left_on=dt.date(2026, 4, 1))
    assert ended.left_on == again.left_on == dt.date(2026, 4, 1)
    with pytest.raises(DomainError) as caught:
        services.participation_end(actor=admin, participation=made, left_on=dt.date(2026, 5, 1))
    assert (caught.value.code, caught.value.status) == ("already_ended", 409)
    resumed = services.participation_update(
        actor=admin,
        participation=made,
        link=None,
        area_mu="2",
        output_value_yuan="0",
        jobs=1,
        households_driven=1,
        joined_on=dt.date(2026, 1, 1),
        left_on=None,
    )
    assert (resumed.left_on, resumed.area_mu) == (None, Decimal("2.00"))
    with pytest.raises(DomainError) as caught:
        services.participation_update(
            actor=admin,
            participation=made,
            link=None,
            area_mu="2",
            output_value_yuan="0",
            jobs=1,
            households_driven=1,
            joined_on=dt.date(2026, 1, 1),
            left_on=dt.date(2025, 1, 1),
        )
    assert caught.value.code == "bad_period"


def test_links_add_move_rename_remove(world):
    admin = world.admin
    township = User.objects.get(username="township_admin")
    with pytest.raises(DomainError) as caught:
        services.link_add(
            actor=township, idempotency_key=key(), chain=world.fungi, kind="processing", name="烘干"
        )
    assert caught.value.status == 403
    dry = services.link_add(
        actor=admin, idempotency_key="lk", chain=world.fungi, kind="processing", name="烘干"
    )
    assert (
        services.link_add(
            actor=admin, idempotency_key="lk", chain=world.fungi, kind="processing", name="烘干"
        ).pk
        == dry.pk
    )
    assert [link.name for link in services.link_move(actor=admin, link=dry, up=True)] == [
        "种植",
        "烘干",
        "销售",
    ]
    assert [link.name for link in services.link_move(actor=admin, link=dry, up=True)] == [
        "烘干",
        "种植",
        "销售",
    ]
    assert [link.name for link in services.link_move(actor=admin, link=dry, up=True)] == [
        "烘干",
        "种植",
        "销售",
    ]
    with pytest.raises(DomainError) as caught:
        services.link_rename(actor=admin, link=dry, name="种植")
    assert caught.value.code == "link_duplicate"
    services.link_rename(actor=admin, link=dry, name="烘干分拣")
    services.link_remove(actor=admin, link=dry)
    assert list(world.fungi.links.order_by("sort_order").values_list("name", flat=True)) == ["种植", "销售"]
    used = ChainLink.objects.get(chain=world.fungi, name="种植")
    with pytest.raises(DomainError) as caught:
        services.link_remove(actor=admin, link=used)
    assert caught.value.code == "link_in_use"


def test_projects_and_employment(world):
    secretary = User.objects.get(username="village_secretary")
    household = world.households["X-002"]
    project = services.project_add(
        actor=secretary,
        idempotency_key="pk-1",
        household=household,
        kind=ProjectKind.BREEDING,
        title="养蜂 20 箱",
        started_on=dt.date(2026, 1, 1),
    )
    assert (
        services.project_add(
            actor=secretary,
            idempotency_key="pk-1",
            household=household,
            kind=ProjectKind.BREEDING,
            title="养蜂 20 箱",
            started_on=dt.date(2026, 1, 1),
        ).pk
        == project.pk
    )
    with pytest.raises(DomainError) as caught:
        services.project_end(actor=secretary, project=project, ended_on=dt.date(2025, 12, 31))
    assert caught.value.code == "bad_period"
    services.project_end(actor=secretary, project=project, ended_on=dt.date(2026, 2, 1))
    resident = world.residents["李四"]
    work = services.employment_add(
        actor=secretary,
        idempotency_key=key(),
        resident=resident,
        kind=EmploymentKind.MIGRANT,
        started_on=dt.date(2026, 1, 1),
    )
    assert services.employment_end(
        actor=secretary, employment=work, ended_on=dt.date(2026, 6, 1)
    ).ended_on == dt.date(2026, 6, 1)
    grid_leader = User.objects.get(username="grid_leader")
    with pytest.raises(NotFound):
        services.project_add(
            actor=grid_leader,
            idempotency_key=key(),
            household=household,
            kind=ProjectKind.BREEDING,
            title="越权",
            started_on=dt.date(2026, 1, 1),
        )
    with pytest.raises(DomainError) as caught:
        services.employment_add(
            actor=secretary,
            idempotency_key=key(),
            resident=resident,
            kind="nothing",
            started_on=dt.date(2026, 1, 1),
        )
    assert caught.value.code == "bad_kind"
    assert (
        AuditEvent.objects.filter(
            object_type__in=["industry.householdproject", "industry.employment"]
        ).count()
        == 6
    )

"""Enrolment: eligibility from the resident record on the start date, the tier must match, one open
enrolment per canteen with a clear message, ending, overlap, scope, exactly once; the residents search."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from canteens.models import Enrolment
from canteens.selectors import enrolments as selectors
from canteens.services import enrolments as services
from common.errors import Conflict, DomainError, NotFound
from governance.models import AuditAction, AuditEvent, ResidentStatus, ResidentTag, ResidentTagKind
from tests.canteens.factories import CanteenWorld, born, canteen_world, enrol_from, key
from tests.governance.regions_fixture import resident_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(demo_county) -> CanteenWorld:
    return canteen_world(demo_county)


def today() -> dt.date:
    return timezone.localdate()


def enrol(world: CanteenWorld, resident, tier_code: str, **kwargs) -> Enrolment:
    return services.enrolment_create(
        actor=kwargs.pop("actor", world.manager),
        idempotency_key=kwargs.pop("idempotency_key", key()),
        site=kwargs.pop("site", world.site),
        resident=resident,
        tier=world.tiers[tier_code],
        starts_on=kwargs.pop("starts_on", today()),
        **kwargs,
    )


def test_age_on_birthdays():
    assert services.age_on(dt.date(1950, 6, 15), dt.date(2020, 6, 14)) == 69
    assert services.age_on(dt.date(1950, 6, 15), dt.date(2020, 6, 15)) == 70
    assert services.age_on(dt.date(1952, 2, 29), dt.date(2022, 2, 28)) == 69
    assert services.age_on(dt.date(1952, 2, 29), dt.date(2022, 3, 1)) == 70


def test_world_enrolments(world):
    rows = {e.resident.name: (e.tier.code, e.starts_on, e.ends_on) for e in Enrolment.objects.all()}
    assert rows == {
        "吴桂兰": ("age-70-79", enrol_from(), None),
        "吴德厚": ("age-80-89", enrol_from(), None),
        "吴秀芝": ("low-income", enrol_from(), None),
    }
    year = enrol_from().year
    bases = {e.resident.name: e.basis for e in Enrolment.objects.all()}
    assert bases == {
        "吴桂兰": f"{year - born(72).year} 岁",
        "吴德厚": f"{year - born(85).year} 岁",
        "吴秀芝": "低保",
    }
    assert all(len(e.card_code) == 18 and e.card_code.startswith("ST") for e in Enrolment.objects.all())


def test_tiers_eligible_from_the_record(world):
    e = world.elders
    assert [(t.code, b) for t, b in services.tiers_eligible(e["吴秀芝"], today())] == [
        ("age-60-69", "65 岁"),
        ("low-income", "低保"),
    ]
    assert [(t.code, b) for t, b in services.tiers_eligible(e["吴德厚"], today())] == [("age-80-89", "85 岁")]
    assert services.tiers_eligible(e["吴建军"], today()) == []


def test_age_tier_mismatch_is_refused_with_the_age_on_the_start_date(world):
    young = world.elders["吴建军"]
    with pytest.raises(DomainError) as raised:
        enrol(world, young, "age-60-69", starts_on=dt.date(today().year, 3, 1))
    assert raised.value.code == "tier_mismatch"
    assert raised.value.field == "tier"
    assert raised.value.message == f"吴建军在{today().year}年3月1日为 55 岁，不符合“60–69 岁”档次。"
    assert Enrolment.objects.filter(resident=young).count() == 0


def test_status_tier_needs_the_tag(world):
    with pytest.raises(DomainError) as raised:
        enrol(world, world.elders["吴建军"], "disability")
    assert raised.value.message == "吴建军没有“残疾”身份，不符合“残疾”档次。"
    ResidentTag.objects.create(resident=world.elders["吴建军"], tag=ResidentTagKind.DISABILITY)
    enrolment = enrol(world, world.elders["吴建军"], "disability")
    assert (enrolment.tier.code, enrolment.basis) == ("disability", "残疾")


def test_second_open_enrolment_is_refused_with_a_clear_message(world):
    with pytest.raises(Conflict) as raised:
        enrol(world, world.elders["吴桂兰"], "age-70-79")
    assert raised.value.code == "already_enrolled"
    assert raised.value.message == "吴桂兰已在本食堂登记就餐，请先结束原登记。"
    assert Enrolment.objects.filter(resident=world.elders["吴桂兰"]).count() == 1


def test_end_then_enrol_again_without_overlap(world):
    enrolment = world.enrolments["吴桂兰"]
    ended = services.enrolment_end(
        actor=world.manager, enrolment=enrolment, ends_on=today(), reason="外出居住"
    )
    assert (ended.ends_on, ended.end_reason) == (today(), "外出居住")
    with pytest.raises(Conflict) as raised:
        services.enrolment_end(actor=world.manager, enrolment=enrolment, ends_on=today(), reason="再次")
    assert raised.value.code == "enrolment_ended"
    with pytest.raises(Conflict) as raised:
        enrol(world, world.elders["吴桂兰"], "age-70-79", starts_on=today())
    assert raised.value.code == "enrolment_overlap"
    again = enrol(world, world.elders["吴桂兰"], "age-70-79", starts_on=today() + dt.timedelta(days=1))
    assert again.card_code != enrolment.card_code
    assert Enrolment.objects.filter(resident=world.elders["吴桂兰"], ends_on__isnull=True).get() == again


def test_end_refusals(world):
    enrolment = world.enrolments["吴德厚"]
    with pytest.raises(DomainError) as raised:
        services.enrolment_end(actor=world.manager, enrolment=enrolment, ends_on=today(), reason=" ")
    assert raised.value.code == "end_reason_required"
    with pytest.raises(DomainError) as raised:
        services.enrolment_end(
            actor=world.manager, enrolment=enrolment, ends_on=enrol_from() - dt.timedelta(days=1), reason="x"
        )
    assert raised.value.code == "enrolment_dates"
    with pytest.raises(NotFound):
        services.enrolment_end(
            actor=world.users["township_admin"], enrolment=enrolment, ends_on=today(), reason="x"
        )
    enrolment.refresh_from_db()
    assert enrolment.ends_on is None


def test_scope_and_register_checks(world):
    # A resident of another township (新华村 in 城关镇) cannot be enrolled at 民营社区's canteen.
    with pytest.raises(NotFound):
        enrol(world, world.people.residents["李德明"], "age-70-79")
    # Someone who cannot run the canteen gets 404.
    with pytest.raises(NotFound):
        enrol(world, world.people.residents["孙大爷"], "age-70-79", actor=world.users["minying_secretary"])
    # A granted cook can.
    sun = enrol(world, world.people.residents["孙大爷"], "age-80-89", actor=world.users["cook"])
    assert sun.site_id == world.site.pk
    # A resident who moved out is refused.
    gone = resident_make(
        world.people.households["孙家"], "孙老三", birth=born(75), status=ResidentStatus.MOVED_OUT
    )
    with pytest.raises(DomainError) as raised:
        enrol(world, gone, "age-70-79")
    assert raised.value.message == "孙老三的户籍状态为“迁出”，不能登记。"
    # Only a canteen enrols.
    with pytest.raises(DomainError) as raised:
        enrol(world, world.people.residents["孙奶奶"], "age-70-79", site=world.classroom)
    assert raised.value.code == "not_canteen"


def test_enrolment_is_exactly_once(world):
    k = key()
    first = enrol(world, world.people.residents["孙奶奶"], "age-70-79", idempotency_key=k)
    again = enrol(world, world.people.residents["孙奶奶"], "age-70-79", idempotency_key=k)
    assert again.pk == first.pk
    assert (
        AuditEvent.objects.filter(
            object_type="canteens.enrolment", object_id=str(first.pk), action=AuditAction.CREATE
        ).count()
        == 1
    )
    with pytest.raises(Conflict) as raised:
        enrol(world, world.people.residents["孙大爷"], "age-70-79", idempotency_key=k)
    assert raised.value.code == "idempotency_key_reused"


def test_residents_search_by_name_and_id_tail(world):
    found = selectors.residents_search(world.site, "吴", today())
    assert [(c.resident.name, c.age) for c in found] == [
        ("吴德厚", 85),
        ("吴桂兰", 72),
        ("吴秀芝", 65),
        ("吴建军", 55),
    ]
    assert found[0].enrolment == world.enrolments["吴德厚"]
    assert found[3].enrolment is None
    assert found[3].tiers == []
    tail = world.elders["吴建军"].id_number_masked[-4:]
    by_tail = selectors.residents_search(world.site, tail, today())
    assert world.elders["吴建军"] in [c.resident for c in by_tail]
    # Residents of another township are not found.
    assert selectors.residents_search(world.site, "李德明", today()) == []


def test_enrolments_list_filters(world):
    names = [e.resident.name for e in selectors.enrolments_list(world.site)]
    assert names == sorted(["吴桂兰", "吴德厚", "吴秀芝"])
    low = selectors.enrolments_list(world.site, tier_id=world.tiers["low-income"].pk)
    assert [e.resident.name for e in low] == ["吴秀芝"]
    services.enrolment_end(
        actor=world.manager, enrolment=world.enrolments["吴德厚"], ends_on=today(), reason="去世"
    )
    assert [e.resident.name for e in selectors.enrolments_list(world.site, status="ended")] == ["吴德厚"]
    assert len(selectors.enrolments_list(world.site, status="")) == 3
    assert [e.resident.name for e in selectors.enrolments_list(world.site, q="桂")] == ["吴桂兰"]

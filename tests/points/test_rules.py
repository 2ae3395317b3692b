"""The rules catalog: the default install, local additions that apply under their region only,
deactivate (never delete one in use), refusals, and the township policy."""

from __future__ import annotations

import pytest

from common.errors import Conflict, DomainError, NotFound
from points.defaults import DEFAULT_RULES, points_defaults_install
from points.models import Rule, RuleCategory, TownshipPolicy
from points.selectors.rules import rules_applicable
from points.services import policy as policy_services
from points.services import rules as services
from tests.points.award_factories import award_make, awards_world_make


@pytest.fixture
def world(demo_county):
    return awards_world_make(demo_county)


def test_defaults_install_is_idempotent_and_covers_every_category(world):
    county = world.regions["谷城县"]
    assert Rule.objects.filter(region=county).count() == len(DEFAULT_RULES) == 26
    assert points_defaults_install() == 0
    categories = set(Rule.objects.filter(region=county).values_list("category", flat=True))
    assert categories == set(RuleCategory.values) - {RuleCategory.OTHER}
    assert Rule.objects.filter(region=county, points__lt=0).count() == 4
    assert Rule.objects.get(region=county, code="HJ-01").is_evidence_required is True


def test_local_addition_applies_under_its_region_only(world):
    rule = services.rule_create(
        actor=world.users["village_secretary"],
        region=world.regions["新华村"],
        code="xh-01",
        name="参加新华村义务植树",
        category=RuleCategory.VOLUNTEERING,
        points=3,
        cap_count=1,
        cap_period="year",
    )
    assert rule.code == "XH-01"
    assert rule in rules_applicable(world.regions["第一网格"].path)
    assert rule not in rules_applicable(world.regions["东街第一网格"].path)
    assert rules_applicable(world.regions["第一网格"].path).count() == 27


def test_rule_create_refusals(world):
    secretary = world.users["village_secretary"]
    with pytest.raises(NotFound):
        services.rule_create(
            actor=secretary,
            region=world.regions["东街社区"],
            code="X-1",
            name="x",
            category="environment",
            points=1,
        )
    with pytest.raises(NotFound):
        services.rule_create(
            actor=world.users["grid_leader"],
            region=world.regions["第一网格"],
            code="X-1",
            name="x",
            category="environment",
            points=1,
        )
    cases = [
        (dict(code="HJ-01"), "rule_code_taken", "code", "条目编号 HJ-01 已被使用。"),
        (dict(code="坏编号"), "rule_code_format", "code", "条目编号由字母、数字和连字符组成，最长 20 位。"),
        (dict(name=" "), "rule_name_required", "name", "请填写条目名称。"),
        (dict(points=0), "rule_points", "points", "分值须为 -100 到 100 之间的非零整数（负数为扣分项）。"),
        (dict(points=101), "rule_points", "points", "分值须为 -100 到 100 之间的非零整数（负数为扣分项）。"),
        (
            dict(cap_count=0),
            "rule_cap_count",
            "cap_count",
            "次数上限须在 1 到 31 之间，或留空（每周期 1 次）。",
        ),
        (dict(category="nope"), "rule_category", "category", "请选择类别。"),
        (dict(cap_period="week"), "rule_cap_period", "cap_period", "请选择上限周期。"),
    ]
    for changes, code, field_name, message in cases:
        kwargs = dict(
            actor=secretary,
            region=world.regions["新华村"],
            code="XH-09",
            name="好人好事",
            category="volunteering",
            points=2,
        )
        kwargs.update(changes)
        with pytest.raises(DomainError) as caught:
            services.rule_create(**kwargs)
        assert (caught.value.code, caught.value.field, str(caught.value.message)) == (
            code,
            field_name,
            message,
        )
    assert not Rule.objects.filter(region=world.regions["新华村"]).exists()


def test_deactivate_never_delete_in_use(world):
    rule = world.rule("HJ-02")
    award_make(world, "王家", "HJ-02")
    admin = world.users["county_admin"]
    with pytest.raises(Conflict) as caught:
        services.rule_delete(actor=admin, rule=rule)
    assert str(caught.value.message) == "该条目已有申报记录，不能删除，请改为停用。"
    services.rule_set_active(actor=admin, rule=rule, active=False)
    assert rule not in rules_applicable(world.regions["第一网格"].path)
    with pytest.raises(NotFound):
        services.rule_set_active(actor=world.users["village_secretary"], rule=rule, active=True)
    unused = world.rule("PX-03")
    services.rule_delete(actor=admin, rule=unused)
    assert not Rule.objects.filter(pk=unused.pk).exists()


def test_update_keeps_history_points(world):
    award = award_make(world, "王家", "HJ-02")
    rule = services.rule_update(
        actor=world.users["county_admin"],
        rule=world.rule("HJ-02"),
        name="垃圾分类投放到位",
        category="environment",
        points=4,
        is_evidence_required=False,
        cap_count=2,
        cap_period="month",
    )
    award.refresh_from_db()
    assert (rule.points, award.points) == (4, 2)


def test_policy_defaults_and_update(world):
    township = world.regions["城关镇"]
    assert policy_services.policy_for(township).notice_days == 7
    assert policy_services.policy_for(township).pk is None
    policy = policy_services.policy_update(
        actor=world.users["township_admin"],
        township=township,
        min_balance_to_redeem=20,
        notice_days=5,
        expiry_mode="annual",
    )
    assert TownshipPolicy.objects.get(township=township).notice_days == 5
    assert policy.min_balance_to_redeem == 20
    with pytest.raises(DomainError) as caught:
        policy_services.policy_update(
            actor=world.users["township_admin"],
            township=township,
            min_balance_to_redeem=0,
            notice_days=31,
            expiry_mode="none",
        )
    assert (caught.value.field, str(caught.value.message)) == ("notice_days", "公示天数须在 1 到 30 天之间。")
    with pytest.raises(NotFound):
        policy_services.policy_update(
            actor=world.users["shihua_admin"],
            township=township,
            min_balance_to_redeem=0,
            notice_days=7,
            expiry_mode="none",
        )

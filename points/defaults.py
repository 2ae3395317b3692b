"""The county's default 百分奖 catalog (积分细则), installed once by `points_defaults_install()`.

Modelled on the Gucheng practice (shared/gucheng.md): small awards for everyday conduct, larger ones for
evaluations, and a few deductions for conduct the village rules (村规民约) name. Points are per household.
A township or village adds its own items on the rules page; these are the county's.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from governance.models import Region, RegionLevel
from points.models import CapPeriod, Rule, RuleCategory


@dataclass(frozen=True)
class DefaultRule:
    code: str
    category: str
    name: str
    points: int
    cap_count: int | None
    cap_period: str
    is_evidence_required: bool
    description: str = ""


M, Q, Y = CapPeriod.MONTH, CapPeriod.QUARTER, CapPeriod.YEAR
ENV, FIL, VOL, LAW, CUS, EVA = (
    RuleCategory.ENVIRONMENT,
    RuleCategory.FILIAL_PIETY,
    RuleCategory.VOLUNTEERING,
    RuleCategory.LAW_ABIDING,
    RuleCategory.CIVILISED_CUSTOMS,
    RuleCategory.EVALUATIONS,
)

DEFAULT_RULES: tuple[DefaultRule, ...] = (
    # 环境卫生
    DefaultRule(
        "HJ-01", ENV, "庭院整洁、房前屋后无垃圾杂物", 2, 1, M, True, "网格长每月入户查看，拍照留存。"
    ),
    DefaultRule("HJ-02", ENV, "垃圾分类投放到位", 2, 1, M, False),
    DefaultRule("HJ-03", ENV, "参加村组环境卫生集中整治", 3, 2, M, True),
    DefaultRule("HJ-04", ENV, "获评季度“美丽庭院”", 10, 1, Q, True),
    DefaultRule("HJ-05", ENV, "乱堆乱放、乱倒垃圾经劝导不改", -5, 2, M, True, "须附现场照片。"),
    # 孝老爱亲
    DefaultRule("XL-01", FIL, "赡养老人、照料生活起居到位", 3, 1, M, False),
    DefaultRule("XL-02", FIL, "邻里互助，帮扶留守老人、留守儿童", 3, 2, M, False),
    DefaultRule("XL-03", FIL, "家庭和睦，获评“五好家庭”", 10, 1, Y, False),
    DefaultRule("XL-04", FIL, "不赡养老人、虐待家庭成员经查实", -10, 1, M, False),
    # 志愿服务
    DefaultRule("ZY-01", VOL, "参加志愿服务活动（每次）", 2, 4, M, True),
    DefaultRule("ZY-02", VOL, "参加防汛、抗旱、森林防火等应急值守", 5, 2, M, True),
    DefaultRule("ZY-03", VOL, "在爱心食堂帮厨、送餐", 2, 4, M, False),
    DefaultRule("ZY-04", VOL, "担任楼栋长、中心户长，协助网格工作", 3, 1, M, False),
    DefaultRule("ZY-05", VOL, "无偿献血", 5, 1, Y, True),
    # 遵纪守法
    DefaultRule("ZF-01", LAW, "全年无违法违纪、无越级上访", 5, 1, Y, False),
    DefaultRule("ZF-02", LAW, "主动调解邻里矛盾纠纷", 3, 2, M, False),
    DefaultRule("ZF-03", LAW, "按时缴纳医保、养老保险", 2, 1, Y, False),
    DefaultRule("ZF-04", LAW, "参与禁毒、反诈等平安宣传", 2, 1, M, False),
    DefaultRule("ZF-05", LAW, "违反村规民约经劝导不改", -5, 2, M, False),
    # 移风易俗
    DefaultRule("YF-01", CUS, "红白喜事简办、不大操大办", 5, 1, Q, False),
    DefaultRule("YF-02", CUS, "不燃放烟花爆竹、文明祭祀", 2, 1, Q, False),
    DefaultRule("YF-03", CUS, "参加道德讲堂、新时代文明实践活动", 2, 2, M, True),
    DefaultRule("YF-04", CUS, "参与赌博、封建迷信活动经查实", -10, 1, M, False),
    # 参与评选
    DefaultRule("PX-01", EVA, "获评村级“最美村民”", 10, 1, Y, False),
    DefaultRule("PX-02", EVA, "获评镇级以上先进典型", 20, 1, Y, False),
    DefaultRule("PX-03", EVA, "参加“十星级文明户”评选并达标", 5, 1, Y, False),
)


def points_defaults_install() -> int:
    """Create the county's default catalog at every county region that lacks it; returns how many items
    were created. Idempotent: an item whose code exists at the county is left as it is (a county may
    have changed it)."""
    created = 0
    with transaction.atomic():
        for county in Region.objects.filter(level=RegionLevel.COUNTY).order_by("pk"):
            for item in DEFAULT_RULES:
                _rule, made = Rule.objects.get_or_create(
                    region=county,
                    code=item.code,
                    defaults={
                        "name": item.name,
                        "category": item.category,
                        "points": item.points,
                        "cap_count": item.cap_count,
                        "cap_period": item.cap_period,
                        "is_evidence_required": item.is_evidence_required,
                        "description": item.description,
                    },
                )
                created += int(made)
    return created

"""The configuration a new county starts from: the five duties of a grid leader and the sub-categories a
county would use, time limits, the acknowledgement and reply templates, and the 2026 public holidays and
make-up working days (国务院办公厅关于2026年部分节假日安排的通知, 国办发明电〔2025〕7号, 4 Nov 2025).

grids_defaults_install() only adds what is missing (matched by category code, (category, urgency),
(transition, general template) and date): it never changes, deletes or reactivates a row the county has
edited, so running it again — every seed_demo and every test does — is harmless.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from grids.models import CalendarDay, CaseCategory, CaseTimeLimit, Duty, ResponseTemplate, Urgency

# (duty, top code, [(code, name, is_mediable)]) — the five duties and their sub-categories.
CATEGORIES: tuple[tuple[Duty, str, tuple[tuple[str, str, bool], ...]], ...] = (
    (
        Duty.POLICY_OUTREACH,
        "policy",
        (
            ("policy-consulting", "政策咨询", False),
            ("policy-farm-subsidy", "惠农补贴政策", False),
            ("policy-insurance", "医保社保政策", False),
            ("policy-revitalisation", "乡村振兴政策宣讲", False),
            ("policy-law", "法治宣传", False),
            ("policy-customs", "移风易俗", False),
        ),
    ),
    (
        Duty.DISPUTE_MEDIATION,
        "dispute",
        (
            ("dispute-neighbour", "邻里纠纷", True),
            ("dispute-land-forest", "土地山林纠纷", True),
            ("dispute-homestead", "宅基地边界纠纷", True),
            ("dispute-family", "婚姻家庭纠纷", True),
            ("dispute-support", "赡养抚养纠纷", True),
            ("dispute-wages", "劳资纠纷", True),
            ("dispute-debt", "合同债务纠纷", True),
        ),
    ),
    (
        Duty.PUBLIC_SENTIMENT,
        "sentiment",
        (
            ("sentiment-suggestion", "群众意见建议", False),
            ("sentiment-hazard", "安全隐患", False),
            ("sentiment-dispute-risk", "矛盾风险苗头", False),
            ("sentiment-opinion", "舆情信息", False),
            ("sentiment-key-people", "重点人群动态", False),
        ),
    ),
    (
        Duty.GOVERNANCE_COORDINATION,
        "coordination",
        (
            ("coordination-road", "道路损坏", False),
            ("coordination-environment", "人居环境整治", False),
            ("coordination-building", "违规建房", False),
            ("coordination-waterway", "河道沟渠", False),
            ("coordination-fire", "森林防火", False),
            ("coordination-facilities", "公共设施维护", False),
            ("coordination-security", "治安巡防", False),
        ),
    ),
    (
        Duty.LIVELIHOOD_SERVICE,
        "livelihood",
        (
            ("livelihood-traffic", "道路交通", False),
            ("livelihood-water-power", "饮水供电", False),
            ("livelihood-health-care", "医疗养老", False),
            ("livelihood-assistance", "低保救助", False),
            ("livelihood-jobs", "就业创业", False),
            ("livelihood-school", "教育入学", False),
            ("livelihood-paperwork", "证照代办", False),
            ("livelihood-left-behind", "留守老人儿童关爱", False),
        ),
    ),
)

# (sign_days, resolve_days) in working days per urgency: normal, urgent, critical. Set on the duties;
# sub-categories inherit them unless listed in SUB_CATEGORY_LIMITS.
DUTY_LIMITS: dict[str, dict[str, tuple[int, int]]] = {
    "policy": {Urgency.NORMAL: (1, 5), Urgency.URGENT: (1, 3), Urgency.CRITICAL: (1, 1)},
    # Mediation needs the parties together; the People's Mediation Law allows 30 days, the county 15.
    "dispute": {Urgency.NORMAL: (1, 15), Urgency.URGENT: (1, 5), Urgency.CRITICAL: (1, 1)},
    "sentiment": {Urgency.NORMAL: (1, 5), Urgency.URGENT: (1, 2), Urgency.CRITICAL: (1, 1)},
    "coordination": {Urgency.NORMAL: (1, 10), Urgency.URGENT: (1, 5), Urgency.CRITICAL: (1, 2)},
    "livelihood": {Urgency.NORMAL: (1, 10), Urgency.URGENT: (1, 3), Urgency.CRITICAL: (1, 1)},
}
SUB_CATEGORY_LIMITS: dict[str, dict[str, tuple[int, int]]] = {
    # Land and forest boundaries need surveys and the township's confirmation.
    "dispute-land-forest": {Urgency.NORMAL: (1, 30), Urgency.URGENT: (1, 10), Urgency.CRITICAL: (1, 2)},
    # No water or power is urgent whatever the filer chose.
    "livelihood-water-power": {Urgency.NORMAL: (1, 5), Urgency.URGENT: (1, 2), Urgency.CRITICAL: (1, 1)},
    # Subsistence allowance goes through the village's review and public notice.
    "livelihood-assistance": {Urgency.NORMAL: (1, 20), Urgency.URGENT: (1, 5), Urgency.CRITICAL: (1, 2)},
    "sentiment-hazard": {Urgency.NORMAL: (1, 3), Urgency.URGENT: (1, 1), Urgency.CRITICAL: (1, 1)},
}

# (transition, text, is_sent_to_resident): the general templates. "file" is the acknowledgement.
TEMPLATES: tuple[tuple[str, str, bool], ...] = (
    ("file", "您反映的问题已登记，编号{number}（{category}）。我们将尽快受理办理，请留意后续短信。", True),
    ("accept", "您反映的问题（编号{number}）已受理，我们将尽快安排办理。", True),
    ("assign", "您反映的问题（编号{number}）已交由{unit}办理，预计{deadline}前办结。", True),
    ("sign_for", "已签收，将按时限办理并及时反馈。", False),
    ("return", "经核实，该问题不属于本单位职责范围，请重新派单。", False),
    ("start", "已安排人员到现场核实处置。", False),
    ("resolve", "您反映的问题（编号{number}）已办结，近期将有工作人员回访，感谢您的支持。", True),
    ("follow_up", "经电话回访，群众对办理结果表示满意。", False),
    ("archive", "问题已办结并回访，予以归档。", False),
    ("escalate", "本级协调解决确有困难，提请上级协调办理。", False),
    ("send_down", "请属地按职责办理，并在时限内反馈结果。", False),
    ("mark_duplicate", "您反映的问题（编号{number}）已有其他群众反映，我们将合并办理并告知结果。", True),
    ("not_responsible", "您反映的问题（编号{number}）不属于本级职责范围，已告知您可向相关部门反映。", True),
    ("withdraw", "群众表示问题已自行解决，申请撤回。", False),
)

# 2026 (国办发明电〔2025〕7号): every day of each break is listed (weekend days too, so the year view shows
# the whole break), and the make-up working days on weekends.
HOLIDAYS_2026: tuple[tuple[str, dt.date, dt.date], ...] = (
    ("元旦", dt.date(2026, 1, 1), dt.date(2026, 1, 3)),
    ("春节", dt.date(2026, 2, 15), dt.date(2026, 2, 23)),
    ("清明节", dt.date(2026, 4, 4), dt.date(2026, 4, 6)),
    ("劳动节", dt.date(2026, 5, 1), dt.date(2026, 5, 5)),
    ("端午节", dt.date(2026, 6, 19), dt.date(2026, 6, 21)),
    ("中秋节", dt.date(2026, 9, 25), dt.date(2026, 9, 27)),
    ("国庆节", dt.date(2026, 10, 1), dt.date(2026, 10, 7)),
)
MAKEUP_DAYS_2026: tuple[tuple[str, dt.date], ...] = (
    ("元旦调休上班", dt.date(2026, 1, 4)),
    ("春节调休上班", dt.date(2026, 2, 14)),
    ("春节调休上班", dt.date(2026, 2, 28)),
    ("劳动节调休上班", dt.date(2026, 5, 9)),
    ("国庆节调休上班", dt.date(2026, 9, 20)),
    ("国庆节调休上班", dt.date(2026, 10, 10)),
)


def calendar_2026() -> list[tuple[dt.date, bool, str]]:
    """(date, is_workday, name) for every 2026 calendar row."""
    rows: list[tuple[dt.date, bool, str]] = []
    for name, first, last in HOLIDAYS_2026:
        day = first
        while day <= last:
            rows.append((day, False, name))
            day += dt.timedelta(days=1)
    rows.extend((day, True, name) for name, day in MAKEUP_DAYS_2026)
    return sorted(rows)


def grids_defaults_install() -> None:
    """Adds the default categories, time limits, templates and 2026 calendar rows that are missing;
    leaves every existing row as it is. Idempotent, one transaction."""
    with transaction.atomic():
        by_code = {row.code: row for row in CaseCategory.objects.all()}
        for top_order, (duty, top_code, subs) in enumerate(CATEGORIES, start=1):
            top = by_code.get(top_code)
            if top is None:
                top = CaseCategory.objects.filter(parent=None, duty=duty).order_by("pk").first()
            if top is None:
                top = CaseCategory.objects.create(
                    parent=None,
                    duty=duty,
                    code=top_code,
                    name=str(duty.label),
                    # A new dispute sub-category inherits this (grids.services.config.category_create).
                    is_mediable=duty == Duty.DISPUTE_MEDIATION,
                    sort_order=top_order,
                )
            _limits_install(top, DUTY_LIMITS[top_code])
            for order, (code, name, mediable) in enumerate(subs, start=1):
                sub = by_code.get(code)
                if sub is None:
                    sub = CaseCategory.objects.filter(parent=top, name=name).first()
                if sub is None:
                    sub = CaseCategory.objects.create(
                        parent=top, duty=duty, code=code, name=name, is_mediable=mediable, sort_order=order
                    )
                if code in SUB_CATEGORY_LIMITS:
                    _limits_install(sub, SUB_CATEGORY_LIMITS[code])
        general = set(
            ResponseTemplate.objects.filter(category__isnull=True).values_list("transition", flat=True)
        )
        ResponseTemplate.objects.bulk_create(
            ResponseTemplate(transition=transition, text=text, is_sent_to_resident=to_resident)
            for transition, text, to_resident in TEMPLATES
            if transition not in general
        )
        existing_days = set(CalendarDay.objects.filter(date__year=2026).values_list("date", flat=True))
        CalendarDay.objects.bulk_create(
            CalendarDay(date=day, is_workday=is_workday, name=name)
            for day, is_workday, name in calendar_2026()
            if day not in existing_days
        )


def _limits_install(category: CaseCategory, limits: dict[str, tuple[int, int]]) -> None:
    have = set(CaseTimeLimit.objects.filter(category=category).values_list("urgency", flat=True))
    CaseTimeLimit.objects.bulk_create(
        CaseTimeLimit(category=category, urgency=urgency, sign_days=sign, resolve_days=resolve)
        for urgency, (sign, resolve) in limits.items()
        if urgency not in have
    )

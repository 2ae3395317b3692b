"""The county's default subsidy tiers (补贴档次), ensured (not migrated) by tiers_ensure(): the demo and the
tests call it; the county admin then edits them on the tiers page.

    code          name        condition
    age-60-69     60–69 岁    age 60–69 on the day
    age-70-79     70–79 岁    age 70–79
    age-80-89     80–89 岁    age 80–89
    age-90        90 岁以上   age 90+
    low-income    低保        tagged 低保 (any age)
    disability    残疾        tagged 残疾 (any age)
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from canteens.models import SubsidyTier
from governance.models import ResidentTagKind


@dataclass(frozen=True)
class TierDefault:
    code: str
    name: str
    min_age: int | None
    max_age: int | None
    tag: str
    sort_order: int


TIERS: tuple[TierDefault, ...] = (
    TierDefault("age-60-69", "60–69 岁", 60, 69, "", 10),
    TierDefault("age-70-79", "70–79 岁", 70, 79, "", 20),
    TierDefault("age-80-89", "80–89 岁", 80, 89, "", 30),
    TierDefault("age-90", "90 岁以上", 90, None, "", 40),
    TierDefault("low-income", "低保", None, None, ResidentTagKind.LOW_INCOME, 50),
    TierDefault("disability", "残疾", None, None, ResidentTagKind.DISABILITY, 60),
)


def tiers_ensure() -> dict[str, SubsidyTier]:
    """Create the default tiers that do not exist yet (by code; an existing tier, edited or not, is left
    alone) and return every default tier by code. Idempotent."""
    tiers: dict[str, SubsidyTier] = {}
    with transaction.atomic():
        for default in TIERS:
            tier, _created = SubsidyTier.objects.get_or_create(
                code=default.code,
                defaults={
                    "name": default.name,
                    "min_age": default.min_age,
                    "max_age": default.max_age,
                    "tag": default.tag,
                    "sort_order": default.sort_order,
                },
            )
            tiers[default.code] = tier
    return tiers

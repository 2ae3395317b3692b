"""The demo county: Gucheng's region skeleton and the five demo log-ins.

Idempotent: running it again finds what is there and adds what is missing. Later issues extend the
county (all villages and grids, households, points, canteens, industry) from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from governance.models import Region, RegionKind, User
from governance.roles import Role
from governance.services import regions as region_services
from governance.services import roles as role_services

COUNTY = ("谷城县", "420625000000")
# Real township names of Gucheng; the codes follow the 4206251xx000 / 4206252xx000 pattern of design.md.
TOWNSHIPS: list[tuple[str, RegionKind, str]] = [
    ("城关镇", RegionKind.TOWN, "420625100000"),
    ("石花镇", RegionKind.TOWN, "420625101000"),
    ("盛康镇", RegionKind.TOWN, "420625102000"),
    ("庙滩镇", RegionKind.TOWN, "420625103000"),
    ("五山镇", RegionKind.TOWN, "420625104000"),
    ("茨河镇", RegionKind.TOWN, "420625105000"),
    ("南河镇", RegionKind.TOWN, "420625106000"),
    ("紫金镇", RegionKind.TOWN, "420625107000"),
    ("冷集镇", RegionKind.TOWN, "420625108000"),
    ("赵湾乡", RegionKind.XIANG, "420625200000"),
]
# (township, village, kind, code). 花圃村, 堰河村 and 民营社区 are real; 新华村 is made up.
VILLAGES: list[tuple[str, str, RegionKind, str]] = [
    ("城关镇", "新华村", RegionKind.VILLAGE, "420625100201"),
    ("紫金镇", "花圃村", RegionKind.VILLAGE, "420625107203"),
    ("五山镇", "堰河村", RegionKind.VILLAGE, "420625104210"),
    ("石花镇", "民营社区", RegionKind.COMMUNITY, "420625101002"),
]
GRIDS: list[tuple[str, str, str]] = [("新华村", "第一网格", "420625100201001")]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    full_name: str
    role: Role
    region_name: str
    what: str


DEMO_LOGINS: tuple[DemoLogin, ...] = (
    DemoLogin("county_admin", "李华", Role.COUNTY_ADMIN, "谷城县", "县委组织部：全县数据、配置与看板"),
    DemoLogin("township_admin", "陈静", Role.TOWNSHIP_ADMIN, "城关镇", "城关镇：审核积分、兑换日与库存"),
    DemoLogin(
        "village_secretary", "刘强", Role.VILLAGE_SECRETARY, "新华村", "新华村党支部书记：受理派单与审核"
    ),
    DemoLogin("grid_leader", "王秀英", Role.GRID_LEADER, "第一网格", "新华村第一网格网格长：手机上报民情"),
    DemoLogin("canteen_manager", "赵敏", Role.CANTEEN_MANAGER, "民营社区", "石花镇民营社区爱心食堂管理员"),
)


def _region(parent: Region | None, name: str, kind: RegionKind, code: str) -> Region:
    existing = Region.objects.filter(parent=parent, name=name).first()
    return existing or region_services.region_create(parent=parent, name=name, kind=kind, code=code)


@transaction.atomic
def seed_demo_county(*, password: str | None = None) -> dict[str, Region]:
    """Create (or complete) the demo county and its log-ins; return the regions by name."""
    password = password or settings.DEMO_PASSWORD
    regions: dict[str, Region] = {}
    county = _region(None, COUNTY[0], RegionKind.COUNTY, COUNTY[1])
    regions[county.name] = county
    for name, kind, code in TOWNSHIPS:
        regions[name] = _region(county, name, kind, code)
    for township, name, kind, code in VILLAGES:
        regions[name] = _region(regions[township], name, kind, code)
    for village, name, code in GRIDS:
        regions[name] = _region(regions[village], name, RegionKind.GRID, code)

    for login in DEMO_LOGINS:
        user = User.objects.filter(username=login.username).first()
        if user is None:
            user = role_services.user_create(
                username=login.username, password=password, full_name=login.full_name
            )
        else:
            # Re-seeding resets the demo password so DEMO_PASSWORD always works.
            user.set_password(password)
            user.full_name = login.full_name
            user.save(update_fields=["password", "full_name"])
        if login.role == Role.COUNTY_ADMIN:
            # The county organisation department configures schedules and rules in /admin/.
            User.objects.filter(pk=user.pk).update(is_staff=True, is_superuser=True)
        role_services.role_assign(user=user, role=login.role, region=regions[login.region_name])
    return regions

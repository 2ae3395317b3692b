"""The demo county's industry (issue 7): the six industry chains with their Party branches and the businesses
on them, households' projects and residents' work, four years of every village's collective income, the
堰河 joint community with its tea-tourism brand, the 12 featured towns, featured villages and development
types, and the 2022 "五谷情深·味在谷城" expos with their exhibitors, catalogue and sales — the figures of
gucheng.md §3, exactly:

- 6 chains (demo_data.INDUSTRY_CHAINS), each with the chain Party branch governance/demo made for it;
- 堰河茶旅联建共同体: 堰河村 and the seven villages of the joint Party committee, brand 茶旅文化, each year
  2022–2025 500,000+ visitor trips and exactly 200,000,000 yuan (20,000,000,000 fen) of tourism income over
  its twelve monthly TourismRecord rows;
- 12 featured-town designations over the 10 townships, all five development types;
- 10 expos in 2022, one per town, whose sales net to exactly 320,000,000 yuan (32,000,000,000 fen) with
  more than 1,000 distinct products sold — a few posted with a mistake, reversed and posted again, as
  the sales services would (the reversal negates exactly the record it names; the PostgreSQL trigger of
  industry 0002 checks every row of the load).

Like canteens/demo.py it writes in bulk through points.demo's _FastWriter (COPY on PostgreSQL, a prepared
INSERT elsewhere) with explicit primary keys, not through the services, and so keeps the models' rules
itself (CHECK and UNIQUE constraints, a household business names its household, an online sale names its
platform, a sale is dated within its event). Deterministic: one generator seeded per scale, fixed dates
(data.AS_OF), nothing from the wall clock but the rows' created_at of reference data. Idempotent: a county
that has a chain or an event already is left alone. Nothing at the skeleton scale.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.color import no_style
from django.db import connection, models
from django.utils.translation import gettext

from governance import demo_data as data
from governance.audit import audit_record
from governance.demo import _Ids, _largest_remainder
from governance.models import (
    AuditAction,
    Household,
    PartyOrganisation,
    PartyOrgKind,
    Region,
    RegionLevel,
    Resident,
    ResidentStatus,
    User,
)
from industry.models import (
    Business,
    BusinessKind,
    ChainLink,
    ChainParticipation,
    CollectiveIncome,
    CollectiveThreshold,
    DesignationKind,
    DevelopmentType,
    Employment,
    EmploymentKind,
    Event,
    EventKind,
    Exhibitor,
    HouseholdProject,
    IncomeSource,
    IndustryChain,
    JointCommunity,
    JointKind,
    JointMember,
    JointResult,
    LinkKind,
    Product,
    ProductCategory,
    ProjectKind,
    RegionDesignation,
    SalesChannel,
    SalesRecord,
    SalesSource,
    TourismRecord,
)
from industry.services.chains import credit_code_check_char
from industry.services.sales_rules import AMOUNT_MAX_FEN
from points.demo import _FastWriter, _utc_text

_ZONE = ZoneInfo(settings.TIME_ZONE)

BULK_MODELS: tuple[type[models.Model], ...] = (
    IndustryChain,
    ChainLink,
    Business,
    ChainParticipation,
    HouseholdProject,
    Employment,
    CollectiveIncome,
    CollectiveThreshold,
    JointCommunity,
    JointMember,
    JointResult,
    RegionDesignation,
    Event,
    Exhibitor,
    Product,
    SalesRecord,
    TourismRecord,
)

SERIES = "五谷情深·味在谷城"
EXPO_TOTAL_2022_FEN = 32_000_000_000  # 3.2亿元 (gucheng.md §3)
YANHE_INCOME_FEN = 20_000_000_000  # 2亿元 a year
YANHE_COMMUNITY = "堰河茶旅联建共同体"
YANHE_BRAND = "茶旅文化"
YANHE_VISITS = {2022: 512_600, 2023: 536_800, 2024: 558_300, 2025: 581_900}
TOURISM_YEARS = (2022, 2023, 2024, 2025)
INCOME_YEARS = (2022, 2023, 2024, 2025)
# One sale at most 5,000,000 yuan: half of what the sales rules accept (sales_rules.AMOUNT_MAX_FEN).
RECORD_CAP_FEN = AMOUNT_MAX_FEN // 2
WEAK_BELOW_FEN = 100_000 * 100  # 薄弱村: under 10万元 of collective income
STRONG_FROM_FEN = 500_000 * 100


@dataclass(frozen=True)
class _Plan:
    sales_2022: int  # sales records of the ten 2022 expos (corrections come on top)
    sales_later: int  # per later event
    products: int  # the 2022 catalogue, every one of them sold
    cooperatives: tuple[int, int]  # per village, inclusive
    family_farms: tuple[int, int]
    household_businesses: tuple[int, int]
    enterprises: int  # per township
    corrections: int
    featured_villages: int  # per township, besides the named ones


PLANS: dict[str, _Plan] = {
    "test": _Plan(2_400, 60, 1_060, (1, 1), (1, 1), (1, 1), 3, 3, 1),
    "default": _Plan(30_000, 900, 1_240, (0, 2), (0, 2), (1, 3), 6, 6, 2),
    "county": _Plan(40_000, 1_500, 1_400, (1, 3), (1, 4), (6, 14), 10, 8, 3),
}

# -- the chains ------------------------------------------------------------------------------------------

CHAIN_TEXT: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "茶叶": (
        "以五山镇堰河村、紫金镇为核心的高山茶产业带，种植、加工、品牌销售与茶旅融合一体发展。",
        ((LinkKind.PRODUCTION, "茶园种植"), (LinkKind.PROCESSING, "茶叶加工"),
         (LinkKind.SALES, "品牌营销"), (LinkKind.TOURISM, "茶旅融合")),
    ),
    "食用菌": (
        "香菇、木耳等食用菌从菌棒生产、出菇管理到烘干分级、精深加工，带动山区农户家门口增收。",
        ((LinkKind.PRODUCTION, "菌棒生产与出菇"), (LinkKind.PROCESSING, "烘干分级与精深加工"),
         (LinkKind.LOGISTICS, "冷链仓储"), (LinkKind.SALES, "市场与电商销售")),
    ),
    "油茶": (
        "南河、紫金、赵湾等山区低产油茶林改造与新造林，压榨加工山茶油，打造谷城山茶油品牌。",
        ((LinkKind.PRODUCTION, "油茶林种植"), (LinkKind.PROCESSING, "茶油压榨"),
         (LinkKind.SALES, "品牌销售")),
    ),
    "畜牧水产": (
        "稻虾共作、生态养殖与汉江鲟鱼等特色水产，养殖、屠宰加工、冷链配送全链条发展。",
        ((LinkKind.PRODUCTION, "生态养殖"), (LinkKind.PROCESSING, "屠宰与加工"),
         (LinkKind.LOGISTICS, "冷链配送"), (LinkKind.SALES, "市场销售"), (LinkKind.TOURISM, "垂钓休闲")),
    ),
    "黄桃": (
        "冷集镇万亩黄桃基地，鲜果销售与罐头加工并举，以黄桃节带动乡村旅游。",
        ((LinkKind.PRODUCTION, "黄桃种植"), (LinkKind.PROCESSING, "罐头加工"),
         (LinkKind.SALES, "鲜果销售"), (LinkKind.TOURISM, "采摘观光")),
    ),
    "中药材": (
        "赵湾、庙滩山区林下种植天麻、黄精、杜仲等中药材，初加工后订单销售。",
        ((LinkKind.PRODUCTION, "林下种植"), (LinkKind.PROCESSING, "初加工"),
         (LinkKind.SERVICE, "技术与订单服务"), (LinkKind.SALES, "订单销售")),
    ),
}  # fmt: skip

# The chains a township's businesses mostly work on (the first is its own).
TOWNSHIP_CHAINS: dict[str, tuple[str, ...]] = {
    "城关镇": ("茶叶", "畜牧水产", "食用菌"),
    "石花镇": ("食用菌", "畜牧水产"),
    "盛康镇": ("畜牧水产", "黄桃"),
    "庙滩镇": ("食用菌", "中药材"),
    "五山镇": ("茶叶", "油茶"),
    "茨河镇": ("畜牧水产", "黄桃"),
    "南河镇": ("油茶", "中药材"),
    "紫金镇": ("茶叶", "油茶"),
    "冷集镇": ("黄桃", "畜牧水产"),
    "赵湾乡": ("中药材", "油茶"),
}
CHAIN_PRODUCT_WORD = {
    "茶叶": "茶叶",
    "食用菌": "香菇",
    "油茶": "油茶",
    "畜牧水产": "生态养殖",
    "黄桃": "黄桃",
    "中药材": "中药材",
}
OTHER_COOP_WORDS = ("蔬菜", "粮油", "土鸡", "蜂业", "水果", "农机", "苗木")
ENTERPRISE_BRANDS = (
    "玉皇剑", "汉水", "薤山", "南河", "紫金", "冷集", "堰河", "筑阳", "粉水", "谷城", "荆山", "鄂西北",
    "银城", "茨河", "五山", "盛康", "庙滩", "石花", "赵湾", "沈垭", "承恩寺", "汉江", "襄谷", "山水",
    "绿源", "丰源",
)  # fmt: skip
ENTERPRISE_TRADES: dict[str, tuple[str, ...]] = {
    "茶叶": ("茶业有限公司", "生态茶业有限公司", "茶叶开发有限公司"),
    "食用菌": ("菌业有限公司", "食用菌开发有限公司", "食品有限公司"),
    "油茶": ("油茶开发有限公司", "油脂有限公司", "山茶油有限公司"),
    "畜牧水产": ("生态养殖有限公司", "水产开发有限公司", "农牧有限公司"),
    "黄桃": ("果业有限公司", "罐头食品有限公司", "农业开发有限公司"),
    "中药材": ("中药材开发有限公司", "生物科技有限公司", "药业有限公司"),
}
ENTERPRISE_OTHER_TRADES = ("农业发展有限公司", "电子商务有限公司", "旅游开发有限公司", "食品有限公司")

# -- the catalogue ---------------------------------------------------------------------------------------

# (base name, chain or "", unit, price range in yuan, specs)
_Base = tuple[str, str, str, tuple[int, int], tuple[str, ...]]
PRODUCT_BASES: dict[str, tuple[_Base, ...]] = {
    ProductCategory.TEA: (
        ("毛尖", "茶叶", "斤", (160, 680), ("特级", "一级", "二级", "明前", "雨前", "礼盒装")),
        ("玉皇剑", "茶叶", "盒", (120, 560), ("特级", "一级", "礼盒装", "250g")),
        ("绿茶", "茶叶", "斤", (80, 320), ("一级", "二级", "高山", "散装")),
        ("红茶", "茶叶", "斤", (120, 460), ("特级", "一级", "工夫", "礼盒装")),
        ("白茶", "茶叶", "饼", (150, 520), ("寿眉", "白牡丹", "357g")),
        ("雀舌", "茶叶", "斤", (260, 880), ("特级", "明前")),
        ("黄茶", "茶叶", "斤", (180, 420), ("一级", "礼盒装")),
    ),
    ProductCategory.FUNGI: (
        ("香菇", "食用菌", "斤", (18, 60), ("干", "鲜", "花菇", "精选", "礼盒装")),
        ("黑木耳", "食用菌", "斤", (40, 90), ("秋耳", "精选", "礼盒装")),
        ("香菇酱", "食用菌", "瓶", (15, 36), ("原味", "香辣", "牛肉")),
        ("羊肚菌", "食用菌", "两", (60, 150), ("干", "精选")),
        ("猴头菇", "食用菌", "斤", (50, 120), ("干", "鲜")),
        ("平菇", "食用菌", "斤", (5, 12), ("鲜",)),
        ("茶树菇", "食用菌", "斤", (30, 70), ("干", "精选")),
    ),
    ProductCategory.OIL_TEA: (
        ("山茶油", "油茶", "瓶", (80, 260), ("500ml", "1L", "礼盒装", "一级压榨")),
        ("茶籽油", "油茶", "桶", (200, 480), ("2.5L", "5L")),
        ("油茶籽", "油茶", "斤", (8, 16), ("精选",)),
    ),
    ProductCategory.LIVESTOCK_AQUATIC: (
        ("小龙虾", "畜牧水产", "斤", (18, 48), ("稻田", "大号", "中号", "清水")),
        ("鲟鱼", "畜牧水产", "斤", (40, 120), ("汉江", "鲜活", "冷鲜")),
        ("土鸡", "畜牧水产", "只", (90, 200), ("散养", "跑山")),
        ("土鸡蛋", "畜牧水产", "盒", (30, 68), ("30枚", "60枚")),
        ("黑猪肉", "畜牧水产", "斤", (28, 60), ("鲜", "精选")),
        ("腊肉", "畜牧水产", "斤", (40, 80), ("烟熏", "农家")),
        ("牛肉干", "畜牧水产", "袋", (38, 98), ("五香", "麻辣")),
        ("黄鳝", "畜牧水产", "斤", (50, 90), ("野生", "鲜活")),
    ),
    ProductCategory.FRUIT: (
        ("黄桃", "黄桃", "箱", (40, 120), ("5斤装", "10斤装", "精品", "礼盒装")),
        ("猕猴桃", "", "箱", (40, 100), ("红心", "绿心")),
        ("葡萄", "", "斤", (8, 25), ("阳光玫瑰", "巨峰")),
        ("柑橘", "", "箱", (30, 80), ("蜜橘", "脐橙")),
        ("草莓", "", "斤", (15, 40), ("大棚", "精品")),
        ("梨", "", "箱", (30, 80), ("翠冠", "黄金")),
    ),
    ProductCategory.GRAIN_OIL: (
        ("稻虾米", "畜牧水产", "袋", (30, 88), ("5kg", "10kg")),
        ("富硒大米", "", "袋", (40, 120), ("5kg", "10kg")),
        ("小磨香油", "", "瓶", (28, 68), ("500ml",)),
        ("菜籽油", "", "桶", (80, 160), ("5L", "压榨")),
        ("红薯粉条", "", "斤", (10, 22), ("手工",)),
        ("玉米糁", "", "袋", (12, 30), ("农家",)),
    ),
    ProductCategory.VEGETABLE: (
        ("魔芋", "", "斤", (6, 16), ("鲜", "魔芋豆腐")),
        ("竹笋", "", "斤", (12, 40), ("干", "鲜")),
        ("蕨菜", "", "斤", (20, 48), ("干",)),
        ("干豆角", "", "斤", (15, 30), ("农家",)),
        ("高山萝卜", "", "斤", (2, 5), ("鲜",)),
        ("莲藕", "", "斤", (4, 10), ("鲜", "粉藕")),
    ),
    ProductCategory.HERBAL: (
        ("天麻", "中药材", "斤", (80, 260), ("干", "鲜", "礼盒装")),
        ("黄精", "中药材", "斤", (40, 120), ("九蒸九晒", "干")),
        ("杜仲茶", "中药材", "盒", (40, 98), ("雄花", "叶")),
        ("金银花", "中药材", "斤", (60, 160), ("干",)),
        ("葛根粉", "中药材", "斤", (30, 68), ("纯",)),
        ("丹参", "中药材", "斤", (15, 40), ("干",)),
    ),
    ProductCategory.PROCESSED: (
        ("石花奎面", "", "箱", (40, 90), ("手工", "礼盒装")),
        ("黄桃罐头", "黄桃", "箱", (36, 78), ("6罐装", "12罐装")),
        ("腊味礼盒", "畜牧水产", "盒", (128, 298), ("精品", "农家")),
        ("米酒", "", "瓶", (15, 38), ("农家",)),
        ("石花酒", "", "瓶", (58, 268), ("光瓶", "礼盒装")),
        ("红薯干", "", "袋", (12, 26), ("农家",)),
        ("豆腐乳", "", "瓶", (10, 22), ("香辣", "原味")),
    ),
    ProductCategory.HONEY: (
        ("土蜂蜜", "", "瓶", (60, 160), ("500g", "1kg", "百花")),
        ("槐花蜜", "", "瓶", (50, 120), ("500g",)),
        ("蜂巢蜜", "", "盒", (80, 180), ("原蜜",)),
    ),
    ProductCategory.HANDICRAFT: (
        ("竹编果篮", "", "件", (30, 120), ("大号", "小号")),
        ("手工布鞋", "", "双", (60, 150), ("千层底",)),
        ("剪纸", "", "幅", (20, 200), ("装裱",)),
    ),
}
PRODUCER_WEIGHTS: dict[str, float] = {BusinessKind.ENTERPRISE: 6.0, BusinessKind.COOPERATIVE: 3.0}
CATEGORY_CODES: dict[str, str] = {
    ProductCategory.TEA: "TEA",
    ProductCategory.FUNGI: "FUN",
    ProductCategory.OIL_TEA: "OIL",
    ProductCategory.LIVESTOCK_AQUATIC: "LIV",
    ProductCategory.FRUIT: "FRU",
    ProductCategory.GRAIN_OIL: "GRA",
    ProductCategory.VEGETABLE: "VEG",
    ProductCategory.HERBAL: "HER",
    ProductCategory.PROCESSED: "PRO",
    ProductCategory.HONEY: "HON",
    ProductCategory.HANDICRAFT: "HAN",
    ProductCategory.OTHER: "OTH",
}
CHAIN_CATEGORIES = {
    "茶叶": (ProductCategory.TEA,),
    "食用菌": (ProductCategory.FUNGI,),
    "油茶": (ProductCategory.OIL_TEA,),
    "畜牧水产": (ProductCategory.LIVESTOCK_AQUATIC,),
    "黄桃": (ProductCategory.FRUIT, ProductCategory.PROCESSED),
    "中药材": (ProductCategory.HERBAL,),
}
# What a township sells besides its chains' products.
TOWNSHIP_EXTRA_CATEGORIES: dict[str, tuple[str, ...]] = {
    "城关镇": (ProductCategory.PROCESSED, ProductCategory.GRAIN_OIL, ProductCategory.HANDICRAFT),
    "石花镇": (ProductCategory.PROCESSED, ProductCategory.VEGETABLE),
    "盛康镇": (ProductCategory.GRAIN_OIL, ProductCategory.VEGETABLE),
    "庙滩镇": (ProductCategory.VEGETABLE, ProductCategory.HONEY),
    "五山镇": (ProductCategory.PROCESSED, ProductCategory.VEGETABLE, ProductCategory.HANDICRAFT),
    "茨河镇": (ProductCategory.FRUIT, ProductCategory.GRAIN_OIL),
    "南河镇": (ProductCategory.VEGETABLE, ProductCategory.HONEY),
    "紫金镇": (ProductCategory.FRUIT, ProductCategory.HANDICRAFT),
    "冷集镇": (ProductCategory.FRUIT, ProductCategory.GRAIN_OIL),
    "赵湾乡": (ProductCategory.HONEY, ProductCategory.VEGETABLE),
}
PLATFORMS = (("抖音", 34), ("快手", 14), ("淘宝", 18), ("拼多多", 14), ("京东", 10), ("微信小程序", 10))

# -- the events ------------------------------------------------------------------------------------------


# A kind of business on a chain: (link kinds, area 亩, output 万元, jobs, households driven), inclusive.
_Shape = tuple[tuple[str, ...], tuple[int, int], tuple[int, int], tuple[int, int], tuple[int, int]]


@dataclass(frozen=True)
class _EventSpec:
    town: str
    name: str
    kind: str
    town_product: str
    starts_on: dt.date
    days: int
    venue: str
    total_yuan: int  # net sales
    online_share: float
    focus: tuple[str, ...]  # product base names the town is known for (sell more)


# The ten 2022 expos of the series, one per town, each with its "one town, one product" festival, in the
# product's season; their sales add up to 3.2亿元.
EVENTS_2022: tuple[_EventSpec, ...] = (
    _EventSpec("五山镇", "五山镇年货节", EventKind.EXPO, "玉皇剑茶", dt.date(2022, 1, 18), 6,
               "五山镇堰河村游客中心广场", 46_800_000, 0.42, ("玉皇剑", "毛尖", "腊肉", "腊味礼盒")),
    _EventSpec("紫金镇", "紫金镇开茶节", EventKind.EXPO, "紫金毛尖", dt.date(2022, 3, 26), 3,
               "紫金镇花圃村茶园", 39_200_000, 0.38, ("毛尖", "雀舌", "绿茶", "红茶")),
    _EventSpec("盛康镇", "盛康镇稻虾节", EventKind.EXPO, "盛康稻虾", dt.date(2022, 5, 20), 4,
               "盛康镇稻虾共作示范基地", 34_800_000, 0.35, ("小龙虾", "稻虾米")),
    _EventSpec("赵湾乡", "赵湾乡蜂蜜文化节", EventKind.EXPO, "赵湾土蜂蜜", dt.date(2022, 6, 17), 3,
               "赵湾乡集镇文化广场", 23_300_000, 0.45, ("土蜂蜜", "槐花蜜", "蜂巢蜜", "天麻")),
    _EventSpec("茨河镇", "茨河镇鲟鱼美食节", EventKind.EXPO, "汉江鲟鱼", dt.date(2022, 7, 15), 4,
               "茨河镇汉江鲟鱼养殖基地", 22_800_000, 0.33, ("鲟鱼", "黄鳝")),
    _EventSpec("冷集镇", "冷集镇黄桃节", EventKind.EXPO, "冷集黄桃", dt.date(2022, 8, 5), 5,
               "冷集镇万亩黄桃产业园", 36_500_000, 0.47, ("黄桃", "黄桃罐头")),
    _EventSpec("城关镇", "城关镇农民丰收节", EventKind.EXPO, "谷城农特产品", dt.date(2022, 9, 23), 3,
               "谷城县城关镇银城广场", 38_600_000, 0.52, ("腊味礼盒", "石花酒", "富硒大米")),
    _EventSpec("庙滩镇", "庙滩镇香菇节", EventKind.EXPO, "庙滩香菇", dt.date(2022, 10, 14), 3,
               "庙滩镇食用菌产业园", 26_300_000, 0.36, ("香菇", "黑木耳", "香菇酱")),
    _EventSpec("石花镇", "石花镇奎面文化节", EventKind.EXPO, "石花奎面", dt.date(2022, 11, 11), 3,
               "石花镇民营社区文化广场", 27_600_000, 0.40, ("石花奎面", "石花酒")),
    _EventSpec("南河镇", "南河镇油茶文化节", EventKind.EXPO, "南河山茶油", dt.date(2022, 11, 25), 3,
               "南河镇油茶示范基地", 24_100_000, 0.37, ("山茶油", "茶籽油")),
)  # fmt: skip
# A few later ones, so the year picker has something to show; their totals are drawn, not fixed.
EVENTS_LATER: tuple[_EventSpec, ...] = (
    _EventSpec("紫金镇", "紫金镇开茶节", EventKind.FESTIVAL, "紫金毛尖", dt.date(2023, 3, 25), 3,
               "紫金镇花圃村茶园", 41_600_000, 0.41, ("毛尖", "雀舌", "绿茶")),
    _EventSpec("冷集镇", "冷集镇黄桃节", EventKind.FESTIVAL, "冷集黄桃", dt.date(2023, 8, 4), 4,
               "冷集镇万亩黄桃产业园", 37_900_000, 0.5, ("黄桃", "黄桃罐头")),
    _EventSpec("五山镇", "五山镇年货节", EventKind.EXPO, "玉皇剑茶", dt.date(2024, 1, 26), 6,
               "五山镇堰河村游客中心广场", 49_300_000, 0.46, ("玉皇剑", "毛尖", "腊肉")),
    _EventSpec("盛康镇", "盛康镇稻虾节", EventKind.FESTIVAL, "盛康稻虾", dt.date(2024, 5, 18), 3,
               "盛康镇稻虾共作示范基地", 35_600_000, 0.4, ("小龙虾", "稻虾米")),
    _EventSpec("城关镇", "城关镇农民丰收节", EventKind.FESTIVAL, "谷城农特产品", dt.date(2025, 9, 23), 3,
               "谷城县城关镇银城广场", 42_800_000, 0.56, ("腊味礼盒", "石花酒", "富硒大米")),
    _EventSpec("庙滩镇", "庙滩镇香菇节", EventKind.FESTIVAL, "庙滩香菇", dt.date(2025, 10, 17), 3,
               "庙滩镇食用菌产业园", 28_400_000, 0.42, ("香菇", "黑木耳", "香菇酱")),
)  # fmt: skip
ORGANISER = "谷城县人民政府主办，{town}人民政府承办"
CORRECTIONS = (
    ("amount", "金额多录一位，冲正后按实际金额重录"),
    ("product", "产品选错，冲正后按实际产品重录"),
    ("channel", "渠道录错（实为线上直播销售），冲正后重录"),
)

# -- places ----------------------------------------------------------------------------------------------

# The county's 12 featured towns (特色乡镇): (town, theme, year named); 五山镇 and 石花镇 hold two.
FEATURED_TOWNS: tuple[tuple[str, str, int], ...] = (
    ("五山镇", "茶旅小镇", 2020),
    ("五山镇", "康养小镇", 2022),
    ("赵湾乡", "蜜旅小镇", 2021),
    ("城关镇", "电商小镇", 2020),
    ("茨河镇", "鲟游小镇", 2021),
    ("紫金镇", "花旅小镇", 2021),
    ("冷集镇", "黄桃小镇", 2020),
    ("盛康镇", "稻虾小镇", 2021),
    ("庙滩镇", "菌菇小镇", 2022),
    ("南河镇", "油茶小镇", 2022),
    ("石花镇", "奎面小镇", 2020),
    ("石花镇", "酒香小镇", 2022),
)
# Featured towns that report tourism per month (the tea-tourism town apart from the 堰河 brand, which
# reports as the joint community): (town, yearly visits in 2022, yuan per visit).
TOURISM_TOWNS: tuple[tuple[str, int, int], ...] = (
    ("五山镇", 186_000, 260),
    ("赵湾乡", 92_000, 210),
    ("茨河镇", 138_000, 240),
    ("紫金镇", 164_000, 230),
    ("冷集镇", 121_000, 190),
)
FEATURED_VILLAGE_THEMES: dict[str, tuple[str, ...]] = {
    "城关镇": ("电商示范村", "农家乐特色村"),
    "石花镇": ("奎面特色村", "食用菌特色村"),
    "盛康镇": ("稻虾共作特色村", "生态养殖特色村"),
    "庙滩镇": ("香菇特色村", "中药材特色村"),
    "五山镇": ("高山茶特色村", "民宿特色村"),
    "茨河镇": ("鲟鱼养殖特色村", "汉江风情村"),
    "南河镇": ("油茶特色村", "漂流民宿村"),
    "紫金镇": ("茶叶特色村", "花卉苗木村"),
    "冷集镇": ("黄桃特色村", "采摘观光村"),
    "赵湾乡": ("养蜂特色村", "中药材特色村"),
}
NAMED_FEATURED_VILLAGES = (
    (data.YANHE, "茶旅文化村"),
    ("花圃村", "美丽庭院示范村"),
)
TOURISM_THEME_WORDS = ("旅", "民宿", "农家乐", "观光", "风情", "庭院", "漂流")
NAMED_TYPES = {
    data.YANHE: DevelopmentType.GREEN_DEVELOPMENT,
    "花圃村": DevelopmentType.LIVEABLE,
    data.XINHUA: DevelopmentType.WELL_GOVERNED,
    data.MINYING: DevelopmentType.CIVILISED,
}
TYPE_WEIGHTS = (
    (DevelopmentType.RED_BEAUTIFUL, 12),
    (DevelopmentType.GREEN_DEVELOPMENT, 26),
    (DevelopmentType.CIVILISED, 20),
    (DevelopmentType.WELL_GOVERNED, 20),
    (DevelopmentType.LIVEABLE, 22),
)
# Visits by month (spring tea picking, May Day, the October holidays).
MONTH_WEIGHTS = (4.2, 7.0, 9.1, 12.4, 10.8, 6.9, 7.6, 8.0, 7.2, 12.1, 8.1, 6.6)

# -- people's work ---------------------------------------------------------------------------------------

PROJECTS: tuple[tuple[str, str, str, str, tuple[int, int], int], ...] = (
    # (kind, what, chain, unit, scale range, weight)
    (ProjectKind.PLANTING, "茶园", "茶叶", "亩", (2, 15), 10),
    (ProjectKind.PLANTING, "香菇", "食用菌", "棒", (2_000, 20_000), 8),
    (ProjectKind.PLANTING, "油茶", "油茶", "亩", (3, 30), 6),
    (ProjectKind.PLANTING, "黄桃", "黄桃", "亩", (2, 20), 6),
    (ProjectKind.PLANTING, "中药材", "中药材", "亩", (1, 10), 5),
    (ProjectKind.PLANTING, "蔬菜", "", "亩", (1, 6), 14),
    (ProjectKind.PLANTING, "粮食", "", "亩", (3, 40), 12),
    (ProjectKind.BREEDING, "稻虾共作", "畜牧水产", "亩", (5, 60), 5),
    (ProjectKind.BREEDING, "土鸡养殖", "畜牧水产", "只", (50, 800), 7),
    (ProjectKind.BREEDING, "生猪养殖", "畜牧水产", "头", (5, 60), 4),
    (ProjectKind.BREEDING, "养蜂", "", "箱", (10, 120), 3),
    (ProjectKind.PROCESSING, "腊肉加工", "畜牧水产", "斤", (500, 5_000), 2),
    (ProjectKind.PROCESSING, "茶叶加工", "茶叶", "斤", (300, 3_000), 2),
    (ProjectKind.ECOMMERCE, "网店直播", "", "单/年", (200, 6_000), 3),
    (ProjectKind.TOURISM, "农家乐", "", "桌", (4, 20), 2),
    (ProjectKind.TOURISM, "民宿", "", "间", (3, 12), 1),
    (ProjectKind.SERVICE, "农机服务", "", "台", (1, 4), 2),
    (ProjectKind.SERVICE, "快递代办", "", "单/日", (20, 200), 1),
    (ProjectKind.HANDICRAFT, "竹编", "", "件/年", (100, 1_500), 1),
)
PROJECT_WORDS = {
    ProjectKind.PLANTING: "种植",
    ProjectKind.BREEDING: "",
    ProjectKind.PROCESSING: "",
    ProjectKind.ECOMMERCE: "",
    ProjectKind.TOURISM: "经营",
    ProjectKind.SERVICE: "",
    ProjectKind.HANDICRAFT: "",
}
EMPLOYMENT_WEIGHTS = (
    (EmploymentKind.OWN_PROJECT, 52),
    (EmploymentKind.LOCAL_BUSINESS, 24),
    (EmploymentKind.FLEXIBLE, 14),
    (EmploymentKind.PUBLIC_POST, 5),
    (EmploymentKind.WORKSHOP, 5),
)
WORKING_AGE = (16, 60)  # 16 ≤ age < 60 on data.AS_OF

_translated: dict[str, str] = {}


def _(message: str) -> str:
    found = _translated.get(message)
    if found is None:
        found = _translated[message] = gettext(message)
    return found


def seed_demo_industry(
    *,
    county: Region,
    users: dict[str, User],
    scale: str,
    say: Callable[[str], None],
    use_copy: bool,
) -> int:
    """Build the demo county's industry once (nothing at the skeleton scale, nothing when the county has a
    chain or an event already); returns the number of sales records written."""
    if scale not in PLANS:
        return 0
    if IndustryChain.objects.exists() or Event.objects.filter(region__path__startswith=county.path).exists():
        return 0
    _translated.clear()
    try:
        builder = _Builder(county=county, users=users, scale=scale, writer=_FastWriter(use_copy=use_copy))
        return builder.build(say)
    finally:
        _translated.clear()


@dataclass(slots=True)
class _Village:
    id: int
    name: str
    kind: str
    township: str
    households: list[int] = field(default_factory=list)


@dataclass(slots=True)
class _Biz:
    id: int
    kind: str
    name: str
    village: _Village
    chains: list[str] = field(default_factory=list)
    products: list[_Prod] = field(default_factory=list)
    brand: str = ""  # an enterprise's trade name, which its products may carry


@dataclass(slots=True)
class _Prod:
    id: int
    base: str
    price_fen: int
    producer: _Biz


@dataclass(slots=True)
class _Exh:
    id: int
    biz: _Biz


class _Builder:
    def __init__(self, *, county: Region, users: dict[str, User], scale: str, writer: Any) -> None:
        self.county = county
        self.users = users
        self.scale = scale
        self.plan = PLANS[scale]
        self.writer = writer
        self.use_copy: bool = writer.use_copy
        self.rng = random.Random(f"xiangzhi-industry-{scale}")  # noqa: S311 - demo data, not security
        self.admin_id: int = users["county_admin"].pk
        self.township_admin_id: int | None = users["township_admin"].pk if "township_admin" in users else None
        self.secretary_id: int | None = (
            users["village_secretary"].pk if "village_secretary" in users else None
        )
        self.stats: dict[str, int] = defaultdict(int)
        self.credit_codes: set[str] = set()
        self.stamps: dict[tuple[dt.date, int], Any] = {}

    # -- helpers ---------------------------------------------------------------------------------------

    def _add(self, model: type[models.Model], row: dict[str, Any]) -> int:
        row["id"] = self.ids(model)
        self.writer.add(model, row)
        return int(row["id"])

    def _stamp(self, day: dt.date, hour: int = 18) -> Any:
        """A created_at of `day` at `hour` local time, as the writer takes it (COPY: aware; else UTC text)."""
        found = self.stamps.get((day, hour))
        if found is None:
            at = dt.datetime.combine(day, dt.time(hour), tzinfo=_ZONE).astimezone(dt.UTC)
            found = self.stamps[(day, hour)] = at if self.use_copy else _utc_text(at)
        return found

    def _credit_code(self, prefix: str) -> str:
        # 统一社会信用代码: 18 characters, no I, O, Z, S, V; the last is GB 32100's check character.
        alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
        while True:
            first17 = prefix + "".join(self.rng.choice(alphabet) for _i in range(17 - len(prefix)))
            code = first17 + credit_code_check_char(first17)
            if code not in self.credit_codes:
                self.credit_codes.add(code)
                return code

    # -- orchestration ---------------------------------------------------------------------------------

    def build(self, say: Callable[[str], None]) -> int:
        self.ids = _Ids(BULK_MODELS)
        self._load()
        self._chains()
        self._businesses()
        self._participations()
        self._projects_and_work()
        self._collective_income()
        self._places()
        self._joint()
        self._tourism()
        self._catalogue()
        self._events()
        self.writer.flush()
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), list(BULK_MODELS)):
                cursor.execute(sql)
            if connection.vendor == "postgresql":
                tables = (SalesRecord, Employment, HouseholdProject, Business, Product)
                cursor.execute(
                    "ANALYZE " + ", ".join(connection.ops.quote_name(m._meta.db_table) for m in tables)
                )
        counts = self.writer.counts
        audit_record(
            actor=None,
            action=AuditAction.IMPORT,
            obj=self.county,
            region_path=self.county.path,
            changes={label: [0, n] for label, n in sorted(counts.items()) if label.startswith("industry.")},
            detail=_("演示数据：产业振兴（%(scale)s 规模），销售记录 %(n)d 条。")
            % {"scale": self.scale, "n": self.stats["sales"]},
        )
        say(
            _(
                "产业振兴：产业链 %(chains)d 条，经营主体 %(businesses)d 个，户项目 %(projects)d 个，"
                "就业记录 %(jobs)d 条；2022 年展会 %(events)d 场，销售 %(yuan)s 元（%(products)d 种农产品，"
                "%(sales)d 条记录）；特色乡镇 %(towns)d 个，堰河茶旅联建共同体每年旅游综合收入 2 亿元。"
            )
            % {
                "chains": counts["industry.industrychain"],
                "businesses": counts["industry.business"],
                "projects": counts["industry.householdproject"],
                "jobs": counts["industry.employment"],
                "events": len(EVENTS_2022),
                "yuan": f"{self.stats['net_2022_fen'] // 100:,}",
                "products": self.stats["products_sold_2022"],
                "sales": self.stats["sales"],
                "towns": len(FEATURED_TOWNS),
            }
        )
        return self.stats["sales"]

    # -- what exists already ---------------------------------------------------------------------------

    def _load(self) -> None:
        under = self.county.path
        self.townships: dict[str, int] = dict(
            Region.objects.filter(path__startswith=under, level=RegionLevel.TOWNSHIP).values_list(
                "name", "id"
            )
        )
        names_by_id = {v: k for k, v in self.townships.items()}
        self.villages: dict[int, _Village] = {}
        self.villages_of: dict[str, list[_Village]] = defaultdict(list)
        for region_id, name, kind, path in (
            Region.objects.filter(path__startswith=under, level=RegionLevel.VILLAGE)
            .order_by("code")  # not by path: paths carry ids, which depend on what a database held before
            .values_list("id", "name", "kind", "path")
        ):
            township = names_by_id[int(path.strip("/").split("/")[1])]
            village = _Village(region_id, name, kind, township)
            self.villages[region_id] = village
            self.villages_of[township].append(village)
        self.by_name = {v.name: v for v in self.villages.values()}
        # Households with their head's name, by village; read raw (SQLite returns text the ORM would parse).
        households = (
            Household.objects.filter(grid__path__startswith=under)
            .order_by("id")
            .values_list("id", "number", "grid__path", "head__name")
        )
        self.household_head: dict[int, str] = {}
        self.household_village: dict[int, _Village] = {}
        for household_id, number, path, head in self._raw(households):
            found = self.villages.get(int(path.strip("/").split("/")[2]))
            if found is None:
                continue
            found.households.append(household_id)
            self.household_head[household_id] = head or number
            self.household_village[household_id] = found
        # Working-age residents living at home (the away ones count as working by their status).
        young = _years_before(data.AS_OF, WORKING_AGE[0])
        old = _years_before(data.AS_OF, WORKING_AGE[1])
        people = (
            Resident.objects.filter(
                household__grid__path__startswith=under,
                status=ResidentStatus.RESIDENT,
                birth_date__gt=old,
                birth_date__lte=young,
            )
            .order_by("id")
            .values_list("id", "household_id", "birth_date")
        )
        self.workers_of: dict[int, list[tuple[int, dt.date]]] = defaultdict(list)
        for resident_id, household_id, birth in self._raw(people):
            if not isinstance(birth, dt.date):
                birth = dt.date.fromisoformat(birth)
            self.workers_of[household_id].append((resident_id, birth))
        branches = {
            name: org_id
            for org_id, name in PartyOrganisation.objects.filter(
                kind=PartyOrgKind.CHAIN_BRANCH, region__path__startswith=under
            ).values_list("id", "name")
        }
        self.chain_branch = {
            chain: branches.get(f"{town}{chain}产业链党支部") for chain, town in data.INDUSTRY_CHAINS
        }
        joint = PartyOrganisation.objects.filter(
            kind=PartyOrgKind.JOINT_COMMITTEE, name=data.YANHE_JOINT_COMMITTEE, region__path__startswith=under
        ).first()
        self.joint_committee_id = joint.pk if joint else None
        joint_villages = list(joint.villages.order_by("code").values_list("id", flat=True)) if joint else []
        yanhe = self.by_name.get(data.YANHE)
        if yanhe is not None:
            # 堰河村 leads: first of the members.
            joint_villages = [yanhe.id] + [v for v in joint_villages if v != yanhe.id]
        self.joint_villages = [self.villages[v] for v in joint_villages if v in self.villages]

    @staticmethod
    def _raw(queryset: models.QuerySet[Any, Any]) -> list[tuple[Any, ...]]:
        sql, params = queryset.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall())

    # -- chains ----------------------------------------------------------------------------------------

    def _chains(self) -> None:
        self.chain_ids: dict[str, int] = {}
        self.link_ids: dict[tuple[str, str], int] = {}  # (chain, link kind) -> first link of that kind
        for order, (chain, town) in enumerate(data.INDUSTRY_CHAINS, start=1):
            description, links = CHAIN_TEXT[chain]
            chain_id = self._add(
                IndustryChain,
                {
                    "name": chain,
                    "description": description,
                    "base_region_id": self.townships.get(town),
                    "party_branch_id": self.chain_branch.get(chain),
                    "sort_order": order,
                    "is_active": True,
                },
            )
            self.chain_ids[chain] = chain_id
            for link_order, (kind, name) in enumerate(links, start=1):
                link_id = self._add(
                    ChainLink, {"chain_id": chain_id, "kind": kind, "name": name, "sort_order": link_order}
                )
                self.link_ids.setdefault((chain, kind), link_id)

    # -- businesses ------------------------------------------------------------------------------------

    def _business(
        self,
        kind: str,
        name: str,
        village: _Village,
        *,
        chains: Sequence[str],
        household_id: int | None = None,
        credit_prefix: str = "",
        representative: str = "",
        description: str = "",
    ) -> _Biz:
        key = (village.id, kind, name)
        if key in self.business_names:
            number = 2
            while (village.id, kind, f"{name}（{number}）") in self.business_names:
                number += 1
            name = f"{name}（{number}）"
            key = (village.id, kind, name)
        self.business_names.add(key)
        business_id = self._add(
            Business,
            {
                "kind": kind,
                "name": name,
                "region_id": village.id,
                "household_id": household_id,
                "credit_code": self._credit_code(credit_prefix) if credit_prefix else "",
                "legal_representative": representative,
                "description": description,
                "is_active": True,
            },
        )
        biz = _Biz(business_id, kind, name, village, list(chains))
        self.businesses.append(biz)
        self.businesses_of[village.township].append(biz)
        return biz

    def _head(self, village: _Village) -> str:
        if not village.households:
            return ""
        return self.household_head[self.rng.choice(village.households)]

    def _businesses(self) -> None:
        rng, plan = self.rng, self.plan
        self.business_names: set[tuple[int, str, str]] = set()
        self.businesses: list[_Biz] = []
        self.businesses_of: dict[str, list[_Biz]] = defaultdict(list)
        self.collective_of: dict[int, _Biz] = {}
        self.household_business: dict[int, _Biz] = {}
        brands = list(ENTERPRISE_BRANDS)
        rng.shuffle(brands)
        used_enterprise_names: set[str] = set()
        for township, villages in self.villages_of.items():
            chains = TOWNSHIP_CHAINS[township]
            for village in villages:
                stem = _stem(village.name)
                self.collective_of[village.id] = self._business(
                    BusinessKind.VILLAGE_COLLECTIVE,
                    f"{village.name}股份经济合作社",
                    village,
                    chains=[chains[0]] if rng.random() < 0.6 or village.name == data.YANHE else [],
                    credit_prefix="N2420625",
                    representative=self._head(village),
                )
                words = [CHAIN_PRODUCT_WORD[c] for c in chains] + list(OTHER_COOP_WORDS)
                for index in range(rng.randint(*plan.cooperatives)):
                    chain = chains[index % len(chains)] if index < len(chains) else ""
                    word = CHAIN_PRODUCT_WORD[chain] if chain else rng.choice(words)
                    self._business(
                        BusinessKind.COOPERATIVE,
                        f"谷城县{stem}{word}专业合作社",
                        village,
                        chains=[chain] if chain else [rng.choice(chains)],
                        credit_prefix="93420625",
                        representative=self._head(village),
                    )
                for _index in range(rng.randint(*plan.family_farms)):
                    head = self._head(village)
                    if not head:
                        break
                    self._business(
                        BusinessKind.FAMILY_FARM,
                        f"谷城县{head}家庭农场",
                        village,
                        chains=[rng.choice(chains)],
                        credit_prefix="92420625",
                        representative=head,
                    )
                count = min(rng.randint(*plan.household_businesses), len(village.households))
                for household_id in rng.sample(village.households, count):
                    head = self.household_head[household_id]
                    biz = self._business(
                        BusinessKind.HOUSEHOLD,
                        f"{head}户",
                        village,
                        chains=[rng.choice(chains)],
                        household_id=household_id,
                        representative=head,
                    )
                    self.household_business[household_id] = biz
            # Enterprises sit in the town seat mostly (its first community) and in big villages.
            for index in range(plan.enterprises):
                chain = chains[index % len(chains)] if index < 2 * len(chains) else ""
                while True:
                    brand = brands[rng.randrange(len(brands))]
                    trade = (
                        rng.choice(ENTERPRISE_TRADES[chain]) if chain else rng.choice(ENTERPRISE_OTHER_TRADES)
                    )
                    name = f"谷城县{brand}{trade}" if rng.random() < 0.7 else f"湖北{brand}{trade}"
                    if name not in used_enterprise_names:
                        used_enterprise_names.add(name)
                        break
                village = villages[0] if index % 2 == 0 or len(villages) == 1 else rng.choice(villages[1:])
                self._business(
                    BusinessKind.ENTERPRISE,
                    name,
                    village,
                    chains=[chain] if chain else [rng.choice(chains)],
                    credit_prefix="91420625",
                    representative=self._head(village),
                ).brand = brand
        # 堰河村's tea company, the brand's anchor (玉皇剑茶 is 堰河's tea).
        yanhe = self.by_name.get(data.YANHE)
        if yanhe is not None and "谷城县玉皇剑茶业有限公司" not in used_enterprise_names:
            self.yanhe_company = self._business(
                BusinessKind.ENTERPRISE,
                "谷城县玉皇剑茶业有限公司",
                yanhe,
                chains=["茶叶"],
                credit_prefix="91420625",
                representative=self._head(yanhe),
                description="堰河村茶旅文化品牌的龙头企业，茶园基地与茶叶加工、茶旅接待一体经营。",
            )
            self.yanhe_company.brand = "玉皇剑"
        # A few cooperatives and enterprises work on a second chain.
        for biz in self.businesses:
            if biz.kind in (BusinessKind.COOPERATIVE, BusinessKind.ENTERPRISE) and rng.random() < 0.15:
                other = [c for c, _t in data.INDUSTRY_CHAINS if c not in biz.chains]
                biz.chains.append(rng.choice(other))

    def _participations(self) -> None:
        rng = self.rng
        # (link kinds, area 亩, output 万元, jobs, households driven) per kind of business
        shapes: dict[str, _Shape] = {
            BusinessKind.ENTERPRISE: (
                (LinkKind.PROCESSING, LinkKind.SALES, LinkKind.TOURISM),
                (0, 3_000),
                (800, 30_000),
                (20, 260),
                (80, 1_200),
            ),
            BusinessKind.COOPERATIVE: (
                (LinkKind.PRODUCTION, LinkKind.PROCESSING, LinkKind.SERVICE),
                (200, 3_000),
                (120, 2_500),
                (6, 60),
                (30, 400),
            ),
            BusinessKind.FAMILY_FARM: ((LinkKind.PRODUCTION,), (50, 400), (30, 300), (2, 12), (3, 30)),
            BusinessKind.VILLAGE_COLLECTIVE: (
                (LinkKind.PRODUCTION, LinkKind.SERVICE, LinkKind.TOURISM),
                (100, 1_500),
                (20, 400),
                (3, 40),
                (20, 300),
            ),
            BusinessKind.HOUSEHOLD: ((LinkKind.PRODUCTION,), (2, 20), (2, 15), (1, 3), (0, 0)),
        }
        for biz in self.businesses:
            kinds, area, output, jobs, driven = shapes[biz.kind]
            for chain in biz.chains:
                links = [k for k in kinds if (chain, k) in self.link_ids] or [LinkKind.PRODUCTION]
                link = rng.choice(links)
                processing = link in (LinkKind.PROCESSING, LinkKind.SALES, LinkKind.LOGISTICS)
                area_mu = Decimal(rng.randint(*area) if not processing else rng.randint(0, area[1] // 10))
                if biz.kind == BusinessKind.HOUSEHOLD:
                    area_mu += Decimal(rng.choice((0, 5))) / 10
                self._add(
                    ChainParticipation,
                    {
                        "chain_id": self.chain_ids[chain],
                        "link_id": self.link_ids.get((chain, link)),
                        "business_id": biz.id,
                        "area_mu": area_mu,
                        "output_value_fen": rng.randint(*output) * 10_000 * 100,
                        "jobs": rng.randint(*jobs),
                        "households_driven": rng.randint(*driven),
                        "joined_on": dt.date(rng.randint(2018, 2024), rng.randint(1, 12), rng.randint(1, 28)),
                        "left_on": None,
                    },
                )

    # -- 户户有项目, 人人有事干 ---------------------------------------------------------------------------

    def _projects_and_work(self) -> None:
        rng = self.rng
        weights = [p[5] for p in PROJECTS]
        employers: dict[str, list[int]] = {
            township: [b.id for b in bizs if b.kind in (BusinessKind.ENTERPRISE, BusinessKind.COOPERATIVE)]
            for township, bizs in self.businesses_of.items()
        }
        kinds = [k for k, _w in EMPLOYMENT_WEIGHTS]
        kind_weights = [w for _k, w in EMPLOYMENT_WEIGHTS]
        for household_id, village in self.household_village.items():
            workers = self.workers_of.get(household_id, [])
            # Nearly every household with someone of working age at home has a project; old people on
            # their own less often (a vegetable plot they sell from, bees) — about nine in ten in all.
            chance = 0.96 if workers else 0.78
            has_project = rng.random() < chance
            biz = self.household_business.get(household_id)
            if has_project or biz is not None:
                for _n in range(1 if rng.random() < 0.8 else 2):
                    self._project(household_id, village, rng.choices(PROJECTS, weights)[0], ended=False)
            elif rng.random() < 0.25:
                # A project given up: it no longer counts.
                self._project(household_id, village, rng.choices(PROJECTS, weights)[0], ended=True)
            for resident_id, birth in workers:
                adult = _years_before(birth, -WORKING_AGE[0])
                roll = rng.random()
                if roll < 0.88:
                    kind = rng.choices(kinds, kind_weights)[0]
                    if kind == EmploymentKind.OWN_PROJECT and not has_project:
                        kind = EmploymentKind.FLEXIBLE
                    employer = None
                    if kind == EmploymentKind.LOCAL_BUSINESS:
                        options: list[int | None] = list(employers.get(village.township, [])) or [None]
                        employer = rng.choice(options)
                        if employer is None:
                            kind = EmploymentKind.FLEXIBLE
                    self._add(
                        Employment,
                        {
                            "resident_id": resident_id,
                            "kind": kind,
                            "business_id": employer,
                            "started_on": max(
                                adult, dt.date(rng.randint(2015, 2026), rng.randint(1, 9), rng.randint(1, 28))
                            ),
                            "ended_on": None,
                            "created_at": self._stamp(dt.date(2026, 10, 20)),
                        },
                    )
                elif roll < 0.92 and adult < dt.date(2025, 1, 1):
                    # Work that ended (a season's job): not covered today.
                    started = max(
                        adult, dt.date(rng.randint(2022, 2025), rng.randint(3, 6), rng.randint(1, 28))
                    )
                    self._add(
                        Employment,
                        {
                            "resident_id": resident_id,
                            "kind": EmploymentKind.FLEXIBLE,
                            "business_id": None,
                            "started_on": started,
                            "ended_on": started + dt.timedelta(days=rng.randint(60, 180)),
                            "created_at": self._stamp(dt.date(2026, 10, 20)),
                        },
                    )

    def _project(self, household_id: int, village: _Village, spec: tuple[Any, ...], *, ended: bool) -> None:
        rng = self.rng
        kind, what, chain, unit, (low, high), _w = spec
        size = rng.randint(low, high)
        started = dt.date(rng.randint(2016, 2025), rng.randint(1, 12), rng.randint(1, 28))
        self._add(
            HouseholdProject,
            {
                "household_id": household_id,
                "kind": kind,
                "title": f"{what}{PROJECT_WORDS[kind]}",
                "chain_id": self.chain_ids.get(chain) if chain else None,
                "scale": f"{size}{unit}",
                "started_on": started,
                "ended_on": started + dt.timedelta(days=rng.randint(200, 900)) if ended else None,
                "created_at": self._stamp(dt.date(2026, 10, 20)),
            },
        )

    # -- the village collective economy ----------------------------------------------------------------

    def _collective_income(self) -> None:
        rng = self.rng
        existing = set(CollectiveThreshold.objects.values_list("year", flat=True))
        for year in INCOME_YEARS:
            if year not in existing:
                self._add(
                    CollectiveThreshold,
                    {"year": year, "weak_below_fen": WEAK_BELOW_FEN, "strong_from_fen": STRONG_FROM_FEN},
                )
        villages = list(self.villages.values())
        # Two weak villages at every scale (not the named ones, whose figures the pages show off).
        named = {data.YANHE, "花圃村", data.XINHUA, data.MINYING}
        candidates = [v for v in villages if v.name not in named]
        weak = {v.id for v in rng.sample(candidates, min(2, len(candidates)))}
        sources = [s for s, _l in IncomeSource.choices]
        for village in villages:
            if village.name == data.YANHE:
                latest = 3_860_000
            elif village.id in weak:
                latest = rng.randint(62_000, 96_000)
            else:
                level = rng.random()
                if level < 0.05:
                    latest = rng.randint(60_000, 99_000)
                elif level < 0.75:
                    latest = rng.randint(100_000, 500_000)
                elif level < 0.95:
                    latest = rng.randint(500_000, 1_000_000)
                else:
                    latest = rng.randint(1_000_000, 3_000_000)
            totals = {INCOME_YEARS[-1]: latest}
            for year in reversed(INCOME_YEARS[:-1]):
                totals[year] = int(totals[year + 1] / rng.uniform(1.02, 1.22))
            mix = rng.sample(sources[:-1], rng.randint(3, 5))
            if village.name == data.YANHE and IncomeSource.TOURISM not in mix:
                mix[0] = IncomeSource.TOURISM
            base_weights = [rng.uniform(0.5, 3.0) for _s in mix]
            for year in INCOME_YEARS:
                weights = [w * rng.uniform(0.85, 1.15) for w in base_weights]
                for source, yuan in zip(mix, _largest_remainder(totals[year], weights), strict=True):
                    if yuan <= 0:
                        continue
                    self._add(
                        CollectiveIncome,
                        {
                            "village_id": village.id,
                            "year": year,
                            "source": source,
                            "amount_fen": yuan * 100,
                            "note": "",
                            "recorded_by_id": self.secretary_id
                            if village.name == data.XINHUA
                            else self.admin_id,
                            "created_at": self._stamp(dt.date(year + 1, 1, 15)),
                            "updated_at": self._stamp(dt.date(year + 1, 1, 15)),
                        },
                    )

    # -- featured towns and villages, development types ------------------------------------------------

    def _places(self) -> None:
        rng = self.rng
        self.tourism_villages: list[_Village] = []

        def designate(region_id: int, kind: str, theme: str, year: int, note: str = "") -> None:
            self._add(
                RegionDesignation,
                {
                    "region_id": region_id,
                    "kind": kind,
                    "theme": theme,
                    "designated_year": year,
                    "note": note,
                    "created_at": self._stamp(dt.date(year, 12, 20)),
                },
            )

        for town, theme, year in FEATURED_TOWNS:
            if town in self.townships:
                designate(self.townships[town], DesignationKind.FEATURED_TOWN, theme, year)
        named = dict(NAMED_FEATURED_VILLAGES)
        for township, villages in self.villages_of.items():
            themes = FEATURED_VILLAGE_THEMES[township]
            picked = [v for v in villages if v.name in named]
            others = [
                v for v in villages if v.kind == "village" and v.name not in named and v.name != data.XINHUA
            ]
            picked += rng.sample(others, min(self.plan.featured_villages, len(others)))
            for index, village in enumerate(picked):
                theme = named.get(village.name) or themes[index % len(themes)]
                designate(village.id, DesignationKind.FEATURED_VILLAGE, theme, rng.randint(2020, 2023))
                if village.name != data.YANHE and any(w in theme for w in TOURISM_THEME_WORDS):
                    self.tourism_villages.append(village)
        # Every village on one development path; the first five drawn cover the five types.
        order = list(self.villages.values())  # by code
        rng.shuffle(order)
        types = [t for t, _w in TYPE_WEIGHTS]
        weights = [w for _t, w in TYPE_WEIGHTS]
        named_types = {NAMED_TYPES[v.name] for v in order if v.name in NAMED_TYPES}
        free = [t for t in types if t not in named_types]
        for village in order:
            if village.name in NAMED_TYPES:
                kind = NAMED_TYPES[village.name]
            elif free:
                kind = free.pop(0)
            else:
                kind = rng.choices(types, weights)[0]
            designate(village.id, DesignationKind.DEVELOPMENT_TYPE, kind, rng.choice((2022, 2023)))

    # -- joint building --------------------------------------------------------------------------------

    def _joint(self) -> None:
        rng = self.rng
        self.yanhe_community_id = 0
        if self.joint_villages:
            lead = self.joint_villages[0]
            self.yanhe_community_id = self._add(
                JointCommunity,
                {
                    "kind": JointKind.VILLAGE_VILLAGE,
                    "name": YANHE_COMMUNITY,
                    "brand": YANHE_BRAND,
                    "lead_region_id": lead.id,
                    "party_organisation_id": self.joint_committee_id,
                    "established_on": dt.date(2019, 6, 18),
                    "description": "堰河村与周边 7 个村成立联合党委，抱团发展茶叶种植加工和乡村旅游，"
                    "共建“茶旅文化”品牌。",
                },
            )
            for village in self.joint_villages:
                self._add(
                    JointMember,
                    {
                        "community_id": self.yanhe_community_id,
                        "region_id": village.id,
                        "business_id": None,
                        "joined_on": dt.date(2019, 6, 18),
                    },
                )
            for year, (jobs, income_wan, households) in zip(
                TOURISM_YEARS,
                ((1_260, 2_380, 2_150), (1_340, 2_560, 2_290), (1_420, 2_710, 2_410), (1_510, 2_880, 2_530)),
                strict=True,
            ):
                self._result(self.yanhe_community_id, year, jobs, income_wan * 10_000 * 100, households)
        # Village–enterprise communities: a chain's leading company with the villages it buys from.
        for township, chain in (("庙滩镇", "食用菌"), ("冷集镇", "黄桃")):
            villages = self.villages_of.get(township, [])
            companies = [
                b
                for b in self.businesses_of.get(township, [])
                if b.kind == BusinessKind.ENTERPRISE and chain in b.chains
            ]
            if not villages or not companies:
                continue
            company = companies[0]
            members = villages[: min(3, len(villages))]
            community_id = self._add(
                JointCommunity,
                {
                    "kind": JointKind.VILLAGE_ENTERPRISE,
                    "name": f"{township}{chain}村企联建共同体",
                    "brand": f"{township[:2]}{CHAIN_PRODUCT_WORD[chain]}",
                    "lead_region_id": members[0].id,
                    "party_organisation_id": self.chain_branch.get(chain),
                    "established_on": dt.date(2021, rng.randint(3, 9), rng.randint(1, 28)),
                    "description": f"{company.name}与村集体签订保底收购和入股分红协议，"
                    f"带动农户发展{chain}产业。",
                },
            )
            for village in members:
                self._add(
                    JointMember,
                    {
                        "community_id": community_id,
                        "region_id": village.id,
                        "business_id": None,
                        "joined_on": None,
                    },
                )
            self._add(
                JointMember,
                {
                    "community_id": community_id,
                    "region_id": None,
                    "business_id": company.id,
                    "joined_on": None,
                },
            )
            for year in (2022, 2023, 2024, 2025):
                self._result(
                    community_id,
                    year,
                    rng.randint(60, 220),
                    rng.randint(80, 600) * 10_000 * 100,
                    rng.randint(120, 900),
                )

    def _result(self, community_id: int, year: int, jobs: int, income_fen: int, households: int) -> None:
        self._add(
            JointResult,
            {
                "community_id": community_id,
                "year": year,
                "jobs": jobs,
                "income_fen": income_fen,
                "households_benefited": households,
                "note": "",
                "updated_at": self._stamp(dt.date(year + 1, 1, 20)),
            },
        )

    # -- tourism ---------------------------------------------------------------------------------------

    def _tourism(self) -> None:
        rng = self.rng

        def months(
            region_id: int | None,
            community_id: int | None,
            year: int,
            visits: int,
            income_fen: int,
            note: str,
        ) -> None:
            weights = [w * rng.uniform(0.92, 1.08) for w in MONTH_WEIGHTS]
            by_month_visits = _largest_remainder(visits, weights)
            # Income follows visits, spending a little more per head in the peak months; whole yuan.
            spend = [w * (1 + 0.02 * (m in (3, 4, 9))) for m, w in enumerate(by_month_visits)]
            by_month_yuan = _largest_remainder(income_fen // 100, spend)
            for month, (v, yuan) in enumerate(zip(by_month_visits, by_month_yuan, strict=True), start=1):
                self._add(
                    TourismRecord,
                    {
                        "month": dt.date(year, month, 1),
                        "region_id": region_id,
                        "community_id": community_id,
                        "visits": v,
                        "income_fen": yuan * 100,
                        "note": note,
                        "recorded_by_id": self.admin_id,
                        "updated_at": self._stamp(_month_end(year, month) + dt.timedelta(days=5)),
                    },
                )

        if self.yanhe_community_id:
            for year in TOURISM_YEARS:
                months(None, self.yanhe_community_id, year, YANHE_VISITS[year], YANHE_INCOME_FEN, "")
        for town, visits, per_visit in TOURISM_TOWNS:
            if town not in self.townships:
                continue
            note = "不含堰河茶旅联建共同体" if town == "五山镇" else ""
            for offset, year in enumerate(TOURISM_YEARS):
                grown = int(visits * (1.06**offset) * rng.uniform(0.97, 1.03))
                months(self.townships[town], None, year, grown, grown * per_visit * 100, note)
        for village in self.tourism_villages:
            base = rng.randint(18_000, 65_000)
            per_visit = rng.randint(120, 220)
            for offset, year in enumerate(TOURISM_YEARS):
                grown = int(base * (1.07**offset) * rng.uniform(0.95, 1.05))
                months(village.id, None, year, grown, grown * per_visit * 100, "")

    # -- the catalogue ---------------------------------------------------------------------------------

    def _catalogue(self) -> None:
        """Products of every township, made by its businesses (a product's origin is its producer's
        village); every one is sold at the township's 2022 expo."""
        rng = self.rng
        self.products: list[_Prod] = []
        self.products_of: dict[str, list[_Prod]] = defaultdict(list)
        townships = [t for t, *_rest in data.TOWNSHIP_LAYOUT if self.businesses_of.get(t)]
        shares = _largest_remainder(self.plan.products, [1.0] * len(townships))
        numbers: dict[str, int] = defaultdict(int)
        names: set[str] = set()
        for township, count in zip(townships, shares, strict=True):
            categories: list[tuple[str, float]] = []
            for chain in TOWNSHIP_CHAINS[township]:
                categories += [(c, 3.0) for c in CHAIN_CATEGORIES[chain]]
            categories += [(c, 1.0) for c in TOWNSHIP_EXTRA_CATEGORIES[township]]
            producers = [b for b in self.businesses_of[township] if b.kind != BusinessKind.HOUSEHOLD]
            households = [b for b in self.businesses_of[township] if b.kind == BusinessKind.HOUSEHOLD]
            producer_weights = [PRODUCER_WEIGHTS.get(b.kind, 1.5) for b in producers]
            focus = next(e.focus for e in EVENTS_2022 if e.town == township)
            focused = [(c, b) for c, bs in PRODUCT_BASES.items() for b in bs if b[0] in focus]
            made = 0
            attempts = 0
            while made < count:
                attempts += 1
                if attempts > count * 50:
                    raise RuntimeError(f"catalogue of {township}: too few distinct names")
                category = rng.choices([c for c, _w in categories], [w for _c, w in categories])[0]
                bases = PRODUCT_BASES[category]
                base = rng.choice(bases)
                if focused and rng.random() < 0.3:
                    category, base = rng.choice(focused)
                name_base, chain, unit, (low, high), specs = base
                if households and rng.random() < 0.12:
                    producer = rng.choice(households)
                else:
                    producer = rng.choices(producers, producer_weights)[0]
                spec = rng.choice(specs)
                place = _stem(producer.village.name)
                name = f"{place}{name_base}（{spec}）"
                if name in names and producer.brand:
                    name = f"{producer.brand}{name_base}（{spec}）"
                if name in names:
                    continue
                names.add(name)
                numbers[category] += 1
                code = f"GC-{CATEGORY_CODES[category]}-{numbers[category]:04d}"
                price_yuan = rng.randint(low, high)
                product_id = self._add(
                    Product,
                    {
                        "code": code,
                        "name": name,
                        "category": category,
                        "origin_region_id": producer.village.id,
                        "chain_id": self.chain_ids.get(chain) if chain else None,
                        "producer_id": producer.id,
                        "unit": unit,
                        "created_at": self._stamp(dt.date(2021, 12, 10)),
                    },
                )
                product = _Prod(product_id, name_base, price_yuan * 100, producer)
                producer.products.append(product)
                self.products.append(product)
                self.products_of[township].append(product)
                made += 1
        self.stats["products"] = len(self.products)

    # -- events, exhibitors and sales ------------------------------------------------------------------

    def _events(self) -> None:
        rng = self.rng
        layout = [t for t, *_rest in data.TOWNSHIP_LAYOUT]
        plan = self.plan
        totals = [e.total_yuan for e in EVENTS_2022]
        assert sum(totals) * 100 == EXPO_TOTAL_2022_FEN
        records_per_event = _largest_remainder(plan.sales_2022, totals)
        sold_2022: set[int] = set()
        net_2022 = 0
        specs = [(e, n, True) for e, n in zip(EVENTS_2022, records_per_event, strict=True)]
        specs += [(e, plan.sales_later, False) for e in EVENTS_LATER]
        self.corrections: list[tuple[dict[str, Any], dict[str, Any], str]] = []
        for spec, n_records, exact in specs:
            if spec.town not in self.townships:
                continue
            event_id = self._event(spec)
            # Exhibitors: every producer of the town (so every 2022 product is sold), and a few from the
            # neighbouring towns with their own goods.
            index = layout.index(spec.town)
            neighbours = [layout[(index - 1) % len(layout)], layout[(index + 1) % len(layout)]]
            own = [b for b in self.businesses_of[spec.town] if b.products]
            if not exact:
                own = rng.sample(own, max(1, int(len(own) * 0.7)))
            guests: list[_Biz] = []
            for town in neighbours:
                makers = [b for b in self.businesses_of.get(town, []) if b.products]
                guests += rng.sample(makers, min(len(makers), max(1, len(makers) // 5)))
            exhibitors = [
                self._exhibitor(event_id, spec.starts_on - dt.timedelta(days=7), biz, n)
                for n, biz in enumerate(own + guests, start=1)
            ]
            offers = [(ex, p) for ex in exhibitors for p in ex.biz.products]
            if not offers:
                continue
            total_fen = spec.total_yuan * 100 if exact else int(spec.total_yuan * rng.uniform(0.9, 1.1)) * 100
            corrections = 1 if exact and len(self.corrections) < plan.corrections else 0
            net = self._sales(spec, event_id, offers, n_records, total_fen, corrections=corrections)
            if exact:
                net_2022 += net
                sold_2022.update(p.id for _ex, p in offers)
        self.writer.flush(SalesRecord)
        # Reversals after their originals are in the table: the trigger reads the original.
        for original, corrected, reason in self.corrections:
            reversal = dict(original)
            reversal.update(
                amount_fen=-original["amount_fen"],
                quantity=-original["quantity"],
                reverses_id=original["id"],
                reason=reason,
                idempotency_key=None,
                created_at=self._stamp(original["sold_on"] + dt.timedelta(days=1), 10),
            )
            self._add(SalesRecord, reversal)
            corrected["created_at"] = self._stamp(original["sold_on"] + dt.timedelta(days=1), 11)
            self._add(SalesRecord, corrected)
            self.stats["sales"] += 2
        if net_2022 != EXPO_TOTAL_2022_FEN:
            raise AssertionError(f"2022 sales net {net_2022} != {EXPO_TOTAL_2022_FEN}")
        self.stats["net_2022_fen"] = net_2022
        self.stats["products_sold_2022"] = len(sold_2022)

    def _event(self, spec: _EventSpec) -> int:
        ends_on = spec.starts_on + dt.timedelta(days=spec.days - 1)
        return self._add(
            Event,
            {
                "kind": spec.kind,
                "name": spec.name,
                "series": SERIES,
                "region_id": self.townships[spec.town],
                "town_product": spec.town_product,
                "starts_on": spec.starts_on,
                "ends_on": ends_on,
                "venue": spec.venue,
                "organiser": ORGANISER.format(town=spec.town),
                "description": f"“{SERIES}”农旅展览会{spec.town}站，以“一镇一品”{spec.town_product}为主题，"
                "线上线下同步销售。",
                "created_at": self._stamp(spec.starts_on - dt.timedelta(days=30), 9),
                "updated_at": self._stamp(ends_on + dt.timedelta(days=3), 9),
            },
        )

    def _exhibitor(self, event_id: int, starts_on: dt.date, biz: _Biz, number: int) -> _Exh:
        booth = f"{'ABCDEFGH'[(number - 1) // 40 % 8]}{(number - 1) % 40 + 1:02d}"
        exhibitor_id = self._add(
            Exhibitor,
            {
                "event_id": event_id,
                "business_id": biz.id,
                "booth": booth,
                "created_at": self._stamp(starts_on, 8),
            },
        )
        return _Exh(exhibitor_id, biz)

    def _sales(
        self,
        spec: _EventSpec,
        event_id: int,
        offers: list[tuple[_Exh, _Prod]],
        n_records: int,
        total_fen: int,
        *,
        corrections: int,
    ) -> int:
        """Write `n_records` sales (at least one per offer) netting to `total_fen`; returns the net."""
        rng = self.rng
        platforms = [p for p, _w in PLATFORMS]
        platform_weights = [w for _p, w in PLATFORMS]
        # Each offer's pull: the town's own product sells most, neighbours' goods less.
        pull = []
        for _ex, product in offers:
            weight = rng.lognormvariate(0, 0.8)
            if product.base in spec.focus:
                weight *= 6
            pull.append(weight)
        picks = list(range(len(offers)))
        extra = max(0, n_records - len(offers))
        picks += rng.choices(range(len(offers)), pull, k=extra)
        # An order's size: lognormal around the event's mean, in jiao so the amounts carry 角 now and then.
        sizes = [pull[i] * rng.lognormvariate(0, 0.6) for i in picks]
        amounts = [a * 10 for a in _split_capped(total_fen // 10, sizes, RECORD_CAP_FEN // 10)]
        if min(amounts) <= 0:
            raise AssertionError("a demo sale of nothing: too many records for the event's total")
        days = [spec.starts_on + dt.timedelta(days=d) for d in range(spec.days)]
        recorder = (
            self.township_admin_id if spec.town == "城关镇" and self.township_admin_id else self.admin_id
        )
        corrections_left = corrections
        step = max(1, len(picks) // (corrections + 1))
        next_at = step - 1
        net = 0
        for n, (i, amount) in enumerate(zip(picks, amounts, strict=True)):
            ex, product = offers[i]
            online = rng.random() < spec.online_share
            channel = SalesChannel.ONLINE if online else SalesChannel.OFFLINE
            platform = rng.choices(platforms, platform_weights)[0] if online else ""
            sold_on = rng.choice(days)
            row = {
                "event_id": event_id,
                "exhibitor_id": ex.id,
                "product_id": product.id,
                "channel": channel,
                "platform": platform,
                "sold_on": sold_on,
                "quantity": _quantity(amount, product.price_fen),
                "amount_fen": amount,
                "reverses_id": None,
                "reason": "",
                "source": SalesSource.API if online else SalesSource.PAGE,
                "import_job_id": None,
                "idempotency_key": None,
                "recorded_by_id": recorder,
                "created_at": self._stamp(sold_on, 20),
            }
            net += amount
            if corrections_left and n >= next_at and len(ex.biz.products) > 1:
                next_at += step
                what, reason = CORRECTIONS[len(self.corrections) % len(CORRECTIONS)]
                corrections_left -= 1
                wrong = dict(row)
                if what == "amount" and amount * 10 <= AMOUNT_MAX_FEN:
                    wrong["amount_fen"] = amount * 10
                    wrong["quantity"] = _quantity(amount * 10, product.price_fen)
                elif what == "product":
                    other = next(p for p in ex.biz.products if p.id != product.id)
                    wrong["product_id"] = other.id
                    wrong["quantity"] = _quantity(amount, other.price_fen)
                else:
                    wrong["channel"], wrong["platform"], wrong["source"] = (
                        SalesChannel.OFFLINE,
                        "",
                        SalesSource.PAGE,
                    )
                    row["channel"], row["platform"], row["source"] = (
                        SalesChannel.ONLINE,
                        "抖音",
                        SalesSource.API,
                    )
                    reason = CORRECTIONS[2][1]
                self._add(SalesRecord, wrong)
                self.stats["sales"] += 1
                self.corrections.append((wrong, row, reason))
                continue
            self._add(SalesRecord, row)
            self.stats["sales"] += 1
        return net


def _split_capped(total: int, weights: Sequence[float], cap: int) -> list[int]:
    """Split `total` in proportion to `weights` with no share above `cap` (the shares that would be are
    held at `cap` and the rest is split again among the others); sums exactly to `total`."""
    if total > cap * len(weights):
        raise ValueError("total above cap × shares")
    held: set[int] = set()
    while True:
        free = [i for i in range(len(weights)) if i not in held]
        shares = _largest_remainder(total - cap * len(held), [weights[i] for i in free])
        over = [i for i, share in zip(free, shares, strict=True) if share > cap]
        if not over:
            result = [cap] * len(weights)
            for i, share in zip(free, shares, strict=True):
                result[i] = share
            return result
        held.update(over)


def _quantity(amount_fen: int, price_fen: int) -> Decimal:
    return (Decimal(amount_fen) / Decimal(price_fen)).quantize(Decimal("0.01"))


def _stem(village_name: str) -> str:
    for suffix in ("社区", "村"):
        if village_name.endswith(suffix):
            return village_name[: -len(suffix)]
    return village_name


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _month_end(year: int, month: int) -> dt.date:
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


def industry_demo_counts(under: str) -> dict[str, int]:
    """Headline figures of the industry demo under the region path `under` (for the seed's report)."""
    events_2022 = Event.objects.filter(region__path__startswith=under, starts_on__year=2022)
    sales = SalesRecord.objects.filter(event__in=events_2022)
    return {
        "industry_chains": IndustryChain.objects.count(),
        "expos_2022": events_2022.count(),
        "products_sold_2022": sales.filter(reverses__isnull=True).values("product").distinct().count(),
        "sales_2022_fen": int(sales.aggregate(n=models.Sum("amount_fen"))["n"] or 0),
        "featured_towns": RegionDesignation.objects.filter(
            kind=DesignationKind.FEATURED_TOWN, region__path__startswith=under
        ).count(),
    }

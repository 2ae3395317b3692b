"""Word lists and fixed figures for the demo county (governance/demo.py).

Only 谷城县's ten towns, 花圃村, 堰河村 and 民营社区 are real names; every other village, community and
person is made up. The figures the demo must reproduce come from gucheng.md: 3,551 grid leaders, the
堰河村 joint Party committee with 7 neighbouring villages, six industry chains, five Shennong heroes
gatherings with 45 role models, "七个一百" (seven talent categories of one hundred people each) and
民营社区's 1,000+ residents aged 60 and over.
"""

from __future__ import annotations

import datetime as dt

# The day the demo data describes: ages, terms and pipeline dates are computed against it, so the data
# is the same whenever it is generated (and every birth date is in the past, as ID numbers require).
AS_OF = dt.date(2026, 10, 31)

# The statistical division codes as first published (RegionCode.valid_from of the older regions).
CODES_PUBLISHED = dt.date(2009, 1, 1)

COUNTY_NAME = "谷城县"
COUNTY_CODE = "420625000000"
ID_PREFIX = "420625"  # 湖北省襄阳市谷城县: the first six digits of a resident ID number registered here

TOTAL_GRIDS = 3551
# 民营社区 is the largest community of 石花镇 with 1,000+ residents aged 60+ (gucheng.md); its grids keep
# about a hundred households each at every scale but the test one.
MINYING_GRIDS = 18

# (name, kind, code, communities, villages): 270 villages and communities in all. The codes are the
# statistical ones (towns 1xx, the 乡 2xx); inside a township communities are numbered 001.., villages 200..
TOWNSHIP_LAYOUT: tuple[tuple[str, str, str, int, int], ...] = (
    ("城关镇", "town", "420625100000", 14, 26),
    ("石花镇", "town", "420625101000", 6, 26),
    ("盛康镇", "town", "420625102000", 3, 26),
    ("庙滩镇", "town", "420625103000", 3, 24),
    ("五山镇", "town", "420625104000", 2, 22),
    ("茨河镇", "town", "420625105000", 2, 24),
    ("南河镇", "town", "420625106000", 2, 20),
    ("紫金镇", "town", "420625107000", 2, 22),
    ("冷集镇", "town", "420625108000", 3, 22),
    ("赵湾乡", "xiang", "420625200000", 1, 20),
)

# Names that sit at fixed places of the layout: (township, kind, index within its kind) -> name. The
# codes follow: 新华村 420625100201, 民营社区 420625101002, 花圃村 420625107203, 堰河村 420625104210.
PINNED_VILLAGES: dict[tuple[str, str, int], str] = {
    ("城关镇", "village", 1): "新华村",
    ("石花镇", "community", 1): "民营社区",
    ("紫金镇", "village", 3): "花圃村",
    ("五山镇", "village", 10): "堰河村",
}
YANHE = "堰河村"
MINYING = "民营社区"
XINHUA = "新华村"
# 堰河村's seven neighbours in the joint Party committee (indexes among 五山镇's villages).
YANHE_NEIGHBOURS = (6, 7, 8, 9, 11, 12, 13)
YANHE_JOINT_COMMITTEE = "堰河村联合党委"

# Every town seat's first community; the rest come from COMMUNITY_NAMES.
COMMUNITY_NAMES = (
    "东门", "西门", "南门", "北门", "城东", "城西", "城南", "城北", "银城", "谷园", "光华", "建设", "粉阳",
    "筑阳", "滨江", "汉江", "新街", "老街", "中心街", "兴华", "繁荣", "振兴", "复兴", "和谐", "阳光", "锦绣",
    "春晖", "桂花园", "紫薇", "金桥", "奎星", "工业园", "站前", "河滨",
)  # fmt: skip
VILLAGE_FAMILY_NAMES = (
    "王家", "李家", "张家", "刘家", "陈家", "黄家", "周家", "胡家", "杨家", "吴家", "徐家", "孙家", "朱家",
    "高家", "何家", "罗家", "郭家", "宋家", "谢家", "邓家", "冯家", "曹家", "彭家", "曾家", "肖家", "田家",
    "董家", "潘家", "袁家", "蔡家", "余家", "杜家", "叶家", "程家", "魏家", "苏家", "丁家", "沈家", "姚家",
    "卢家", "钟家", "姜家", "谭家", "廖家", "范家", "汪家", "金家", "石家", "夏家", "方家", "白家", "邹家",
    "熊家", "秦家", "江家", "雷家", "侯家", "龙家", "陶家", "贺家", "毛家", "龚家", "万家", "严家", "向家",
)  # fmt: skip
VILLAGE_FAMILY_SUFFIXES = ("湾", "营", "岗", "畈", "冲", "坪", "庄", "河", "洲", "垭", "沟", "店", "集", "岭")
VILLAGE_PLACE_NAMES = (
    "青龙", "白鹤", "黄龙", "石门", "龙泉", "桃园", "梨园", "柳林", "松树", "竹林", "枫树", "荷花", "梅花",
    "桂花", "茶园", "双河", "三岔", "五龙", "七里", "九里", "十里", "高峰", "马头", "凤凰", "黄金", "玉皇",
    "太平", "长春", "永安", "永兴", "兴隆", "丰收", "幸福", "团结", "红星", "胜利", "前进", "和平", "东风",
    "光明", "民主", "友谊", "联合", "新民", "新河", "新庄", "新集", "新店", "红旗", "向阳", "朝阳", "东山",
    "西山", "南山", "北山", "东岗", "西岗", "南岗", "北岗", "上坪", "下坪", "中坪", "大坪", "小河", "大河",
    "金山", "银山", "石桥", "板桥", "冷水", "白水", "清泉", "龙潭", "仙人", "观音", "堰塘", "庙岗", "老鸦",
    "土门", "槐树", "杏花", "沙河", "孤山", "马鞍", "狮子", "卧龙", "金星", "银河", "星火", "先锋", "长岭",
)  # fmt: skip
COMMUNITY_STREETS = ("建设路", "人民路", "解放路", "中心街", "新街", "老街", "滨河路", "民主路", "兴业路")

# Surnames with relative frequencies (the national ranking, a little more 胡, 熊, 程, 余 as in Hubei).
SURNAMES: tuple[tuple[str, float], ...] = (
    ("王", 7.1), ("李", 7.0), ("张", 6.8), ("刘", 6.2), ("陈", 4.8), ("杨", 3.3), ("黄", 2.6), ("胡", 2.2),
    ("赵", 2.0), ("吴", 1.9), ("周", 1.9), ("徐", 1.5), ("孙", 1.3), ("马", 1.1), ("朱", 1.2), ("郭", 1.1),
    ("何", 1.1), ("林", 0.9), ("高", 1.0), ("罗", 0.9), ("郑", 0.8), ("梁", 0.7), ("谢", 0.7), ("宋", 0.7),
    ("唐", 0.7), ("许", 0.6), ("韩", 0.6), ("邓", 0.7), ("冯", 0.6), ("曹", 0.6), ("彭", 0.6), ("曾", 0.5),
    ("肖", 0.6), ("田", 0.6), ("董", 0.5), ("潘", 0.4), ("袁", 0.5), ("蔡", 0.4), ("蒋", 0.4), ("余", 0.6),
    ("于", 0.3), ("杜", 0.4), ("叶", 0.4), ("程", 0.6), ("魏", 0.4), ("苏", 0.4), ("吕", 0.3), ("丁", 0.4),
    ("任", 0.4), ("卢", 0.3), ("姚", 0.3), ("沈", 0.3), ("钟", 0.3), ("姜", 0.3), ("崔", 0.2), ("谭", 0.4),
    ("陆", 0.2), ("范", 0.3), ("汪", 0.4), ("廖", 0.3), ("石", 0.3), ("金", 0.2), ("贾", 0.2), ("夏", 0.3),
    ("付", 0.3), ("方", 0.3), ("邹", 0.3), ("熊", 0.5), ("白", 0.2), ("孟", 0.2), ("秦", 0.2), ("邱", 0.2),
    ("侯", 0.2), ("江", 0.2), ("尹", 0.2), ("薛", 0.1), ("段", 0.2), ("雷", 0.3), ("龙", 0.2), ("黎", 0.2),
    ("史", 0.2), ("陶", 0.2), ("贺", 0.2), ("毛", 0.2), ("郝", 0.1), ("龚", 0.2), ("邵", 0.1), ("万", 0.2),
    ("覃", 0.1), ("向", 0.2), ("严", 0.1), ("戴", 0.1), ("孔", 0.1), ("常", 0.1), ("鲁", 0.1), ("柯", 0.1),
)  # fmt: skip

# Characters of given names by generation (birth year) and gender: names date people as they do in China.
GIVEN_NAME_CHARS: dict[tuple[str, str], str] = {
    ("old", "M"): "国建德明华生福贵发财金山成才富有兴旺忠义清正和平春保宝良文武全家永长荣松林海庆云先",
    ("old", "F"): "秀英兰芳桂珍梅凤菊花玉琴翠香莲娥云霞素淑华荣群月巧爱春贞莲兰",
    ("middle", "M"): "军勇强伟刚斌涛明辉华平波峰杰林健亮兵东红卫建国志海新胜利俊超鹏宏",
    ("middle", "F"): "丽红燕霞艳敏静娟萍芳玲琴梅英华慧春莉洁云琳晶婷娜丹",
    ("young", "M"): "浩宇杰轩博涛鹏磊超晨阳俊瑞凯睿翔昊天子豪泽文然哲航宸铭一思嘉",
    ("young", "F"): "婷欣怡雨佳梦涵琪诗萱悦雪晨妍思颖月馨瑶可蕾璐嘉子心若彤玥",
}

# Mobile prefixes of the three carriers (all match governance.pii's 1[3-9] rule).
PHONE_PREFIXES = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155",
    "156", "157", "158", "159", "166", "171", "173", "175", "176", "177", "178", "180", "181", "182", "183",
    "185", "186", "187", "188", "189", "191", "198", "199",
)  # fmt: skip

# The six agricultural industry chains, each with its Party branch and the township it is based in.
INDUSTRY_CHAINS: tuple[tuple[str, str], ...] = (
    ("茶叶", "五山镇"),
    ("食用菌", "庙滩镇"),
    ("油茶", "南河镇"),
    ("畜牧水产", "盛康镇"),
    ("黄桃", "冷集镇"),
    ("中药材", "赵湾乡"),
)

# "七个一百": (category value, specialities, training titles).
TALENT_SPECIALITIES: dict[str, tuple[str, ...]] = {
    "production": ("茶叶种植", "香菇栽培", "油茶种植", "黄桃种植", "稻虾共作", "生猪养殖", "水产养殖",
                   "中药材种植", "大棚蔬菜", "粮食种植"),
    "business": ("农民专业合作社经营", "家庭农场经营", "农产品收购", "乡村旅游经营", "农资经营",
                 "茶叶加工销售"),
    "craftsman": ("木工", "泥瓦工", "竹编", "石匠", "裁缝", "乡厨", "电工", "农机维修"),
    "ecommerce": ("直播带货", "网店运营", "农产品电商", "短视频制作", "快递物流"),
    "culture": ("花鼓戏", "民间歌舞", "书法", "剪纸", "腰鼓", "楹联", "乡村故事讲解"),
    "social_service": ("乡村医生", "乡村教师", "兽医", "农技推广", "养老护理", "法律服务", "人民调解"),
    "returned_entrepreneur": ("返乡办厂", "茶叶加工厂", "食用菌基地", "民宿经营", "农产品加工", "规模养殖场"),
}  # fmt: skip
TALENT_TRAININGS: dict[str, tuple[str, ...]] = {
    "production": ("高素质农民培育班", "茶园绿色防控技术培训", "食用菌标准化栽培培训", "稻虾共作技术培训"),
    "business": ("农民合作社带头人培训班", "家庭农场主培训班", "乡村旅游经营管理培训"),
    "craftsman": ("乡村工匠技能提升培训", "农村建筑工匠培训", "传统手工艺传承培训"),
    "ecommerce": ("农村电商直播带货培训", "网店运营实务培训", "短视频营销培训"),
    "culture": ("乡村文艺骨干培训班", "非遗传承人研修班", "群众文化活动组织培训"),
    "social_service": ("乡村医生业务培训", "农技推广人员知识更新培训", "人民调解员业务培训"),
    "returned_entrepreneur": ("返乡创业能力提升培训", "创业担保贷款政策培训", "农产品加工技术培训"),
}  # fmt: skip
TRAINING_ORGANISERS = (
    "谷城县委组织部",
    "谷城县农业农村局",
    "谷城县人力资源和社会保障局",
    "谷城县商务局",
    "谷城县乡村振兴局",
    "襄阳市农业广播电视学校",
)

# The five Shennong heroes gatherings: (session, date, venue, theme); nine role models each, 45 in all.
SHENNONG_GATHERINGS: tuple[tuple[int, dt.date, str, str], ...] = (
    (1, dt.date(2018, 12, 28), "谷城县文体中心", "崇尚劳动 致富光荣"),
    (2, dt.date(2019, 12, 27), "五山镇堰河村", "弘扬神农精神 争当致富能手"),
    (3, dt.date(2020, 12, 30), "紫金镇花圃村", "乡村振兴 英雄辈出"),
    (4, dt.date(2021, 12, 29), "石花镇民营社区", "奋进新时代 建功新农村"),
    (5, dt.date(2022, 12, 28), "谷城县文体中心", "赓续神农精神 共建和美乡村"),
)
ROLE_MODELS_PER_GATHERING = 9
ROLE_MODEL_TITLES: tuple[tuple[str, str], ...] = (
    ("致富带头人", "带领乡亲发展特色产业，帮助{n}户村民增收致富。"),
    ("孝老爱亲模范", "悉心照料年迈父母和患病亲人{n}余年，孝老爱亲、邻里称道。"),
    ("乡村振兴带头人", "牵头成立农民专业合作社，带动{n}户农户参与产业链发展。"),
    ("优秀百户网格长", "走村入户收集民情，一年调解矛盾纠纷{n}起，群众满意。"),
    ("返乡创业标兵", "返乡创办农产品加工企业，吸纳{n}名留守妇女在家门口就业。"),
    ("助人为乐模范", "热心公益，长期到爱心食堂做志愿者，服务老人{n}余人次。"),
    ("诚实守信模范", "诚信经营茶叶收购生意{n}年，从不短斤少两、拖欠货款。"),
    ("敬业奉献模范", "扎根乡村{n}年，义务为村民提供农技指导和生产服务。"),
    ("新型职业农民标兵", "推广绿色种养技术，示范面积{n}余亩，亩均增收明显。"),
)
PREFERRED_ROLE_MODEL_VILLAGES = (YANHE, "花圃村", MINYING, XINHUA)

STEP_NOTES = {
    "applicant": "向党组织递交入党申请书",
    "activist": "支部委员会确定为入党积极分子",
    "candidate": "支部委员会研究确定为发展对象",
    "probationary": "支部大会讨论通过，接收为预备党员",
    "full": "预备期满，按期转为正式党员",
}
TRANSFER_REASONS = ("婚迁", "返乡", "工作调动", "随子女迁居")

# The people the demo log-ins are (or work with): 王秀英 leads 新华村第一网格, 刘强 is 新华村's secretary.
GRID_LEADER_DEMO = ("王秀英", "F", 49)
VILLAGE_SECRETARY_DEMO = ("刘强", "M", 46)

CHINESE_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1..99 in Chinese numerals as used in grid names: 一, 十, 十一, 二十, 二十三."""
    if not 1 <= n <= 99:
        raise ValueError(n)
    tens, ones = divmod(n, 10)
    if tens == 0:
        return CHINESE_DIGITS[ones]
    return f"{'' if tens == 1 else CHINESE_DIGITS[tens]}十{CHINESE_DIGITS[ones] if ones else ''}"


def grid_name(n: int) -> str:
    return f"第{chinese_number(n)}网格"

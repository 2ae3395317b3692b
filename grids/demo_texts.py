"""Word lists for the demo cases: what residents of a Hubei county actually bring to their grid leader,
per sub-category code of grids/defaults.py, and what the handlers answer. {place} is a spot in the grid,
{surname} a family name; nothing here is a real person."""

from __future__ import annotations

PLACES = (
    "村东头",
    "村委会门口",
    "三组",
    "五组",
    "老学校旁",
    "河堤边",
    "茶园路口",
    "文化广场",
    "小卖部后面",
    "桥头",
    "水库下游",
    "集镇街口",
    "卫生室旁",
    "村级公路弯道处",
    "老屋场",
)

# Sub-category code → descriptions. A code missing here falls back to its duty's list.
DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "policy-consulting": (
        "{surname}大爷想了解今年高龄津贴怎么申请，需要带哪些材料。",
        "群众咨询新农合缴费标准和缴费截止时间，希望村里统一讲解一次。",
        "返乡青年咨询创业担保贷款的条件和办理流程。",
    ),
    "policy-farm-subsidy": (
        "{surname}家反映今年耕地地力保护补贴还没有到账，请帮忙核实。",
        "种粮户询问稻谷最低收购价和种粮补贴发放时间。",
        "茶农咨询茶园改造补助政策，想知道如何申报。",
    ),
    "policy-insurance": (
        "{surname}奶奶的医保卡在外地看病不能结算，家属请求协助办理异地就医备案。",
        "群众反映城乡居民养老保险缴费档次不清楚，希望有人上门讲解。",
    ),
    "policy-revitalisation": ("群众希望村里开一次乡村振兴政策宣讲会，讲讲产业奖补和人居环境整治政策。",),
    "policy-law": ("村民希望在农闲时开展一次防电信诈骗和反家暴法律知识宣传。",),
    "policy-customs": (
        "{surname}家准备办酒席，群众反映规模较大，希望按红白理事会章程劝导简办。",
        "有群众反映个别人家办丧事燃放鞭炮时间过长，影响邻居休息。",
    ),
    "dispute-neighbour": (
        "{surname}家与邻居因排水沟堵塞、污水流入对方院子发生争吵，请求调解。",
        "两户村民因屋后竹林遮挡采光发生口角，情绪激动。",
        "邻居养的狗多次咬伤鸡鸭，双方因赔偿问题争执不下。",
    ),
    "dispute-land-forest": (
        "{surname}家与邻组村民对一块山林的界址有争议，双方各执一词。",
        "两户因承包地界桩被挪动发生纠纷，请求村里现场勘界。",
    ),
    "dispute-homestead": ("{surname}家建房时院墙超出原宅基地界线，邻居不同意，双方发生争执。",),
    "dispute-family": (
        "{surname}家夫妻长期吵架，妻子回了娘家，家中老人请求村里出面调解。",
        "兄弟俩因分家时房屋分配不均发生矛盾。",
    ),
    "dispute-support": (
        "{surname}奶奶年过八旬，几个子女在赡养费分摊上互相推诿，老人生活困难。",
        "老人反映儿子长期在外不回家，不支付赡养费。",
    ),
    "dispute-wages": (
        "{surname}等8名村民在工地务工，包工头拖欠工资两个月未结清。",
        "茶叶加工厂季节工反映工钱迟迟未发。",
    ),
    "dispute-debt": ("{surname}家借给亲戚的钱到期未还，双方为此多次争吵。",),
    "sentiment-suggestion": (
        "群众建议在{place}安装路灯，晚上出行不安全。",
        "村民建议在文化广场增设健身器材，方便老人锻炼。",
        "群众希望增加镇上到村里的班车班次。",
    ),
    "sentiment-hazard": (
        "{place}的老房子墙体开裂严重，雨天有倒塌危险，屋内还住着老人。",
        "{place}电线老化下垂，离地面很近，存在触电隐患。",
        "{place}山体边坡有落石，威胁过往行人和车辆。",
    ),
    "sentiment-dispute-risk": ("{surname}家与施工方因青苗补偿存在分歧，群众情绪较大，需提前化解。",),
    "sentiment-opinion": ("群众对村里低保评议结果有议论，希望公开评议过程。",),
    "sentiment-key-people": (
        "独居老人{surname}大爷近日身体不好，无人照料，需要村里关注。",
        "留守儿童{surname}某某的父母在外务工，孩子近期厌学，需要关爱帮扶。",
    ),
    "coordination-road": (
        "{place}的村级公路出现大坑，雨后积水，电动车经过容易摔倒。",
        "通组公路路面开裂塌陷，大车无法通行。",
    ),
    "coordination-environment": (
        "{place}垃圾堆放点清运不及时，气味很大，苍蝇多。",
        "河边有人乱倒建筑垃圾，影响村容村貌。",
        "{place}沟渠里漂浮垃圾，群众希望尽快清理。",
    ),
    "coordination-building": ("有村民在{place}的耕地上违规搭建棚房，群众有意见。",),
    "coordination-waterway": (
        "{place}灌溉渠道被淤泥堵塞，下游农田放不了水。",
        "河堤有一段出现渗漏，汛期前需要加固。",
    ),
    "coordination-fire": ("近期天气干燥，{place}有人上山烧纸祭祀，存在山火隐患。",),
    "coordination-facilities": (
        "{place}的路灯坏了好几盏，晚上一片漆黑。",
        "文化广场的健身器材损坏，存在安全隐患。",
        "村里公共厕所水管损坏，无法正常使用。",
    ),
    "coordination-security": ("夜间有陌生车辆在{place}停留，群众担心偷盗，希望加强巡逻。",),
    "livelihood-traffic": (
        "{place}弯道没有反光镜和减速带，多次险些发生车辆碰撞。",
        "学生上学路段没有安全护栏，家长很担心。",
    ),
    "livelihood-water-power": (
        "{place}几户人家自来水已经停了三天，老人挑水困难。",
        "{surname}家所在的组电压不稳，电器无法正常使用。",
        "集中供水点水质浑浊，群众不敢饮用。",
    ),
    "livelihood-health-care": (
        "{surname}大爷行动不便，希望家庭医生上门随访。",
        "独居老人希望到村里的爱心食堂就餐，询问如何报名。",
    ),
    "livelihood-assistance": (
        "{surname}家因病致贫，申请纳入低保，请帮忙核实家庭情况。",
        "残疾人{surname}某某的两项补贴本月未到账。",
    ),
    "livelihood-jobs": (
        "返乡人员{surname}某某希望在家门口找工作，询问爱心作坊是否招工。",
        "留守妇女希望参加茶叶加工技能培训。",
    ),
    "livelihood-school": ("{surname}家孩子随父母返乡，需要办理转学入学手续。",),
    "livelihood-paperwork": (
        "{surname}奶奶行动不便，需要代办身份证换证。",
        "老人需要办理高龄津贴认证，无法到镇上，请求代办。",
    ),
    "livelihood-left-behind": ("留守老人{surname}奶奶的房屋漏雨，需要帮助修缮。",),
}

DUTY_FALLBACK: dict[str, tuple[str, ...]] = {
    "policy_outreach": ("群众希望了解最新的惠民政策，请网格长上门讲解。",),
    "dispute_mediation": ("{surname}家与邻居因琐事发生矛盾，请求调解。",),
    "public_sentiment": ("群众对{place}的公共事务有意见，希望村里重视。",),
    "governance_coordination": ("{place}的问题需要多方协调解决。",),
    "livelihood_service": ("{surname}家生活上遇到困难，请求帮助。",),
}

RESULTS: dict[str, tuple[str, ...]] = {
    "policy_outreach": (
        "已上门讲解政策，发放宣传资料，群众表示清楚了。",
        "已在村民小组会上统一宣讲，并协助群众准备申报材料。",
    ),
    "dispute_mediation": (
        "经网格长和乡贤说事评理团调解，双方达成一致，握手言和。",
        "组织双方现场协商，明确了界址和赔偿，已签订调解协议。",
    ),
    "public_sentiment": (
        "已核实情况并报告村两委，安排专人跟进，相关隐患已消除。",
        "意见已采纳，列入村里本年度为民办实事项目。",
    ),
    "governance_coordination": (
        "已协调相关单位到现场处理，问题已解决。",
        "已组织人员清理整治，并建立长效管护机制。",
    ),
    "livelihood_service": (
        "已协助办理完毕，群众表示感谢。",
        "已联系有关部门上门服务，问题已解决。",
    ),
}

FOLLOW_UP_NOTES = (
    "电话回访，群众对办理结果表示满意。",
    "入户回访，群众认可办理结果。",
    "回访时群众表示基本满意，希望今后多关注。",
)
UNSATISFIED_NOTES = (
    "回访时群众表示问题没有彻底解决，要求重新办理。",
    "群众反映处理后问题反复出现，不满意。",
)

MEDIATION_PLACES = ("村委会说事评理室", "当事人家中", "村党群服务中心", "田间地头")
MEDIATION_SUMMARIES = (
    "乡贤说事评理团成员听取双方陈述，讲法理、讲情理，双方情绪缓和，同意各让一步。",
    "调解员到现场察看，对照当年的协议和界址，提出调解方案，双方初步认可。",
)
AGREEMENT_TERMS = (
    "一、双方确认以现场界桩为界；二、今后互不侵占；三、本协议自双方签字之日起生效。",
    "一、赔偿款于本月底前一次付清；二、双方今后和睦相处，不再因此事发生争执。",
)

# County departments a county-level case may be assigned to (unit name, sub-category codes they take).
COUNTY_UNITS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("谷城县交通运输局", ("coordination-road", "livelihood-traffic")),
    ("谷城县水利和湖泊局", ("coordination-waterway", "livelihood-water-power")),
    ("谷城县民政局", ("livelihood-assistance", "livelihood-health-care", "livelihood-left-behind")),
    ("谷城县自然资源和规划局", ("dispute-land-forest", "dispute-homestead", "coordination-building")),
    ("谷城县人力资源和社会保障局", ("dispute-wages", "livelihood-jobs", "policy-insurance")),
    ("谷城县住房和城乡建设局", ("sentiment-hazard", "coordination-facilities")),
)

"""The modules in the navigation, in one place. Each later issue points its entry at its own pages."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Module:
    slug: str
    label: str | Promise
    summary: str | Promise
    icon: str  # a symbol id in static/img/icons.svg
    # The module's own landing page, once it has one; until then the placeholder at /m/<slug>/.
    url_name: str = ""

    @property
    def url(self) -> str:
        """Where the navigation and the home page's cards send people for this module."""
        if self.url_name:
            return reverse(self.url_name)
        return reverse("module-home", args=[self.slug])


MODULES: tuple[Module, ...] = (
    Module(
        "governance",
        _("组织治理"),
        _("县、乡镇、村（社区）、网格四级区域树；党组织与党员；户籍与居民；角色与管辖范围；操作审计。"),
        "org",
        url_name="governance:home",
    ),
    Module(
        "grids",
        _("网格民情"),
        _("百户网格长在手机上收集群众诉求，分级受理、派单、办结、回访，直至群众满意；乡贤说事评理团调解。"),
        "grid",
        url_name="grids:home",
    ),
    Module(
        "points",
        _("百分奖积分"),
        _("积分细则、申报审核与公示、双边记账的积分账户、积分超市与兑换日。"),
        "points",
        url_name="points:home",
    ),
    Module(
        "canteens",
        _("爱心食堂"),
        _("老人就餐登记、四方共担的费用分摊、社会捐赠、补贴结算；爱心讲堂、爱心作坊、红色驿站。"),
        "canteen",
        url_name="canteens:home",
    ),
    Module(
        "industry",
        _("产业发展"),
        _("农业产业链、村级集体经济、村企联建与村村联建、特色乡镇、农旅展览会与节会、销售与旅游。"),
        "industry",
        url_name="industry:home",
    ),
    Module(
        "dashboard",
        _("数据看板"),
        _("各级各期指标汇总：民情办结、积分发放与兑换、食堂就餐与补贴、产业销售与游客。"),
        "chart",
        url_name="dashboard:overview",
    ),
)

MODULES_BY_SLUG = {m.slug: m for m in MODULES}

"""Helpers for the sales-import tests: sheets built in memory in the template's column order, and the
fixtures they need (eager Celery and a throw-away MEDIA_ROOT come from the roster tests).

The data is tests/industry/factories.py's IndustryWorld (read-only import): 城关镇农旅展览会 running now
(today − 2 … today + 1) with exhibitors 新华茶叶专业合作社 (A01) and 谷城新华食品有限公司 (A02), and
石花镇香菇节 (today − 40 … today − 38) with 石花香菇专业合作社 (B01) and 石花奎面食品有限公司 (B02).
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from collections.abc import Sequence
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import Workbook

from industry.services.imports import TEMPLATE_HEADERS
from tests.governance.roster_factories import eager_celery, media_root  # noqa: F401 (fixtures)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CG = "城关镇农旅展览会"
SH = "石花镇香菇节"
XINHUA_TEA = "新华茶叶专业合作社"
XINHUA_TEA_CODE = "93420625MA4XH00014"
XINHUA_FOOD = "谷城新华食品有限公司"
SHIHUA_MUSHROOM = "石花香菇专业合作社"
SHIHUA_MUSHROOM_CODE = "93420625MA4TH0001C"
SHIHUA_NOODLE = "石花奎面食品有限公司"


def key() -> str:
    return uuid.uuid4().hex


def days_ago(days: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=days)


def sale(
    event: str = CG,
    business: str = XINHUA_TEA,
    product: str = "GC-TEA-0001",
    channel: str = "线下",
    platform: str = "",
    sold_on: Any = None,
    quantity: Any = "2",
    amount: Any = "100.50",
    *,
    credit_code: str = "",
    note: str = "",
) -> list[Any]:
    """A row in the template's column order (展会节会, 参展主体, 统一社会信用代码, 产品编码, 渠道, 销售平台,
    销售日期, 数量, 销售额（元）, 备注); the date defaults to yesterday (inside the 城关 event)."""
    when = days_ago(1).isoformat() if sold_on is None else sold_on
    return [event, business, credit_code, product, channel, platform, when, quantity, amount, note]


def xlsx_bytes(
    rows: Sequence[Sequence[Any]],
    headers: Sequence[str] | None = None,
    title: str | None = None,
    sheet_title: str = "销售记录",
) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = sheet_title
    if title:
        sheet.append([title])
    sheet.append(list(headers if headers is not None else TEMPLATE_HEADERS))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def upload(rows: Sequence[Sequence[Any]], name: str = "销售记录.xlsx", **kwargs: Any) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, xlsx_bytes(rows, **kwargs), content_type=XLSX)

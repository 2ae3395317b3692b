"""The data-quality page in a browser, on the demo county: the county admin on a desktop reads the
verification's differences and clicks 立即汇总 twice (one pass queued, the second click refused with
a message); a township admin on a phone sees no ledger row and no buttons, and nothing overflows."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from governance.models import RollupKind, RollupRun, RollupStatus
from governance.rollups import engine, lock
from governance.selectors import quality
from tests.browser_fixtures import login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.serial,
]


@pytest.fixture(autouse=True)
def _clean_redis():
    keys = [*quality.QUEUED_KEYS.values(), f"{engine.PROGRESS_KEY}:done", f"{engine.PROGRESS_KEY}:total"]
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)

    def clean() -> None:
        cache.delete_many(keys)
        broker.delete(lock.LOCK_KEY)
        for key in broker.scan_iter("rollups*"):
            broker.delete(key)

    clean()
    yield
    clean()


def _queued() -> list[str]:
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    return sorted(
        json.loads(raw)["headers"]["task"]
        for key in broker.scan_iter("rollups*")
        if broker.type(key) == b"list"
        for raw in broker.lrange(key, 0, -1)
    )


@pytest.fixture
def runs(demo_county) -> None:
    now = timezone.now()
    RollupRun.objects.create(
        kind=RollupKind.INCREMENTAL, status=RollupStatus.OK, started_at=now, finished_at=now
    )
    RollupRun.objects.create(
        kind=RollupKind.VERIFY,
        status=RollupStatus.DIFFERENT,
        started_at=now - dt.timedelta(minutes=3),
        finished_at=now - dt.timedelta(minutes=2),
        detail={"differences": 3},
    )


def test_county_admin_queues_one_pass(runs, desktop, screenshot):
    page = desktop
    login(page, "county_admin")
    page.goto("/dashboard/quality/")
    assert page.get_by_test_id("quality-verify-state").inner_text() == "3 处差异"
    assert page.get_by_test_id("quality-ledger").is_visible()
    assert page.get_by_test_id("quality-stale").count() == 0
    screenshot(page, "panel")

    page.get_by_role("button", name="立即汇总").click()
    page.get_by_text("已提交汇总，通常一分钟内完成，稍后刷新本页查看。").wait_for()
    assert page.get_by_test_id("quality-incremental-queued").inner_text() == "汇总已排队"
    assert page.get_by_role("button", name="立即汇总").is_disabled()
    assert _queued() == ["governance.rollup_incremental"]
    screenshot(page, "queued")

    # A second tab that still shows the button enabled: its click queues nothing more.
    other = page.context.new_page()
    other.goto("/dashboard/quality/")
    other.evaluate("document.querySelector('[data-testid=quality-run]').disabled = false")
    other.get_by_role("button", name="立即汇总").click()
    other.get_by_text("汇总已在排队，无需重复提交。").wait_for()
    assert _queued() == ["governance.rollup_incremental"]

    page.get_by_role("button", name="核对汇总").click()
    page.get_by_text("已提交核对，核对全部汇总数据需要几分钟，完成后刷新本页查看结果。").wait_for()
    assert _queued() == ["governance.rollup_incremental", "governance.rollup_verify"]


def test_township_admin_on_a_phone(runs, phone, screenshot):
    page = phone
    login(page, "township_admin")
    page.goto("/dashboard/quality/")
    page.get_by_test_id("quality-panel").wait_for()
    assert page.get_by_test_id("quality-ledger").count() == 0
    assert page.get_by_role("button", name="立即汇总").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "phone")

"""The dashboard's data-quality panel (governance/selectors/quality.py) and its page with the county
admins' two buttons (governance/views/dashboard_quality.py), on a frozen clock, real PostgreSQL and the
real Redis (cache, rollup lock and Celery broker).

The county C has townships T1 (villages V1 with grids G1, G2, and V2 with G4) and T2 (village V3 with
G3). NOW is Friday 20 November 2026, 10:00 in Gucheng.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import uuid
from zoneinfo import ZoneInfo

import pytest
import redis
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from canteens.models import ClaimStatus, Settlement, Site
from common.errors import NotFound
from governance.models import Region, RoleAssignment, RollupKind, RollupRun, RollupStatus, User
from governance.roles import Role
from governance.rollups import engine, lock
from governance.selectors import quality
from grids.models import Case, CaseCategory, CaseStatus, CaseSupervision, SupervisionKind
from points.models import LedgerCheck
from tests.rollups.factories import region_make

pytestmark = [pytest.mark.django_db, pytest.mark.serial]

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=TZ)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
S = CaseStatus
_numbers = itertools.count(1)


@pytest.fixture(autouse=True)
def _clean_redis():
    """No queued keys, rebuild progress, lock or queued task messages left over from another test."""
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


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


class World:
    def __init__(self) -> None:
        self.county = region_make("测试县", "county", "county", None)
        self.t1 = region_make("一镇", "township", "town", self.county)
        self.t2 = region_make("二镇", "township", "town", self.county)
        self.v1 = region_make("甲村", "village", "village", self.t1)
        self.v2 = region_make("乙村", "village", "village", self.t1)
        self.v3 = region_make("丙村", "village", "village", self.t2)
        self.g1 = region_make("第一网格", "grid", "grid", self.v1)
        self.g2 = region_make("第二网格", "grid", "grid", self.v1)
        self.g4 = region_make("第四网格", "grid", "grid", self.v2)
        self.g3 = region_make("第三网格", "grid", "grid", self.v3)
        self.reporter = User.objects.create(username="reporter")
        self.category = CaseCategory.objects.create(duty="service", code="Q1", name="测试类别")
        self.sites = {
            v.pk: Site.objects.create(kind="canteen", name=f"{v.name}爱心食堂", region=v)
            for v in (self.v1, self.v2, self.v3)
        }

    def user(self, role: Role, region: Region, name: str = "") -> User:
        user = User.objects.create(username=name or f"{role}-{region.pk}")
        RoleAssignment.objects.create(user=user, role=role, region=region)
        return user

    def case(
        self,
        grid: Region,
        status: str,
        *,
        sign: dt.datetime | None = None,
        resolve: dt.datetime | None = None,
    ) -> Case:
        return Case.objects.create(
            number=f"Q{next(_numbers)}",
            category=self.category,
            description="测试",
            grid=grid,
            reporter=self.reporter,
            idempotency_key=uuid.uuid4().hex,
            level="grid",
            handling_region=grid,
            filed_at=NOW - 10 * DAY,
            status=status,
            sign_deadline=sign,
            resolve_deadline=resolve,
        )

    def supervision(self, case: Case, kind: str, raised_at: dt.datetime) -> None:
        CaseSupervision.objects.create(case=case, kind=kind, deadline=raised_at - HOUR, raised_at=raised_at)

    def claim(
        self, village: Region, status: str, submitted_at: dt.datetime | None, month: int, year: int = 2026
    ) -> Settlement:
        return Settlement.objects.create(
            site=self.sites[village.pk],
            year=year,
            month=month,
            status=status,
            claim_number=f"BT{next(_numbers)}",
            submitted_at=submitted_at,
        )


@pytest.fixture
def world(clock) -> World:
    w = World()
    # Overdue now (grids' red rule): 5 in the county, 4 in T1, 3 in V1, 2 in G1, 1 in T2.
    w.case(w.g1, S.ASSIGNED, sign=NOW - HOUR, resolve=NOW + 5 * DAY)  # sign deadline passed, nobody signed
    w.case(w.g1, S.IN_PROGRESS, resolve=NOW - DAY)
    w.case(w.g2, S.SIGNED, sign=NOW - 3 * DAY, resolve=NOW - dt.timedelta(seconds=1))
    w.case(w.g4, S.IN_PROGRESS, resolve=NOW - 2 * DAY)
    w.case(w.g3, S.IN_PROGRESS, resolve=NOW - 3 * DAY)
    # Not overdue: the deadline is now itself (still in time), in the future, only the sign deadline
    # passed after signing, resolved late (off the clock), back in the queue (no clock), no deadline.
    w.case(w.g1, S.IN_PROGRESS, resolve=NOW)
    w.case(w.g1, S.ASSIGNED, sign=NOW + HOUR, resolve=NOW + 5 * DAY)
    w.case(w.g2, S.SIGNED, sign=NOW - DAY, resolve=NOW + DAY)
    w.case(w.g1, S.RESOLVED, resolve=NOW - 5 * DAY)
    w.case(w.g2, S.RETURNED, resolve=NOW - 5 * DAY)
    w.case(w.g4, S.SUBMITTED)
    # Red supervisions: 2 within 7 days in the county (G1, G3), the 8-day-old one and the yellow not.
    first = Case.objects.filter(grid=w.g1).order_by("pk").first()
    third = Case.objects.filter(grid=w.g3).first()
    assert first is not None
    assert third is not None
    w.supervision(first, SupervisionKind.RED, NOW - DAY)
    w.supervision(third, SupervisionKind.RED, NOW - 7 * DAY + HOUR)
    w.supervision(first, SupervisionKind.RED, NOW - 8 * DAY)
    w.supervision(first, SupervisionKind.YELLOW, NOW - HOUR)
    # Claims waiting: V1's (10 Nov), V2's (3 Nov), V3's (28 Oct); the others are decided or drafts.
    w.claim(w.v1, ClaimStatus.SUBMITTED, dt.datetime(2026, 11, 10, 9, 0, tzinfo=TZ), month=10)
    w.claim(w.v2, ClaimStatus.SUBMITTED, dt.datetime(2026, 11, 3, 9, 0, tzinfo=TZ), month=10)
    w.claim(w.v3, ClaimStatus.SUBMITTED, dt.datetime(2026, 10, 28, 9, 0, tzinfo=TZ), month=9)
    w.claim(w.v1, ClaimStatus.APPROVED, dt.datetime(2026, 9, 1, 9, 0, tzinfo=TZ), month=8)
    w.claim(w.v1, ClaimStatus.RETURNED, dt.datetime(2026, 9, 2, 9, 0, tzinfo=TZ), month=7)
    w.claim(w.v1, ClaimStatus.DRAFT, None, month=11)
    # The ledger: an earlier check agreed; the latest found two differences.
    with time_machine.travel(NOW - 3 * HOUR, tick=False):
        LedgerCheck.objects.create(is_ok=True, accounts_checked=10, differences=[])
    with time_machine.travel(NOW - 20 * dt.timedelta(minutes=1), tick=False):
        LedgerCheck.objects.create(
            is_ok=False,
            accounts_checked=12,
            differences=[
                {
                    "kind": "balance_mismatch",
                    "id": 7,
                    "stored": 120,
                    "expected": 100,
                    "account_kind": "household",
                },
                {"kind": "stock_negative", "id": 3, "stored": -2, "expected": 0, "account_kind": ""},
            ],
        )
    # The rollups: a pass 5 minutes ago; a verification that found 3 differences an hour ago.
    RollupRun.objects.create(
        kind=RollupKind.INCREMENTAL,
        status=RollupStatus.OK,
        started_at=NOW - 5 * dt.timedelta(minutes=1) - dt.timedelta(seconds=2),
        finished_at=NOW - 5 * dt.timedelta(minutes=1),
    )
    RollupRun.objects.create(
        kind=RollupKind.VERIFY,
        status=RollupStatus.DIFFERENT,
        started_at=NOW - HOUR - dt.timedelta(minutes=2),
        finished_at=NOW - HOUR,
        detail={"differences": 3},
    )
    return w


# --------------------------------------------------------------------------------------------------
# The selector


def test_county_admin_sees_everything(world):
    admin = world.user(Role.COUNTY_ADMIN, world.county)
    panel = quality.quality_for(user=admin)
    assert panel.county_wide is True
    assert panel.ledger is not None
    assert panel.ledger.checked_at == NOW - 20 * dt.timedelta(minutes=1)
    assert (panel.ledger.is_ok, panel.ledger.accounts_checked, panel.ledger.differences) == (False, 12, 2)
    assert [(k.kind, k.label, k.count) for k in panel.ledger.kinds] == [
        ("balance_mismatch", "账户余额与分录不符", 1),
        ("stock_negative", "库存为负", 1),
    ]
    assert panel.ledger.lines == (
        "账户 #7（household）记录余额 120 分，分录合计 100 分",
        "商品 #3 库存为负：-2",
    )
    assert panel.rollups.last_verify_differences == 3
    assert panel.verify_state == "different"
    assert panel.rollups.last_verify_at == NOW - HOUR
    assert panel.rollups.last_run_at == NOW - 5 * dt.timedelta(minutes=1)
    assert panel.last_run_status_label == "完成"
    assert panel.stale is False
    assert (panel.overdue_cases, panel.red_supervisions) == (5, 2)
    assert panel.overdue_tab == "handling"  # 4 of the 5 are signed for or in progress
    assert panel.claims_waiting == 3
    assert panel.claims_oldest == dt.datetime(2026, 10, 28, 9, 0, tzinfo=TZ)
    assert (panel.can_open_queue, panel.can_open_claims, panel.can_run) == (True, True, True)
    assert (panel.incremental_queued, panel.verify_queued) == (False, False)
    assert panel.has_warnings is True


@pytest.mark.parametrize(
    ("role", "where", "overdue", "red", "claims", "oldest_day", "links"),
    [
        (Role.TOWNSHIP_ADMIN, "t1", 4, 1, 2, 3, (True, True)),
        (Role.TOWNSHIP_ADMIN, "t2", 1, 1, 1, 28, (True, True)),
        (Role.VILLAGE_SECRETARY, "v1", 3, 1, 1, 10, (True, False)),
        (Role.VIEWER, "v2", 1, 0, 1, 3, (False, False)),
        (Role.GRID_LEADER, "g1", 2, 1, 0, None, (True, False)),
        (Role.VIEWER, "t1", 4, 1, 2, 3, (False, False)),
    ],
)
def test_below_the_county_the_figures_are_scoped_and_the_ledger_is_not_shown(
    world, role, where, overdue, red, claims, oldest_day, links
):
    user = world.user(role, getattr(world, where))
    panel = quality.quality_for(user=user)
    assert panel.county_wide is False
    assert panel.ledger is None
    assert (panel.overdue_cases, panel.red_supervisions, panel.claims_waiting) == (overdue, red, claims)
    oldest = panel.claims_oldest
    assert (oldest.astimezone(TZ).day if oldest else None) == oldest_day
    assert (panel.can_open_queue, panel.can_open_claims) == links
    assert panel.can_run is False
    # The rollups are county-wide facts: the same status for everyone with a dashboard role.
    assert (panel.verify_state, panel.rollups.last_verify_differences, panel.stale) == ("different", 3, False)


def test_a_viewer_at_county_level_sees_the_ledger_and_two_townships_add_up(world):
    viewer = world.user(Role.VIEWER, world.county)
    panel = quality.quality_for(user=viewer)
    assert panel.county_wide is True
    assert panel.ledger is not None
    assert panel.ledger.differences == 2
    assert panel.can_run is False
    both = world.user(Role.TOWNSHIP_ADMIN, world.t1, name="both")
    RoleAssignment.objects.create(user=both, role=Role.TOWNSHIP_ADMIN, region=world.t2)
    panel = quality.quality_for(user=both)
    assert (panel.overdue_cases, panel.red_supervisions, panel.claims_waiting, panel.ledger) == (
        5,
        2,
        3,
        None,
    )


def test_nobody_without_a_dashboard_role_sees_the_panel(world):
    manager = world.user(Role.CANTEEN_MANAGER, world.v1)
    with pytest.raises(NotFound):
        quality.quality_for(user=manager)
    with pytest.raises(NotFound):
        quality.quality_for(user=User.objects.create(username="nobody"))


def test_stale_after_fifteen_minutes_without_a_pass(world, clock):
    admin = world.user(Role.COUNTY_ADMIN, world.county)
    clock.move_to(NOW + 10 * dt.timedelta(minutes=1))  # the last pass is 15 minutes old: still fresh
    assert quality.quality_for(user=admin).stale is False
    clock.move_to(NOW + 10 * dt.timedelta(minutes=1) + dt.timedelta(seconds=1))
    panel = quality.quality_for(user=admin)
    assert panel.stale is True
    assert panel.has_warnings is True
    # A skipped pass is no pass; a verification is none either.
    RollupRun.objects.create(
        kind=RollupKind.INCREMENTAL,
        status=RollupStatus.SKIPPED,
        started_at=clock_now(),
        finished_at=clock_now(),
    )
    assert quality.quality_for(user=admin).stale is True
    RollupRun.objects.create(
        kind=RollupKind.NIGHTLY, status=RollupStatus.OK, started_at=clock_now(), finished_at=clock_now()
    )
    assert quality.quality_for(user=admin).stale is False


def clock_now() -> dt.datetime:
    from django.utils import timezone

    return timezone.now()


def test_never_run_and_a_clean_state(clock):
    w = World()
    admin = w.user(Role.COUNTY_ADMIN, w.county)
    panel = quality.quality_for(user=admin)
    assert panel.stale is True  # no pass ever: nothing on the dashboard is current
    assert panel.verify_state == "never"
    assert panel.ledger is not None
    assert panel.ledger.has_run is False
    assert (panel.overdue_cases, panel.red_supervisions, panel.claims_waiting, panel.claims_oldest) == (
        0,
        0,
        0,
        None,
    )
    RollupRun.objects.create(
        kind=RollupKind.INCREMENTAL, status=RollupStatus.OK, started_at=NOW, finished_at=NOW
    )
    RollupRun.objects.create(kind=RollupKind.VERIFY, started_at=NOW)  # still running
    panel = quality.quality_for(user=admin)
    assert (panel.stale, panel.verify_state) == (False, "running")
    with time_machine.travel(NOW, tick=False):
        LedgerCheck.objects.create(is_ok=True, accounts_checked=40, differences=[])
    RollupRun.objects.create(
        kind=RollupKind.VERIFY,
        status=RollupStatus.OK,
        started_at=NOW,
        finished_at=NOW,
        detail={"differences": 0},
    )
    panel = quality.quality_for(user=admin)
    assert panel.verify_state == "exact"
    assert panel.ledger is not None
    assert (panel.ledger.is_ok, panel.ledger.accounts_checked) == (True, 40)
    assert panel.has_warnings is False


def test_a_constant_number_of_queries(world, django_assert_num_queries):
    admin = world.user(Role.COUNTY_ADMIN, world.county)
    township = world.user(Role.TOWNSHIP_ADMIN, world.t1)
    quality.quality_for(user=admin)  # prepares the role look-up statement on this connection
    # roles, rollup_status (roles, last pass, last verification), ledger check, cases, supervisions, claims
    with django_assert_num_queries(8):
        quality.quality_for(user=admin)
    with django_assert_num_queries(7):  # no ledger check below the county
        quality.quality_for(user=township)
    for i in range(20):  # more of everything: the same number of queries
        world.case(world.g2, S.IN_PROGRESS, resolve=NOW - DAY)
        world.claim(world.v2, ClaimStatus.SUBMITTED, NOW - DAY, month=1 + i % 12, year=2020 + i // 12)
    with django_assert_num_queries(8):
        panel = quality.quality_for(user=admin)
    assert panel.overdue_cases == 25


def test_progress_of_a_full_rebuild(world):
    admin = world.user(Role.COUNTY_ADMIN, world.county)
    engine.progress_start(4)
    engine.progress_step()
    panel = quality.quality_for(user=admin)
    assert (panel.rollups.progress.done, panel.rollups.progress.total, panel.rollups.progress.running) == (
        1,
        4,
        True,
    )
    body = _page(admin)
    assert 'data-testid="quality-rebuild"' in body
    assert "已完成 1 / 4 个乡镇" in body
    assert "25%" in body


# --------------------------------------------------------------------------------------------------
# The page


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _page(user: User) -> str:
    response = _client(user).get(reverse("dashboard:quality"))
    assert response.status_code == 200
    return response.content.decode()


def _queued() -> list[str]:
    """The task names waiting on the broker's rollups queue."""
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    names = []
    for key in broker.scan_iter("rollups*"):
        if broker.type(key) != b"list":
            continue
        for raw in broker.lrange(key, 0, -1):
            names.append(json.loads(raw)["headers"]["task"])
    return sorted(names)


def _post(client: Client, action: str) -> list[str]:
    """POST the action, follow the redirect back to the page, and return the flash messages shown."""
    response = client.post(reverse("dashboard:quality"), {"action": action}, follow=True)
    assert response.redirect_chain == [(reverse("dashboard:quality"), 302)]
    shown = [str(m) for m in response.context["messages"]]
    for text in shown:
        assert text in response.content.decode()
    return shown


def test_the_page_for_the_county_admin(world):
    admin = world.user(Role.COUNTY_ADMIN, world.county)
    body = _page(admin)
    assert "积分账务核对" in body
    assert _tagged(body, "quality-ledger-state") == "2 处差异"
    assert "2026-11-20 09:40 核对，共 12 个账户" in body
    assert "账户余额与分录不符：1 处" in body
    assert "商品 #3 库存为负：-2" in body
    assert _tagged(body, "quality-verify-state") == "3 处差异"
    assert "2026-11-20 09:00 核对完成" in body
    assert "2026-11-20 09:55（完成）" in body
    assert 'data-testid="quality-stale"' not in body
    assert "近 7 天超期督办 2 次" in body
    assert f'href="{reverse("grids:queue")}?warning=red&amp;tab=handling"' in body
    assert f'href="{reverse("canteens:claims")}?status=submitted"' in body
    assert "最早一份 2026-10-28 申报" in body
    assert "立即汇总" in body
    assert "核对汇总" in body
    assert 'data-testid="quality-rebuild"' not in body


def _tagged(body: str, testid: str) -> str:
    """The text of the element carrying data-testid=`testid` (a badge: no markup inside)."""
    start = body.index(">", body.index(f'data-testid="{testid}"')) + 1
    return body[start : body.index("<", start)].strip()


def test_the_page_figures_per_row(world):
    admin = world.user(Role.COUNTY_ADMIN, world.county)
    body = _page(admin)
    assert _tagged(body, "quality-overdue-count") == "5 件"
    assert _tagged(body, "quality-claims-count") == "3 份"
    village = world.user(Role.VILLAGE_SECRETARY, world.v1)
    body = _page(village)
    assert _tagged(body, "quality-overdue-count") == "3 件"
    assert _tagged(body, "quality-claims-count") == "1 份"
    assert "最早一份 2026-11-10 申报" in body
    assert "canteens/claims" not in body  # a village secretary does not approve claims


def test_a_township_admin_sees_no_ledger_and_no_buttons(world):
    township = world.user(Role.TOWNSHIP_ADMIN, world.t1)
    body = _page(township)
    assert "积分账务核对" not in body
    assert 'data-testid="quality-ledger"' not in body
    assert "立即汇总" not in body
    assert "核对汇总" not in body
    assert _tagged(body, "quality-overdue-count") == "4 件"
    response = _client(township).post(reverse("dashboard:quality"), {"action": "verify"})
    assert response.status_code == 403
    assert _queued() == []


def test_the_page_is_not_found_without_a_dashboard_role_and_asks_strangers_to_log_in(world):
    manager = world.user(Role.CANTEEN_MANAGER, world.v1)
    assert _client(manager).get(reverse("dashboard:quality")).status_code == 404
    assert _client(manager).post(reverse("dashboard:quality"), {"action": "verify"}).status_code == 404
    response = Client().get(reverse("dashboard:quality"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_stale_warning_on_the_page(world, clock):
    admin = world.user(Role.COUNTY_ADMIN, world.county)
    clock.move_to(NOW + 30 * dt.timedelta(minutes=1))
    body = _page(admin)
    assert 'data-testid="quality-stale"' in body
    assert "汇总数据已超过 15 分钟没有更新（上次汇总 2026-11-20 09:55），看板上的数字可能滞后。" in body


def test_the_run_button_queues_one_pass_however_often_it_is_clicked(world):
    admin = world.user(Role.COUNTY_ADMIN, world.county)
    client = _client(admin)
    assert _post(client, "incremental") == ["已提交汇总，通常一分钟内完成，稍后刷新本页查看。"]
    assert _queued() == ["governance.rollup_incremental"]
    assert _post(client, "incremental") == ["汇总已在排队，无需重复提交。"]
    assert _queued() == ["governance.rollup_incremental"]
    body = client.get(reverse("dashboard:quality")).content.decode()
    assert 'data-testid="quality-incremental-queued"' in body
    # The task clears the key when it ends (the governance/tasks.py change): a new click queues again.
    cache.delete(quality.QUEUED_KEYS["incremental"])
    _post(client, "incremental")
    assert _queued() == ["governance.rollup_incremental", "governance.rollup_incremental"]


def test_the_run_button_is_refused_while_a_rollup_holds_the_lock(world):
    admin = world.user(Role.COUNTY_ADMIN, world.county)
    token = lock.acquire()
    assert token is not None
    try:
        shown = _post(_client(admin), "incremental")
    finally:
        lock.release(token)
    assert shown == ["汇总正在运行，请稍后再试。"]
    assert _queued() == []


def test_the_verify_button_queues_one_verification(world):
    admin = world.user(Role.COUNTY_ADMIN, world.county)
    client = _client(admin)
    assert _post(client, "verify") == ["已提交核对，核对全部汇总数据需要几分钟，完成后刷新本页查看结果。"]
    assert _post(client, "verify") == ["核对已在排队，完成后这里会显示结果，无需重复提交。"]
    assert _queued() == ["governance.rollup_verify"]
    body = client.get(reverse("dashboard:quality")).content.decode()
    assert 'data-testid="quality-verify-queued"' in body
    # The key outlives the verification's hard time limit at most: a killed worker never blocks the button.
    ttl = redis.Redis.from_url(settings.REDIS_URL).ttl(cache.make_key(quality.QUEUED_KEYS["verify"]))
    assert 1_800 < ttl <= 1_860


def test_an_unknown_action_and_a_post_without_csrf(world):
    admin = world.user(Role.COUNTY_ADMIN, world.county)
    assert _post(_client(admin), "full") == ["无法识别的操作。"]
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin)
    assert strict.post(reverse("dashboard:quality"), {"action": "verify"}).status_code == 403
    assert _queued() == []


# --------------------------------------------------------------------------------------------------
# The tasks behind the buttons (the governance/tasks.py change of this work: governance.rollup_verify,
# and both tasks freeing their button when they end)


def _tasks_with_verify():
    from governance import tasks

    if not hasattr(tasks, "rollup_verify"):
        pytest.skip("governance.rollup_verify is not in governance/tasks.py yet (H3's change)")
    return tasks


def test_the_verify_task_records_its_run_and_frees_the_button(world):
    tasks = _tasks_with_verify()
    admin = world.user(Role.COUNTY_ADMIN, world.county)
    assert cache.add(quality.QUEUED_KEYS["verify"], "1", timeout=60)
    # No facts yet: the 11 cases filed on one day in 4 grids and the 3 red supervisions (3 grid-days)
    # are 7 facts missing.
    assert tasks.rollup_verify.apply().get() == {"status": RollupStatus.DIFFERENT, "differences": 7}
    panel = quality.quality_for(user=admin)
    assert (panel.verify_state, panel.rollups.last_verify_differences, panel.verify_queued) == (
        "different",
        7,
        False,
    )
    assert cache.add(quality.QUEUED_KEYS["incremental"], "1", timeout=60)
    assert tasks.rollup_incremental.apply().get()["status"] == RollupStatus.OK
    assert tasks.rollup_verify.apply().get() == {"status": RollupStatus.OK, "differences": 0}
    panel = quality.quality_for(user=admin)
    assert (panel.verify_state, panel.incremental_queued, panel.stale) == ("exact", False, False)
    assert panel.rollups.last_run_at == NOW
    body = _page(admin)
    assert "2026-11-20 10:00 核对完成" in body

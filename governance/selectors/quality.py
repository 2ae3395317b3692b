"""The dashboard's data-quality panel (issue 8): can the figures on the dashboard be trusted right now?

For the user's dashboard scope (the regions where they hold a dashboard role, as in
governance/rollups/selectors.py) it reads:
- the points ledger check: the latest LedgerCheck (when; agreed, or how many differences of which
  kinds). The ledger is checked county-wide, so only a county admin or a viewer at county level sees it;
  below the county it is not shown at all;
- the rollups (rollup_status): the last `rollup --verify` (when; exact, or N differences, or still
  running), the last pass (when, status), a running full rebuild's progress, and a staleness flag when
  the last pass is older than STALE_AFTER (or there has never been one);
- overdue cases in scope now, by grids' own deadline rule (grids/services/deadlines.py: a case in
  CLOCK_STATES is red, 超期, once now is past its sign deadline while 已派单 or its resolve deadline),
  computed live rather than read from the warning flag the beat task sets every 15 minutes, and the red
  supervisions (超期督办) raised in the last SUPERVISION_DAYS days. A case counts where it happened (its
  grid's path), like every dashboard figure;
- canteen claims waiting: settlements submitted (已申报) and not yet approved or returned, in scope:
  how many and since when the oldest waits;
- whether a rollup pass or a verification requested from the panel is still queued (cache keys).

Queries: the user's dashboard roles (1), rollup_status (3), the ledger check (1, county-wide only),
the overdue cases (1), the red supervisions (1) and the claims (1) — 8 for the county, 7 below it,
whatever the amount of data — plus two cache reads.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count, Min, Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from canteens.access import APPROVER_ROLES
from canteens.models import ClaimStatus, Settlement
from common.errors import NotFound
from governance import access
from governance.models import RegionLevel, RollupStatus
from governance.models.regions import LEVEL_DEPTH
from governance.roles import Role
from governance.rollups.selectors import DASHBOARD_ROLES, RollupStatusView, rollup_status
from grids.models import Case, CaseStatus, CaseSupervision, SupervisionKind
from grids.selectors.queue import QUEUE_ROLES
from grids.workflow import CLOCK_STATES
from points.models import LedgerCheck
from points.services.ledger_check import difference_text

AnyUser = access.AnyUser

# The last rollup pass older than this: the dashboard's figures may be behind (beat runs every 5 min).
STALE_AFTER = dt.timedelta(minutes=15)
# Red supervisions counted back from now.
SUPERVISION_DAYS = 7
# Differences of the latest ledger check spelled out on the panel (the rest are counted by kind).
LEDGER_LINES_SHOWN = 5
# Who sees the ledger check: it covers the whole county's ledger.
LEDGER_ROLES = frozenset({Role.COUNTY_ADMIN, Role.VIEWER})
# Who may ask for a rollup pass or a verification from the panel.
RUNNER_ROLES = frozenset({Role.COUNTY_ADMIN})

# Cache keys set while a pass or a verification asked for from the panel waits in the queue (the view
# sets them with cache.add, the task deletes its key when it ends); each expires after its task's hard
# time limit, so a worker killed mid-run never blocks the button for good.
QUEUED_KEYS = {
    "incremental": "xiangzhi:rollups:queued:incremental",
    "verify": "xiangzhi:rollups:queued:verify",
}
QUEUED_TIMEOUTS = {"incremental": 300, "verify": 1_860}

# The ledger check's kinds of difference (points/services/ledger_check.py), short, for the panel.
LEDGER_KIND_LABELS: dict[str, Promise] = {
    "balance_mismatch": gettext_lazy("账户余额与分录不符"),
    "household_overdrawn": gettext_lazy("农户余额为负"),
    "pending_negative": gettext_lazy("公示中积分为负"),
    "transaction_unbalanced": gettext_lazy("交易借贷不平衡"),
    "transaction_empty": gettext_lazy("交易没有分录"),
    "postings_total": gettext_lazy("全部分录合计不为零"),
    "stock_mismatch": gettext_lazy("库存与流水不符"),
    "stock_negative": gettext_lazy("库存为负"),
}


@dataclass(frozen=True)
class LedgerKindCount:
    kind: str
    label: str
    count: int


@dataclass(frozen=True)
class LedgerStatus:
    """The latest points ledger check; `checked_at` None: it has never run."""

    checked_at: dt.datetime | None
    is_ok: bool
    accounts_checked: int
    differences: int
    kinds: tuple[LedgerKindCount, ...]
    lines: tuple[str, ...]  # the first LEDGER_LINES_SHOWN differences as sentences

    @property
    def has_run(self) -> bool:
        return self.checked_at is not None


@dataclass(frozen=True)
class QualityPanel:
    now: dt.datetime
    county_wide: bool
    # None below the county: the ledger check is not shown there.
    ledger: LedgerStatus | None
    rollups: RollupStatusView
    stale: bool
    overdue_cases: int
    overdue_tab: str  # the queue tab holding most of them ("assigned" or "handling")
    red_supervisions: int
    claims_waiting: int
    claims_oldest: dt.datetime | None
    can_open_queue: bool
    can_open_claims: bool
    can_run: bool  # county admins: the 立即汇总 and 核对汇总 buttons
    incremental_queued: bool
    verify_queued: bool

    @property
    def stale_after_minutes(self) -> int:
        return int(STALE_AFTER.total_seconds() // 60)

    @property
    def supervision_days(self) -> int:
        return SUPERVISION_DAYS

    @property
    def verify_state(self) -> str:
        """ "never", "running" (started, not finished: still going, or its worker died), "exact" or
        "different"."""
        status = self.rollups
        if status.last_verify_exact is None:
            return "never"
        if status.last_verify_at is None:
            return "running"
        return "exact" if status.last_verify_exact else "different"

    @property
    def last_run_status_label(self) -> str:
        value = self.rollups.last_run_status
        return str(dict(RollupStatus.choices).get(value, value)) if value else ""

    @property
    def has_warnings(self) -> bool:
        ledger_bad = self.ledger is not None and self.ledger.has_run and not self.ledger.is_ok
        return self.stale or ledger_bad or self.verify_state == "different"


def _ledger() -> LedgerStatus:
    check = LedgerCheck.objects.order_by("-ran_at", "-pk").first()
    if check is None:
        return LedgerStatus(None, True, 0, 0, (), ())
    differences = list(check.differences or [])
    counted = Counter(str(d.get("kind", "")) for d in differences)
    kinds = tuple(
        LedgerKindCount(kind, str(LEDGER_KIND_LABELS.get(kind, kind)), count)
        for kind, count in sorted(counted.items(), key=lambda item: (-item[1], item[0]))
    )
    lines = tuple(difference_text(d) for d in differences[:LEDGER_LINES_SHOWN])
    return LedgerStatus(
        checked_at=check.ran_at,
        is_ok=check.is_ok,
        accounts_checked=check.accounts_checked,
        differences=len(differences),
        kinds=kinds,
        lines=lines,
    )


def _under(paths: list[str], lookup: str) -> Q:
    scope = Q()
    for path in paths:
        scope |= Q(**{f"{lookup}__startswith": path})
    return scope


def _overdue_q(now: dt.datetime) -> Q:
    """grids' red (超期) rule, live: in CLOCK_STATES and past the resolve deadline, or 已派单 and past
    the sign deadline (18:00 itself is still in time: strictly past)."""
    return Q(status__in=sorted(CLOCK_STATES)) & (
        Q(resolve_deadline__lt=now) | Q(status=CaseStatus.ASSIGNED, sign_deadline__lt=now)
    )


def quality_for(*, user: AnyUser) -> QualityPanel:
    """The data-quality panel for the user's dashboard scope; NotFound (404) without a dashboard role."""
    held = access.assignments(user, DASHBOARD_ROLES)
    if not held:
        raise NotFound(_("未找到该页面。"))
    paths = access.outermost([path for _role, path in held])
    roles = {role for role, _path in held}
    county_depth = LEVEL_DEPTH[RegionLevel.COUNTY] + 1
    county_wide = any(role in LEDGER_ROLES and path.count("/") == county_depth for role, path in held)
    now = timezone.now()

    status = rollup_status(user=user)
    ledger = _ledger() if county_wide else None

    overdue = (
        Case.objects.filter(_under(paths, "grid__path"))
        .filter(_overdue_q(now))
        .aggregate(total=Count("pk"), assigned=Count("pk", filter=Q(status=CaseStatus.ASSIGNED)))
    )
    red = CaseSupervision.objects.filter(
        _under(paths, "case__grid__path"),
        kind=SupervisionKind.RED,
        raised_at__gt=now - dt.timedelta(days=SUPERVISION_DAYS),
    ).count()
    claims = Settlement.objects.filter(
        _under(paths, "site__region__path"), status=ClaimStatus.SUBMITTED
    ).aggregate(count=Count("pk"), oldest=Min("submitted_at"))
    queued = cache.get_many(list(QUEUED_KEYS.values()))

    total = int(overdue["total"] or 0)
    assigned = int(overdue["assigned"] or 0)
    last_run = status.last_run_at
    return QualityPanel(
        now=now,
        county_wide=county_wide,
        ledger=ledger,
        rollups=status,
        stale=last_run is None or now - last_run > STALE_AFTER,
        overdue_cases=total,
        overdue_tab="assigned" if assigned * 2 > total else "handling",
        red_supervisions=red,
        claims_waiting=int(claims["count"] or 0),
        claims_oldest=claims["oldest"],
        can_open_queue=bool(roles & {str(r) for r in QUEUE_ROLES}),
        can_open_claims=bool(roles & {str(r) for r in APPROVER_ROLES}),
        can_run=bool(roles & {str(r) for r in RUNNER_ROLES}),
        incremental_queued=QUEUED_KEYS["incremental"] in queued,
        verify_queued=QUEUED_KEYS["verify"] in queued,
    )

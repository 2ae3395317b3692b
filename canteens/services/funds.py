"""Donation funds (捐赠资金) and donations (社会捐赠): every change of a fund's balance is a FundMovement
written in the same transaction, under a row lock on the fund, so the stored balance always equals the sum
of its movements (fund_verify checks it) and never goes below zero (CHECK, canteens_fund_nonnegative).

A fund belongs to a canteen or to a township. A meal draws from its canteen's fund, else from the fund of
the canteen's township (canteens.services.meals); a donation credits the fund it names.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, cast

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from canteens.access import APPROVER_ROLES, NOT_FOUND_MESSAGE, can_run_site
from canteens.models import (
    Donation,
    DonationFund,
    DonationKind,
    DonorKind,
    FundMovement,
    FundMovementKind,
    Site,
    SiteKind,
)
from common.errors import Conflict, DomainError, NotFound
from common.idempotency import body_fingerprint, idempotency_begin, idempotency_finish, idempotency_key_clean
from governance import access
from governance.audit import audit_record
from governance.models import AuditAction, Region, RegionLevel

AnyUser = AbstractBaseUser | AnonymousUser

logger = logging.getLogger("canteens.funds")

SCOPE_DONATION = "canteens.donation"
AMOUNT_MAX_FEN = (
    10_000_000_000  # 1 亿元: anything above is a typing error (CHECK canteens_donation_amount_range)
)
NAME_MAX = 100
PURPOSE_MAX = 100
GOODS_MAX = 200
RECEIPT_MAX = 30


# --- gates ---------------------------------------------------------------------------------------------


def fund_can_manage(user: AnyUser, fund: DonationFund) -> bool:
    """Whether `user` may record donations to `fund`: a canteen's fund, whoever runs the canteen; a
    township's fund, the township's or the county's admins."""
    if fund.site is not None:
        return can_run_site(user, fund.site)
    assert fund.township is not None
    return user.is_authenticated and access.covers(user, fund.township.path, APPROVER_ROLES)


def _region_path(fund: DonationFund) -> str:
    if fund.site is not None:
        return str(fund.site.region.path)
    assert fund.township is not None
    return str(fund.township.path)


# --- funds ---------------------------------------------------------------------------------------------


def donation_fund_ensure(
    *, actor: AnyUser, site: Site | None = None, township: Region | None = None, name: str = ""
) -> DonationFund:
    """The donation fund of `site` (a canteen) or of `township`, created (balance 0) when it has none yet.

    Idempotent: a second call returns the same fund. Refusals: NotFound when `actor` may not manage the
    fund's owner; DomainError 400 for a site that is not a canteen or a region that is not a township."""
    if (site is None) == (township is None):
        raise DomainError("fund_owner", _("捐赠资金须属于一个食堂或一个乡镇。"))
    if site is not None and site.kind != SiteKind.CANTEEN:
        raise DomainError("fund_owner", _("只有爱心食堂可以设立捐赠资金。"))
    if township is not None and township.level != RegionLevel.TOWNSHIP:
        raise DomainError("fund_owner", _("捐赠资金只能设在乡镇一级。"))
    probe = DonationFund(site=site, township=township)
    if not fund_can_manage(actor, probe):
        raise NotFound(NOT_FOUND_MESSAGE)
    name = (name or "").strip()[:60] or (
        _("%(site)s捐赠资金") % {"site": site.name}
        if site is not None
        else _("%(township)s爱心食堂捐赠资金") % {"township": township.name if township else ""}
    )
    with transaction.atomic():
        if site is not None:
            fund, created = DonationFund.objects.get_or_create(site=site, defaults={"name": name})
        else:
            fund, created = DonationFund.objects.get_or_create(township=township, defaults={"name": name})
        if created:
            audit_record(
                actor=actor,
                action=AuditAction.CREATE,
                obj=fund,
                region_path=_region_path(fund),
                changes={"name": [None, fund.name]},
            )
    return fund


def fund_for_site(site: Site) -> DonationFund | None:
    """The fund a meal at `site` draws from: the canteen's own, else its township's (None if neither)."""
    own = DonationFund.objects.filter(site=site).first()
    if own is not None:
        return own
    township_id = _township_id(site)
    return DonationFund.objects.filter(township_id=township_id).first() if township_id else None


def _township_id(site: Site) -> int | None:
    region = site.region
    if region.level == RegionLevel.TOWNSHIP:
        return int(region.pk)
    if region.level == RegionLevel.VILLAGE:
        return region.parent_id
    township = Region.objects.filter(level=RegionLevel.TOWNSHIP, path=region.path[: _township_len(region)])
    found = township.values_list("pk", flat=True).first()
    return int(found) if found is not None else None


def _township_len(region: Region) -> int:
    # Paths are "<county id>/<township id>/…/": the township's path is the first two segments.
    parts = str(region.path).split("/")
    return len("/".join(parts[:2])) + 1


# --- donations ----------------------------------------------------------------------------------------


def _clean_text(value: str, maximum: int, code: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if len(value) > maximum:
        raise DomainError(code, message, field=field)
    return value


def donation_record(
    *,
    actor: AnyUser,
    idempotency_key: str,
    fund: DonationFund,
    donor_name: str,
    donor_kind: str,
    kind: str,
    amount_fen: int,
    received_on: dt.date,
    receipt_number: str,
    purpose: str = "",
    goods_description: str = "",
    is_public: bool = True,
) -> Donation:
    """Record a donation (money, or goods valued in fen) and credit `fund` with it: the Donation, a
    FundMovement (donation) and the fund's balance, under a lock on the fund, with the audit row.

    Exactly once per (actor, key). Refusals, nothing written: NotFound when `actor` may not manage the
    fund; DomainError 400 (next to the field) for a missing donor, an amount below 0.01 元 or above
    1 亿元, a date in the future, goods without a description, a missing receipt number; Conflict 409
    for a receipt number already recorded."""
    key = idempotency_key_clean(idempotency_key)
    if donor_kind not in DonorKind.values:
        raise DomainError("bad_donor_kind", _("请选择捐赠方类型。"), field="donor_kind")
    if kind not in DonationKind.values:
        raise DomainError("bad_kind", _("请选择捐赠形式。"), field="kind")
    donor_name = _clean_text(
        donor_name, NAME_MAX, "donor_too_long", "donor_name", _("捐赠方名称最多 100 字。")
    )
    if not donor_name:
        if donor_kind != DonorKind.ANONYMOUS:
            raise DomainError("donor_required", _("请填写捐赠方；不愿留名请选“匿名”。"), field="donor_name")
        donor_name = _("匿名")
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen < 1:
        raise DomainError("bad_amount", _("捐赠金额至少 0.01 元。"), field="amount")
    if amount_fen > AMOUNT_MAX_FEN:
        raise DomainError("bad_amount", _("捐赠金额超过 1 亿元，请核对。"), field="amount")
    if received_on > timezone.localdate():
        raise DomainError("future_date", _("捐赠日期不能晚于今天。"), field="received_on")
    receipt_number = _clean_text(
        receipt_number, RECEIPT_MAX, "receipt_too_long", "receipt_number", _("收据编号最多 30 个字符。")
    )
    if not receipt_number:
        raise DomainError("receipt_required", _("请填写收据编号。"), field="receipt_number")
    purpose = _clean_text(purpose, PURPOSE_MAX, "purpose_too_long", "purpose", _("用途最多 100 字。"))
    goods_description = _clean_text(
        goods_description, GOODS_MAX, "goods_too_long", "goods_description", _("物资明细最多 200 字。")
    )
    if kind == DonationKind.GOODS and not goods_description:
        raise DomainError("goods_required", _("捐赠物资请写明物资明细。"), field="goods_description")
    if kind == DonationKind.MONEY:
        goods_description = ""
    if not fund_can_manage(actor, fund):
        raise NotFound(_("未找到该捐赠资金，或者它不在您的管辖范围内。"))
    body = {
        "fund": fund.pk,
        "donor_name": donor_name,
        "donor_kind": donor_kind,
        "kind": kind,
        "amount_fen": amount_fen,
        "received_on": received_on.isoformat(),
        "receipt_number": receipt_number,
        "purpose": purpose,
        "goods_description": goods_description,
        "is_public": bool(is_public),
    }
    with transaction.atomic():
        replay = idempotency_begin(
            actor=actor, scope=SCOPE_DONATION, key=key, fingerprint=body_fingerprint(body)
        )
        if replay is not None:
            return Donation.objects.get(pk=replay.response["donation_id"])
        # The receipt number is UNIQUE; look first for a clear message, and let the index catch a race.
        if Donation.objects.filter(receipt_number=receipt_number).exists():
            raise Conflict(
                "receipt_taken",
                _("收据编号 %(number)s 已登记过，请核对。") % {"number": receipt_number},
                field="receipt_number",
            )
        _fund_lock(fund.pk)
        try:
            with transaction.atomic():
                donation = Donation.objects.create(
                    fund=fund,
                    donor_name=donor_name,
                    donor_kind=donor_kind,
                    kind=kind,
                    amount_fen=amount_fen,
                    goods_description=goods_description,
                    received_on=received_on,
                    purpose=purpose,
                    receipt_number=receipt_number,
                    is_public=bool(is_public),
                    created_by_id=cast(int, actor.pk),
                )
        except IntegrityError:
            raise Conflict(
                "receipt_taken",
                _("收据编号 %(number)s 已登记过，请核对。") % {"number": receipt_number},
                field="receipt_number",
            ) from None
        balance = fund_move(
            fund_id=fund.pk,
            kind=FundMovementKind.DONATION,
            amount_fen=amount_fen,
            actor_id=cast(int, actor.pk),
            donation_id=donation.pk,
            memo=_("%(donor)s捐赠") % {"donor": donor_name},
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=donation,
            region_path=_region_path(fund),
            changes={
                "fund": [None, fund.pk],
                "amount_fen": [None, amount_fen],
                "receipt_number": [None, receipt_number],
                "balance_fen": [None, balance],
                "idempotency_key": [None, key],
            },
        )
        idempotency_finish(
            actor=actor, scope=SCOPE_DONATION, key=key, status_code=201, response={"donation_id": donation.pk}
        )
    return donation


# --- the ledger primitives (also used by canteens.services.meals) -------------------------------------


def _lock_clause() -> str:
    return " FOR NO KEY UPDATE" if connection.vendor == "postgresql" else ""


def _fund_lock(fund_id: int) -> int:
    """Lock the fund's row for this transaction and return its balance (fen)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT balance_fen FROM {DonationFund._meta.db_table} WHERE id = %s{_lock_clause()}",  # noqa: S608
            [fund_id],
        )
        row = cursor.fetchone()
    if row is None:
        raise NotFound(_("未找到该捐赠资金。"))
    return int(row[0])


def fund_move(
    *,
    fund_id: int,
    kind: str,
    amount_fen: int,
    actor_id: int | None,
    donation_id: int | None = None,
    meal_id: int | None = None,
    memo: str = "",
) -> int:
    """Append one movement of `amount_fen` (positive in, negative out) to the fund and change its balance
    by as much; returns the balance after. The caller holds the fund's row lock (or takes it here, by the
    UPDATE) inside its transaction. A draw below zero fails the CHECK (IntegrityError): callers draw at
    most the balance they read under the lock."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {DonationFund._meta.db_table} SET balance_fen = balance_fen + %s "  # noqa: S608
            "WHERE id = %s RETURNING balance_fen",
            [amount_fen, fund_id],
        )
        row = cursor.fetchone()
        assert row is not None
        cursor.execute(
            f"INSERT INTO {FundMovement._meta.db_table} "  # noqa: S608
            "(fund_id, kind, amount_fen, donation_id, meal_id, memo, created_by_id, created_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            [fund_id, kind, amount_fen, donation_id, meal_id, memo[:200], actor_id, now],
        )
    return int(row[0])


# --- verification -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FundMismatch:
    fund_id: int
    name: str
    balance_fen: int
    movements_fen: int


def fund_verify() -> list[FundMismatch]:
    """Every fund whose stored balance differs from the sum of its movements (design.md §4.4); an empty
    list means every fund agrees. One GROUP BY over the movements."""
    sql = (
        f"SELECT f.id, f.name, f.balance_fen, COALESCE(SUM(m.amount_fen), 0) "  # noqa: S608
        f"FROM {DonationFund._meta.db_table} f "
        f"LEFT JOIN {FundMovement._meta.db_table} m ON m.fund_id = f.id "
        "GROUP BY f.id, f.name, f.balance_fen "
        "HAVING f.balance_fen <> COALESCE(SUM(m.amount_fen), 0) ORDER BY f.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        rows: list[Any] = cursor.fetchall()
    return [FundMismatch(int(r[0]), str(r[1]), int(r[2]), int(r[3])) for r in rows]


def fund_verify_record() -> list[FundMismatch]:
    """Run fund_verify and raise the alarm for what it finds: one ERROR log line naming the funds by id and
    amounts only (a fund's name is typed by people and may name one), and one audit entry per mismatching
    fund (actor: the system; changes: the balance its movements give → the balance stored), so the
    difference is on record in the fund's region. Returns the mismatches (empty when every fund agrees).

    Writes nothing else: repairing a balance is a person's decision (a movement of kind adjustment). A
    second run, or a redelivered task, records a still-open mismatch again, which is what an alarm
    should do."""
    mismatches = fund_verify()
    if not mismatches:
        logger.info("canteens fund verification: every donation fund equals its movements")
        return []
    logger.error(
        "canteens fund verification: %d donation fund(s) differ from their movements: %s",
        len(mismatches),
        "; ".join(
            f"fund #{m.fund_id} stored {m.balance_fen} fen, movements {m.movements_fen} fen"
            for m in mismatches
        ),
    )
    funds = {
        fund.pk: fund
        for fund in DonationFund.objects.select_related("site__region", "township").filter(
            pk__in=[m.fund_id for m in mismatches]
        )
    }
    with transaction.atomic():
        for mismatch in mismatches:
            fund = funds[mismatch.fund_id]
            audit_record(
                actor=None,
                action=AuditAction.UPDATE,
                obj=fund,
                region_path=_region_path(fund),
                changes={"balance_fen": [mismatch.movements_fen, mismatch.balance_fen]},
                detail=_(
                    "每晚核对：捐赠资金余额 %(balance)s 分与流水合计 %(movements)s 分不符，相差 %(gap)s 分，"
                    "请核查。"
                )
                % {
                    "balance": mismatch.balance_fen,
                    "movements": mismatch.movements_fen,
                    "gap": mismatch.balance_fen - mismatch.movements_fen,
                },
            )
    return mismatches

"""Reads of the donation funds: the funds a user may see, a fund's movements with the running balance,
its donations, and a canteen's public thank-you list (致谢榜: no personal data, donors named only with
their consent)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from canteens.access import READ_ROLES, AnyUser, sites_visible
from canteens.models import Donation, DonationFund, FundMovement, Site
from canteens.services.funds import fund_for_site
from common.errors import NotFound
from governance import access


def funds_visible(user: AnyUser) -> QuerySet[DonationFund]:
    """The funds of the canteens `user` may see and of the townships in their scope."""
    if not user.is_authenticated:
        return DonationFund.objects.none()
    condition = Q(site__in=sites_visible(user)) | access.scope_q(user, "township__path", READ_ROLES)
    return DonationFund.objects.filter(condition).select_related("site__region", "township")


def fund_get_visible(user: AnyUser, fund_id: int | str) -> DonationFund:
    fund = funds_visible(user).filter(pk=fund_id).first()
    if fund is None:
        raise NotFound(_("未找到该捐赠资金，或者它不在您的管辖范围内。"))
    return fund


@dataclass(frozen=True)
class MovementRow:
    id: int
    kind: str
    kind_label: str
    amount_fen: int
    balance_fen: int
    memo: str
    donation_id: int | None
    meal_id: int | None
    created_at: dt.datetime


def fund_movements(fund: DonationFund, *, limit: int = 200) -> list[MovementRow]:
    """The fund's latest movements (newest first) with the balance after each (a window sum over the
    fund's movements in id order: every movement since the first counts, whatever `limit` shows)."""
    from canteens.models import FundMovementKind

    sql = (
        "SELECT id, kind, amount_fen, balance, memo, donation_id, meal_id, created_at FROM ("  # noqa: S608
        "SELECT id, kind, amount_fen, SUM(amount_fen) OVER (ORDER BY id) AS balance, memo, donation_id, "
        f"meal_id, created_at FROM {FundMovement._meta.db_table} WHERE fund_id = %s"
        ") AS running ORDER BY id DESC LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [fund.pk, limit])
        rows: list[Any] = cursor.fetchall()
    labels = dict(FundMovementKind.choices)
    result = []
    for row in rows:
        created_at = row[7]
        if isinstance(created_at, str):  # SQLite
            created_at = dt.datetime.fromisoformat(created_at)
        result.append(
            MovementRow(
                id=int(row[0]),
                kind=str(row[1]),
                kind_label=str(labels.get(row[1], row[1])),
                amount_fen=int(row[2]),
                balance_fen=int(row[3]),
                memo=str(row[4]),
                donation_id=row[5],
                meal_id=row[6],
                created_at=created_at,
            )
        )
    return result


def fund_donations(fund: DonationFund) -> QuerySet[Donation]:
    return Donation.objects.filter(fund=fund).order_by("-received_on", "-id")


@dataclass(frozen=True)
class ThanksRow:
    donor: str
    kind_label: str
    amount_fen: int
    goods: str
    purpose: str
    received_on: dt.date


def thanks_list(site: Site) -> tuple[DonationFund | None, list[ThanksRow]]:
    """The public thank-you list of a canteen: the donations to the fund its meals draw from (its own,
    else its township's), newest first. A donor who did not consent shows as 爱心人士（匿名）."""
    fund = fund_for_site(site)
    if fund is None:
        return None, []
    rows = [
        ThanksRow(
            donor=donation.donor_name
            if donation.is_public and donation.donor_kind != "anonymous"
            else _("爱心人士（匿名）"),
            kind_label=str(donation.get_kind_display()),
            amount_fen=donation.amount_fen,
            goods=donation.goods_description,
            purpose=donation.purpose,
            received_on=donation.received_on,
        )
        for donation in fund_donations(fund)[:500]
    ]
    return fund, rows


def site_public_get(site_id: int | str) -> Site:
    """A canteen for its public page (no login): any active canteen, else NotFound."""
    site = Site.objects.select_related("region").filter(pk=site_id, kind="canteen", is_active=True).first()
    if site is None:
        raise NotFound(_("未找到该爱心食堂。"))
    return site

"""Pages of the ledger area: a household's points account (balance, points under public notice, the
statement of its postings, paginated), its printable points card (积分卡) with the account's QR code, and
a grid's cards on one printable sheet.

Thin: each page calls the ledger selectors (scoped: out of scope answers 404) and renders. The card
names the household head with a partly masked name and never shows an ID number or a phone.
"""

from __future__ import annotations

from typing import Any

import segno
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import SafeString, mark_safe

from common.views import pages
from governance.models import Household, Region
from governance.pii import mask_name
from points.models import Account
from points.selectors import ledger as selectors
from points.services.cards import card_accounts_open


def card_qr_svg(card_code: str) -> SafeString:
    """The card code as a QR code in inline SVG (segno; sized by its viewBox, nothing fetched)."""
    svg = segno.make(card_code, error="m", micro=False).svg_inline(
        scale=4, dark="#1f2328", light="#ffffff", omitsize=True
    )
    # segno writes only the SVG it generated from the (alphanumeric) code: safe to inline.
    return mark_safe(svg)  # noqa: S308


def _card(household: Household, account: Account, grid: Region) -> dict[str, Any]:
    village = grid.parent
    township = village.parent if village is not None else None
    head = household.head
    return {
        "household": household,
        "number": household.number,
        "head_masked": mask_name(head.name) if head is not None else "",
        "village": village.name if village is not None else "",
        "township": township.name if township is not None else "",
        "grid": grid.name,
        "card_code": account.card_code or "",
        "qr": card_qr_svg(account.card_code or ""),
    }


@pages
def household_account(request: HttpRequest, household_id: int) -> HttpResponse:
    """The household's points account: balance, pending points with the awards under notice, and one
    page of its statement (newest first)."""
    household, account, page = selectors.account_statement(
        request.user, household_id, page=request.GET.get("page") or 1
    )
    grid = household.grid
    return render(
        request,
        "points/ledger/account.html",
        {
            "household": household,
            "grid": grid,
            "village": grid.parent,
            "account": account,
            "balance": account.balance if account else 0,
            "pending": account.pending if account else 0,
            "notice_awards": list(selectors.household_notice_awards(request.user, household)),
            "page": page,
        },
    )


@pages
def household_card(request: HttpRequest, household_id: int) -> HttpResponse:
    """The household's printable points card (opens its account first if it has none)."""
    household, _account = selectors.household_account(request.user, household_id)
    household = Household.objects.select_related("head", "grid__parent__parent").get(pk=household.pk)
    accounts = card_accounts_open(actor=request.user, households=[household])
    card = _card(household, accounts[household.pk], household.grid)
    return render(request, "points/ledger/card.html", {"cards": [card], "household": household})


@pages
def grid_cards(request: HttpRequest, grid_id: int) -> HttpResponse:
    """Every registered household's card of a grid on one sheet, for printing."""
    grid = selectors.grid_get_for_cards(request.user, grid_id)
    households = selectors.grid_card_households(request.user, grid)
    accounts = card_accounts_open(actor=request.user, households=households)
    cards = [_card(household, accounts[household.pk], grid) for household in households]
    return render(request, "points/ledger/grid_cards.html", {"cards": cards, "grid": grid})

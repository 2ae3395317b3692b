"""The public points board (积分公示榜) of a village at /points/board/<village code>/: no log-in, a shareable
URL with its QR code, a printable poster, and the objection form under each award under notice.

Thin: reads through points.selectors.board (which shows no personal data), writes through
points.services.board; errors are shown next to their field with what was typed kept.
"""

from __future__ import annotations

from typing import Any

import segno
from django import forms
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from common.errors import DomainError, NotFound
from governance.access import assignments, scope_q
from governance.audit import client_ip
from governance.models import Region, RegionLevel
from points.selectors import board as board_selectors
from points.services import board as board_services
from points.services.board import OBJECTIONS_PER_IP_PER_DAY


class ObjectionForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("异议理由"),
        max_length=500,
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": gettext_lazy("请写明您认为这条积分不应给予的理由")}
        ),
        error_messages={
            "required": gettext_lazy("请填写异议理由。"),
            "max_length": gettext_lazy("异议理由最多500字。"),
        },
    )
    contact_name = forms.CharField(
        label=gettext_lazy("联系人（选填）"),
        max_length=30,
        required=False,
        error_messages={"max_length": gettext_lazy("联系人最多30字。")},
    )
    contact_phone = forms.CharField(
        label=gettext_lazy("联系电话（选填）"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
        error_messages={"max_length": gettext_lazy("手机号应为11位数字，以1开头。")},
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        import uuid

        kwargs.setdefault("initial", {"idempotency_key": uuid.uuid4().hex})
        super().__init__(*args, **kwargs)

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("请填写异议理由。"))
        return reason


def _prefix(award_id: int) -> str:
    return f"a{award_id}"


def qr_svg(url: str, *, scale: int = 4) -> SafeString:
    """The QR code of `url` as inline SVG (segno; no image file, nothing fetched)."""
    svg = segno.make(url, error="m").svg_inline(scale=scale, dark="#1f2328", light="#ffffff", omitsize=True)
    # segno writes only the SVG it generated from the URL: safe to inline.
    return mark_safe(svg)  # noqa: S308


def _board_url(request: HttpRequest, code: str) -> str:
    return request.build_absolute_uri(reverse("points:board", args=[code]))


def _render_board(
    request: HttpRequest,
    code: str,
    *,
    bound: tuple[int, ObjectionForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    try:
        board = board_selectors.board_get(
            code=code,
            month=board_selectors.board_month_parse(request.GET.get("month")),
            page=request.GET.get("page") or 1,
        )
    except NotFound as error:
        raise Http404(str(error.message)) from None
    forms_by_award = {a.id: ObjectionForm(prefix=_prefix(a.id)) for a in board.pending}
    open_award = None
    if bound is not None:
        forms_by_award[bound[0]] = bound[1]
        open_award = bound[0]
    filed = request.GET.get("filed")
    url = _board_url(request, code)
    return render(
        request,
        "points/board/board.html",
        {
            "board": board,
            "pending": [(a, forms_by_award[a.id]) for a in board.pending],
            "open_award": open_award,
            "filed": int(filed) if filed and filed.isdigit() else None,
            "board_url": url,
            "qr": qr_svg(url),
            "limit": OBJECTIONS_PER_IP_PER_DAY,
        },
        status=status,
    )


def board(request: HttpRequest, code: str) -> HttpResponse:
    """积分公示榜 of the village with statistical code `code` (404 for an unknown code)."""
    return _render_board(request, code)


@require_POST
def board_objection(request: HttpRequest, code: str, award_id: int) -> HttpResponse:
    """File an objection to award `award_id` from the board; back to the board with a thank-you, or the
    board again with the error next to its field and the input kept (status 400, or 429 when limited)."""
    form = ObjectionForm(request.POST, prefix=_prefix(award_id))
    if form.is_valid():
        data = form.cleaned_data
        try:
            board_services.board_objection_file(
                village_code=code,
                award_id=award_id,
                reason=data["reason"],
                contact_name=data["contact_name"].strip(),
                contact_phone=data["contact_phone"].strip(),
                client_ip=client_ip(request),
                idempotency_key=data["idempotency_key"],
            )
        except NotFound as error:
            raise Http404(str(error.message)) from None
        except DomainError as error:
            field = {"phone": "contact_phone", "name": "contact_name"}.get(error.field or "", error.field)
            form.add_error(field if field in form.fields else None, str(error.message))
            return _render_board(request, code, bound=(award_id, form), status=error.status)
        return redirect(f"{reverse('points:board', args=[code])}?filed={award_id}#award-{award_id}")
    return _render_board(request, code, bound=(award_id, form), status=400)


def board_poster(request: HttpRequest, code: str) -> HttpResponse:
    """The printable poster (A4) of the board: QR code, top ranks, honour list, awards under notice."""
    try:
        board = board_selectors.board_get(code=code, page=1, page_size=board_selectors.POSTER_RANKS)
    except NotFound as error:
        raise Http404(str(error.message)) from None
    url = _board_url(request, code)
    return render(
        request,
        "points/board/poster.html",
        {"board": board, "board_url": url, "qr": qr_svg(url, scale=6)},
    )


def board_qr(request: HttpRequest, code: str) -> HttpResponse:
    """The board's QR code as an SVG file to download and print elsewhere."""
    try:
        village = board_selectors.board_village_get(code=code)
    except NotFound as error:
        raise Http404(str(error.message)) from None
    svg = segno.make(_board_url(request, code), error="m").svg_inline(scale=10, omitsize=False)
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Content-Disposition"] = f'inline; filename="board-{village.code}.svg"'
    return response


@login_required
def board_index(request: HttpRequest) -> HttpResponse:
    """The boards of the villages in the user's scope (and a grid leader's own village), for staff to
    open, share and print."""
    paths = [path for _role, path in assignments(request.user)]
    # A grid's village is an ancestor of the grid: its path is a prefix of the grid's path.
    ancestors = {"/".join(p.split("/")[:i]) + "/" for p in paths for i in range(1, p.count("/"))}
    villages = (
        Region.objects.filter(scope_q(request.user) | Q(path__in=ancestors), level=RegionLevel.VILLAGE)
        .exclude(code="")
        .select_related("parent")
        .order_by("path")
    )
    return render(request, "points/board/index.html", {"villages": villages})

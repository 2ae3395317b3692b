"""The public timeline of a case (/grids/public/<number>/): no login, only public cases (others answer 404),
and no personal data (grids.selectors.public)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from common.errors import NotFound
from grids.selectors import public as public_selectors


def public_case(request: HttpRequest, number: str) -> HttpResponse:
    try:
        case = public_selectors.public_case_get(number=number)
    except NotFound as error:
        raise Http404(str(error.message)) from None
    return render(request, "grids/public_case.html", {"c": case})

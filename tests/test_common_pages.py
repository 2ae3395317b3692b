"""common.views.pages, the page decorator every module shares: an anonymous visitor goes to the log-in
page; a domain error with status 403 answers the forbidden page, a NotFound the not-found page."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.core.handlers.exception import convert_exception_to_response
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.test import RequestFactory
from django.urls import reverse

from common.errors import DomainError, NotFound
from common.views import pages


@pages
def ok(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


@pages
def forbidden(request: HttpRequest) -> HttpResponse:
    raise DomainError("not_allowed", "不允许。", status=403)


@pages
def missing(request: HttpRequest) -> HttpResponse:
    raise NotFound("没有这个。")


def answer(view, user) -> HttpResponseBase:
    """What Django answers: the exceptions a view raises go through the project's error handlers."""
    request = RequestFactory().get("/some/page/")
    request.user = user
    response = convert_exception_to_response(view)(request)
    assert isinstance(response, HttpResponseBase)
    return response


def test_pages_answers_403_404_and_sends_anonymous_visitors_to_log_in(db):
    user = get_user_model().objects.create_user(username="pages-user", password="x-long-password-1")

    assert answer(ok, user).status_code == 200
    assert answer(forbidden, user).status_code == 403
    assert answer(missing, user).status_code == 404
    # The domain error's message travels on to the handler.
    request = RequestFactory().get("/some/page/")
    request.user = user
    with pytest.raises(PermissionDenied, match="不允许。"):
        forbidden(request)
    with pytest.raises(Http404, match="没有这个。"):
        missing(request)

    for view in (ok, forbidden, missing):
        response = answer(view, AnonymousUser())
        assert response.status_code == 302
        assert urlsplit(response["Location"]).path == reverse("login")

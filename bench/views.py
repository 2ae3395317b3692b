"""Floor views: what the bare stack costs, measured in the same run as the scenarios.

floor_json   a plain Django JsonResponse: request parsing, the middleware stack, JSON out.
floor_select the same plus one indexed SELECT (the user's primary key) over the persistent connection.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.http import HttpRequest, JsonResponse


def floor_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def floor_select(request: HttpRequest) -> JsonResponse:
    try:
        pk = int(request.GET.get("pk", ""))
    except ValueError:
        return JsonResponse({"detail": "pk must be an integer"}, status=400)
    row = get_user_model().objects.filter(pk=pk).values("id", "username").first()
    if row is None:
        # A non-2xx answer: the harness fails the run instead of timing a 404 page.
        return JsonResponse({"detail": f"no user with pk={pk}"}, status=404)
    return JsonResponse(row)

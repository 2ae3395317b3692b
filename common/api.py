"""Cross-cutting API pieces: the one exception handler, /healthz, token login and /api/v1/me/."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from common.authentication import token_revoke
from common.errors import DomainError
from common.health import check_broker, check_database
from common.logging import personal_data_mask
from governance import selectors as governance_selectors

# DRF's own codes mapped to a Chinese sentence a person can act on. DRF's detail strings are
# translated too, but they are terse; these say what to do next.
_API_MESSAGES: dict[type[exceptions.APIException], str] = {
    exceptions.NotAuthenticated: "请先登录（会话或 Token 认证）。",
    exceptions.AuthenticationFailed: "认证失败：用户名、密码或 Token 不正确。",
    exceptions.PermissionDenied: "您没有执行此操作的权限。",
    exceptions.NotFound: "未找到该资源，或者它不在您的管辖范围内。",
    exceptions.MethodNotAllowed: "不支持该请求方法。",
    exceptions.NotAcceptable: "无法按所请求的格式返回数据。",
    exceptions.UnsupportedMediaType: "不支持的请求数据格式，请使用 JSON。",
    exceptions.Throttled: "请求过于频繁，请稍后再试。",
    exceptions.ParseError: "请求数据格式错误，无法解析。",
}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Render every expected error as {"code": ..., "detail": <Chinese message>, ...}."""
    if isinstance(exc, DomainError):
        body: dict[str, Any] = {"code": exc.code, "detail": str(exc.message)}
        if exc.field:
            body["fields"] = {exc.field: [str(exc.message)]}
        body.update(exc.extra)
        return Response(body, status=exc.status)

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # unexpected: Django's handler500 answers JSON for /api/ paths

    if isinstance(exc, exceptions.ValidationError):
        response.data = {
            "code": "invalid",
            "detail": _("提交的数据有误，请按字段说明修改后重试。"),
            "fields": _flatten_validation(exc.detail),
        }
        return response

    assert isinstance(exc, exceptions.APIException)
    codes = exc.get_codes()
    code = codes if isinstance(codes, str) else "error"
    message = next((m for klass, m in _API_MESSAGES.items() if isinstance(exc, klass)), None)
    response.data = {"code": code, "detail": _(message) if message else str(exc.detail)}
    return response


def _flatten_validation(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {key: _flatten_validation(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten_validation(item) for item in detail]
    # DRF's own messages repeat a refused value ("…" is not a valid choice): never an ID number or phone.
    return personal_data_mask(str(detail))


def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database and the broker both answer, else 503 naming the one that does not."""
    database = check_database()
    broker = check_broker()
    failing = [name for name, result in (("database", database), ("broker", broker)) if not result.ok]
    body: dict[str, Any] = {
        "status": "ok" if not failing else "error",
        "database": {"ok": database.ok, "kind": database.kind, "latency_ms": database.latency_ms},
        "broker": {"ok": broker.ok, "kind": broker.kind, "latency_ms": broker.latency_ms},
    }
    if failing:
        body["failing"] = failing
        body["detail"] = "；".join(r.error for r in (database, broker) if not r.ok)
    response = JsonResponse(
        body, status=200 if not failing else 503, json_dumps_params={"ensure_ascii": False}
    )
    response["Cache-Control"] = "no-store"
    return response


class TokenObtainApi(ObtainAuthToken):
    """Exchange a username and password for the user's API token (created on first use)."""

    @extend_schema(
        request=inline_serializer(
            "TokenObtainInput", {"username": serializers.CharField(), "password": serializers.CharField()}
        ),
        responses=inline_serializer("TokenObtainOutput", {"token": serializers.CharField()}),
        tags=["auth"],
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().post(request, *args, **kwargs)


class TokenRevokeApi(APIView):
    """Revoke the caller's API token: every later request with it answers 401. Signed in with a session,
    it revokes the user's token too (a user has at most one)."""

    @extend_schema(request=None, responses={204: None}, tags=["auth"])
    def post(self, request: Request) -> Response:
        token_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RoleAssignmentOutputSerializer(serializers.Serializer):
    role = serializers.CharField()
    role_label = serializers.CharField()
    region_id = serializers.IntegerField()
    region_name = serializers.CharField()
    region_level = serializers.CharField()


class MeOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    full_name = serializers.CharField()
    roles = RoleAssignmentOutputSerializer(many=True)


class MeApi(APIView):
    """The signed-in user: name and role assignments with their regions."""

    @extend_schema(responses=MeOutputSerializer, tags=["auth"])
    def get(self, request: Request) -> Response:
        user = request.user
        assignments = governance_selectors.role_assignment_list_for_user(user=user)
        data = {
            "id": user.pk,
            "username": user.get_username(),
            "full_name": getattr(user, "full_name", ""),
            "roles": [
                {
                    "role": a.role,
                    "role_label": str(a.get_role_display()),
                    "region_id": a.region_id,
                    "region_name": a.region.name,
                    "region_level": a.region.level,
                }
                for a in assignments
            ],
        }
        return Response(MeOutputSerializer(data).data, status=status.HTTP_200_OK)

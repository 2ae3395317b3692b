"""REST API of the ledger area of points (mounted under /api/v1/points/).

    GET households/{id}/balance/     the household's spendable balance and points under public notice
    GET households/{id}/statement/   its postings, newest first, paginated (?page=, ?page_size=)

Read-only and scoped like the pages: a household outside the caller's points scope answers 404, exactly
like one that does not exist.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.urls import URLPattern, URLResolver, path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from points.selectors import ledger as selectors

TAGS = ["points-ledger"]
PAGE_SIZE_MAX = 100


class BalanceOut(serializers.Serializer):
    household = serializers.IntegerField()
    balance = serializers.IntegerField(help_text="可用积分")
    pending = serializers.IntegerField(help_text="公示中积分（不可兑换）")


class PostingOut(serializers.Serializer):
    id = serializers.IntegerField()
    amount = serializers.IntegerField(help_text="正数入账，负数出账")
    transaction = serializers.IntegerField(source="transaction_id")
    kind = serializers.CharField(source="transaction.kind")
    kind_label = serializers.CharField(source="transaction.get_kind_display")
    memo = serializers.CharField(source="transaction.memo")
    reverses = serializers.IntegerField(source="transaction.reverses_id", allow_null=True)
    created_at = serializers.DateTimeField(source="transaction.created_at")


class PaginatedStatementOutputSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    balance = serializers.IntegerField()
    pending = serializers.IntegerField()
    results = PostingOut(many=True)


class StatementQuery(serializers.Serializer):
    page = serializers.IntegerField(required=False, min_value=1, default=1)
    page_size = serializers.IntegerField(
        required=False, min_value=1, max_value=PAGE_SIZE_MAX, default=selectors.STATEMENT_PAGE_SIZE
    )


def _page_url(request: Request, page: int) -> str:
    query = request.query_params.copy()
    query["page"] = str(page)
    return request.build_absolute_uri(f"{request.path}?{urlencode(query, doseq=True)}")


class HouseholdBalanceApi(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="points_household_balance",
        responses={200: BalanceOut},
        summary="户积分余额（一次索引查询）",
    )
    def get(self, request: Request, id: int) -> Response:
        balance, pending = selectors.household_balance(request.user, id)
        return Response(BalanceOut({"household": id, "balance": balance, "pending": pending}).data)


class HouseholdStatementApi(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="points_household_statement",
        parameters=[StatementQuery],
        responses={200: PaginatedStatementOutputSerializer},
        summary="户积分流水（分页，最新在前）",
    )
    def get(self, request: Request, id: int) -> Response:
        query = StatementQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        data: dict[str, Any] = dict(query.validated_data)
        _household, account, page = selectors.account_statement(
            request.user, id, page=data["page"], per_page=data["page_size"]
        )
        body = {
            "count": page.paginator.count,
            "next": _page_url(request, page.number + 1) if page.has_next() else None,
            "previous": _page_url(request, page.number - 1) if page.has_previous() else None,
            "page": page.number,
            "pages": page.paginator.num_pages,
            "balance": account.balance if account else 0,
            "pending": account.pending if account else 0,
            "results": PostingOut(page.object_list, many=True).data,
        }
        return Response(body)


urlpatterns: list[URLPattern | URLResolver] = [
    path("households/<int:id>/balance/", HouseholdBalanceApi.as_view(), name="household_balance"),
    path("households/<int:id>/statement/", HouseholdStatementApi.as_view(), name="household_statement"),
]

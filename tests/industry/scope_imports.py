"""Scope rules of the sales-import API for tests/test_api_scope.py: a job belongs to the region it was
uploaded for (its event's town, or the uploader's outermost region), stored as its `region_path`; its
errors are its own (POST sales-imports/{id}/retry/ acts on the job above it)."""

from __future__ import annotations

from typing import Any

from governance.models import Region, User
from industry.models import SalesImportJob, SalesImportStatus
from tests.scope_types import Exempt, Scoped

RULES: dict[str, Scoped | Exempt] = {
    "/api/v1/industry/sales-imports/": Scoped(SalesImportJob, "region_path"),
    "/api/v1/industry/sales-imports/{id}/": Scoped(SalesImportJob, "region_path"),
    # Rows are report entries (row, column, value, reason) of the job in the path: nothing of their own.
    "/api/v1/industry/sales-imports/{id}/errors/": Scoped(
        SalesImportJob, "region_path", under=(SalesImportJob, "region_path"), items=lambda row: []
    ),
}


def data(r: dict[str, Region]) -> Any:
    """One rejected job per township, uploaded by the county admin for that town."""
    admin = User.objects.get(username="county_admin")
    made = {}
    for side, town in (("chengguan", "城关镇"), ("shihua", "石花镇")):
        made[side] = SalesImportJob.objects.create(
            uploaded_by=admin,
            region_path=r[town].path,
            file=f"sales_imports/scope-{side}.xlsx",
            original_name=f"{town}销售.xlsx",
            status=SalesImportStatus.REJECTED,
            idempotency_key=f"scope-test-import-{side}",
            total_rows=1,
            rejected_rows=1,
            errors=[{"row": 2, "column": "渠道", "value": "?", "reason": "渠道应为“线上”或“线下”。"}],
        )
    return made

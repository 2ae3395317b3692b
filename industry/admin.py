"""The admin shows every industry model. Reference data the county keeps — chains and their links, the
product catalogue, collective-economy thresholds and region designations — may be edited here (each save
and delete writes an audit row); everything else is read-only, because its writes go through
industry.services with their gates, idempotency and audit (pages under /industry/). Sales records are
append-only (a PostgreSQL trigger refuses UPDATE and DELETE): no add, change or delete, ever.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from common.errors import DomainError
from governance.audit import audit_record
from governance.models import AuditAction
from industry.models import (
    Business,
    ChainLink,
    ChainParticipation,
    CollectiveIncome,
    CollectiveThreshold,
    Employment,
    Event,
    Exhibitor,
    HouseholdProject,
    IndustryChain,
    JointCommunity,
    JointMember,
    JointResult,
    Product,
    RegionDesignation,
    SalesImportJob,
    SalesRecord,
    SalesRollup,
    TourismRecord,
)
from industry.services.places import designation_clean


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AuditedAdmin(admin.ModelAdmin):
    """Reference data: editable, every save and delete leaves an audit row (the admin has no service
    to call for these)."""

    def _region_path(self, obj: Model) -> str:
        region = getattr(obj, "region", None)
        return str(getattr(region, "path", "") or "")

    def save_model(self, request: HttpRequest, obj: Model, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            action=AuditAction.UPDATE if change else AuditAction.CREATE,
            obj=obj,
            region_path=self._region_path(obj),
            changes={name: [None, str(form.cleaned_data.get(name))] for name in form.changed_data},
            detail="admin",
            request=request,
        )

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        audit_record(
            actor=request.user,
            action=AuditAction.DELETE,
            obj=obj,
            region_path=self._region_path(obj),
            detail="admin",
            request=request,
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


class LinkInline(admin.TabularInline):
    model = ChainLink
    extra = 0


@admin.register(IndustryChain)
class IndustryChainAdmin(AuditedAdmin):
    list_display = ("name", "base_region", "party_branch", "sort_order", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name",)
    list_select_related = ("base_region", "party_branch")
    raw_id_fields = ("base_region", "party_branch")
    inlines = [LinkInline]


@admin.register(ChainLink)
class ChainLinkAdmin(AuditedAdmin):
    list_display = ("chain", "name", "kind", "sort_order")
    list_filter = ("kind", "chain")
    search_fields = ("name", "chain__name")
    list_select_related = ("chain",)


@admin.register(Product)
class ProductAdmin(AuditedAdmin):
    list_display = ("code", "name", "category", "chain", "origin_region", "unit")
    list_filter = ("category", "chain")
    search_fields = ("code", "name")
    list_select_related = ("chain", "origin_region")
    raw_id_fields = ("origin_region", "producer")


@admin.register(CollectiveThreshold)
class CollectiveThresholdAdmin(AuditedAdmin):
    list_display = ("year", "weak_below_fen", "strong_from_fen", "updated_at")


class RegionDesignationForm(forms.ModelForm):
    """The same rules as the designation pages (industry.services.places.designation_clean)."""

    class Meta:
        model = RegionDesignation
        fields = ["region", "kind", "theme", "designated_year", "note"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            cleaned = designation_clean(
                kind=data.get("kind"),
                region=data.get("region"),
                theme=data.get("theme"),
                designated_year=data.get("designated_year"),
                note=data.get("note"),
            )
        except DomainError as error:
            raise forms.ValidationError({error.field or "theme": str(error.message)}) from None
        data["theme"] = cleaned["theme"]
        return data


@admin.register(RegionDesignation)
class RegionDesignationAdmin(AuditedAdmin):
    form = RegionDesignationForm
    list_display = ("region", "kind", "theme", "designated_year")
    list_filter = ("kind", "theme")
    search_fields = ("region__name", "theme")
    list_select_related = ("region",)
    raw_id_fields = ("region",)


@admin.register(Business)
class BusinessAdmin(ReadOnlyAdmin):
    list_display = ("name", "kind", "region", "credit_code", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "credit_code", "region__name")
    list_select_related = ("region",)


@admin.register(ChainParticipation)
class ChainParticipationAdmin(ReadOnlyAdmin):
    list_display = (
        "chain",
        "business",
        "link",
        "area_mu",
        "output_value_fen",
        "jobs",
        "joined_on",
        "left_on",
    )
    list_filter = ("chain",)
    search_fields = ("business__name",)
    list_select_related = ("chain", "business", "link")


@admin.register(HouseholdProject)
class HouseholdProjectAdmin(ReadOnlyAdmin):
    list_display = ("title", "kind", "household", "chain", "started_on", "ended_on")
    list_filter = ("kind", "chain")
    search_fields = ("title",)
    list_select_related = ("household", "chain")


@admin.register(SalesRollup)
class SalesRollupAdmin(ReadOnlyAdmin):
    """Kept by a trigger from the sales records (industry/rollup.py): read here, never edited."""

    list_display = ("event", "grain", "day", "channel", "platform", "product", "exhibitor", "amount_fen")
    list_filter = ("grain",)
    list_select_related = ("event", "product", "exhibitor")


@admin.register(Employment)
class EmploymentAdmin(ReadOnlyAdmin):
    list_display = ("resident", "kind", "business", "started_on", "ended_on")
    list_filter = ("kind",)
    list_select_related = ("resident", "business")


@admin.register(CollectiveIncome)
class CollectiveIncomeAdmin(ReadOnlyAdmin):
    list_display = ("village", "year", "source", "amount_fen", "updated_at")
    list_filter = ("year", "source")
    search_fields = ("village__name",)
    list_select_related = ("village",)


class JointMemberInline(ReadOnlyInline):
    model = JointMember


class JointResultInline(ReadOnlyInline):
    model = JointResult


@admin.register(JointCommunity)
class JointCommunityAdmin(ReadOnlyAdmin):
    list_display = ("name", "kind", "brand", "lead_region", "party_organisation", "established_on")
    list_filter = ("kind",)
    search_fields = ("name", "brand", "lead_region__name")
    list_select_related = ("lead_region", "party_organisation")
    inlines = [JointMemberInline, JointResultInline]


@admin.register(JointMember)
class JointMemberAdmin(ReadOnlyAdmin):
    list_display = ("community", "region", "business", "joined_on")
    search_fields = ("community__name", "region__name", "business__name")
    list_select_related = ("community", "region", "business")


@admin.register(JointResult)
class JointResultAdmin(ReadOnlyAdmin):
    list_display = ("community", "year", "jobs", "income_fen", "households_benefited")
    list_filter = ("year",)
    list_select_related = ("community",)


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("name", "kind", "region", "starts_on", "ends_on", "town_product")
    list_filter = ("kind",)
    search_fields = ("name", "series", "organiser")
    list_select_related = ("region",)
    date_hierarchy = "starts_on"


@admin.register(Exhibitor)
class ExhibitorAdmin(ReadOnlyAdmin):
    list_display = ("business", "event", "booth")
    search_fields = ("event__name", "business__name")
    list_select_related = ("event", "business")


@admin.register(SalesRecord)
class SalesRecordAdmin(ReadOnlyAdmin):
    """Append-only: a correction is a reversal record made through the sales pages, never an edit."""

    list_display = (
        "event",
        "sold_on",
        "product",
        "channel",
        "platform",
        "quantity",
        "amount_fen",
        "source",
        "reverses",
    )
    list_filter = ("channel", "source")
    search_fields = ("event__name", "product__name", "product__code")
    list_select_related = ("event", "product", "reverses")
    date_hierarchy = "sold_on"


@admin.register(TourismRecord)
class TourismRecordAdmin(ReadOnlyAdmin):
    list_display = ("month", "region", "community", "visits", "income_fen")
    list_select_related = ("region", "community")
    date_hierarchy = "month"


@admin.register(SalesImportJob)
class SalesImportJobAdmin(ReadOnlyAdmin):
    list_display = (
        "original_name",
        "event",
        "status",
        "total_rows",
        "imported_rows",
        "uploaded_by",
        "created_at",
    )
    list_filter = ("status",)
    list_select_related = ("event", "uploaded_by")

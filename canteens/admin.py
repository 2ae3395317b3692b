"""The admin shows the canteens' registry, tiers, enrolments and price rules read-only: every write goes
through canteens.services (pages under /canteens/), which check the split, the gates and write the audit
log."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from canteens.models import Enrolment, FundingShare, MealSlot, PriceRule, Site, SubsidyTier


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


class SlotInline(ReadOnlyInline):
    model = MealSlot


class ShareInline(ReadOnlyInline):
    model = FundingShare


@admin.register(Site)
class SiteAdmin(ReadOnlyAdmin):
    list_display = ("name", "kind", "region", "operator", "capacity", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "operator", "region__name")
    inlines = [SlotInline]


@admin.register(SubsidyTier)
class SubsidyTierAdmin(ReadOnlyAdmin):
    list_display = ("name", "code", "min_age", "max_age", "tag", "sort_order", "is_active")


@admin.register(Enrolment)
class EnrolmentAdmin(ReadOnlyAdmin):
    list_display = ("resident", "site", "tier", "starts_on", "ends_on")
    list_filter = ("tier",)
    search_fields = ("resident__name", "site__name")
    list_select_related = ("resident", "site", "tier")
    exclude = ("card_code",)


@admin.register(PriceRule)
class PriceRuleAdmin(ReadOnlyAdmin):
    list_display = ("site", "tier", "slot", "price_fen", "effective_from", "effective_to")
    list_filter = ("slot",)
    search_fields = ("site__name",)
    list_select_related = ("site", "tier")
    inlines = [ShareInline]

"""The spine's admin. The audit log has no admin page on purpose: it is read at /governance/audit/,
scoped to the reader's regions, and nothing may change it (tests/security/test_audit_immutable.py)."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from common.authentication import token_revoke
from governance.models import Region, RoleAssignment, User


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    fk_name = "user"
    extra = 0
    autocomplete_fields = ["region"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        (_("乡治"), {"fields": ("full_name",)}),
    )
    list_display = ("username", "full_name", "is_active", "is_staff", "last_login")
    search_fields = ("username", "full_name")
    inlines = [RoleAssignmentInline]
    actions = ["revoke_api_tokens"]

    @admin.action(description=_("撤销所选用户的 API Token"), permissions=["change"])
    def revoke_api_tokens(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        # Changing a password or deactivating the account revokes the tokens too (common.authentication).
        revoked = sum(token_revoke(user=user) for user in queryset)
        self.message_user(
            request,
            ngettext("已撤销 %(n)d 个 API Token。", "已撤销 %(n)d 个 API Token。", revoked) % {"n": revoked},
            messages.SUCCESS,
        )


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("name", "level", "kind", "code", "parent")
    list_filter = ("level", "kind")
    search_fields = ("name", "code")
    readonly_fields = ("path", "level", "parent")

    def has_add_permission(self, request):
        # Regions are created by governance.services.region_create, which keeps the path right.
        return False


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "region", "created_at")
    list_filter = ("role",)
    search_fields = ("user__username", "user__full_name", "region__name")
    autocomplete_fields = ["user", "region"]

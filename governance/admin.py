from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

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

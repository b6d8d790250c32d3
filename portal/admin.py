from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from portal.admin_inlines import LabelledTabularInline
from portal.models import Account, User


class UserInline(LabelledTabularInline):
    model = User
    fields = ("email", "role", "is_active", "last_login")
    readonly_fields = ("email", "last_login")
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "status", "balance", "timezone", "billing_day", "created_at")
    list_filter = ("status", "timezone", "billing_day")
    search_fields = ("code", "name", "users__email")
    readonly_fields = ("balance", "created_at", "updated_at")
    inlines = [UserInline]
    date_hierarchy = "created_at"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ("email",)
    list_display = ("email", "account", "role", "is_staff", "is_active", "last_login")
    list_filter = ("is_staff", "is_superuser", "is_active", "role")
    search_fields = ("email", "first_name", "last_name", "account__code", "account__name")
    list_select_related = ("account",)
    autocomplete_fields = ("account",)
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Customer", {"fields": ("account", "role")}),
        ("Personal info", {"fields": ("first_name", "last_name")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

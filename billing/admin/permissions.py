"""Call permissions in the admin: staff set country risk tiers, see and override an account's
permissions (every change recorded as by staff and e-mailed to the owner) and release holds."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from billing.admin.base import MoneyAdminMixin, ReadOnlyAdmin
from billing.models import CallPermissionChange, CallPermissions, CountryRisk
from billing.services.permissions import call_permissions_update, fraud_hold_release


@admin.register(CountryRisk)
class CountryRiskAdmin(MoneyAdminMixin, admin.ModelAdmin):
    list_display = ("country", "tier", "note")
    list_editable = ("tier",)
    list_filter = ("tier",)
    search_fields = ("country", "note")


@admin.register(CallPermissions)
class CallPermissionsAdmin(MoneyAdminMixin, admin.ModelAdmin):
    list_display = (
        "account",
        "allow_low",
        "allow_medium",
        "allow_high",
        "price_ceiling",
        "daily_cap",
        "fraud_hold_at",
    )
    list_filter = ("allow_high", ("fraud_hold_at", admin.EmptyFieldListFilter))
    search_fields = ("account__code", "account__name")
    fields = (
        "account",
        "allow_low",
        "allow_medium",
        "allow_high",
        "countries",
        "price_ceiling",
        "daily_cap",
        "fraud_hold_at",
        "fraud_hold_reason",
    )
    readonly_fields = ("account", "fraud_hold_at", "fraud_hold_reason")
    actions = ["release_fraud_hold"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a row is created by the first change (the account's page or the alarm)

    def save_model(
        self, request: HttpRequest, obj: CallPermissions, form: Any, change: bool
    ) -> None:
        """Through the service: recorded as a staff change (no daily-cap maximum) and mailed."""
        previous = CallPermissions.objects.get(pk=obj.pk)
        countries: dict[str, bool | None] = {key: None for key in previous.countries}
        countries.update({str(k).upper(): bool(v) for k, v in (obj.countries or {}).items()})
        call_permissions_update(
            account=obj.account,
            actor=request.user,  # type: ignore[arg-type]
            now=timezone.now(),
            allow_low=obj.allow_low,
            allow_medium=obj.allow_medium,
            allow_high=obj.allow_high,
            countries=countries,
            price_ceiling=obj.price_ceiling,
            daily_cap=obj.daily_cap,
            by_staff=True,
        )

    @admin.action(description="Re-enable paid calls (release the fraud hold)")
    def release_fraud_hold(self, request: HttpRequest, queryset: QuerySet[CallPermissions]) -> None:
        released = sum(
            fraud_hold_release(
                account=row.account,
                actor=request.user,  # type: ignore[arg-type]
                now=timezone.now(),
                by_staff=True,
            )
            for row in queryset.select_related("account")
        )
        messages.success(request, f"Released {released} fraud hold(s).")


@admin.register(CallPermissionChange)
class CallPermissionChangeAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "account", "changed_by", "by_staff", "system", "summary")
    list_filter = ("by_staff", "system")
    search_fields = ("account__code", "summary")
    date_hierarchy = "created_at"

"""Staff: channel prices (with the date they apply from) and maximums; each account's trunk
(the trunk-only flag; counts change only through the customer's change flow, which charges);
the change history, read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from billing.admin.base import MoneyAdminMixin
from trunking.models import ChannelChange, ChannelMaximum, ChannelPrice, Trunk


@admin.register(ChannelPrice)
class ChannelPriceAdmin(MoneyAdminMixin, admin.ModelAdmin):
    list_display = ("kind", "monthly_price", "effective_from")
    list_filter = ("kind",)
    ordering = ("kind", "-effective_from")

    readonly_fields = ("kind", "monthly_price", "effective_from")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # A price that billing months already used stays as it was: add a new row instead.
        return super().get_readonly_fields(request, obj) if obj is not None else []


@admin.register(ChannelMaximum)
class ChannelMaximumAdmin(MoneyAdminMixin, admin.ModelAdmin):
    list_display = ("kind", "account", "maximum")
    list_filter = ("kind",)
    autocomplete_fields = ("account",)


@admin.register(Trunk)
class TrunkAdmin(MoneyAdminMixin, admin.ModelAdmin):
    list_display = ("account", "outbound", "inbound", "two_way", "trunk_only")
    list_filter = ("trunk_only",)
    search_fields = ("account__name", "account__code")
    fields = ("account", "outbound", "inbound", "two_way", "trunk_only", "version")
    readonly_fields = ("outbound", "inbound", "two_way", "version")
    autocomplete_fields = ("account",)


@admin.register(ChannelChange)
class ChannelChangeAdmin(MoneyAdminMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "account",
        "user",
        "before_text",
        "after_text",
        "charge",
        "status",
    )
    list_filter = ("status",)
    search_fields = ("account__name", "account__code")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

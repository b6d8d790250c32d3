"""Numbers: DID groups, DIDs and extensions."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from billing.admin.base import MoneyAdminMixin
from billing.models import DID, DIDGroup, Extension


@admin.register(DIDGroup)
class DIDGroupAdmin(MoneyAdminMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "rate",
        "connect_fee",
        "included",
        "monthly_included_cap_minutes",
        "did_count",
    )
    list_filter = ("included",)
    search_fields = ("name",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[DIDGroup]:
        return super().get_queryset(request).annotate(_did_count=Count("dids"))

    @admin.display(description="DIDs", ordering="_did_count")
    def did_count(self, obj: DIDGroup) -> int:
        return int(getattr(obj, "_did_count", 0))


@admin.register(DID)
class DIDAdmin(MoneyAdminMixin, admin.ModelAdmin):
    list_display = ("number", "account", "group", "label", "created_at")
    list_filter = ("group",)
    search_fields = ("number", "account__code", "account__name", "label")
    list_select_related = ("account", "group")
    autocomplete_fields = ("account",)


@admin.register(Extension)
class ExtensionAdmin(MoneyAdminMixin, admin.ModelAdmin):
    list_display = ("number", "name", "account")
    search_fields = ("number", "name", "account__code", "account__name")
    list_select_related = ("account",)
    autocomplete_fields = ("account",)

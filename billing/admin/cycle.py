"""What the monthly cycle ran: staff look, the cycle alone writes."""

from __future__ import annotations

from django.contrib import admin

from billing.admin.base import CappedCountPaginator, ReadOnlyAdmin
from billing.models import AccountCycle, ClosedPeriod


@admin.register(ClosedPeriod)
class ClosedPeriodAdmin(ReadOnlyAdmin):
    list_display = ("account", "period_start", "period_end", "total", "closed_at")
    list_filter = ("period_start",)
    search_fields = ("account__code", "account__name")
    list_select_related = ("account",)
    paginator = CappedCountPaginator
    readonly_fields = (
        "account",
        "period_start",
        "period_end",
        "closed_at",
        "charges",
        "total",
        "minutes_reset_at",
        "included_minutes",
    )


@admin.register(AccountCycle)
class AccountCycleAdmin(ReadOnlyAdmin):
    list_display = ("account", "next_period_start", "negative_since", "suspended_at")
    search_fields = ("account__code", "account__name")
    list_select_related = ("account",)
    paginator = CappedCountPaginator

"""Payments: billing profiles (the auto-recharge caps), card payments and Stripe events."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from billing.admin.base import ReadOnlyAdmin
from billing.models import BillingProfile, Deposit, StripeEvent
from billing.services.stripe_events import stripe_event_process


@admin.register(BillingProfile)
class BillingProfileAdmin(admin.ModelAdmin):
    """Staff set the auto-recharge caps here; the customer sets the rest on the Per Minute page."""

    list_display = (
        "account",
        "auto_recharge_enabled",
        "auto_recharge_threshold",
        "auto_recharge_amount",
        "auto_recharge_daily_cap",
        "auto_recharge_monthly_cap",
        "auto_recharge_declines",
        "card_last4",
    )
    list_filter = ("auto_recharge_enabled",)
    search_fields = ("account__code", "account__name", "stripe_customer_id")
    list_select_related = ("account",)
    fields = (
        "account",
        "stripe_customer_id",
        ("card_brand", "card_last4", "card_exp_month", "card_exp_year"),
        "auto_recharge_enabled",
        ("auto_recharge_threshold", "auto_recharge_amount"),
        ("auto_recharge_daily_cap", "auto_recharge_monthly_cap"),
        ("auto_recharge_declines", "auto_recharge_retry_after"),
        "auto_recharge_note",
        ("low_balance_threshold", "low_balance_alerted"),
    )
    readonly_fields = (
        "account",
        "stripe_customer_id",
        "card_brand",
        "card_last4",
        "card_exp_month",
        "card_exp_year",
        "auto_recharge_enabled",
        "auto_recharge_threshold",
        "auto_recharge_amount",
        "auto_recharge_declines",
        "auto_recharge_retry_after",
        "auto_recharge_note",
        "low_balance_threshold",
        "low_balance_alerted",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Deposit)
class DepositAdmin(ReadOnlyAdmin):
    """Card payments (Add Credit and auto-recharge attempts): read-only, Stripe is the truth."""

    list_display = (
        "created_at",
        "account",
        "kind",
        "amount",
        "status",
        "card_last4",
        "stripe_payment_intent_id",
        "failure_message",
    )
    list_filter = ("kind", "status", "created_at")
    search_fields = ("account__code", "account__name", "=stripe_payment_intent_id")
    list_select_related = ("account",)
    date_hierarchy = "created_at"
    # failure_message is the processor's own sentence; failure_reason what the customer reads.
    readonly_fields = [*(f.name for f in Deposit._meta.fields), "failure_reason"]


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    """Every verified webhook event; failed ones can be processed again."""

    list_display = ("received_at", "event_id", "type", "status", "attempts", "processed_at")
    list_filter = ("status", "type")
    search_fields = ("=event_id", "type")
    readonly_fields = [f.name for f in StripeEvent._meta.fields]
    actions = ["process_again"]

    @admin.action(description="Process the selected failed events again")
    def process_again(self, request: HttpRequest, queryset: QuerySet[StripeEvent]) -> None:
        done = failed = 0
        for event in queryset.filter(status=StripeEvent.Status.FAILED):
            try:
                stripe_event_process(event_id=event.event_id, now=timezone.now())
                done += 1
            except Exception:
                failed += 1
        messages.info(request, f"Processed {done} event(s); {failed} failed again.")

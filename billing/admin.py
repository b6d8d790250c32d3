from __future__ import annotations

import io
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html

from billing.forms.api_clients import ApiClientCreateForm
from billing.forms.ledger import AdjustmentForm
from billing.forms.rates import RateDeckImportForm
from billing.models import (
    DID,
    AccountPlan,
    AccountRating,
    ApiClient,
    BillingProfile,
    Call,
    CallReservation,
    Deposit,
    DIDGroup,
    Extension,
    IncludedDestination,
    LedgerEntry,
    Rate,
    RateDeck,
    ServicePlan,
    StripeEvent,
)
from billing.services import (
    account_plan_set,
    api_client_create,
    ledger_adjust,
    rate_deck_import,
    stripe_event_process,
)
from portal.errors import DomainError
from portal.models import Account


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written only by services (ledger, payments, events, calls): staff look, never
    add, edit or delete here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    """Read-only: entries are never edited or deleted. Adjust with the account's form."""

    list_display = (
        "created_at",
        "account",
        "kind",
        "amount",
        "balance_after",
        "description",
        "created_by",
    )
    list_filter = ("kind", "created_at")
    search_fields = (
        "account__code",
        "account__name",
        "idempotency_key",
        "description",
        "source_id",
    )
    list_select_related = ("account", "created_by")
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in LedgerEntry._meta.fields]

    def get_urls(self) -> list[Any]:
        urls = super().get_urls()
        custom = [
            path(
                "adjust/<int:account_id>/",
                self.admin_site.admin_view(self.adjust_view),
                name="billing_ledgerentry_adjust",
            )
        ]
        return custom + urls

    def adjust_view(self, request: HttpRequest, account_id: int) -> HttpResponse:
        if not request.user.has_perm("billing.add_ledgerentry") and not request.user.is_superuser:
            raise PermissionDenied
        account = get_object_or_404(Account, pk=account_id)
        form = AdjustmentForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                posting = ledger_adjust(
                    account=account,
                    amount=form.cleaned_data["amount"],
                    reason=form.cleaned_data["reason"],
                    staff_user=request.user,  # type: ignore[arg-type]
                    now=timezone.now(),
                    idempotency_key=form.cleaned_data["idempotency_key"],
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                if posting.created:
                    messages.success(request, f"Adjustment posted: {posting.entry.amount}.")
                else:
                    messages.info(request, "This adjustment had already been posted.")
                return HttpResponseRedirect(
                    reverse("admin:portal_account_change", args=[account.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Adjust balance of {account}",
            "account": account,
            "form": form,
            "opts": self.model._meta,
        }
        return render(request, "admin/billing/adjust.html", context)


# --- Rating: plans, rate decks, numbers, API clients, calls (issue 5) -------------------------


class IncludedDestinationInline(admin.TabularInline):
    model = IncludedDestination
    extra = 1


@admin.register(ServicePlan)
class ServicePlanAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "monthly_price",
        "included_minutes",
        "overage_rate",
        "overage_blocks",
        "includes_incoming",
        "rate_deck",
        "is_active",
    )
    list_filter = ("is_active",)
    search_fields = ("name",)
    autocomplete_fields = ("rate_deck",)
    inlines = [IncludedDestinationInline]

    @admin.display(description="Overage blocks (s)")
    def overage_blocks(self, obj: ServicePlan) -> str:
        return f"{obj.overage_initial}/{obj.overage_increment}"


@admin.register(RateDeck)
class RateDeckAdmin(admin.ModelAdmin):
    list_display = ("name", "description", "rate_count", "updated_at", "browse_link")
    search_fields = ("name",)
    readonly_fields = ("created_at", "updated_at", "rate_count", "browse_link")
    change_list_template = "admin/billing/ratedeck/change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[RateDeck]:
        return super().get_queryset(request).annotate(_rate_count=Count("rates"))

    @admin.display(description="Rates", ordering="_rate_count")
    def rate_count(self, obj: RateDeck) -> int:
        count = getattr(obj, "_rate_count", None)
        return count if count is not None else obj.rates.count()

    @admin.display(description="Browse")
    def browse_link(self, obj: RateDeck) -> str:
        if obj.pk is None:
            return "—"
        url = reverse("admin:billing_rate_changelist") + f"?deck__id__exact={obj.pk}"
        return format_html('<a href="{}">Browse rates</a>', url)

    def get_urls(self) -> list[Any]:
        custom = [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="billing_ratedeck_import",
            )
        ]
        return custom + super().get_urls()

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload a CSV into a deck through ``rate_deck_import``: all rows or none; every bad
        row is listed with its line number."""
        if not self.has_add_permission(request) or not self.has_change_permission(request):
            raise PermissionDenied
        initial = {"deck_name": request.GET.get("deck", "")}
        form = RateDeckImportForm(request.POST or None, request.FILES or None, initial=initial)
        problems: list[str] = []
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["csv_file"]
            text = io.TextIOWrapper(upload.file, encoding="utf-8-sig", newline="")
            try:
                report = rate_deck_import(
                    deck_name=form.cleaned_data["deck_name"],
                    csv_file=text,
                    replace=form.cleaned_data["replace"],
                    now=timezone.now(),
                )
            except UnicodeDecodeError:
                form.add_error("csv_file", "The file is not UTF-8 text; nothing was imported.")
            except DomainError as exc:
                first, *problems = exc.message.splitlines()
                form.add_error(None, first)
            else:
                messages.success(request, str(report))
                return HttpResponseRedirect(
                    reverse("admin:billing_ratedeck_change", args=[report.deck.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": "Import rates",
            "form": form,
            "problems": problems,
            "opts": self.model._meta,
        }
        return render(request, "admin/billing/ratedeck/import.html", context)


@admin.register(Rate)
class RateAdmin(admin.ModelAdmin):
    list_display = ("prefix", "destination", "rate", "connect_fee", "initial", "increment", "deck")
    list_filter = ("deck",)
    search_fields = ("^prefix", "destination")
    search_help_text = "A prefix (matches rows starting with it) or part of a destination name."
    list_select_related = ("deck",)
    autocomplete_fields = ("deck",)
    show_full_result_count = False  # 100k-row decks: no second COUNT(*)
    list_per_page = 100


@admin.register(DIDGroup)
class DIDGroupAdmin(admin.ModelAdmin):
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
class DIDAdmin(admin.ModelAdmin):
    list_display = ("number", "account", "group", "label", "created_at")
    list_filter = ("group",)
    search_fields = ("number", "account__code", "account__name", "label")
    list_select_related = ("account", "group")
    autocomplete_fields = ("account",)


@admin.register(Extension)
class ExtensionAdmin(admin.ModelAdmin):
    list_display = ("number", "name", "account")
    search_fields = ("number", "name", "account__code", "account__name")
    list_select_related = ("account",)
    autocomplete_fields = ("account",)


@admin.register(AccountRating)
class AccountRatingAdmin(admin.ModelAdmin):
    list_display = ("account", "rate_deck")
    search_fields = ("account__code", "account__name")
    autocomplete_fields = ("account", "rate_deck")


@admin.register(AccountPlan)
class AccountPlanAdmin(admin.ModelAdmin):
    """Plan history. "Add" changes an account's plan through ``account_plan_set``: from the
    next billing month (or now, for an account without a plan). Rows are never edited."""

    list_display = ("account", "plan", "starts_at", "created_at")
    list_filter = ("plan",)
    search_fields = ("account__code", "account__name")
    list_select_related = ("account", "plan")
    autocomplete_fields = ("account",)
    fields = ("account", "plan")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: AccountPlan, form: Any, change: bool) -> None:
        row = account_plan_set(account=obj.account, plan=obj.plan, now=timezone.now())
        obj.pk, obj.starts_at, obj.created_at = row.pk, row.starts_at, row.created_at
        local = timezone.localtime(row.starts_at, obj.account.tz)
        messages.info(request, f"{obj.account} is on {row.plan} from {local:%Y-%m-%d}.")

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"account": request.GET.get("account")}


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    """Switch API tokens: created with ``api_client_create``, shown once, stored as a hash."""

    list_display = ("name", "token_prefix", "is_active", "created_at", "last_used_at")
    list_filter = ("is_active",)
    search_fields = ("name", "token_prefix")
    fields = ("name", "token_prefix", "is_active", "created_at", "last_used_at")
    readonly_fields = ("name", "token_prefix", "created_at", "last_used_at")

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ApiClientCreateForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                client, token = api_client_create(name=form.cleaned_data["name"])
            except DomainError as exc:
                form.add_error("name", exc.message)
            else:
                context = {
                    **self.admin_site.each_context(request),
                    "title": f"API token for {client.name}",
                    "client": client,
                    "token": token,
                    "opts": self.model._meta,
                }
                response = render(request, "admin/billing/apiclient/token.html", context)
                response["Cache-Control"] = "no-store"
                return response
        context = {
            **self.admin_site.each_context(request),
            "title": "Add API client",
            "form": form,
            "opts": self.model._meta,
        }
        return render(request, "admin/billing/apiclient/add.html", context)


class CappedCountPaginator(Paginator):
    """Counts at most ``CAP`` rows: no COUNT(*) over millions of calls on every list page.
    Beyond the cap, narrow the list with the search or the filters."""

    CAP = 100_000

    @cached_property
    def count(self) -> int:
        return int(self.object_list.order_by()[: self.CAP].count())  # type: ignore[attr-defined]


@admin.register(Call)
class CallAdmin(ReadOnlyAdmin):
    list_display = (
        "started_at",
        "account",
        "direction",
        "from_number",
        "to_number",
        "destination",
        "billsec",
        "category",
        "included_seconds",
        "paid_seconds",
        "charge",
        "source",
    )
    list_filter = ("direction", "category", "source")
    search_fields = ("=call_id", "=account__code", "from_number", "to_number")
    search_help_text = "Exact call id or account code, or part of a number."
    list_select_related = ("account",)
    show_full_result_count = False  # millions of calls: no second COUNT(*)
    paginator = CappedCountPaginator
    readonly_fields = [f.name for f in Call._meta.fields]


@admin.register(CallReservation)
class CallReservationAdmin(ReadOnlyAdmin):
    list_display = (
        "call_id",
        "account",
        "direction",
        "to_number",
        "amount",
        "included_seconds",
        "max_seconds",
        "created_at",
        "expires_at",
    )
    search_fields = ("=call_id", "=account__code", "to_number")
    list_select_related = ("account",)
    readonly_fields = [f.name for f in CallReservation._meta.fields]


# --- Prepaid balance (issue 4): payment settings, card payments, Stripe events ---------------


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
    readonly_fields = [f.name for f in Deposit._meta.fields]


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

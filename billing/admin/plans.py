"""Rating setup: service plans (and their included destinations), rate decks (and their CSV
import), rates, each account's rate deck and plan history."""

from __future__ import annotations

import io
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from billing.admin.base import MoneyAdminMixin
from billing.forms.rates import RateDeckImportForm
from billing.models import (
    AccountPlan,
    AccountRating,
    IncludedDestination,
    Rate,
    RateDeck,
    ServicePlan,
)
from billing.services.plans import account_plan_set
from billing.services.rate_import import rate_deck_import
from portal.admin_inlines import LabelledTabularInline
from portal.errors import DomainError


class IncludedDestinationInline(MoneyAdminMixin, LabelledTabularInline):
    model = IncludedDestination
    extra = 1


@admin.register(ServicePlan)
class ServicePlanAdmin(MoneyAdminMixin, admin.ModelAdmin):
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
class RateDeckAdmin(MoneyAdminMixin, admin.ModelAdmin):
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
class RateAdmin(MoneyAdminMixin, admin.ModelAdmin):
    list_display = ("prefix", "destination", "rate", "connect_fee", "initial", "increment", "deck")
    list_filter = ("deck",)
    search_fields = ("^prefix", "destination")
    search_help_text = "A prefix (matches rows starting with it) or part of a destination name."
    list_select_related = ("deck",)
    autocomplete_fields = ("deck",)
    show_full_result_count = False  # 100k-row decks: no second COUNT(*)
    list_per_page = 100


@admin.register(AccountRating)
class AccountRatingAdmin(MoneyAdminMixin, admin.ModelAdmin):
    list_display = ("account", "rate_deck")
    search_fields = ("account__code", "account__name")
    autocomplete_fields = ("account", "rate_deck")


@admin.register(AccountPlan)
class AccountPlanAdmin(MoneyAdminMixin, admin.ModelAdmin):
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

"""The ledger: read-only entries and the staff adjustment form."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils import timezone

from billing.admin.base import ReadOnlyAdmin
from billing.forms.ledger import AdjustmentForm
from billing.models import LedgerEntry
from billing.services.ledger import ledger_adjust
from portal.errors import DomainError
from portal.models import Account


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

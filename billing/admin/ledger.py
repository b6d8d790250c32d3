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
from billing.money import format_usd
from billing.services.ledger import ledger_adjust, ledger_adjust_preview
from portal.errors import DomainError
from portal.models import Account, User


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
        "reason",
        "created_by",
    )
    list_filter = ("kind", "created_at")
    search_fields = (
        "account__code",
        "account__name",
        "idempotency_key",
        "description",
        "reason",
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
        """Two steps: the form, then a preview with the resulting balance whose button posts.
        Above the confirmation threshold the preview also needs its box ticked."""
        if not request.user.has_perm("billing.add_ledgerentry") and not request.user.is_superuser:
            raise PermissionDenied
        account = get_object_or_404(Account, pk=account_id)
        staff_user: User = request.user  # type: ignore[assignment]
        form = AdjustmentForm(request.POST or None)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Adjust balance of {account}",
            "account": account,
            "form": form,
            "opts": self.model._meta,
        }
        if request.method != "POST" or not form.is_valid():
            return render(request, "admin/billing/adjust.html", context)
        data = form.cleaned_data
        try:
            preview = ledger_adjust_preview(
                account=account, amount=data["amount"], staff_user=staff_user
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
            return render(request, "admin/billing/adjust.html", context)
        context.update(preview=preview, amount=data["amount"])
        if not data["confirmed"]:
            return render(request, "admin/billing/adjust_confirm.html", context)
        if preview.needs_confirmation and not data["confirm_large"]:
            form.add_error("confirm_large", "Tick this box to confirm this large amount.")
            return render(request, "admin/billing/adjust_confirm.html", context)
        try:
            posting = ledger_adjust(
                account=account,
                amount=data["amount"],
                customer_description=data["customer_description"],
                internal_note=data["internal_note"],
                staff_user=staff_user,
                now=timezone.now(),
                idempotency_key=data["idempotency_key"],
                confirmed=data["confirm_large"],
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
            return render(request, "admin/billing/adjust_confirm.html", context)
        if posting.created:
            messages.success(
                request,
                f"Adjustment posted: {format_usd(posting.entry.amount)}; "
                f"balance {format_usd(posting.entry.balance_after)}.",
            )
        else:
            messages.info(request, "This adjustment had already been posted.")
        return HttpResponseRedirect(reverse("admin:portal_account_change", args=[account.pk]))

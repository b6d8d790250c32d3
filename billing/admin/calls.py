"""Calls: the read-only calls and reservations, and the switch API clients."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from billing.admin.base import CappedCountPaginator, ReadOnlyAdmin
from billing.forms.api_clients import ApiClientCreateForm
from billing.models import ApiClient, Call, CallReservation
from billing.services.api_clients import api_client_create
from portal.errors import DomainError


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

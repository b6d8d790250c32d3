"""Control Center pages of the billing app. Thin: reads through selectors, writes through
services; every page is scoped to ``request.account`` by ``customer_view``."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from billing import call_export, selectors
from billing.forms import CallFilterForm, RateLookupForm
from billing.selectors import CallFilters
from portal.decorators import CustomerRequest, customer_view
from portal.errors import DomainError
from portal.models import Account

# --- Calls, numbers, rate lookup (issue 5) ---------------------------------------------------


@customer_view
@require_GET
def calls(request: CustomerRequest) -> HttpResponseBase:
    """The account's calls, newest first, filtered; ``?export=csv`` streams the filtered set."""
    account = request.account
    form = CallFilterForm(request.GET or None)
    filters = form.filters() if form.is_bound else CallFilters()
    if request.GET.get("export") == "csv":
        queryset = selectors.calls_for_account(account=account, filters=filters)
        response = StreamingHttpResponse(
            call_export.csv_lines(call_export.call_rows(queryset, tz=account.tz)),
            content_type="text/csv; charset=utf-8",
        )
        stamp = timezone.localtime(timezone.now(), account.tz).strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="calls-{account.code}-{stamp}.csv"'
        return response
    page = selectors.call_page(
        account=account,
        filters=filters,
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
    )
    filtered = filters != CallFilters()
    summary = selectors.minutes_summary(account=account, now=timezone.now())
    return render(
        request,
        "billing/calls.html",
        {
            "account": account,
            "form": form,
            "page": page,
            "filtered": filtered,
            "summary": summary,
        },
    )


@customer_view
@require_GET
def call_detail(request: CustomerRequest, call_id: int) -> HttpResponse:
    call = selectors.call_for_account(account=request.account, call_pk=call_id)
    return render(request, "billing/call_detail.html", {"account": request.account, "call": call})


@customer_view
@require_GET
def numbers(request: CustomerRequest) -> HttpResponse:
    account = request.account
    return render(
        request,
        "billing/numbers.html",
        {
            "account": account,
            "dids": selectors.dids_for_account(account=account),
            "extensions": selectors.extensions_for_account(account=account),
        },
    )


_LOOKUP_MESSAGES = {
    "bad_number": "That does not look like a phone number. Enter it with its country code, "
    "e.g. +49 30 1234567.",
    "unknown_destination": "We have no rate for this number, so it cannot be called. "
    "Contact support if you need it.",
}


@customer_view
@require_GET
def rate_lookup(request: CustomerRequest) -> HttpResponse:
    """Enter a number, see its destination and its price per minute (or that it is included)."""
    account = request.account
    now = timezone.now()
    form = RateLookupForm(request.GET or None)
    quote = None
    if form.is_bound and form.is_valid():
        try:
            quote = selectors.price_lookup(
                account=account, number=form.cleaned_data["number"], now=now
            )
        except DomainError as exc:
            form.add_error("number", _LOOKUP_MESSAGES.get(exc.code, exc.message))
    summary = selectors.minutes_summary(account=account, now=now)
    return render(
        request,
        "billing/rate_lookup.html",
        {
            "account": account,
            "form": form,
            "quote": quote,
            "summary": summary,
            "included_destinations": selectors.included_destinations(plan=summary.plan),
        },
    )


def minutes_panel(account: Account) -> dict[str, Any]:
    """The dashboard's included-minutes meter (registered in ``BillingConfig.ready``)."""
    return {
        "template": "billing/panels/minutes.html",
        "summary": selectors.minutes_summary(account=account, now=timezone.now()),
    }

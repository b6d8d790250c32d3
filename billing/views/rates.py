"""The rate lookup page: a number's destination and price per minute."""

from __future__ import annotations

from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from billing import exports
from billing.forms.rates import RateLookupForm
from billing.selectors.permissions import number_refusal
from billing.selectors.plans import included_destinations, rate_sheet
from billing.selectors.pricing import price_lookup
from billing.selectors.usage import minutes_summary
from portal.decorators import CustomerRequest, customer_view
from portal.errors import DomainError
from portal.mail import support_contact


def _lookup_message(code: str) -> str | None:
    if code == "bad_number":
        return (
            "That does not look like a phone number. Enter it with its country code, "
            "e.g. +49 30 1234567."
        )
    if code == "unknown_destination":
        return (
            "We have no rate for this number, so it cannot be called. "
            f"Contact support at {support_contact()} if you need it."
        )
    return None


@customer_view
@require_GET
def rate_lookup(request: CustomerRequest) -> HttpResponse:
    """Enter a number, see its destination and its price per minute (or that it is included)."""
    account = request.account
    now = timezone.now()
    form = RateLookupForm(request.GET or None)
    quote = None
    refusal = None
    if form.is_bound and form.is_valid():
        try:
            quote = price_lookup(account=account, number=form.cleaned_data["number"], now=now)
            if not quote.on_net:
                refusal = number_refusal(
                    account=account, quote_number=quote.number, rate=quote.rate, now=now
                )
        except DomainError as exc:
            form.add_error("number", _lookup_message(exc.code) or exc.message)
    summary = minutes_summary(account=account, now=now)
    deck, rates = rate_sheet(account=account, at=now)
    return render(
        request,
        "billing/rate_lookup.html",
        {
            "account": account,
            "form": form,
            "quote": quote,
            "refusal": refusal,
            "summary": summary,
            "included_destinations": included_destinations(plan=summary.plan),
            "deck": deck,
            "deck_size": rates.count() if deck is not None else 0,
        },
    )


@customer_view
@require_GET
def rate_sheet_csv(request: CustomerRequest) -> StreamingHttpResponse:
    """The account's whole rate deck as CSV, streamed (UTF-8 with a BOM, so Excel reads the
    destinations' accents and dashes). An account without a deck gets the header alone."""
    account = request.account
    now = timezone.now()
    _deck, rates = rate_sheet(account=account, at=now)
    lines = exports.csv_lines(exports.rate_rows(rates), header=exports.RATE_HEADER)
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime(now, account.tz).strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="rates-{account.code}-{stamp}.csv"'
    return response

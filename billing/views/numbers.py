"""The Numbers page: the account's DIDs and extensions."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from billing import selectors
from portal.decorators import CustomerRequest, customer_view


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

"""The Numbers page: the account's DIDs and extensions."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from billing.selectors.numbers import dids_for_account, extensions_for_account
from billing.selectors.ports import port_requests_for_account
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
            "dids": dids_for_account(account=account),
            "extensions": extensions_for_account(account=account),
            "ports": port_requests_for_account(account=account)[:50],
            "can_manage_money": request.user.can_manage_money,
        },
    )

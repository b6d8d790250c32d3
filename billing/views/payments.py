"""The Card payments page: every card payment and auto-recharge attempt of the account, newest
first, with receipts and the actions a payment held for 3-D Secure offers."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from billing.selectors.deposits import PAYMENTS_PAGE_SIZE, payments_for_account
from portal.decorators import CustomerRequest, customer_view


@customer_view
@require_GET
def payments(request: CustomerRequest) -> HttpResponse:
    account = request.account
    page = Paginator(payments_for_account(account=account), PAYMENTS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "account": account,
        "page": page,
        "payments": page.object_list,
        "can_manage_money": request.user.can_manage_money,
    }
    with timezone.override(account.tz):
        return render(request, "billing/payments.html", context)

"""Add Credit by card, step by step: start, confirm, return (3-D Secure), and the on-session
authentication of a payment the bank held, or its cancellation."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from billing import stripe_gateway
from billing.declines import decline_reason
from billing.forms.deposits import AddCreditForm
from billing.models import Deposit
from billing.money import format_usd
from billing.selectors.deposits import deposit_for_account
from billing.services import deposits as service_deposits
from billing.services.deposit_authentication import deposit_cancel
from billing.services.deposits import deposit_payment_secret, deposit_refresh, deposit_start
from billing.views.per_minute import render_page, wants_json
from portal.decorators import CustomerRequest, customer_view
from portal.errors import DomainError
from portal.models import MONEY_ROLES


@customer_view(roles=MONEY_ROLES)
@require_POST
def add_credit(request: CustomerRequest) -> HttpResponse:
    """Step 1 of Add Credit: check the amount, record the deposit, prepare the card."""
    form = AddCreditForm(request.POST)
    if not form.is_valid():
        if wants_json(request):
            return JsonResponse({"ok": False, "errors": form.errors.get_json_data()}, status=400)
        return render_page(request, credit_form=form, status=400)
    if not wants_json(request):
        messages.warning(
            request,
            "Card payments need JavaScript in your browser, so your card can be entered "
            "securely with Stripe. Please turn it on and try again.",
        )
        return redirect("billing:per_minute")
    try:
        start = deposit_start(
            account=request.account,
            user=request.user,
            amount=form.cleaned_data["amount"],
            save_card=form.cleaned_data["save_card"],
            use_saved_card=form.cleaned_data["use_saved_card"],
            now=timezone.now(),
        )
    except DomainError as exc:
        return JsonResponse(
            {"ok": False, "errors": {"__all__": [{"message": exc.message}]}}, status=400
        )
    return JsonResponse(
        {
            "ok": True,
            "deposit_id": start.deposit.pk,
            "setup_client_secret": start.setup_client_secret,
            "confirm_url": reverse("billing:deposit_confirm", args=[start.deposit.pk]),
        }
    )


def _deposit_state(deposit: Deposit) -> dict[str, Any]:
    state: dict[str, Any] = {
        "ok": deposit.status not in Deposit.UNPAID_STATUSES,
        "status": deposit.status,
        "return_url": reverse("billing:deposit_return", args=[deposit.pk]),
    }
    if deposit.status in Deposit.UNPAID_STATUSES:
        state["error"] = deposit.failure_reason
    if deposit.status == Deposit.Status.REQUIRES_ACTION:
        client_secret, _status = deposit_payment_secret(deposit=deposit)
        state["client_secret"] = client_secret
    return state


@customer_view(roles=MONEY_ROLES)
@never_cache
def deposit_confirm(request: CustomerRequest, deposit_id: int) -> HttpResponse:
    """Step 2: the browser has set up the card; charge it (server-side confirmation)."""
    deposit = deposit_for_account(account=request.account, deposit_id=deposit_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        deposit = service_deposits.deposit_confirm(
            deposit=deposit,
            setup_intent_id=request.POST.get("setup_intent", ""),
            now=timezone.now(),
        )
        return JsonResponse(_deposit_state(deposit))
    except stripe_gateway.CardDeclined as exc:
        return JsonResponse(
            {"ok": False, "status": "failed", "error": decline_reason(exc.code)}, status=402
        )
    except DomainError as exc:
        return JsonResponse({"ok": False, "status": "failed", "error": exc.message}, status=400)


@customer_view(roles=MONEY_ROLES)
@never_cache
def deposit_return(request: CustomerRequest, deposit_id: int) -> HttpResponse:
    """Step 3: back from the card (and 3-D Secure): ask Stripe, credit if it succeeded."""
    deposit = deposit_for_account(account=request.account, deposit_id=deposit_id)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    try:
        deposit = deposit_refresh(deposit=deposit, now=timezone.now())
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("billing:per_minute")
    amount = format_usd(deposit.amount)
    if deposit.status == Deposit.Status.SUCCEEDED:
        messages.success(request, f"Payment received: {amount} was added to your balance.")
    elif deposit.status == Deposit.Status.FAILED:
        messages.error(
            request, f"The payment of {amount} did not go through. {deposit.failure_reason}"
        )
    elif deposit.status in (Deposit.Status.CANCELED, Deposit.Status.EXPIRED):
        messages.info(request, f"The payment of {amount} was cancelled. {deposit.failure_reason}")
    elif deposit.status == Deposit.Status.REQUIRES_ACTION:
        messages.warning(
            request,
            f"The payment of {amount} still needs your bank's confirmation; nothing was "
            "charged yet.",
        )
    else:
        messages.info(
            request,
            f"Your payment of {amount} is being processed; your balance will update as soon "
            "as the card processor confirms it.",
        )
    return redirect("billing:per_minute")


@customer_view(roles=MONEY_ROLES)
@never_cache
def deposit_authenticate(request: CustomerRequest, deposit_id: int) -> HttpResponse:
    """On-session completion of a payment the bank wanted the customer to confirm (the link in
    the auto-recharge e-mail)."""
    deposit = deposit_for_account(account=request.account, deposit_id=deposit_id)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    if deposit.status != Deposit.Status.REQUIRES_ACTION:
        messages.info(request, "This payment does not need your confirmation any more.")
        return redirect("billing:per_minute")
    try:
        client_secret, intent_status = deposit_payment_secret(deposit=deposit)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("billing:per_minute")
    context = {
        "account": request.account,
        "deposit": deposit,
        "amount": format_usd(deposit.amount),
        "client_secret": client_secret,
        "payment_method": (
            deposit.stripe_payment_method_id if intent_status == "requires_payment_method" else ""
        ),
        "return_url": reverse("billing:deposit_return", args=[deposit.pk]),
        "stripe_publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
        "stripe_js_url": settings.STRIPE_JS_URL,
    }
    return render(request, "billing/deposit_authenticate.html", context)


# Where the Cancel button may send the customer back to (never a URL taken from the request).
_CANCEL_RETURNS = {"payments": "billing:payments", "per_minute": "billing:per_minute"}


@customer_view(roles=MONEY_ROLES)
@require_POST
def deposit_cancel_view(request: CustomerRequest, deposit_id: int) -> HttpResponse:
    """Cancel a payment waiting for 3-D Secure (at Stripe first). If the customer confirmed it
    meanwhile, it is paid and credited, and the message says so."""
    deposit = deposit_for_account(account=request.account, deposit_id=deposit_id)
    back = reverse(_CANCEL_RETURNS.get(request.POST.get("next", ""), "billing:per_minute"))
    amount = format_usd(deposit.amount)
    if deposit.status != Deposit.Status.REQUIRES_ACTION:
        messages.info(request, f"The payment of {amount} is no longer waiting for your bank.")
        return redirect(back)
    try:
        deposit = deposit_cancel(deposit=deposit, user=request.user, now=timezone.now())
    except DomainError as exc:
        messages.error(request, f"The payment of {amount} was not cancelled. {exc.message}")
        return redirect(back)
    if deposit.status == Deposit.Status.CANCELED:
        messages.success(request, f"The payment of {amount} was cancelled. Nothing was charged.")
    elif deposit.status == Deposit.Status.SUCCEEDED:
        messages.info(
            request,
            f"The payment of {amount} had already been confirmed with your bank, so it could "
            "not be cancelled: it was added to your balance.",
        )
    else:
        messages.info(request, f"The payment of {amount}: {deposit.get_status_display()}.")
    return redirect(back)

"""Control Center pages of the billing app (Calls, Numbers, rate lookup, Per Minute and Add
Credit) and the Stripe webhook. Thin: reads through selectors, writes through services; every
customer page is ``@customer_view`` and looks objects up scoped to ``request.account`` before it
checks the method, so another account's id is always a 404."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    JsonResponse,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from billing import exports, selectors, services, stripe_gateway
from billing.forms.calls import CallFilterForm
from billing.forms.deposits import AddCreditForm, AutoRechargeForm
from billing.forms.ledger import HistoryFilterForm
from billing.forms.rates import RateLookupForm
from billing.models import Deposit
from billing.money import format_usd
from billing.selectors import CallFilters
from portal.decorators import CustomerRequest, customer_view
from portal.errors import DomainError
from portal.models import Account

logger = logging.getLogger(__name__)

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
            exports.csv_lines(exports.call_rows(queryset, tz=account.tz)),
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


# --- Prepaid balance: Per Minute, Add Credit, deposits, the Stripe webhook (issue 4) --------


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _render_page(
    request: CustomerRequest,
    *,
    credit_form: AddCreditForm | None = None,
    auto_form: AutoRechargeForm | None = None,
    status: int = 200,
) -> HttpResponse:
    account = request.account
    profile = selectors.billing_profile_for(account=account)
    filter_form = HistoryFilterForm(
        request.GET if any(k in request.GET for k in ("kind", "date_from", "date_to")) else None
    )
    filters = filter_form.filters()
    paginator = Paginator(selectors.ledger_history(account=account, filters=filters), 25)
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("export", None)
    daily_cap, monthly_cap = selectors.auto_recharge_limits(profile=profile)
    if auto_form is None:
        auto_form = AutoRechargeForm(
            initial={
                "enabled": profile.auto_recharge_enabled,
                "threshold": f"{profile.auto_recharge_threshold:.2f}",
                "amount": f"{profile.auto_recharge_amount:.2f}",
                "low_balance_threshold": (
                    f"{profile.low_balance_threshold:.2f}"
                    if profile.low_balance_threshold is not None
                    else ""
                ),
            }
        )
    context: dict[str, Any] = {
        "account": account,
        "balance": format_usd(account.balance),
        "balance_negative": account.balance < 0,
        "profile": profile,
        "credit_form": credit_form or AddCreditForm(),
        "auto_form": auto_form,
        "filter_form": filter_form,
        "filters": filters,
        "page": page,
        "filter_query": query.urlencode(),
        "payments": selectors.recent_payments(account=account),
        "pending_authentications": selectors.pending_authentications(account=account),
        "daily_cap": format_usd(daily_cap),
        "monthly_cap": format_usd(monthly_cap),
        "min_deposit": format_usd(settings.BILLING_MIN_DEPOSIT),
        "max_deposit": format_usd(settings.BILLING_MAX_DEPOSIT),
        "stripe_publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
        "stripe_js_url": settings.STRIPE_JS_URL,
    }
    with timezone.override(account.tz):
        return render(request, "billing/per_minute.html", context, status=status)


@customer_view
@require_GET
def per_minute(request: CustomerRequest) -> HttpResponse | StreamingHttpResponse:
    """The page; ``?export=csv`` downloads the filtered history (every page of it)."""
    if request.GET.get("export") == "csv":
        return _history_csv(request)
    return _render_page(request)


@customer_view
@require_POST
def add_credit(request: CustomerRequest) -> HttpResponse:
    """Step 1 of Add Credit: check the amount, record the deposit, prepare the card."""
    form = AddCreditForm(request.POST)
    if not form.is_valid():
        if _wants_json(request):
            return JsonResponse({"ok": False, "errors": form.errors.get_json_data()}, status=400)
        return _render_page(request, credit_form=form, status=400)
    if not _wants_json(request):
        messages.warning(
            request,
            "Card payments need JavaScript in your browser, so your card can be entered "
            "securely with Stripe. Please turn it on and try again.",
        )
        return redirect("billing:per_minute")
    try:
        start = services.deposit_start(
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
        "ok": deposit.status != Deposit.Status.FAILED,
        "status": deposit.status,
        "return_url": reverse("billing:deposit_return", args=[deposit.pk]),
    }
    if deposit.status == Deposit.Status.FAILED:
        state["error"] = deposit.failure_message or "The payment failed."
    if deposit.status == Deposit.Status.REQUIRES_ACTION:
        client_secret, _status = services.deposit_payment_secret(deposit=deposit)
        state["client_secret"] = client_secret
    return state


@customer_view
@never_cache
def deposit_confirm(request: CustomerRequest, deposit_id: int) -> HttpResponse:
    """Step 2: the browser has set up the card; charge it (server-side confirmation)."""
    deposit = selectors.deposit_for_account(account=request.account, deposit_id=deposit_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        deposit = services.deposit_confirm(
            deposit=deposit,
            setup_intent_id=request.POST.get("setup_intent", ""),
            now=timezone.now(),
        )
        return JsonResponse(_deposit_state(deposit))
    except stripe_gateway.CardDeclined as exc:
        return JsonResponse({"ok": False, "status": "failed", "error": exc.message}, status=402)
    except DomainError as exc:
        return JsonResponse({"ok": False, "status": "failed", "error": exc.message}, status=400)


@customer_view
@never_cache
def deposit_return(request: CustomerRequest, deposit_id: int) -> HttpResponse:
    """Step 3: back from the card (and 3-D Secure): ask Stripe, credit if it succeeded."""
    deposit = selectors.deposit_for_account(account=request.account, deposit_id=deposit_id)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    try:
        deposit = services.deposit_refresh(deposit=deposit, now=timezone.now())
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("billing:per_minute")
    amount = format_usd(deposit.amount)
    if deposit.status == Deposit.Status.SUCCEEDED:
        messages.success(request, f"Payment received: {amount} was added to your balance.")
    elif deposit.status == Deposit.Status.FAILED:
        messages.error(
            request,
            f"The payment of {amount} did not go through: {deposit.failure_message} "
            "Nothing was charged.",
        )
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


@customer_view
@never_cache
def deposit_authenticate(request: CustomerRequest, deposit_id: int) -> HttpResponse:
    """On-session completion of a payment the bank wanted the customer to confirm (the link in
    the auto-recharge e-mail)."""
    deposit = selectors.deposit_for_account(account=request.account, deposit_id=deposit_id)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    if deposit.status != Deposit.Status.REQUIRES_ACTION:
        messages.info(request, "This payment does not need your confirmation any more.")
        return redirect("billing:per_minute")
    try:
        client_secret, intent_status = services.deposit_payment_secret(deposit=deposit)
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


@customer_view
@require_POST
def auto_recharge_settings(request: CustomerRequest) -> HttpResponse:
    form = AutoRechargeForm(request.POST)
    if not form.is_valid():
        return _render_page(request, auto_form=form, status=400)
    try:
        services.auto_recharge_configure(
            account=request.account,
            enabled=form.cleaned_data["enabled"],
            threshold=form.cleaned_data["threshold"],
            amount=form.cleaned_data["amount"],
            low_balance_threshold=form.cleaned_data["low_balance_threshold"],
            now=timezone.now(),
        )
    except DomainError as exc:
        form.add_error(None, exc.message)
        return _render_page(request, auto_form=form, status=400)
    messages.success(request, "Auto-recharge settings saved.")
    return redirect(reverse("billing:per_minute") + "#auto-recharge")


@customer_view
@require_POST
def card_remove(request: CustomerRequest) -> HttpResponse:
    profile = selectors.billing_profile_for(account=request.account)
    if not profile.has_card:
        messages.info(request, "There is no saved card.")
        return redirect("billing:per_minute")
    services.billing_card_remove(account=request.account, now=timezone.now())
    messages.success(request, f"{profile.card_label} was removed. Auto-recharge is off.")
    return redirect(reverse("billing:per_minute") + "#auto-recharge")


def _history_csv(request: CustomerRequest) -> StreamingHttpResponse:
    account = request.account
    filters = HistoryFilterForm(request.GET).filters()
    entries = selectors.ledger_history(account=account, filters=filters)
    tz = account.tz
    response = StreamingHttpResponse(
        exports.csv_lines(exports.ledger_rows(entries, tz=tz), header=exports.LEDGER_HEADER),
        content_type="text/csv; charset=utf-8",
    )
    stamp = timezone.localtime(timezone.now(), tz).strftime("%Y%m%d")
    response["Content-Disposition"] = (
        f'attachment; filename="balance-history-{account.code}-{stamp}.csv"'
    )
    return response


# --- The Stripe webhook (namespace "stripe": a machine endpoint, no login) ------------------


@csrf_exempt
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Verified by signature (400 and nothing stored otherwise); stored once by event id;
    processed in a transaction. A processing error answers 500 so Stripe delivers it again."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        payload = stripe_gateway.event_verify(
            payload=request.body, signature=request.headers.get("Stripe-Signature")
        )
    except stripe_gateway.BadWebhook as exc:
        logger.warning("stripe webhook refused: %s", exc)
        return HttpResponse("bad signature", status=400, content_type="text/plain")
    now = timezone.now()
    event = services.stripe_event_record(payload=payload, now=now)
    try:
        event = services.stripe_event_process(event_id=event.event_id, now=now)
    except Exception:
        return JsonResponse({"id": event.event_id, "status": "failed"}, status=500)
    return JsonResponse({"id": event.event_id, "status": event.status})

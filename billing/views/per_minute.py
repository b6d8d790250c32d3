"""The Per Minute page: balance, Add Credit and auto-recharge forms, payments, the filtered
balance history (and its CSV), the auto-recharge settings and the saved card."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from billing import exports
from billing.forms.deposits import AddCreditForm, AutoRechargeForm
from billing.forms.ledger import HistoryFilterForm
from billing.money import format_usd
from billing.selectors.auto_recharge import auto_recharge_armed, auto_recharge_caps
from billing.selectors.deposits import billing_profile_for, pending_authentications, recent_payments
from billing.selectors.ledger import HISTORY_PAGE_SIZE, ledger_history
from billing.services.auto_recharge import auto_recharge_configure
from billing.services.cards import billing_card_remove
from billing.services.deposits import deposit_limits
from portal.decorators import CustomerRequest, customer_view
from portal.errors import DomainError
from portal.feedback import redirect_to_section, section_message
from portal.models import MONEY_ROLES

# The page's sections that forms return to (their ids in per_minute.html).
AUTO_RECHARGE_SECTION = "auto-recharge"
HISTORY_SECTION = "history"


def wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _amount_prefill(request: CustomerRequest) -> dict[str, str]:
    """``?amount=12.50``: a page that sent the customer here (a port's missing fee) says how
    much; only a plain amount is taken, the form still checks it on submit."""
    raw = request.GET.get("amount", "")
    return {"amount": raw} if re.fullmatch(r"[0-9]{1,6}(\.[0-9]{1,2})?", raw) else {}


def render_page(
    request: CustomerRequest,
    *,
    credit_form: AddCreditForm | None = None,
    auto_form: AutoRechargeForm | None = None,
    status: int = 200,
) -> HttpResponse:
    account = request.account
    profile = billing_profile_for(account=account)
    filter_form = HistoryFilterForm(
        request.GET if any(k in request.GET for k in ("kind", "date_from", "date_to")) else None
    )
    filters = filter_form.filters()
    # Filters that contradict each other (From after To) show their error and no table: an
    # unfiltered table under the error would read as the answer.
    filter_invalid = filter_form.is_bound and not filter_form.is_valid()
    page = None
    if not filter_invalid:
        paginator = Paginator(ledger_history(account=account, filters=filters), HISTORY_PAGE_SIZE)
        page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("export", None)
    daily_cap, monthly_cap = auto_recharge_caps(profile=profile)
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
        "can_manage_money": request.user.can_manage_money,
        "balance": account.balance,
        "balance_negative": account.balance < 0,
        "profile": profile,
        # A recharge left the balance below the threshold and nothing has lifted it since.
        "auto_recharge_paused": profile.auto_recharge_enabled
        and not auto_recharge_armed(profile=profile),
        "credit_form": credit_form or AddCreditForm(initial=_amount_prefill(request)),
        "auto_form": auto_form,
        "filter_form": filter_form,
        "filters": filters,
        "filter_invalid": filter_invalid,
        "page": page,
        "filter_query": query.urlencode(),
        "payments": recent_payments(account=account),
        "pending_authentications": pending_authentications(account=account),
        "daily_cap": format_usd(daily_cap),
        "monthly_cap": format_usd(monthly_cap),
        "min_deposit": format_usd(deposit_limits()[0]),
        "max_deposit": format_usd(deposit_limits()[1]),
        "stripe_publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
        "stripe_js_url": settings.STRIPE_JS_URL,
    }
    with timezone.override(account.tz):
        return render(request, "billing/per_minute.html", context, status=status)


@customer_view
@require_GET
def per_minute(request: CustomerRequest) -> HttpResponse | StreamingHttpResponse:
    """The page; ``?export=csv`` downloads the filtered history (every page of it)."""
    # An invalid filter never exports the unfiltered history: the page shows the errors.
    if request.GET.get("export") == "csv" and HistoryFilterForm(request.GET).is_valid():
        return _history_csv(request)
    return render_page(request)


@customer_view(roles=MONEY_ROLES)
@require_POST
def auto_recharge_settings(request: CustomerRequest) -> HttpResponse:
    form = AutoRechargeForm(request.POST)
    if not form.is_valid():
        return render_page(request, auto_form=form, status=400)
    try:
        auto_recharge_configure(
            account=request.account,
            enabled=form.cleaned_data["enabled"],
            threshold=form.cleaned_data["threshold"],
            amount=form.cleaned_data["amount"],
            low_balance_threshold=form.cleaned_data["low_balance_threshold"],
            now=timezone.now(),
        )
    except DomainError as exc:
        form.add_error(None, exc.message)
        return render_page(request, auto_form=form, status=400)
    section_message(
        request, messages.SUCCESS, "Auto-recharge settings saved.", section=AUTO_RECHARGE_SECTION
    )
    return redirect_to_section(reverse("billing:per_minute"), section=AUTO_RECHARGE_SECTION)


@customer_view(roles=MONEY_ROLES)
@require_POST
def card_remove(request: CustomerRequest) -> HttpResponse:
    """Removing the card turns auto-recharge off, so it takes a second, explicit step: the
    page's "Remove card" opens a confirmation (a <details>, no script needed); a post without
    ``confirm=yes`` shows a confirmation page instead of removing anything."""
    profile = billing_profile_for(account=request.account)
    page_url = reverse("billing:per_minute")
    if not profile.has_card:
        section_message(
            request, messages.INFO, "There is no saved card.", section=AUTO_RECHARGE_SECTION
        )
        return redirect_to_section(page_url, section=AUTO_RECHARGE_SECTION)
    if request.POST.get("confirm") != "yes":
        return render(
            request,
            "billing/card_remove_confirm.html",
            {"profile": profile, "auto_recharge_on": profile.auto_recharge_enabled},
        )
    billing_card_remove(account=request.account, now=timezone.now())
    section_message(
        request,
        messages.SUCCESS,
        f"{profile.card_label} was removed. Auto-recharge is off.",
        section=AUTO_RECHARGE_SECTION,
    )
    return redirect_to_section(page_url, section=AUTO_RECHARGE_SECTION)


def _history_csv(request: CustomerRequest) -> StreamingHttpResponse:
    account = request.account
    filters = HistoryFilterForm(request.GET).filters()
    entries = ledger_history(account=account, filters=filters)
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

"""Number ports for customers: the request form, a request's page (the fee, submit, cancel,
every number's outcome and the history) and the bill copy, served only to the account."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from billing.forms.ports import PortCancelForm, PortRequestForm
from billing.models import PortRequest
from billing.money import format_usd
from billing.selectors.ports import port_history, port_request_for_account
from billing.services.ports import (
    LineError,
    PortBalanceShort,
    PortNumbersInvalid,
    port_cancel,
    port_draft_create,
    port_loa_text,
    port_submit,
    port_top_up_amount,
)
from portal.decorators import CustomerRequest, customer_view
from portal.errors import DomainError
from portal.models import MONEY_ROLES


def _today(request: CustomerRequest) -> dt.date:
    return timezone.now().astimezone(request.account.tz).date()


def _initial_from(request: CustomerRequest) -> dict[str, str]:
    """A rejected (or cancelled) request's details, to correct and submit as a new one."""
    raw = request.GET.get("from", "")
    if not raw.isdigit():
        return {}
    old = port_request_for_account(account=request.account, port_id=int(raw))
    return {
        "numbers": "\n".join(n.number for n in old.numbers.all()),
        "losing_carrier": old.losing_carrier,
        "carrier_account_number": old.carrier_account_number,
        "account_holder_name": old.account_holder_name,
        "service_address": old.service_address,
    }


@customer_view(roles=MONEY_ROLES)
@require_http_methods(["GET", "POST"])
def port_new(request: CustomerRequest) -> HttpResponse:
    """Step 1: the request. Every bad number is listed with its line; nothing is created."""
    line_errors: list[LineError] = []
    if request.method == "POST":
        form = PortRequestForm(request.POST, request.FILES, today=_today(request))
        if form.is_valid():
            data = form.cleaned_data
            try:
                port = port_draft_create(
                    account=request.account,
                    user=request.user,
                    numbers_text=data["numbers"],
                    losing_carrier=data["losing_carrier"],
                    carrier_account_number=data["carrier_account_number"],
                    carrier_pin=data["carrier_pin"],
                    account_holder_name=data["account_holder_name"],
                    service_address=data["service_address"],
                    requested_date=data["requested_date"],
                    loa_name=data["loa_name"],
                    loa_ip=request.META.get("REMOTE_ADDR"),
                    bill=data["bill"],
                    now=timezone.now(),
                )
            except PortNumbersInvalid as exc:
                line_errors = exc.errors
                form.add_error("numbers", exc.message)
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                return redirect("billing:port_detail", port_id=port.pk)
        status = 400
    else:
        form = PortRequestForm(initial=_initial_from(request), today=_today(request))
        status = 200
    return render(
        request,
        "billing/ports/new.html",
        {
            "account": request.account,
            "form": form,
            "line_errors": line_errors,
            "loa_text": port_loa_text(account=request.account),
        },
        status=status,
    )


@customer_view
@never_cache
def port_detail(request: CustomerRequest, port_id: int) -> HttpResponse:
    """A request: the fee before submitting, then its state, numbers and history."""
    port = port_request_for_account(account=request.account, port_id=port_id)
    if request.method != "GET":
        return HttpResponse(status=405)
    account = request.account
    missing = None
    if port.status == PortRequest.Status.DRAFT:
        missing = port_top_up_amount(total=port.fee_total, balance=account.balance)
    context = {
        "account": account,
        "port": port,
        "numbers": list(port.numbers.all()),
        "history": port_history(port=port),
        "can_manage_money": request.user.can_manage_money,
        "balance": account.balance,
        "missing": missing,
        "missing_text": format_usd(missing) if missing is not None else "",
        "cancel_form": PortCancelForm(),
        "customer_cancellable": port.status
        in (PortRequest.Status.DRAFT, PortRequest.Status.SUBMITTED),
    }
    with timezone.override(account.tz):
        return render(request, "billing/ports/detail.html", context)


@customer_view(roles=MONEY_ROLES)
@require_POST
def port_submit_view(request: CustomerRequest, port_id: int) -> HttpResponse:
    """Step 2: charge the fee shown and submit; or nothing, with the reason."""
    port = port_request_for_account(account=request.account, port_id=port_id)
    try:
        port = port_submit(port=port, user=request.user, now=timezone.now())
    except PortBalanceShort as exc:
        messages.error(request, exc.message)
    except PortNumbersInvalid as exc:
        reasons = "; ".join(f"{e.text}: {e.reason}" for e in exc.errors)
        messages.error(request, f"{exc.message} {reasons}")
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"Port request #{port.pk} submitted; {format_usd(port.fee_total)} was charged "
            "from your balance.",
        )
    return redirect("billing:port_detail", port_id=port.pk)


@customer_view(roles=MONEY_ROLES)
@require_POST
def port_cancel_view(request: CustomerRequest, port_id: int) -> HttpResponse:
    port = port_request_for_account(account=request.account, port_id=port_id)
    form = PortCancelForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        port = port_cancel(
            port=port, user=request.user, by_staff=False, note=note, now=timezone.now()
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Port request #{port.pk} cancelled.")
    return redirect("billing:port_detail", port_id=port.pk)


@customer_view
@never_cache
def port_bill(request: CustomerRequest, port_id: int) -> FileResponse:
    """The bill copy, to the account's own users only (another account's id is a 404)."""
    port = port_request_for_account(account=request.account, port_id=port_id)
    return bill_response(port)


def bill_response(port: PortRequest) -> FileResponse:
    """The stored bill as a download (never rendered inline: it is the customer's file)."""
    if not port.bill:
        raise Http404("No bill copy")
    extension = (port.bill.name or "").rsplit(".", 1)[-1]
    response = FileResponse(
        port.bill.open("rb"),
        as_attachment=True,
        filename=f"port-{port.pk}-bill.{extension}",
        content_type=port.bill_content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response

"""The Trunking page: channels per kind, the change flow (counts → confirmation with the charge
now → done), the pending decrease and the history. Members see it read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from portal.decorators import CustomerRequest, customer_view
from portal.errors import DomainError
from portal.models import MONEY_ROLES
from trunking.forms import ChannelCountsForm
from trunking.permissions import can_change_channels
from trunking.selectors.trunks import (
    ChangeQuote,
    change_quote,
    channel_history,
    maximums_for,
    trunk_summary,
)
from trunking.services.trunks import channel_decrease_cancel, channels_change

FORBIDDEN = "Only the account owner or billing contacts can change channels."


def _page(
    request: CustomerRequest,
    *,
    form: ChannelCountsForm | None = None,
    quote: ChangeQuote | None = None,
    error: DomainError | None = None,
    status: int = 200,
) -> HttpResponse:
    account = request.account
    now = timezone.now()
    summary = trunk_summary(account=account, now=now)
    if form is None:
        form = ChannelCountsForm(
            initial={"version": summary.version, **summary.next_counts()},
            maximums=maximums_for(account=account),
        )
    context: dict[str, Any] = {
        "account": account,
        "summary": summary,
        "history": channel_history(account=account),
        "form": form,
        "quote": quote,
        "covered": quote is None or quote.charge <= account.balance,
        "error": error,
        "can_change": can_change_channels(request.user),
    }
    return render(request, "trunking/trunking.html", context, status=status)


def _bound_form(request: CustomerRequest) -> ChannelCountsForm:
    return ChannelCountsForm(request.POST, maximums=maximums_for(account=request.account))


@customer_view
@require_http_methods(["GET", "POST"])
def trunking(request: CustomerRequest) -> HttpResponse:
    """GET: the page. POST: the counts wanted → the confirmation (nothing changes yet)."""
    if request.method == "GET":
        return _page(request)
    if not can_change_channels(request.user):
        return HttpResponseForbidden(FORBIDDEN)
    form = _bound_form(request)
    if not form.is_valid():
        return _page(request, form=form, status=400)
    quote = change_quote(account=request.account, wanted=form.counts(), now=timezone.now())
    if not quote.changes_anything:
        return _page(
            request,
            form=form,
            error=DomainError("These are already your channel counts.", code="no_change"),
            status=400,
        )
    return _page(request, form=form, quote=quote)


@customer_view(roles=MONEY_ROLES)
@require_POST
def confirm(request: CustomerRequest) -> HttpResponse:
    """The confirmed change: applied (and charged) or refused with nothing changed."""
    if not can_change_channels(request.user):
        return HttpResponseForbidden(FORBIDDEN)
    form = _bound_form(request)
    if not form.is_valid():
        return _page(request, form=form, status=400)
    try:
        outcome = channels_change(
            account=request.account,
            user=request.user,
            counts=form.counts(),
            version=form.cleaned_data["version"],
            now=timezone.now(),
        )
    except DomainError as exc:
        return _page(request, error=exc, status=409 if exc.code == "stale" else 400)
    parts = []
    if outcome.increase is not None:
        charged = outcome.quote.charge
        parts.append(
            f"Channels added; {outcome.quote.explanation} charged now."
            if charged > 0
            else "Channels added."
        )
    if outcome.decrease is not None:
        parts.append(
            f"The decrease takes effect on {outcome.quote.next_period_start.date():%B %-d, %Y}."
        )
    messages.success(request, " ".join(parts) or "Channels updated.")
    return redirect("trunking:trunking")


@customer_view(roles=MONEY_ROLES)
@require_POST
def cancel_decrease(request: CustomerRequest) -> HttpResponse:
    if not can_change_channels(request.user):
        return HttpResponseForbidden(FORBIDDEN)
    if channel_decrease_cancel(account=request.account, user=request.user, now=timezone.now()):
        messages.success(
            request, "The pending decrease is cancelled: your channels stay as they are."
        )
    else:
        messages.info(request, "There was no pending decrease to cancel.")
    return redirect("trunking:trunking")

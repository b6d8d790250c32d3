"""The Call permissions page (Settings): the deck's countries with their price range and risk
tier, toggles per country and per tier, a search (a GET filter), the price ceiling, the daily
spend cap, the fraud hold and the history of changes."""

from __future__ import annotations

import re
from decimal import Decimal

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from billing.forms.permissions import CallPermissionsForm
from billing.permissions import can_change_call_permissions
from billing.selectors.permissions import (
    call_permissions_for,
    daily_cap_staff_max,
    day_spend,
    deck_countries,
    permission_history,
)
from billing.services.permissions import call_permissions_update, fraud_hold_release
from portal.decorators import CustomerRequest, customer_view
from portal.errors import DomainError
from portal.models import User

_COUNTRY = re.compile(r"^[A-Z]{2}$")


def _page(request: CustomerRequest, form: CallPermissionsForm | None = None) -> HttpResponse:
    account = request.account
    now = timezone.now()
    permissions = call_permissions_for(account=account, at=now)
    query = request.GET.get("q", "")[:60]
    if form is None:
        form = CallPermissionsForm(
            initial={
                "allow_low": permissions.allow_low,
                "allow_medium": permissions.allow_medium,
                "allow_high": permissions.allow_high,
                "price_ceiling": permissions.price_ceiling.normalize(),
                "daily_cap": permissions.daily_cap.quantize(Decimal("0.01")),
            }
        )
    context = {
        "account": account,
        "permissions": permissions,
        "form": form,
        "query": query,
        "countries": deck_countries(account=account, permissions=permissions, now=now, query=query),
        "spent_today": day_spend(account=account, now=now),
        "staff_max": daily_cap_staff_max(),
        "history": permission_history(account=account, limit=20),
        "can_change": can_change_call_permissions(request.user),
        "can_release": request.user.role == User.Role.OWNER,
    }
    with timezone.override(account.tz):
        return render(request, "billing/call_permissions.html", context)


@customer_view
@require_GET
def call_permissions(request: CustomerRequest) -> HttpResponse:
    return _page(request)


@customer_view
@require_POST
def call_permissions_save(request: CustomerRequest) -> HttpResponse:
    if not can_change_call_permissions(request.user):
        raise PermissionDenied("Only the account owner or billing users may change permissions.")
    form = CallPermissionsForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Please correct the errors below.")
        return _page(request, form)
    # Only the countries the page showed (the search may have hidden others) are changed.
    shown = [c for c in request.POST.getlist("shown") if _COUNTRY.match(c)][:400]
    allowed = set(request.POST.getlist("country"))
    now = timezone.now()
    current = call_permissions_for(account=request.account, at=now)
    rows = {
        row.country: row
        for row in deck_countries(account=request.account, permissions=current, now=now)
    }
    tiers = {
        "low": form.cleaned_data["allow_low"],
        "medium": form.cleaned_data["allow_medium"],
        "high": form.cleaned_data["allow_high"],
    }
    countries: dict[str, bool | None] = {}
    for country in shown:
        row = rows.get(country)
        if row is None:
            continue
        wanted = country in allowed
        # A country that follows its tier toggle stores no choice: changing the toggle later
        # moves it along.
        countries[country] = None if wanted == tiers[row.tier] else wanted
    try:
        change = call_permissions_update(
            account=request.account,
            actor=request.user,
            now=now,
            allow_low=tiers["low"],
            allow_medium=tiers["medium"],
            allow_high=tiers["high"],
            countries=countries,
            price_ceiling=form.cleaned_data["price_ceiling"],
            daily_cap=form.cleaned_data["daily_cap"],
        )
    except DomainError as exc:
        form.add_error("daily_cap" if exc.code == "daily_cap_above_maximum" else None, exc.message)
        return _page(request, form)
    if change is None:
        messages.info(request, "Nothing changed.")
    else:
        messages.success(request, "Your call permissions are saved. We e-mailed the owner.")
    query = request.POST.get("q", "")
    url = reverse("billing:call_permissions")
    return redirect(f"{url}?q={query}" if query else url)


@customer_view(roles={User.Role.OWNER})
@require_POST
@reauthentication_required
def call_permissions_release(request: CustomerRequest) -> HttpResponse:
    """Re-enable paid calls after a fraud hold: the owner, after signing in again."""
    if fraud_hold_release(account=request.account, actor=request.user, now=timezone.now()):
        messages.success(request, "Paid calls are enabled again.")
    else:
        messages.info(request, "Paid calls were not on hold.")
    return redirect("billing:call_permissions")

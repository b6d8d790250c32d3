from __future__ import annotations

import logging

from django.contrib import messages
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portal import services
from portal.celery import app as celery_app
from portal.decorators import CustomerRequest, customer_view
from portal.errors import DomainError
from portal.forms import AccountSettingsForm
from portal.selectors import account_members

logger = logging.getLogger(__name__)

# A load balancer's probe must answer within its own timeout, broker down or not.
HEALTHZ_BROKER_TIMEOUT = 2  # seconds
# Its own queue: no worker consumes it, so a probe never reaches (or steals) a task.
HEALTHZ_QUEUE = "healthz.probe"


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("portal:dashboard")
    return redirect("account_login")


@customer_view
def dashboard(request: CustomerRequest) -> HttpResponse:
    from portal.dashboard import dashboard_panels

    return render(
        request,
        "portal/dashboard.html",
        {"account": request.account, "panels": dashboard_panels(account=request.account)},
    )


@customer_view
def account_settings(request: CustomerRequest) -> HttpResponse:
    account = request.account
    form = AccountSettingsForm(
        request.POST or None, initial={"name": account.name, "timezone": account.timezone}
    )
    if request.method == "POST" and form.is_valid():
        if request.user.role != request.user.Role.OWNER:
            messages.error(request, "Only the account owner can change these settings.")
        else:
            try:
                services.account_update(
                    account=account,
                    name=form.cleaned_data["name"],
                    timezone=form.cleaned_data["timezone"],
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "Account settings saved.")
                return redirect("portal:account_settings")
    return render(
        request,
        "portal/account_settings.html",
        {"account": account, "form": form, "members": account_members(account=account)},
    )


def _database_ok() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True, "ok"
    except Exception as exc:
        logger.warning("healthz: database down: %s", exc)
        return False, type(exc).__name__


def _broker_ok() -> tuple[bool, str]:
    """A message really goes through the broker and back (a connection alone passes with a
    full disk, a read-only folder or a Redis refusing writes)."""
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=HEALTHZ_BROKER_TIMEOUT)
            with conn.SimpleQueue(HEALTHZ_QUEUE, no_ack=True) as queue:
                queue.put({"probe": "healthz"}, retry=False)
                try:
                    queue.get_nowait()
                except queue.Empty:  # another probe took this one: wait for its message
                    queue.get(block=True, timeout=HEALTHZ_BROKER_TIMEOUT)
        return True, "ok"
    except Exception as exc:
        logger.warning("healthz: broker down: %s", exc)
        return False, type(exc).__name__


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    db_ok, db_detail = _database_ok()
    broker_ok, broker_detail = _broker_ok()
    healthy = db_ok and broker_ok
    return JsonResponse(
        {
            "status": "ok" if healthy else "error",
            "database": db_detail,
            "broker": broker_detail,
        },
        status=200 if healthy else 503,
    )

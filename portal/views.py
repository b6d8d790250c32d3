from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth import logout
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from portal import people, services
from portal.celery import app as celery_app
from portal.decorators import CustomerRequest, customer_view
from portal.errors import DomainError
from portal.forms import AccountSettingsForm, InvitationAcceptForm, InviteForm, RoleForm
from portal.models import OWNER_ROLES, User
from portal.selectors import account_member, account_members, pending_invitations

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
    return _settings_page(request, form=form)


def _settings_page(
    request: CustomerRequest,
    *,
    form: AccountSettingsForm | None = None,
    invite_form: InviteForm | None = None,
    status: int = 200,
) -> HttpResponse:
    account = request.account
    context = {
        "account": account,
        "form": form
        or AccountSettingsForm(initial={"name": account.name, "timezone": account.timezone}),
        "members": account_members(account=account),
        "invite_form": invite_form or InviteForm(),
        "invitations": pending_invitations(account=account),
        "role_choices": User.Role.choices,
        "is_owner": request.user.is_owner,
    }
    return render(request, "portal/account_settings.html", context, status=status)


@customer_view(roles=OWNER_ROLES)
@require_POST
def people_invite(request: CustomerRequest) -> HttpResponse:
    form = InviteForm(request.POST)
    if not form.is_valid():
        return _settings_page(request, invite_form=form, status=400)
    try:
        invitation = people.invitation_create(
            account=request.account,
            actor=request.user,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            now=timezone.now(),
        )
    except DomainError as exc:
        form.add_error("email", exc.message)
        return _settings_page(request, invite_form=form, status=400)
    messages.success(request, f"Invitation sent to {invitation.email}.")
    return redirect(reverse("portal:account_settings") + "#people")


@customer_view(roles=OWNER_ROLES)
@require_POST
def people_role(request: CustomerRequest, user_id: int) -> HttpResponse:
    account_member(account=request.account, user_id=user_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a role: owner, billing or member.")
        return redirect(reverse("portal:account_settings") + "#people")
    try:
        member = people.member_change_role(
            account=request.account,
            actor=request.user,
            member_id=user_id,
            role=form.cleaned_data["role"],
            now=timezone.now(),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{member.email} is now {member.get_role_display()}.")
    return redirect(reverse("portal:account_settings") + "#people")


@customer_view(roles=OWNER_ROLES)
@require_POST
def people_remove(request: CustomerRequest, user_id: int) -> HttpResponse:
    account_member(account=request.account, user_id=user_id)
    if user_id == request.user.pk:
        messages.error(request, "To leave the account yourself, use “Leave this account”.")
        return redirect(reverse("portal:account_settings") + "#people")
    try:
        member = people.member_remove(
            account=request.account, actor=request.user, member_id=user_id, now=timezone.now()
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{member.email} was removed from the account.")
    return redirect(reverse("portal:account_settings") + "#people")


@customer_view
@require_POST
def account_leave(request: CustomerRequest) -> HttpResponse:
    try:
        people.member_remove(
            account=request.account,
            actor=request.user,
            member_id=request.user.pk,
            now=timezone.now(),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(reverse("portal:account_settings") + "#people")
    logout(request)
    messages.info(request, "You left the account.")
    return redirect("account_login")


@never_cache
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The invitee's link: set a password and join. Dead links get a page saying why."""
    try:
        invitation = people.invitation_for_token(token=token)
    except DomainError as exc:
        return render(request, "portal/invitation.html", {"error": exc.message}, status=400)
    form = InvitationAcceptForm(User(email=invitation.email), request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            people.invitation_accept(
                token=token, password=form.cleaned_data["new_password1"], now=timezone.now()
            )
        except DomainError as exc:
            return render(request, "portal/invitation.html", {"error": exc.message}, status=400)
        if request.user.is_authenticated:
            logout(request)
        messages.success(request, f"Welcome to {invitation.account.name}. Sign in to continue.")
        return redirect("account_login")
    context = {"invitation": invitation, "form": form}
    return render(request, "portal/invitation.html", context)


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

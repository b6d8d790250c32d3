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
from portal.feedback import redirect_to_section, section_message
from portal.forms import AccountSettingsForm, InvitationAcceptForm, InviteForm, RoleForm
from portal.models import OWNER_ROLES, User
from portal.selectors import account_member, account_members, pending_invitations

logger = logging.getLogger(__name__)

# A load balancer's probe must answer within its own timeout, broker down or not.
HEALTHZ_BROKER_TIMEOUT = 2  # seconds
# Its own queue: no worker consumes it, so a probe never reaches (or steals) a task.
HEALTHZ_QUEUE = "healthz.probe"
# The Account settings page's sections (their ids in account_settings.html): each form's
# message is shown in its own section, which the redirect scrolls to.
SETTINGS_SECTION = "settings"
PEOPLE_SECTION = "people"


def _people_message(request: HttpRequest, level: int, text: str) -> None:
    section_message(request, level, text, section=PEOPLE_SECTION)


def _back_to_people() -> HttpResponse:
    return redirect_to_section(reverse("portal:account_settings"), section=PEOPLE_SECTION)


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
            form.add_error(None, "Only the account owner can change these settings.")
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
                section_message(
                    request, messages.SUCCESS, "Account settings saved.", section=SETTINGS_SECTION
                )
                return redirect_to_section(
                    reverse("portal:account_settings"), section=SETTINGS_SECTION
                )
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
    _people_message(request, messages.SUCCESS, f"Invitation sent to {invitation.email}.")
    return _back_to_people()


@customer_view(roles=OWNER_ROLES)
@require_POST
def people_role(request: CustomerRequest, user_id: int) -> HttpResponse:
    account_member(account=request.account, user_id=user_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        _people_message(request, messages.ERROR, "Choose a role: owner, billing or member.")
        return _back_to_people()
    try:
        member = people.member_change_role(
            account=request.account,
            actor=request.user,
            member_id=user_id,
            role=form.cleaned_data["role"],
            now=timezone.now(),
        )
    except DomainError as exc:
        _people_message(request, messages.ERROR, exc.message)
    else:
        _people_message(
            request, messages.SUCCESS, f"{member.email} is now {member.get_role_display()}."
        )
    return _back_to_people()


@customer_view(roles=OWNER_ROLES)
@require_POST
def people_remove(request: CustomerRequest, user_id: int) -> HttpResponse:
    account_member(account=request.account, user_id=user_id)
    if user_id == request.user.pk:
        _people_message(
            request, messages.ERROR, "To leave the account yourself, use “Leave this account”."
        )
        return _back_to_people()
    try:
        member = people.member_remove(
            account=request.account, actor=request.user, member_id=user_id, now=timezone.now()
        )
    except DomainError as exc:
        _people_message(request, messages.ERROR, exc.message)
    else:
        _people_message(request, messages.SUCCESS, f"{member.email} was removed from the account.")
    return _back_to_people()


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
        _people_message(request, messages.ERROR, exc.message)
        return _back_to_people()
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

"""The Django admin's site: staff sign in through allauth's login (its TOTP step and rate
limits), never through the admin's own password form, and in production only with TOTP on."""

from __future__ import annotations

from typing import Any

from allauth.account.decorators import secure_admin_login
from allauth.account.utils import get_next_redirect_url
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse


def staff_mfa_satisfied(user: Any) -> bool:
    """Staff accounts can move money (adjustments, refunds): with ``STAFF_REQUIRE_MFA`` a
    stolen password alone must not open the admin."""
    if not settings.STAFF_REQUIRE_MFA:
        return True
    return is_mfa_enabled(user, [Authenticator.Type.TOTP])


@secure_admin_login
def _staff_login(request: HttpRequest) -> HttpResponse:
    """Reached only by an active staff user who already signed in through allauth (the
    decorator sends everyone else to allauth's login, or answers 403)."""
    if not staff_mfa_satisfied(request.user):
        messages.warning(request, "Staff accounts need two-factor authentication: set it up.")
        return redirect("mfa_activate_totp")
    return redirect(get_next_redirect_url(request) or reverse("admin:index"))


class PortalAdminSite(admin.AdminSite):
    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and staff_mfa_satisfied(request.user)

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        return _staff_login(request)

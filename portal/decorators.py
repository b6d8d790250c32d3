from __future__ import annotations

from collections.abc import Callable, Collection
from functools import wraps
from typing import Any, cast, overload

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone

from portal.models import Account, User
from portal.selectors import account_for_user

View = Callable[..., HttpResponseBase]  # pages, and streamed CSV exports

ROLE_NAMES: dict[frozenset[str], str] = {
    frozenset({User.Role.OWNER}): "the account owner",
    frozenset({User.Role.OWNER, User.Role.BILLING}): "the account owner or a billing contact",
}


class CustomerRequest(HttpRequest):
    user: User
    account: Account


def _forbidden(request: HttpRequest, roles: frozenset[str]) -> HttpResponseBase:
    who = ROLE_NAMES.get(roles, "someone with another role")
    message = f"Only {who} can do this. Ask an owner of your account to change your role."
    if "application/json" in request.headers.get("Accept", ""):
        errors = {"__all__": [{"message": message}]}
        return JsonResponse({"ok": False, "errors": errors}, status=403)
    return render(request, "portal/forbidden.html", {"message": message}, status=403)


@overload
def customer_view(view: View, /) -> View: ...
@overload
def customer_view(*, roles: Collection[str]) -> Callable[[View], View]: ...
def customer_view(
    view: View | None = None, /, *, roles: Collection[str] | None = None
) -> View | Callable[[View], View]:
    """Login required; sets ``request.account`` to the user's own account (404 without one)
    and renders in the account's time zone.

    Views look objects up through selectors scoped to ``request.account``, so another account's
    id in a URL is a 404. ``roles``: only users with one of these roles get the view; the others
    get a 403 page (or JSON, for ``fetch`` calls) before the view runs, so nothing changes.
    The allowed roles are kept on the view as ``allowed_roles`` (None: every role).
    """
    allowed = frozenset(roles) if roles is not None else None

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            user = cast(User, request.user)
            customer_request = cast(CustomerRequest, request)
            customer_request.account = account_for_user(user=user)
            # Every time on a customer page is in the account's zone (the server runs in UTC).
            with timezone.override(customer_request.account.tz):
                if allowed is not None and user.role not in allowed:
                    return _forbidden(request, allowed)
                return view(customer_request, *args, **kwargs)

        protected = login_required(wrapper)
        protected.allowed_roles = allowed  # type: ignore[attr-defined]
        return protected

    return decorate(view) if view is not None else decorate

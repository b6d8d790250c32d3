from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from portal.models import Account, User
from portal.selectors import account_for_user

View = Callable[..., HttpResponseBase]  # pages, and streamed CSV exports


class CustomerRequest(HttpRequest):
    user: User
    account: Account


def customer_view(view: Callable[..., HttpResponseBase]) -> View:
    """Login required; sets ``request.account`` to the user's own account (404 without one).

    Views look objects up through selectors scoped to ``request.account``, so another account's
    id in a URL is a 404.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = cast(User, request.user)
        customer_request = cast(CustomerRequest, request)
        customer_request.account = account_for_user(user=user)
        return view(customer_request, *args, **kwargs)

    return login_required(wrapper)

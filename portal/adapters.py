from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request: HttpRequest) -> str:
        user = request.user
        if getattr(user, "account_id", None) is None and getattr(user, "is_staff", False):
            return "/admin/"
        return super().get_login_redirect_url(request)

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.http import HttpRequest

from portal.mail import mail_subject


def on_site(url: str) -> str:
    """``url`` moved onto SITE_URL: an e-mailed link leads to the site customers use, whatever
    host the request that sent it came in on (a worker, an internal address, a proxy)."""
    base = urlsplit(settings.SITE_URL)
    bits = urlsplit(url)
    path = base.path.rstrip("/") + bits.path
    return urlunsplit((base.scheme, base.netloc, path, bits.query, bits.fragment))


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request: HttpRequest) -> str:
        user = request.user
        if getattr(user, "account_id", None) is None and getattr(user, "is_staff", False):
            return "/admin/"
        return super().get_login_redirect_url(request)

    def format_email_subject(self, subject: str) -> str:
        return mail_subject(subject)

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        # Every link allauth puts in an e-mail (activate_url, password_reset_url, signup_url)
        # leads to SITE_URL; the e-mails greet and sign off with the provider's name
        # (templates/account/email/base_message.txt).
        context = {
            key: on_site(value)
            if key.endswith("_url") and isinstance(value, str) and value.startswith("http")
            else value
            for key, value in context.items()
        }
        context = {"site_name": settings.SITE_NAME, "site_url": settings.SITE_URL, **context}
        super().send_mail(template_prefix, email, context)

"""What every e-mail shares: the provider's name in the subject, links built from the site's
base URL, and the sign-off with the support contact (``{% mail_signature %}``).

``SITE_NAME`` and ``SITE_URL`` come from settings (environment), never from the request or
the sites framework's row, so a link sent by a Celery worker is the same as one sent by a page.
"""

from __future__ import annotations

from django.conf import settings


def mail_subject(subject: str) -> str:
    return f"[{settings.SITE_NAME}] {subject}"


def site_link(path: str) -> str:
    """An absolute link to ``path`` (from ``reverse``) on the site customers use."""
    return f"{settings.SITE_URL}{path}"


def support_contact() -> str:
    """The support contact as a sentence ends it: the e-mail, and the help page if there is one."""
    if settings.SUPPORT_URL:
        return f"{settings.SUPPORT_EMAIL} or {settings.SUPPORT_URL}"
    return str(settings.SUPPORT_EMAIL)

"""The provider's name and the sign-off of every e-mail (``portal/mail.py``)."""

from __future__ import annotations

from django import template
from django.conf import settings

from portal.mail import support_contact

register = template.Library()


@register.simple_tag
def site_name() -> str:
    return str(settings.SITE_NAME)


@register.inclusion_tag("portal/email/_signature.txt")
def mail_signature(name: str = "") -> dict[str, str]:
    """The sign-off: ``name`` (a statement's issuer, fixed when it was issued) or SITE_NAME."""
    return {
        "site_name": name or settings.SITE_NAME,
        "site_url": settings.SITE_URL,
        "support_email": settings.SUPPORT_EMAIL,
        "support_url": settings.SUPPORT_URL,
    }


@register.simple_tag(name="support_contact")
def support_contact_tag() -> str:
    return support_contact()

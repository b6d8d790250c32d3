"""The django.contrib.sites row follows SITE_NAME and SITE_URL after every ``migrate``.

allauth and the admin read the current Site (its name, its domain) where a request does not
say; a row left at Django's "example.com" puts that name in e-mails. Settings are the one
source (portal/mail.py builds every e-mail link from SITE_URL); this keeps the row in step.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings


def site_domain() -> str:
    """The host (and port) of SITE_URL, as the sites framework stores a domain."""
    return urlsplit(settings.SITE_URL).netloc or "localhost"


def site_sync(**kwargs: Any) -> None:
    """A post_migrate receiver: create or update the SITE_ID row from settings."""
    from django.contrib.sites.models import Site

    using = kwargs.get("using", "default")
    Site.objects.using(using).update_or_create(
        pk=settings.SITE_ID,
        defaults={"domain": site_domain()[:100], "name": str(settings.SITE_NAME)[:50]},
    )
    Site.objects.clear_cache()

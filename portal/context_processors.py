from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from portal.navigation import nav_entries, nav_groups


def control_center(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    account = getattr(user, "account", None) if user is not None and user.is_authenticated else None
    return {
        "cc_account": account,
        "cc_nav": nav_entries(request.path) if account is not None else [],
        "cc_nav_groups": nav_groups(request.path) if account is not None else [],
        "cc_site_name": settings.SITE_NAME,
        "cc_support_email": settings.SUPPORT_EMAIL,
        "cc_support_url": settings.SUPPORT_URL,
    }

"""``manage.py check --deploy``: production settings that run but are not safe to run on."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.caches, deploy=True)
def check_redis_in_production(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if settings.REDIS_URL:
        return []
    return [
        Warning(
            "REDIS_URL is not set: rate limits are counted per process and Celery uses the "
            "filesystem broker (one machine only).",
            hint="Set REDIS_URL (ALLOW_NO_REDIS=1 lets production start without it).",
            id="portal.W001",
        )
    ]


@register(Tags.security, deploy=True)
def check_staff_mfa(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if settings.STAFF_REQUIRE_MFA:
        return []
    return [
        Warning(
            "STAFF_REQUIRE_MFA is off: a staff password alone opens the admin.",
            hint="Unset STAFF_REQUIRE_MFA (it is on by default when DEBUG=0).",
            id="portal.W002",
        )
    ]

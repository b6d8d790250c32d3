from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

logger = logging.getLogger(__name__)


@shared_task(name="portal.tasks.heartbeat")
def heartbeat() -> str:
    """A beat job that proves the worker and beat are alive; returns the time it ran."""
    now = timezone.now().isoformat()
    logger.info("heartbeat %s", now)
    return now

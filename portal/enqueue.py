"""Enqueueing a Celery task from a request (or a receiver) never fails the caller.

The work it carries is already committed (a posting, a settings change); a broker that is down
or unwritable must not turn that into a 500, and retrying here would only hold the request.
The task is logged as lost instead, and the beat scans (auto-recharge, low-balance) find every
account whose task never ran.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)


def task_enqueue(task: Any, *args: Any) -> bool:
    """Send ``task(*args)`` to the broker; False (and an error in the log) when it is down."""
    try:
        task.apply_async(args=args)
    except Exception:
        logger.exception(
            "could not enqueue %s%r: broker unavailable, the beat scan will pick it up",
            getattr(task, "name", task),
            args,
        )
        return False
    return True


def task_enqueue_on_commit(task: Any, *args: Any) -> None:
    """Enqueue once the surrounding transaction commits (at once outside one)."""
    transaction.on_commit(partial(task_enqueue, task, *args))

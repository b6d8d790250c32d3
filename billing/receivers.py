"""Receivers of ``balance_changed``: they only decide whether to enqueue work, and never fail."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from django.db import transaction

from billing.models import BillingProfile

logger = logging.getLogger(__name__)


def on_balance_changed(
    sender: Any, *, account_id: int, balance_after: Decimal, **kwargs: Any
) -> None:
    from billing import tasks

    try:
        profile = (
            BillingProfile.objects.filter(account_id=account_id)
            .values(
                "auto_recharge_enabled",
                "auto_recharge_threshold",
                "payment_method_id",
                "low_balance_threshold",
                "low_balance_alerted",
            )
            .first()
        )
        if profile is None:
            return
        if (
            profile["auto_recharge_enabled"]
            and profile["payment_method_id"]
            and balance_after < profile["auto_recharge_threshold"]
        ):
            transaction.on_commit(lambda: tasks.auto_recharge_run.delay(account_id))
        threshold = profile["low_balance_threshold"]
        if threshold is not None and (balance_after < threshold) != profile["low_balance_alerted"]:
            transaction.on_commit(lambda: tasks.low_balance_check.delay(account_id))
    except Exception:
        logger.exception("balance_changed receiver failed for account %s", account_id)

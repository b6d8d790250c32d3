"""The billing app's dashboard panels (registered in ``BillingConfig.ready``)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from billing import selectors
from portal.models import Account


def minutes_panel(account: Account) -> dict[str, Any]:
    """The dashboard's included-minutes meter (registered in ``BillingConfig.ready``)."""
    return {
        "template": "billing/panels/minutes.html",
        "summary": selectors.minutes_summary(account=account, now=timezone.now()),
    }

"""Low-balance e-mail: once per crossing of the customer's alert threshold."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from billing.models import BillingProfile
from billing.services.auto_recharge import auto_recharge_configure
from billing.services.ledger import ledger_post
from billing.tasks.low_balance import low_balance_scan
from portal.models import Account

pytestmark = pytest.mark.django_db(transaction=True)


def post(account: Account, amount: str, key: str) -> None:
    ledger_post(
        account=account,
        amount=Decimal(amount),
        kind="call" if Decimal(amount) < 0 else "adjustment",
        description="test",
        idempotency_key=key,
        now=timezone.now(),
    )


def alerts() -> list[str]:
    return [m.subject for m in mail.outbox if "balance is low" in m.subject]


def test_one_email_per_crossing(account: Account, user) -> None:
    post(account, "10", "start")
    auto_recharge_configure(
        account=account,
        enabled=False,
        threshold=Decimal("0"),
        amount=Decimal("25"),
        low_balance_threshold=Decimal("5"),
        now=timezone.now(),
    )
    post(account, "-4", "c1")  # 6: above
    assert alerts() == []
    post(account, "-2", "c2")  # 4: crossed
    post(account, "-1", "c3")  # 3: still below, no second e-mail
    post(account, "-1", "c4")
    assert alerts() == ["[Control Center] Your balance is low: $4.00"]
    assert mail.outbox[0].to == [user.email]
    assert "below your alert threshold of $5.00" in mail.outbox[0].body
    assert low_balance_scan.delay().get() == 0  # the scan finds nothing to do either

    post(account, "10", "top-up")  # 12: above again, re-armed
    assert not BillingProfile.objects.get(account=account).low_balance_alerted
    post(account, "-8", "c5")  # 4: second crossing, second e-mail
    assert len(alerts()) == 2


def test_the_scan_sends_a_missed_alert_once(account: Account, user) -> None:
    post(account, "2", "start")
    BillingProfile.objects.create(account=account, low_balance_threshold=Decimal("5"))
    assert low_balance_scan.delay().get() == 1
    assert low_balance_scan.delay().get() == 0
    assert len(alerts()) == 1


def test_no_threshold_no_email(account: Account, user) -> None:
    BillingProfile.objects.create(account=account, low_balance_threshold=None)
    post(account, "-3", "c1")
    assert alerts() == []

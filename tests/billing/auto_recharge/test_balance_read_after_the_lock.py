"""A recharge that waited for the profile lock decides on the balance as it is once it holds
the lock, not as it was when it started waiting.

On PostgreSQL a ``SELECT … FOR UPDATE OF profile`` that waits re-reads only the locked row
when it gets it; the account joined to it stays as the statement first saw it. A recharge that
was credited while the second one waited (the two tasks of one crossing) must not be charged a
second time on the stale balance."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
from django.db import connections, transaction
from django.utils import timezone

from billing.models import BillingProfile
from billing.services.auto_recharge import auto_recharge_run
from tests.billing.auto_recharge.test_auto_recharge import post, recharges, turn_on
from tests.billing.stripe_helpers import CARD_OK, LocalStripe, save_card

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_does_not_charge_when_the_balance_was_lifted_while_it_waited_for_the_lock(
    on_postgres: None, stripe_local: LocalStripe, account, user
) -> None:
    post(account, "12", "start")
    save_card(account, CARD_OK)
    turn_on(account)
    BillingProfile.objects.filter(account=account).update(auto_recharge_enabled=False)
    post(account, "-3", "call:1")  # 9: below the threshold, nothing ran (switched off)
    BillingProfile.objects.filter(account=account).update(auto_recharge_enabled=True)
    locked, lifted = threading.Event(), threading.Event()
    outcome: list[object] = []

    def holder() -> None:
        # Holds the profile (as a running recharge does), lifts the balance, then commits.
        try:
            with transaction.atomic():
                BillingProfile.objects.select_for_update().get(account_id=account.pk)
                locked.set()
                time.sleep(1.0)  # the recharge below is now waiting for this lock
                post(account.pk, "25", "recharged-meanwhile")
            lifted.set()
        finally:
            connections.close_all()

    def recharge() -> None:
        try:
            locked.wait(timeout=30)
            outcome.append(auto_recharge_run(account_id=account.pk, now=timezone.now()))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=holder), threading.Thread(target=recharge)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert lifted.is_set()
    assert outcome == [None]  # 34 is not below 10: nothing charged
    assert recharges(account) == []
    account.refresh_from_db()
    assert account.balance == Decimal("34.0000")

"""The auto-recharge and low-balance profile locks do not also lock the account row.

``select_for_update().select_related("account")`` locks the joined account row too on
PostgreSQL. A recharge being credited holds the account row (``ledger_post``) and then updates
the billing profile, so a task holding the profile and waiting for the account deadlocked with
it (seen in the 20-concurrent-calls test): the credit was rolled back after Stripe had charged.
Here a transaction holds the account row; the profile-locking services must not wait for it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connections, transaction
from django.utils import timezone

from billing.models import BillingProfile
from billing.services.auto_recharge import auto_recharge_run
from billing.services.low_balance import low_balance_check
from portal.models import Account
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _holding_the_account_row(account_id: int, body: Callable[[], object]) -> None:
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                Account.objects.select_for_update().get(pk=account_id)
                locked.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        with transaction.atomic():
            with connections["default"].cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            body()
    finally:
        release.set()
        holder.join()


def test_profile_locks_do_not_wait_for_the_account_row(on_postgres: None) -> None:
    account = AccountFactory()
    BillingProfile.objects.create(
        account=account,
        low_balance_threshold=Decimal("10"),
        auto_recharge_enabled=True,
        payment_method_id="pm_x",
        auto_recharge_threshold=Decimal("10"),
        auto_recharge_amount=Decimal("25"),
        auto_recharge_daily_cap=Decimal("0"),  # capped: stops before any Stripe call
    )
    now = timezone.now()
    _holding_the_account_row(account.pk, lambda: low_balance_check(account_id=account.pk, now=now))
    _holding_the_account_row(account.pk, lambda: auto_recharge_run(account_id=account.pk, now=now))

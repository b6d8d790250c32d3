"""A worker killed after its task posted and before it acked: the broker redelivers the task
(``acks_late``), and the second run posts and charges nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail

from billing.models import BillingProfile, Deposit, LedgerEntry
from billing.selectors.ledger import ledger_problems
from billing.tasks.auto_recharge import auto_recharge_run
from billing.tasks.low_balance import low_balance_check
from portal.celery import app as celery_app
from tests.billing.auto_recharge.test_auto_recharge import post, recharges, turn_on
from tests.billing.stripe_helpers import CARD_OK, LocalStripe, save_card

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_tasks_that_post_are_redelivered_when_a_worker_dies() -> None:
    # Without these a killed worker's message is acked (lost) or never re-queued.
    assert auto_recharge_run.acks_late is True
    assert celery_app.conf.task_reject_on_worker_lost is True


def test_a_redelivered_auto_recharge_charges_and_posts_nothing_twice(
    stripe_local: LocalStripe, account, user
) -> None:
    post(account, "12", "start")
    save_card(account, CARD_OK)
    turn_on(account)
    post(account, "-3", "call:1")  # 9: the first delivery charges the card and posts 25
    [attempt] = recharges(account)
    assert attempt.status == Deposit.Status.SUCCEEDED

    redelivered = auto_recharge_run.apply(args=[account.pk])  # the same message, run again
    assert redelivered.successful()
    assert redelivered.result is None
    assert recharges(account) == [attempt]
    assert LedgerEntry.objects.filter(account=account, kind="auto_recharge").count() == 1
    account.refresh_from_db()
    assert account.balance == Decimal("34.0000")
    assert ledger_problems() == []


def test_a_redelivered_low_balance_check_sends_one_email(account, user) -> None:
    post(account, "10", "start")
    BillingProfile.objects.update_or_create(
        account=account, defaults={"low_balance_threshold": Decimal("5")}
    )
    post(account, "-6", "call:1")  # 4: the first delivery sends the alert
    assert low_balance_check.apply(args=[account.pk]).result is False  # redelivered
    assert [m.subject for m in mail.outbox if "balance is low" in m.subject] == [
        "[Control Center] Your balance is low: $4.00"
    ]

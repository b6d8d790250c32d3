"""Auto-recharge: once per crossing, never two at once, caps, 3-D Secure, declines."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billing.declines import GENERIC_REASON
from billing.models import BillingProfile, Deposit, LedgerEntry
from billing.selectors.ledger import ledger_problems
from billing.services.auto_recharge import auto_recharge_configure, auto_recharge_run
from billing.services.ledger import ledger_post
from billing.tasks.auto_recharge import auto_recharge_scan
from portal.models import Account
from tests.billing.stripe_helpers import CARD_3DS, CARD_DECLINED, CARD_OK, LocalStripe, save_card
from tests.conftest import run_in_threads
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db(transaction=True)


def post(account: Account | int, amount: str, key: str, *, now: dt.datetime | None = None) -> None:
    ledger_post(
        account=account,
        amount=Decimal(amount),
        kind="call" if Decimal(amount) < 0 else "adjustment",
        description="Call to +357 22 000000" if Decimal(amount) < 0 else "Credit",
        idempotency_key=key,
        now=now or timezone.now(),
    )


def turn_on(account: Account, *, threshold: str = "10", amount: str = "25", **caps: str) -> None:
    auto_recharge_configure(
        account=account,
        enabled=True,
        threshold=Decimal(threshold),
        amount=Decimal(amount),
        low_balance_threshold=None,
        now=timezone.now(),
    )
    if caps:
        BillingProfile.objects.filter(account=account).update(
            **{k: Decimal(v) for k, v in caps.items()}
        )


def recharges(account: Account) -> list[Deposit]:
    return list(Deposit.objects.filter(account=account, kind="auto_recharge").order_by("pk"))


def test_a_posting_below_the_threshold_recharges_once(
    stripe_local: LocalStripe, account: Account, user
) -> None:
    post(account, "12", "start")
    save_card(account, CARD_OK)
    turn_on(account)
    assert recharges(account) == []  # 12 is not below 10

    post(account, "-3", "call:1")  # 9: below the threshold → the task charges the card
    [attempt] = recharges(account)
    assert attempt.status == Deposit.Status.SUCCEEDED
    account.refresh_from_db()
    assert account.balance == Decimal("34.0000")
    entry = LedgerEntry.objects.get(kind="auto_recharge")
    assert entry.amount == Decimal("25.0000")
    assert entry.description == "Auto-recharge by card (Visa •••• 4242)"
    assert entry.idempotency_key == f"stripe:{attempt.stripe_payment_intent_id}"
    assert [m.subject for m in mail.outbox] == [
        "[Control Center] Receipt: $25.00 added to your balance"
    ]

    post(account, "-1", "call:2")  # 33: above again, nothing happens
    assert len(recharges(account)) == 1
    assert ledger_problems() == []


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_calls_crossing_the_threshold_trigger_one_recharge(
    on_postgres: None, stripe_local: LocalStripe
) -> None:
    account = AccountFactory()
    post(account, "20", "start")
    save_card(account, CARD_OK)
    turn_on(account, threshold="10", amount="25")

    run_in_threads(lambda i: post(account.pk, "-1", f"call:{i}"), [(i,) for i in range(20)])

    [attempt] = recharges(account)
    assert attempt.status == Deposit.Status.SUCCEEDED
    assert LedgerEntry.objects.filter(account=account, kind="auto_recharge").count() == 1
    account.refresh_from_db()
    assert account.balance == Decimal("25.0000")  # 20 - 20 + 25
    assert ledger_problems() == []


def test_the_daily_and_monthly_caps_bound_auto_recharge(
    stripe_local: LocalStripe, account: Account
) -> None:
    def on(day: int, month: int = 11) -> time_machine.travel:
        return time_machine.travel(dt.datetime(2026, month, day, 15, 0, tzinfo=dt.UTC), tick=False)

    with on(10):
        post(account, "5", "start")
        save_card(account, CARD_OK)
        turn_on(account, threshold="10", amount="25")  # below already: recharges now
        BillingProfile.objects.filter(account=account).update(
            auto_recharge_daily_cap=Decimal("30"), auto_recharge_monthly_cap=Decimal("60")
        )
        assert len(recharges(account)) == 1
        post(account, "-25", "call:a")  # $5 again; 25 + 25 > 30 today → no charge
        assert len(recharges(account)) == 1
        profile = BillingProfile.objects.get(account=account)
        assert "daily limit of $30.00" in profile.auto_recharge_note
    with on(11):  # a new day: $50 this month is within $60
        post(account, "-0.01", "call:b")
        assert len(recharges(account)) == 2
        post(account, "-25", "call:c")
    with on(12):  # $75 this month would pass $60
        post(account, "-0.01", "call:d")
        assert len(recharges(account)) == 2
        profile.refresh_from_db()
        assert "monthly limit of $60.00" in profile.auto_recharge_note
    with on(1, month=12):  # a new month
        post(account, "-0.01", "call:e")
        assert len(recharges(account)) == 3
    assert all(d.status == Deposit.Status.SUCCEEDED for d in recharges(account))
    assert ledger_problems() == []


def test_card_needing_authentication_charges_nothing_and_emails_a_link(
    stripe_local: LocalStripe, account: Account, customer_client: Client
) -> None:
    post(account, "12", "start")
    save_card(account, CARD_3DS)
    turn_on(account)
    mail.outbox.clear()
    post(account, "-5", "call:1")

    [attempt] = recharges(account)
    assert attempt.status == Deposit.Status.REQUIRES_ACTION
    assert not LedgerEntry.objects.filter(kind="auto_recharge").exists()
    account.refresh_from_db()
    assert account.balance == Decimal("7.0000")
    [message] = mail.outbox
    assert message.subject == "[Control Center] Please confirm your auto-recharge of $25.00"
    link = reverse("billing:deposit_authenticate", args=[attempt.pk])
    assert link in message.body
    # No new attempt while the customer has not answered.
    post(account, "-1", "call:2")
    assert len(recharges(account)) == 1

    # The customer follows the link, passes 3-D Secure, and comes back: credited once.
    page = customer_client.get(link)
    assert page.status_code == 200
    assert "Confirm $25.00 with my bank" in page.content.decode()
    client_secret = page.context["client_secret"]
    stripe_local.authenticate(attempt.stripe_payment_intent_id, client_secret, success=True)
    customer_client.get(reverse("billing:deposit_return", args=[attempt.pk]))
    attempt.refresh_from_db()
    assert attempt.status == Deposit.Status.SUCCEEDED
    account.refresh_from_db()
    assert account.balance == Decimal("31.0000")


def test_declines_back_off_and_three_turn_auto_recharge_off(
    stripe_local: LocalStripe, account: Account, customer_client: Client
) -> None:
    start = timezone.now()
    post(account, "5", "start")
    save_card(account, CARD_DECLINED)
    BillingProfile.objects.filter(account=account).update(
        auto_recharge_enabled=True, auto_recharge_threshold=Decimal("10")
    )
    run = lambda minutes: auto_recharge_run(  # noqa: E731
        account_id=account.pk, now=start + dt.timedelta(minutes=minutes)
    )
    first = run(0)
    assert first is not None and first.status == Deposit.Status.FAILED
    assert first.failure_message == "Your card was declined."
    profile = BillingProfile.objects.get(account=account)
    assert profile.auto_recharge_declines == 1
    assert "try again in 1 hour" in profile.auto_recharge_note
    assert run(30) is None  # backing off
    assert run(61).status == Deposit.Status.FAILED  # second decline: 4 hours
    assert run(61 + 120) is None
    third = run(61 + 241)
    assert third.status == Deposit.Status.FAILED
    profile.refresh_from_db()
    assert not profile.auto_recharge_enabled
    assert profile.auto_recharge_declines == 3
    assert "turned off after 3 declined payments" in profile.auto_recharge_note
    assert [m.subject for m in mail.outbox] == [
        "[Control Center] Auto-recharge has been turned off"
    ]
    assert run(60 * 24) is None
    assert len(recharges(account)) == 3
    assert not LedgerEntry.objects.filter(kind="auto_recharge").exists()
    # Every attempt and its outcome is on the customer's page.
    html = customer_client.get(reverse("billing:per_minute")).content.decode()
    assert html.count(GENERIC_REASON) >= 3  # in the customer's words, not Stripe's
    assert "turned off after 3 declined payments" in html


def test_the_beat_scan_recharges_accounts_whose_task_was_lost(
    stripe_local: LocalStripe, account: Account
) -> None:
    post(account, "3", "start")  # below threshold before auto-recharge existed: no task ran
    save_card(account, CARD_OK)
    BillingProfile.objects.filter(account=account).update(
        auto_recharge_enabled=True, auto_recharge_threshold=Decimal("10")
    )
    assert recharges(account) == []
    assert auto_recharge_scan.delay().get() == 1
    assert [d.status for d in recharges(account)] == [Deposit.Status.SUCCEEDED]
    assert auto_recharge_scan.delay().get() == 0


def test_settings_form_and_removing_the_card(
    stripe_local: LocalStripe, account: Account, customer_client: Client
) -> None:
    url = reverse("billing:auto_recharge")
    data = {"enabled": "on", "threshold": "10", "amount": "25", "low_balance_threshold": "5"}
    refused = customer_client.post(url, data)
    assert refused.status_code == 400
    assert "Save a card first" in refused.content.decode()
    too_small = customer_client.post(url, {**data, "amount": "4.99"})
    assert "The minimum is $5.00" in too_small.content.decode()

    pm = save_card(account, CARD_OK)
    post(account, "50", "start")
    saved = customer_client.post(url, data)
    assert saved.status_code == 302
    profile = BillingProfile.objects.get(account=account)
    assert profile.auto_recharge_enabled
    assert profile.auto_recharge_threshold == Decimal("10.0000")
    page = customer_client.get(reverse("billing:per_minute")).content.decode()
    assert "Visa •••• 4242" in page and "Remove card" in page

    removed = customer_client.post(reverse("billing:card_remove"))
    assert removed.status_code == 302
    profile.refresh_from_db()
    assert not profile.has_card and not profile.auto_recharge_enabled
    from billing import stripe_gateway

    assert stripe_gateway.payment_method_retrieve(pm).customer == ""

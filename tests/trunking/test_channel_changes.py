"""Changing channel counts (``channels_change``): increases at once and charged, decreases at
the next billing month (pending, cancellable), stale forms and bad counts refused, prices from
the next billing month, and the monthly cost the cycle asks for."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing.models import LedgerEntry
from billing.recurring import recurring_charges
from billing.selectors.plans import billing_period
from portal.errors import DomainError
from portal.models import Account
from tests.factories import UserFactory
from tests.trunking.conftest import give_credit
from trunking.models import ChannelChange, ChannelMaximum, ChannelPrice, Trunk
from trunking.selectors.trunks import counts_at, trunk_recurring
from trunking.services.trunks import channel_decrease_cancel, channels_change, trunk_apply_due

pytestmark = pytest.mark.django_db

# Nov 15 2026 12:00 in New York: the Nov 1 to Dec 1 billing month, 16 of 30 days left.
NOW = dt.datetime(2026, 11, 15, 17, 0, tzinfo=dt.UTC)
NEXT_MONTH = dt.datetime(2026, 12, 1, 5, 0, tzinfo=dt.UTC)


def counts(outbound: int = 0, inbound: int = 0, two_way: int = 0) -> dict[str, int]:
    return {"outbound": outbound, "inbound": inbound, "two_way": two_way}


def state(account: Account) -> tuple:
    """Everything a refused change must leave as it was."""
    account.refresh_from_db()
    trunk = Trunk.objects.filter(account=account).first()
    return (
        account.balance,
        LedgerEntry.objects.filter(account=account).count(),
        trunk.counts() if trunk else None,
        trunk.version if trunk else None,
        list(ChannelChange.objects.filter(account=account).values_list("pk", "status")),
    )


@pytest.fixture
def funded(account: Account) -> Account:
    return give_credit(account, "100.00", now=NOW)


def test_an_increase_applies_at_once_with_one_prorated_entry(funded: Account) -> None:
    owner = UserFactory(account=funded)
    outcome = channels_change(
        account=funded, user=owner, counts=counts(outbound=1, two_way=2), version=0, now=NOW
    )
    change = outcome.increase
    assert change is not None and outcome.decrease is None
    # 1 × $8.00 × 16/30 = $4.27 and 2 × $12.00 × 16/30 = $12.80
    assert change.charge == Decimal("17.0700")
    entry = LedgerEntry.objects.get(account=funded, kind=LedgerEntry.Kind.PRORATION)
    assert entry.idempotency_key == f"trunk-change:{change.pk}"
    assert entry.amount == Decimal("-17.0700") and entry.created_by == owner
    assert entry.description == (
        "SIP trunk channels added: 1 outbound channel × $8.00 × 16/30 days = $4.27; "
        "2 two-way channels × $12.00 × 16/30 days = $12.80"
    )
    funded.refresh_from_db()
    assert funded.balance == Decimal("82.9300")
    assert counts_at(account=funded, at=NOW) == counts(outbound=1, two_way=2)
    assert (change.user, change.before, change.after) == (owner, counts(), counts(1, 0, 2))


def test_it_refuses_an_increase_the_balance_does_not_cover(account: Account) -> None:
    give_credit(account, "12.79", now=NOW)  # 2 two-way channels cost $12.80 for the rest
    before = state(account)
    with pytest.raises(DomainError) as refused:
        channels_change(account=account, user=None, counts=counts(two_way=2), version=0, now=NOW)
    assert refused.value.code == "insufficient_balance"
    assert "$12.80" in refused.value.message and "$12.79" in refused.value.message
    assert state(account) == before


def test_a_decrease_waits_for_the_next_billing_month_without_refund(funded: Account) -> None:
    channels_change(account=funded, user=None, counts=counts(two_way=3), version=0, now=NOW)
    balance = Account.objects.get(pk=funded.pk).balance
    later = NOW + dt.timedelta(days=2)
    outcome = channels_change(
        account=funded, user=None, counts=counts(two_way=1), version=1, now=later
    )
    assert outcome.increase is None and outcome.decrease is not None
    pending = outcome.decrease
    assert pending.status == ChannelChange.Status.PENDING and pending.effective_at == NEXT_MONTH
    assert Account.objects.get(pk=funded.pk).balance == balance  # no refund
    assert counts_at(account=funded, at=later) == counts(two_way=3)  # still 3 this month
    assert counts_at(account=funded, at=NEXT_MONTH) == counts(two_way=1)
    # The monthly cost: this month 3 channels, the next one 1 (the decrease applied at its start).
    this_month = billing_period(account=funded, at=later)
    next_month = billing_period(account=funded, at=NEXT_MONTH)
    assert [c.amount for c in trunk_recurring(funded, this_month)] == [Decimal("36.0000")]
    [line] = trunk_recurring(funded, next_month)
    assert (line.kind, line.code, line.quantity, line.amount) == (
        "trunk_fee",
        "trunk:two_way",
        1,
        Decimal("12.0000"),
    )
    assert line.description == "1 two-way channel × $12.00"
    assert line in recurring_charges(account=funded, period=next_month)  # registered
    # Once the month begins, the stored counts follow.
    trunk_apply_due(account=funded, now=NEXT_MONTH)
    assert Trunk.objects.get(account=funded).counts() == counts(two_way=1)
    pending.refresh_from_db()
    assert pending.status == ChannelChange.Status.APPLIED


def test_a_pending_decrease_can_be_cancelled(funded: Account) -> None:
    owner = UserFactory(account=funded)
    channels_change(account=funded, user=owner, counts=counts(inbound=2), version=0, now=NOW)
    channels_change(account=funded, user=owner, counts=counts(inbound=0), version=1, now=NOW)
    assert channel_decrease_cancel(account=funded, user=owner, now=NOW) is True
    assert counts_at(account=funded, at=NEXT_MONTH) == counts(inbound=2)
    cancelled = ChannelChange.objects.get(account=funded, status=ChannelChange.Status.CANCELLED)
    assert (cancelled.cancelled_by, cancelled.cancelled_at) == (owner, NOW)
    assert channel_decrease_cancel(account=funded, user=owner, now=NOW) is False


def test_a_new_change_replaces_the_pending_decrease(funded: Account) -> None:
    channels_change(account=funded, user=None, counts=counts(two_way=3), version=0, now=NOW)
    channels_change(account=funded, user=None, counts=counts(two_way=1), version=1, now=NOW)
    channels_change(account=funded, user=None, counts=counts(two_way=2), version=2, now=NOW)
    statuses = list(
        ChannelChange.objects.filter(account=funded).order_by("pk").values_list("status", flat=True)
    )
    assert statuses == ["applied", "cancelled", "pending"]
    assert counts_at(account=funded, at=NEXT_MONTH) == counts(two_way=2)


def test_it_refuses_a_change_based_on_other_counts(funded: Account) -> None:
    channels_change(account=funded, user=None, counts=counts(outbound=1), version=0, now=NOW)
    before = state(funded)
    with pytest.raises(DomainError) as refused:  # a second tab, still showing version 0
        channels_change(account=funded, user=None, counts=counts(outbound=2), version=0, now=NOW)
    assert refused.value.code == "stale"
    assert state(funded) == before


@pytest.mark.parametrize("bad", [-1, 51, "2", Decimal("2.5"), 2.0, True, None], ids=repr)
def test_it_refuses_every_bad_count(funded: Account, bad: object) -> None:
    before = state(funded)
    with pytest.raises(DomainError) as refused:
        channels_change(
            account=funded,
            user=None,
            counts={"outbound": 0, "inbound": 0, "two_way": bad},
            version=0,
            now=NOW,
        )
    assert refused.value.code == "bad_count"
    assert state(funded) == before


def test_it_refuses_the_same_counts_again(funded: Account) -> None:
    with pytest.raises(DomainError) as refused:
        channels_change(account=funded, user=None, counts=counts(), version=0, now=NOW)
    assert refused.value.code == "no_change"


def test_an_account_override_sets_its_maximum(funded: Account) -> None:
    give_credit(funded, "300.00", now=NOW)
    ChannelMaximum.objects.create(account=funded, kind="two_way", maximum=60)
    channels_change(account=funded, user=None, counts=counts(two_way=51), version=0, now=NOW)
    assert counts_at(account=funded, at=NOW)["two_way"] == 51  # over the default 50
    ChannelMaximum.objects.create(account=funded, kind="outbound", maximum=0)
    with pytest.raises(DomainError) as refused:
        channels_change(account=funded, user=None, counts=counts(1, 0, 51), version=1, now=NOW)
    assert refused.value.message == "outbound: between 0 and 0 channels."


def test_a_new_price_applies_from_the_next_billing_month(funded: Account) -> None:
    ChannelPrice.objects.create(
        kind="two_way", monthly_price=Decimal("15.00"), effective_from=dt.date(2026, 11, 10)
    )
    outcome = channels_change(
        account=funded, user=None, counts=counts(two_way=1), version=0, now=NOW
    )
    assert outcome.increase is not None
    assert "× $12.00 × 16/30" in outcome.increase.explanation  # Nov began at $12.00
    [line] = trunk_recurring(funded, billing_period(account=funded, at=NEXT_MONTH))
    assert line.unit_price == Decimal("15.0000")

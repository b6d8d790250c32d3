"""``ledger_post_many``: a batch's entries under its accounts' locks, balance-after chained in
order per account, two statements whatever the size, each account announced once, and a key
already posted refused so that nothing of the batch stands."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction

from billing.models import LedgerEntry
from billing.selectors.ledger import ledger_problems
from billing.services.ledger import LedgerKeysTaken, NewEntry, ledger_post, ledger_post_many
from billing.signals import balances_changed
from portal.models import Account
from tests.billing.rating_fixtures import NOW
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def credited(amount: str) -> Account:
    account = Account.objects.get(pk=AccountFactory().pk)
    ledger_post(
        account=account,
        amount=Decimal(amount),
        kind="deposit",
        description="credit",
        idempotency_key=f"credit:{account.pk}",
        now=NOW,
    )
    return account


def locked(*accounts: Account) -> dict[int, Account]:
    rows = Account.objects.select_for_update().filter(pk__in=[a.pk for a in accounts])
    return {row.pk: row for row in rows.order_by("pk")}


def charge(account: Account, amount: str, key: str) -> NewEntry:
    return NewEntry(
        account_id=account.pk,
        amount=Decimal(amount),
        kind="call",
        description=f"call {key}",
        idempotency_key=key,
        metadata={"billed_seconds": 60},
    )


def test_it_chains_each_accounts_balance_in_order_in_two_statements(
    django_assert_num_queries: Any,
) -> None:
    a, b = credited("10"), credited("5")
    entries = [charge(a, "-1", "k1"), charge(b, "-0.5", "k2"), charge(a, "-2.25", "k3")]
    entries += [charge(b, f"-0.{i:02d}", f"kb{i}") for i in range(1, 40)]
    with transaction.atomic():
        accounts = locked(a, b)
        with django_assert_num_queries(2):  # the entries, then the balances
            posted = ledger_post_many(accounts=accounts, entries=entries, now=NOW)
    assert [posted[k].balance_after for k in ("k1", "k3")] == [Decimal("9"), Decimal("6.75")]
    assert accounts[a.pk].balance == Decimal("6.75")
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.balance == Decimal("6.75")
    assert b.balance == Decimal("5") - Decimal("0.5") - sum(Decimal(i) / 100 for i in range(1, 40))
    stored = LedgerEntry.objects.get(idempotency_key="k3")
    assert (stored.pk, stored.amount, stored.metadata) == (
        posted["k3"].pk,
        Decimal("-2.25"),
        {"billed_seconds": 60},
    )
    assert ledger_problems() == []


def test_it_announces_each_account_once_when_the_transaction_commits(
    django_capture_on_commit_callbacks: Any,
) -> None:
    a, b = credited("10"), credited("5")
    seen: list[Any] = []

    def record(**kwargs: Any) -> None:
        seen.extend(kwargs["changes"])

    balances_changed.connect(record)
    try:
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            posted = ledger_post_many(
                accounts=locked(a, b),
                entries=[charge(a, "-1", "x1"), charge(b, "-2", "x2"), charge(a, "-3", "x3")],
                now=NOW,
            )
            assert seen == []  # not before the commit
    finally:
        balances_changed.disconnect(record)
    assert {(c.account_id, c.entry_id, c.balance_before, c.balance_after) for c in seen} == {
        (a.pk, posted["x3"].pk, Decimal("10"), Decimal("6")),
        (b.pk, posted["x2"].pk, Decimal("5"), Decimal("3")),
    }


def test_a_key_already_posted_is_refused_and_nothing_of_the_batch_stands() -> None:
    a = credited("10")
    ledger_post(
        account=a,
        amount=Decimal("-1"),
        kind="call",
        description="earlier",
        idempotency_key="taken",
        now=NOW,
    )
    with pytest.raises(LedgerKeysTaken) as refused, transaction.atomic():
        ledger_post_many(
            accounts=locked(a),
            entries=[charge(a, "-1", "fresh"), charge(a, "-1", "taken")],
            now=NOW,
        )
    assert refused.value.keys == {"taken"}
    a.refresh_from_db()
    assert a.balance == Decimal("9")
    assert not LedgerEntry.objects.filter(idempotency_key="fresh").exists()
    assert ledger_problems() == []

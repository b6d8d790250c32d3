"""The ledger: one posting function, append-only rows, idempotency, no lost update."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.utils import DatabaseError

from billing.models import ImmutableError, LedgerEntry
from billing.selectors.ledger import ledger_problems
from billing.services.ledger import ledger_adjust, ledger_post, ledger_reverse
from billing.signals import balance_changed
from portal.errors import DomainError
from portal.models import Account
from tests.conftest import run_in_threads
from tests.factories import AccountFactory, UserFactory

NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)
pytestmark = pytest.mark.django_db


def post(account: Account, amount: str, key: str, kind: str = "adjustment") -> LedgerEntry:
    return ledger_post(
        account=account,
        amount=Decimal(amount),
        kind=kind,
        description="test",
        idempotency_key=key,
        now=NOW,
    ).entry


def test_posting_moves_balance_and_records_balance_after(account: Account) -> None:
    first = post(account, "10.00", "k1")
    second = post(account, "-0.0251", "k2", kind="call")
    account.refresh_from_db()
    assert account.balance == Decimal("9.9749")
    assert first.balance_after == Decimal("10.0000")
    assert second.balance_after == Decimal("9.9749")
    assert ledger_problems() == []


def test_same_key_twice_posts_once(account: Account) -> None:
    a = ledger_post(
        account=account,
        amount=Decimal("5"),
        kind="deposit",
        description="d",
        idempotency_key="stripe:pi_1",
        now=NOW,
    )
    b = ledger_post(
        account=account,
        amount=Decimal("5"),
        kind="deposit",
        description="d",
        idempotency_key="stripe:pi_1",
        now=NOW,
    )
    assert a.created and not b.created
    assert a.entry.pk == b.entry.pk
    account.refresh_from_db()
    assert account.balance == Decimal("5.0000")
    assert LedgerEntry.objects.count() == 1


def test_same_key_with_different_amount_is_refused(account: Account) -> None:
    post(account, "5", "k")
    with pytest.raises(DomainError) as exc:
        post(account, "6", "k")
    assert exc.value.code == "idempotency_conflict"
    account.refresh_from_db()
    assert account.balance == Decimal("5.0000")


@pytest.mark.parametrize("amount", ["0", "0.00001"])
def test_zero_amount_is_refused(account: Account, amount: str) -> None:
    with pytest.raises(DomainError):
        post(account, amount, "z")
    assert LedgerEntry.objects.count() == 0


def test_float_is_refused(account: Account) -> None:
    with pytest.raises(TypeError):
        ledger_post(
            account=account,
            amount=0.1,
            kind="adjustment",
            description="x",
            idempotency_key="f",
            now=NOW,
        )


def test_rounding_is_half_up_to_four_places(account: Account) -> None:
    entry = post(account, "0.00005", "r")
    assert entry.amount == Decimal("0.0001")


def test_entries_cannot_be_edited_or_deleted(account: Account) -> None:
    entry = post(account, "5", "k")
    entry.amount = Decimal("500")
    with pytest.raises(ImmutableError):
        entry.save()
    with pytest.raises(ImmutableError):
        entry.delete()
    with pytest.raises(ImmutableError):
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=Decimal("1"))
    with pytest.raises(ImmutableError):
        LedgerEntry.objects.all().delete()
    entry.refresh_from_db()
    assert entry.amount == Decimal("5.0000")


def test_database_refuses_raw_update_on_postgres(account: Account, on_postgres: None) -> None:
    entry = post(account, "5", "k")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE billing_ledgerentry SET amount = 1 WHERE id = %s", [entry.pk])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM billing_ledgerentry WHERE id = %s", [entry.pk])


def test_caller_rollback_undoes_posting(account: Account) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        post(account, "5", "k")
        raise RuntimeError("boom")
    account.refresh_from_db()
    assert account.balance == 0
    assert not LedgerEntry.objects.exists()


def test_reversal_posts_opposite_once(account: Account) -> None:
    staff = UserFactory(account=None, is_staff=True)
    entry = post(account, "12.5", "k")
    r1 = ledger_reverse(entry=entry, reason="duplicate", staff_user=staff, now=NOW)
    r2 = ledger_reverse(entry=entry, reason="duplicate", staff_user=staff, now=NOW)
    assert r1.created and not r2.created
    assert r1.entry.amount == Decimal("-12.5000")
    assert r1.entry.reverses == entry
    account.refresh_from_db()
    assert account.balance == 0


def test_staff_adjustment_records_who_and_why(account: Account) -> None:
    staff = UserFactory(account=None, is_staff=True)
    posting = ledger_adjust(
        account=account,
        amount=Decimal("-3"),
        customer_description="Correction",
        internal_note="goodwill reversal",
        staff_user=staff,
        now=NOW,
        idempotency_key="adjustment:abc",
    )
    assert posting.entry.created_by == staff
    assert posting.entry.reason == "goodwill reversal"
    assert posting.entry.kind == "adjustment"
    with pytest.raises(DomainError):
        ledger_adjust(
            account=account,
            amount=Decimal("1"),
            customer_description="Credit",
            internal_note="  ",
            staff_user=staff,
            now=NOW,
        )
    customer = UserFactory(account=account)
    with pytest.raises(DomainError):
        ledger_adjust(
            account=account,
            amount=Decimal("1"),
            customer_description="Credit",
            internal_note="x",
            staff_user=customer,
            now=NOW,
        )


def test_balance_changed_is_sent_after_commit(
    account: Account, django_capture_on_commit_callbacks
) -> None:
    seen: list[tuple[Decimal, Decimal]] = []

    def receiver(**kwargs: object) -> None:
        seen.append((kwargs["balance_before"], kwargs["balance_after"]))

    balance_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            post(account, "5", "a")
            assert seen == []
        post_dup = ledger_post(
            account=account,
            amount=Decimal("5"),
            kind="adjustment",
            description="test",
            idempotency_key="a",
            now=NOW,
        )
        assert not post_dup.created
    finally:
        balance_changed.disconnect(receiver)
    assert seen == [(Decimal("0"), Decimal("5.0000"))]


def test_check_ledger_finds_tampered_balance(account: Account) -> None:
    post(account, "5", "a")
    other = AccountFactory()
    post(other, "7", "b")
    call_command("check_ledger")
    Account.objects.filter(pk=account.pk).update(balance=Decimal("50"))
    with pytest.raises(CommandError, match="1 account"):
        call_command("check_ledger")
    problems = ledger_problems()
    assert [p.account_code for p in problems] == [account.code]


def test_create_account_with_initial_credit(db: None) -> None:
    from io import StringIO

    out = StringIO()
    call_command(
        "create_account",
        "--email",
        "credit@example.com",
        "--name",
        "Credit Co",
        "--credit",
        "25.00",
        "--no-invite",
        stdout=out,
    )
    account = Account.objects.get(code=out.getvalue().strip())
    assert account.balance == Decimal("25.0000")
    entry = account.ledger_entries.get()
    assert entry.kind == "adjustment" and entry.reason == "initial credit"


@pytest.mark.django_db(transaction=True)
def test_50_concurrent_postings_lose_no_update(on_postgres: None) -> None:
    account = AccountFactory()
    results = run_in_threads(
        lambda i: post(account, "-0.0250", f"call:{i}", kind="call"),
        [(i,) for i in range(50)],
        max_workers=50,
    )
    assert len({e.pk for e in results}) == 50
    account.refresh_from_db()
    assert account.balance == Decimal("-1.2500")
    assert LedgerEntry.objects.filter(account=account).count() == 50
    assert ledger_problems() == []


@pytest.mark.django_db(transaction=True)
def test_same_key_posted_concurrently_posts_once(on_postgres: None) -> None:
    account = AccountFactory()
    results = run_in_threads(
        lambda _i: ledger_post(
            account=account.pk,
            amount=Decimal("5"),
            kind="deposit",
            description="d",
            idempotency_key="stripe:pi_race",
            now=NOW,
        ),
        [(i,) for i in range(10)],
    )
    assert sum(r.created for r in results) == 1
    assert len({r.entry.pk for r in results}) == 1
    account.refresh_from_db()
    assert account.balance == Decimal("5.0000")

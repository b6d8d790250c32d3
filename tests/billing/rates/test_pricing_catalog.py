"""Prices kept in memory per process (``billing.selectors.pricing_catalog``): the longest prefix
wins, every change to rates, DID groups and included destinations is applied by the next lookup
after its commit — never before it, never a rolled-back one — and a warm lookup reads nothing
but the account's facts."""

from __future__ import annotations

import io
import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction

from billing.models import DIDGroup, IncludedDestination, Rate, RateDeck
from billing.selectors.account_facts import account_facts
from billing.selectors.pricing import (
    PricingContext,
    call_pricing,
    price_lookup,
    pricing_fact_columns,
    pricing_fact_params,
)
from billing.selectors.pricing_catalog import (
    pricing_catalog,
    pricing_catalog_forget,
    pricing_version,
)
from billing.services.rate_import import rate_deck_import
from portal.models import Account
from tests.billing.rating_fixtures import NOW, PN_A_DID, TEST_DECK_CSV, set_up_account

CYPRUS = "+35722123456"
CYPRUS_MOBILE = "+35799123456"


@pytest.fixture
def acct(account: Account) -> Account:
    return set_up_account(account)


def reimport(csv: str) -> None:
    rate_deck_import(deck_name="Test deck", csv_file=io.StringIO(csv), replace=True, now=NOW)


@pytest.mark.django_db
def test_it_prices_a_number_by_its_longest_prefix(acct: Account) -> None:
    assert price_lookup(account=acct, number=CYPRUS_MOBILE, now=NOW).destination == "Cyprus mobile"
    assert price_lookup(account=acct, number=CYPRUS, now=NOW).destination == "Cyprus"
    deck = pricing_catalog(pricing_version()).deck(RateDeck.objects.get(name="Test deck").pk)
    assert deck.match("35799123456").prefix == "3579"
    assert deck.match("3") is None
    assert deck.match("81312345678") is None


@pytest.mark.django_db
def test_it_applies_an_import_to_the_next_lookup(acct: Account) -> None:
    assert price_lookup(account=acct, number=CYPRUS, now=NOW).rate == Decimal("0.0600")
    reimport(TEST_DECK_CSV.replace("357,Cyprus,0.0600", "357,Cyprus,0.0700"))
    assert price_lookup(account=acct, number=CYPRUS, now=NOW).rate == Decimal("0.0700")


@pytest.mark.django_db
def test_it_applies_a_rate_changed_by_a_queryset_update(acct: Account) -> None:
    """The version moves by trigger, whatever writes the rows (here no model signal runs)."""
    assert price_lookup(account=acct, number=CYPRUS, now=NOW).rate == Decimal("0.0600")
    deck_version = RateDeck.objects.get(name="Test deck").version
    Rate.objects.filter(prefix="357").update(rate=Decimal("0.0810"))
    assert RateDeck.objects.get(name="Test deck").version != deck_version
    assert price_lookup(account=acct, number=CYPRUS, now=NOW).rate == Decimal("0.0810")
    Rate.objects.filter(prefix="3579").delete()
    assert price_lookup(account=acct, number=CYPRUS_MOBILE, now=NOW).destination == "Cyprus"


@pytest.mark.django_db
def test_it_never_keeps_a_price_of_a_rolled_back_change(acct: Account) -> None:
    assert price_lookup(account=acct, number=CYPRUS, now=NOW).rate == Decimal("0.0600")
    with pytest.raises(RuntimeError), transaction.atomic():
        Rate.objects.filter(prefix="357").update(rate=Decimal("0.0990"))
        # Read inside the transaction: loaded under the transaction's own version.
        assert price_lookup(account=acct, number=CYPRUS, now=NOW).rate == Decimal("0.0990")
        raise RuntimeError("roll back")
    assert price_lookup(account=acct, number=CYPRUS, now=NOW).rate == Decimal("0.0600")


@pytest.mark.django_db
def test_it_applies_included_destinations_and_did_group_rates_changed_by_staff(
    acct: Account,
) -> None:
    assert price_lookup(account=acct, number=CYPRUS, now=NOW).included is False
    plan = acct.plan_history.get().plan
    IncludedDestination.objects.create(plan=plan, country="CY", name="Cyprus")
    assert price_lookup(account=acct, number=CYPRUS, now=NOW).included is True

    def inbound_rate() -> Decimal:
        pricing = call_pricing(
            account=acct, direction="inbound", from_number=CYPRUS, to_number=PN_A_DID, at=NOW
        )
        assert pricing.price is not None
        return pricing.price.rate

    assert inbound_rate() == Decimal("0.0300")
    DIDGroup.objects.filter(name="USA PN Group A").update(rate=Decimal("0.0350"))
    assert inbound_rate() == Decimal("0.0350")


@pytest.mark.django_db
def test_it_prices_a_warm_lookup_with_one_query_and_the_pricing_step_with_none(
    acct: Account, django_assert_num_queries
) -> None:
    pricing_catalog_forget()
    price_lookup(account=acct, number=CYPRUS, now=NOW)  # loads the catalog and the deck
    with django_assert_num_queries(1):  # the account's plan, deck, numbers and the version
        quote = price_lookup(account=acct, number=CYPRUS_MOBILE, now=NOW)
    assert quote.rate == Decimal("0.0900")
    numbers = ["101", "+4915123456789"]
    row = account_facts(
        account=acct,
        columns=pricing_fact_columns(2),
        params=pricing_fact_params(now=NOW, numbers=numbers),
    )
    with django_assert_num_queries(0):
        context = PricingContext.from_facts(account=acct, facts=row, at=NOW, numbers=numbers)
        pricing = call_pricing(
            account=acct,
            direction="outbound",
            from_number=numbers[0],
            to_number=numbers[1],
            at=NOW,
            context=context,
        )
    assert pricing.destination == "Germany mobile"


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_it_applies_an_import_after_its_commit_and_never_before(on_postgres: None) -> None:
    from tests.factories import AccountFactory

    acct = set_up_account(AccountFactory())
    assert price_lookup(account=acct, number=CYPRUS, now=NOW).rate == Decimal("0.0600")
    imported, release, done = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def staff_import() -> None:
        try:
            with transaction.atomic():
                reimport(TEST_DECK_CSV.replace("357,Cyprus,0.0600", "357,Cyprus,0.0750"))
                imported.set()
                release.wait(timeout=30)
        except BaseException as exc:  # re-raised in the test thread
            errors.append(exc)
        finally:
            connection.close()
            done.set()

    thread = threading.Thread(target=staff_import)
    thread.start()
    assert imported.wait(timeout=30)
    # Written but not committed: this process keeps pricing at the committed price.
    assert price_lookup(account=acct, number=CYPRUS, now=NOW).rate == Decimal("0.0600")
    release.set()
    assert done.wait(timeout=30)
    thread.join()
    assert not errors
    # Committed: the very next lookup applies it.
    assert price_lookup(account=acct, number=CYPRUS, now=NOW).rate == Decimal("0.0750")

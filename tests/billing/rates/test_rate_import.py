"""Rate decks: CSV import (all or nothing, every bad row listed), --replace, longest prefix."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.models import Rate, RateDeck
from billing.selectors.plans import rate_for_number
from billing.selectors.pricing import price_lookup
from billing.services.rate_import import rate_deck_import
from portal.errors import DomainError
from portal.models import Account
from tests.billing.rating_fixtures import NOW, set_up_account

pytestmark = pytest.mark.django_db

GOOD = """prefix,destination,rate,connect_fee,initial,increment
357,Cyprus,0.0600,,,
3579,Cyprus mobile,0.09,0.0100,30,6
44,United Kingdom,0.02
"""


def load(text: str, deck: str = "D", replace: bool = False) -> object:
    return rate_deck_import(deck_name=deck, csv_file=io.StringIO(text), replace=replace, now=NOW)


def test_good_file_with_optional_columns_defaulted() -> None:
    GOOD_SHORT = "prefix,destination,rate\n357,Cyprus,0.06\n"
    report = load(GOOD)
    assert (report.rows, report.created, report.updated, report.deleted) == (3, 3, 0, 0)
    mobile = Rate.objects.get(deck__name="D", prefix="3579")
    assert (mobile.rate, mobile.connect_fee, mobile.initial, mobile.increment) == (
        Decimal("0.0900"),
        Decimal("0.0100"),
        30,
        6,
    )
    cyprus = Rate.objects.get(deck__name="D", prefix="357")
    assert (cyprus.connect_fee, cyprus.initial, cyprus.increment) == (Decimal("0"), 60, 60)
    assert load(GOOD_SHORT, deck="E").rows == 1


def test_a_file_with_bad_rows_imports_nothing_and_lists_every_bad_row() -> None:
    load(GOOD)
    bad = """prefix,destination,rate,connect_fee,initial,increment
49,Germany,0.02,0,60,60
+44,UK,0.02,0,60,60
33,France,-0.01,0,60,60
34,Spain,0.00001,0,60,60
35,,0.02,0,60,60
36,Hungary,abc,0,60,60
37,Latvia,0.02,0,0,60
38,Ukraine,0.02,0,60,1.5
49,Germany again,0.03,0,60,60
39,Italy,0.02,0,60,60,extra
"""
    with pytest.raises(DomainError) as exc:
        load(bad, replace=True)
    message = exc.value.message
    assert exc.value.code == "bad_rate_file"
    assert message.startswith("9 bad row(s); nothing was imported")
    for expected in (
        "line 3: prefix: '+44' is not 1-20 digits",
        "line 4: rate: -0.01 is negative",
        "line 5: rate: 0.00001 has more than 4 decimal places",
        "line 6: destination: empty",
        "line 7: rate: 'abc' is not a number",
        "line 8: initial: '0' is not a whole number of seconds",
        "line 9: increment: '1.5' is not a whole number of seconds",
        "line 10: prefix: 49 repeats line 2",
        "line 11: 7 fields, the header has 6",
    ):
        assert expected in message, message
    assert "line 2:" not in message
    # Nothing changed: the deck still holds exactly the good file.
    assert set(Rate.objects.filter(deck__name="D").values_list("prefix", flat=True)) == {
        "357",
        "3579",
        "44",
    }


@pytest.mark.parametrize(
    "text",
    ["", "prefix,rate\n1,0.1\n", "prefix,destination,rate\n", "prefix,destination,rate,colour\n"],
)
def test_bad_headers_and_empty_files(text: str) -> None:
    with pytest.raises(DomainError):
        load(text)
    assert not Rate.objects.filter(deck__name="D").exists()


def test_import_updates_by_prefix_and_replace_makes_the_deck_exactly_the_file() -> None:
    load(GOOD)
    update = load("prefix,destination,rate\n357,Cyprus,0.0700\n30,Greece,0.03\n")
    assert (update.created, update.updated) == (1, 1)
    assert Rate.objects.filter(deck__name="D").count() == 4
    assert Rate.objects.get(deck__name="D", prefix="357").rate == Decimal("0.0700")
    replaced = load("prefix,destination,rate\n49,Germany,0.02\n", replace=True)
    assert (replaced.deleted, replaced.created) == (4, 1)
    assert list(Rate.objects.filter(deck__name="D").values_list("prefix", flat=True)) == ["49"]


def test_import_rates_command(tmp_path: Path) -> None:
    good = tmp_path / "rates.csv"
    good.write_text("\ufeff" + GOOD, encoding="utf-8")  # a BOM from a spreadsheet is fine
    out = io.StringIO()
    call_command("import_rates", str(good), "--deck", "Cmd", stdout=out)
    assert "3 rows read, 3 created" in out.getvalue()
    bad = tmp_path / "bad.csv"
    bad.write_text("prefix,destination,rate\n1,USA,x\n2,Nowhere,-1\n", encoding="utf-8")
    with pytest.raises(CommandError) as exc:
        call_command("import_rates", str(bad), "--deck", "Cmd", "--replace")
    assert "line 2: rate: 'x' is not a number" in str(exc.value)
    assert "line 3: rate: -1 is negative" in str(exc.value)
    assert Rate.objects.filter(deck__name="Cmd").count() == 3
    call_command("import_rates", str(good), "--deck", "Cmd", "--replace", stdout=out)
    with pytest.raises(CommandError):
        call_command("import_rates", str(tmp_path / "missing.csv"), "--deck", "Cmd")


def test_longest_prefix_wins_and_no_match_is_none() -> None:
    deck = load(GOOD).deck
    assert rate_for_number(deck=deck, digits="35799123456").destination == "Cyprus mobile"
    assert rate_for_number(deck=deck, digits="35722123456").destination == "Cyprus"
    assert rate_for_number(deck=deck, digits="81312345678") is None


prefixes = st.text(alphabet="0123456789", min_size=1, max_size=6)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.dictionaries(
        prefixes, st.integers(min_value=0, max_value=9999), min_size=1, max_size=30
    ),
    number=st.text(alphabet="0123456789", min_size=6, max_size=15),
)
def test_property_longest_matching_prefix_wins(rows: dict[str, int], number: str) -> None:
    text = "prefix,destination,rate\n" + "".join(
        f"{p},D{p},0.{cents:04d}\n" for p, cents in rows.items()
    )
    deck = load(text, deck="P", replace=True).deck
    matching = [p for p in rows if number.startswith(p)]
    found = rate_for_number(deck=deck, digits=number)
    if not matching:
        assert found is None
    else:
        best = max(matching, key=len)
        assert found is not None and found.prefix == best
        assert found.rate == Decimal(f"0.{rows[best]:04d}")


def test_price_lookup(account: Account) -> None:
    acct = set_up_account(account)
    germany = price_lookup(account=acct, number="+49 30 123456", now=NOW)
    assert (germany.included, germany.destination, germany.rate) == (
        True,
        "Germany landline",
        Decimal("0.0250"),
    )
    assert germany.explanation == (
        "Germany landline — included in your 500 monthly minutes, then $0.0250/min"
    )
    cyprus = price_lookup(account=acct, number="0035799123456", now=NOW)
    assert (cyprus.included, cyprus.destination, cyprus.rate) == (
        False,
        "Cyprus mobile",
        Decimal("0.0900"),
    )
    assert (cyprus.country, cyprus.country_name, cyprus.line_type) == ("CY", "Cyprus", "mobile")
    assert cyprus.explanation == "Cyprus mobile — $0.0900/min, not included in your minutes"
    ext = price_lookup(account=acct, number="102", now=NOW)
    assert (ext.on_net, ext.rate) == (True, Decimal("0"))
    for number, code in (("+81312345678", "unknown_destination"), ("hello", "bad_number")):
        with pytest.raises(DomainError) as exc:
            price_lookup(account=acct, number=number, now=NOW)
        assert exc.value.code == code


def test_a_100k_row_deck_imports_whole_and_every_prefix_is_found() -> None:
    # How fast is `make bench`'s business (beside the same run's PostgreSQL baseline); a timed
    # assert on a shared machine only measures the neighbours.
    rows = "".join(f"{100000 + i},Dest {i},0.{i % 10000:04d}\n" for i in range(100_000))
    report = load("prefix,destination,rate\n" + rows, deck="Big")
    assert report.rows == 100_000
    deck = RateDeck.objects.get(name="Big")
    assert deck.rates.count() == 100_000
    for i in range(0, 100_000, 100):
        assert rate_for_number(deck=deck, digits=f"{100000 + i}5550123").prefix == str(100000 + i)

"""The pure rating function: no database, exact amounts and explanations."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.numbers import LineType, classify, normalize, pretty
from billing.rating import (
    CallFacts,
    PlanTerms,
    Tariff,
    Usage,
    billable_seconds,
    duration,
    rate_call,
)
from portal.errors import DomainError

OVERAGE = Tariff(rate=Decimal("0.025"), label="overage")
STARTER = PlanTerms(name="Starter", included_seconds=500 * 60, overage=OVERAGE)
CYPRUS = Tariff(rate=Decimal("0.1500"), label="Cyprus")
PN_A = Tariff(rate=Decimal("0.0500"), label="USA PN Group A")


def included(billsec: int, used_min: int, label: str = "USA", **usage: int) -> object:
    return rate_call(
        call=CallFacts(billsec=billsec, destination=label, included=True),
        plan=STARTER,
        usage=Usage(included_used=used_min * 60, **usage),
        price=None,
    )


# --- numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dialled", "e164"),
    [
        ("+49 30 123456", "+4930123456"),
        ("004930123456", "+4930123456"),
        ("01149 30 123456", "+4930123456"),
        ("(202) 555-0123", "+12025550123"),
        ("12025550123", "+12025550123"),
        ("35722123456", "+35722123456"),
    ],
)
def test_normalize_to_e164(dialled: str, e164: str) -> None:
    assert normalize(dialled) == e164


@pytest.mark.parametrize("bad", ["", "abc", "+1999", "12#4", "+" + "9" * 21])
def test_bad_numbers_are_refused(bad: str) -> None:
    with pytest.raises(DomainError) as exc:
        normalize(bad)
    assert exc.value.code == "bad_number"


@pytest.mark.parametrize(
    ("number", "country", "name", "line_type"),
    [
        ("+12025550123", "US", "USA", LineType.LANDLINE),  # FIXED_LINE_OR_MOBILE = landline
        ("+4930123456", "DE", "Germany", LineType.LANDLINE),
        ("+4915112345678", "DE", "Germany", LineType.MOBILE),
        ("+447400123456", "GB", "United Kingdom", LineType.MOBILE),
        ("+442071234567", "GB", "United Kingdom", LineType.LANDLINE),
        ("+35722123456", "CY", "Cyprus", LineType.LANDLINE),
        ("+6591234567", "SG", "Singapore", LineType.MOBILE),
        ("+18005551234", "US", "USA", LineType.TOLL_FREE),
    ],
)
def test_classify(number: str, country: str, name: str, line_type: LineType) -> None:
    info = classify(number)
    assert (info.country, info.country_name, info.line_type) == (country, name, line_type)
    assert info.digits == number[1:]


def test_pretty() -> None:
    assert pretty("+12025550123") == "+1 202-555-0123"


# --- blocks -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "initial", "increment", "billed"),
    [(0, 60, 60, 0), (1, 60, 60, 60), (60, 60, 60, 60), (61, 60, 60, 120), (61, 30, 6, 66)],
)
def test_billable_seconds(seconds: int, initial: int, increment: int, billed: int) -> None:
    assert billable_seconds(seconds, initial=initial, increment=increment) == billed


def test_duration_words() -> None:
    assert [duration(s) for s in (180, 90, 45)] == ["3 min", "1 min 30 s", "45 s"]


# --- the billing FAQ, at the core ---------------------------------------------------------


def test_germany_landline_included_with_counter() -> None:
    r = included(161, 497, "Germany landline")
    assert (r.billable_seconds, r.included_seconds, r.paid_seconds) == (180, 180, 0)
    assert r.charge == Decimal("0.0000")
    assert r.category == "included"
    assert r.explanation == "Germany landline — 3 min included (497→500 of 500)"


def test_minute_501_is_the_first_paid_one() -> None:
    last_free = included(60, 499)
    assert (last_free.included_seconds, last_free.charge) == (60, Decimal("0"))
    first_paid = included(60, 500)
    assert (first_paid.included_seconds, first_paid.paid_seconds) == (0, 60)
    assert first_paid.charge == Decimal("0.0250")
    assert first_paid.explanation == (
        "USA — 1 min overage at $0.0250/min = $0.0250 (all 500 included min used)"
    )


def test_call_straddling_500_is_split() -> None:
    r = included(5 * 60 - 10, 498)  # 4 min 50 s → 5 started minutes
    assert (r.billable_seconds, r.included_seconds, r.paid_seconds) == (300, 120, 180)
    assert r.charge == Decimal("0.0750")
    assert r.rate == Decimal("0.0250")
    assert r.category == "overage"
    assert r.explanation == "USA — 2 min included, 3 min overage at $0.0250/min = $0.0750"


def test_not_included_destination_uses_deck_rate_and_no_minutes() -> None:
    r = rate_call(
        call=CallFacts(billsec=125, destination="Cyprus"), plan=STARTER, usage=Usage(), price=CYPRUS
    )
    assert (r.billable_seconds, r.included_seconds, r.paid_seconds) == (180, 0, 180)
    assert r.charge == Decimal("0.4500")
    assert r.category == "rated"
    assert r.explanation == "Cyprus — 3 min at $0.1500/min = $0.4500"


def test_connect_fee_minimum_and_six_second_blocks() -> None:
    tariff = Tariff(
        rate=Decimal("0.1000"),
        initial=30,
        increment=6,
        connect_fee=Decimal("0.0100"),
        minimum_charge=Decimal("0.0800"),
    )
    r = rate_call(
        call=CallFacts(billsec=37, destination="X"), plan=None, usage=Usage(), price=tariff
    )
    assert r.billable_seconds == 42
    assert r.charge == Decimal("0.0800")  # 0.07 + 0.01 fee = 0.08 = minimum
    long = rate_call(
        call=CallFacts(billsec=601, destination="X"), plan=None, usage=Usage(), price=tariff
    )
    assert long.billable_seconds == 606
    assert long.charge == Decimal("1.0200")  # 606 s * $0.10/60 = 1.01, + 0.01 fee
    assert "+ $0.0100 connection fee" in long.explanation


def test_incoming_pn_group_billed_at_did_rate() -> None:
    r = rate_call(
        call=CallFacts(billsec=120, destination="Incoming to PN", incoming=True),
        plan=STARTER,
        usage=Usage(included_used=0),
        price=PN_A,
    )
    assert (r.included_seconds, r.paid_seconds, r.charge) == (0, 120, Decimal("0.1000"))
    assert r.category == "did_rate"
    assert r.explanation.endswith("= $0.1000, not included")


def test_did_cap_bills_beyond_the_cap_at_the_did_rate() -> None:
    uk_did = Tariff(rate=Decimal("0.0100"), label="UK DIDs")
    r = rate_call(
        call=CallFacts(billsec=300, destination="Incoming", included=True, incoming=True),
        plan=STARTER,
        usage=Usage(included_used=10 * 60, did_cap_seconds=100 * 60, did_used=98 * 60),
        price=uk_did,
    )
    assert (r.included_seconds, r.paid_seconds, r.did_seconds) == (120, 180, 120)
    assert r.charge == Decimal("0.0300")
    assert "over this DID's monthly cap of 100 min at $0.0100/min" in r.explanation


def test_unanswered_and_on_net_are_free_and_use_nothing() -> None:
    for facts in (
        CallFacts(billsec=0, included=True),
        CallFacts(billsec=30, answered=False, included=True),
        CallFacts(billsec=300, on_net=True),
    ):
        r = rate_call(call=facts, plan=STARTER, usage=Usage(), price=CYPRUS)
        assert (r.billable_seconds, r.included_seconds, r.charge) == (0, 0, Decimal("0"))


def test_no_price_for_a_paid_call_is_unknown_destination() -> None:
    with pytest.raises(DomainError) as exc:
        rate_call(call=CallFacts(billsec=10), plan=STARTER, usage=Usage(), price=None)
    assert exc.value.code == "unknown_destination"


# --- properties ---------------------------------------------------------------------------

tariffs = st.builds(
    Tariff,
    rate=st.decimals(min_value=0, max_value=5, places=4),
    initial=st.sampled_from([1, 6, 30, 60]),
    increment=st.sampled_from([1, 6, 60]),
    connect_fee=st.decimals(min_value=0, max_value=1, places=4),
)


@given(
    billsec=st.integers(min_value=0, max_value=20_000),
    included_flag=st.booleans(),
    incoming=st.booleans(),
    used=st.integers(min_value=0, max_value=40_000),
    cap=st.none() | st.integers(min_value=0, max_value=10_000),
    did_used=st.integers(min_value=0, max_value=10_000),
    price=tariffs,
    overage=tariffs,
)
def test_included_plus_paid_is_billable(
    billsec: int,
    included_flag: bool,
    incoming: bool,
    used: int,
    cap: int | None,
    did_used: int,
    price: Tariff,
    overage: Tariff,
) -> None:
    plan = PlanTerms(name="P", included_seconds=30_000, overage=overage)
    r = rate_call(
        call=CallFacts(billsec=billsec, included=included_flag, incoming=incoming),
        plan=plan,
        usage=Usage(included_used=used, did_cap_seconds=cap, did_used=did_used),
        price=price,
    )
    assert r.included_seconds + r.paid_seconds == r.billable_seconds
    assert r.billable_seconds >= billsec
    assert r.included_seconds <= max(0, 30_000 - used)
    if cap is not None:
        assert r.included_seconds <= max(0, cap - did_used)
    assert r.charge >= 0
    assert r.charge == r.charge.quantize(Decimal("0.0001"))
    if r.paid_seconds == 0:
        assert r.charge == 0


def test_every_region_has_a_country_name() -> None:
    import phonenumbers

    from billing.numbers import country_name

    for region in phonenumbers.SUPPORTED_REGIONS:
        assert country_name(region) not in ("", region), region
    assert country_name("GB") == "United Kingdom"

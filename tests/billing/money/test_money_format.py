"""The one money format: balances and totals in cents (exact value in a tooltip), per-call
charges and per-minute prices with 4 places, one minus sign (U+2212)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.template import Context, Template

from billing.money import format_usd
from billing.templatetags.money_format import (
    charge,
    per_minute,
    signed_usd,
    usd,
    usd4,
    usd_text,
)

MINUS = "\u2212"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("98.6650", "$98.67"),  # half up
        ("98.6649", "$98.66"),
        ("0.0050", "$0.01"),
        ("0.0049", "$0.00"),
        ("0", "$0.00"),
        ("-0.0750", f"{MINUS}$0.08"),  # half away from zero, like money()
        ("-5", f"{MINUS}$5.00"),
        ("1234567.891", "$1,234,567.89"),
        ("-1234567.8950", f"{MINUS}$1,234,567.90"),
    ],
)
def test_it_writes_balances_and_totals_in_whole_cents(value: str, text: str) -> None:
    assert format_usd(Decimal(value)) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("0.025", "$0.0250"),
        ("0", "$0.0000"),
        ("0.15", "$0.1500"),
        ("-0.0750", f"{MINUS}$0.0750"),
        ("12345.6", "$12,345.6000"),
    ],
)
def test_it_writes_exact_amounts_with_four_places(value: str, text: str) -> None:
    assert format_usd(Decimal(value), places=4) == text


def test_it_never_uses_the_hyphen_as_a_minus_sign() -> None:
    for value in ("-0.0001", "-1", "-1000.5"):
        assert "-" not in format_usd(Decimal(value))
        assert "-" not in format_usd(Decimal(value), places=4)


def test_it_refuses_other_numbers_of_places() -> None:
    with pytest.raises(ValueError):
        format_usd(Decimal("1"), places=3)


def test_a_balance_with_sub_cent_digits_keeps_the_exact_value_in_a_tooltip() -> None:
    html = usd(Decimal("98.6650"))
    assert html == '<data class="money" value="98.6650" title="Exact: $98.6650">$98.67</data>'


def test_a_whole_cent_balance_has_no_tooltip() -> None:
    assert usd(Decimal("98.5900")) == "$98.59"
    assert usd(Decimal("-1234.5")) == f"{MINUS}$1,234.50"


def test_a_column_never_mixes_two_and_four_places() -> None:
    """The old rule kept 4 places when sub-cent digits were present: $0.15 beside $0.0750."""
    column = [usd(Decimal("0.15")), usd(Decimal("0.0750"))]
    assert column[0] == "$0.15"
    assert ">$0.08</data>" in column[1]


def test_a_balance_change_is_signed_in_cents_with_the_exact_value_in_the_tooltip() -> None:
    assert signed_usd(Decimal("5")) == "+$5.00"
    assert signed_usd(Decimal("0")) == "$0.00"
    assert signed_usd(Decimal("-0.15")) == f"{MINUS}$0.15"
    html = signed_usd(Decimal("-0.0750"))
    assert html == (
        f'<data class="money" value="-0.0750" title="Exact: {MINUS}$0.0750">{MINUS}$0.08</data>'
    )


def test_per_call_charges_and_prices_always_have_four_places() -> None:
    assert charge(Decimal("0.075")) == "$0.0750"
    assert charge(Decimal("0")) == "$0.0000"
    assert charge(Decimal("0.15")) == "$0.1500"
    assert per_minute(Decimal("0.025")) == "$0.0250/min"
    assert usd4(Decimal("0.05")) == "$0.0500"


def test_plain_text_templates_get_no_markup() -> None:
    """E-mails are rendered with autoescape off: the amount in cents, without the tooltip."""
    template = Template(
        "{% load money_format %}{% autoescape off %}"
        "{{ a|usd }} {{ b|signed_usd }}{% endautoescape %}"
    )
    text = template.render(Context({"a": Decimal("98.6650"), "b": Decimal("-0.0750")}))
    assert text == f"$98.67 {MINUS}$0.08"


def test_the_filters_read_the_same_in_a_template() -> None:
    template = Template("{% load rating_format %}{{ a|usd }}|{{ c|charge }}|{{ r|per_minute }}")
    text = template.render(
        Context({"a": Decimal("-12.3456"), "c": Decimal("0.075"), "r": Decimal("0.025")})
    )
    assert text == (
        f'<data class="money" value="-12.3456" title="Exact: {MINUS}$12.3456">{MINUS}$12.35</data>'
        "|$0.0750|$0.0250/min"
    )


def test_empty_values_show_nothing() -> None:
    for f in (usd, signed_usd, charge, per_minute, usd4):
        assert f(None) == ""


def test_an_amount_inside_an_attribute_is_plain_text() -> None:
    assert usd_text(Decimal("98.6650")) == "$98.67"
    assert usd_text(Decimal("-5")) == f"{MINUS}$5.00"
    assert usd_text(None) == ""

"""Money: Decimal only, one rounding helper, 4 decimal places stored."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

FOUR_PLACES = Decimal("0.0001")
CENTS = Decimal("0.01")
ZERO = Decimal("0.0000")


def money(value: Decimal | int | str, *, places: Decimal = FOUR_PLACES) -> Decimal:
    """The one rounding helper: quantize to 4 places (or ``places``), half up.

    Floats are refused: they cannot represent money exactly.
    """
    if isinstance(value, float):
        raise TypeError("money() refuses floats; pass a Decimal, int or str")
    try:
        amount = value if isinstance(value, Decimal) else Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not a finite amount: {value!r}")
    return amount.quantize(places, rounding=ROUND_HALF_UP)


def cents(value: Decimal | int | str) -> Decimal:
    """Round to whole cents (card payments are whole cents)."""
    return money(value, places=CENTS)


def to_minor_units(value: Decimal) -> int:
    """Dollars → Stripe's integer cents. Refuses sub-cent amounts rather than rounding them."""
    amount = money(value)
    if amount != cents(amount):
        raise ValueError(f"{amount} is not a whole number of cents")
    return int(amount * 100)


def from_minor_units(value: int) -> Decimal:
    return money(Decimal(value) / 100)


MINUS = "\u2212"  # the one minus sign people read; CSV keeps the machine-readable "-"


def format_usd(value: Decimal | int | str, *, places: int = 2) -> str:
    """The one way money is written for people: ``-1234.5`` → ``−$1,234.50``.

    ``places=2`` (balances, totals, payments) rounds half up to whole cents; ``places=4``
    (per-call charges, per-minute prices, the exact value behind a rounded one) keeps 4.
    The number of places depends on what the amount *is*, never on its digits, so a column
    never mixes $0.15 with $0.0750. Negatives get a true minus sign (U+2212).
    """
    if places not in (2, 4):
        raise ValueError("format_usd shows 2 (cents) or 4 (exact) places")
    amount = money(value, places=CENTS if places == 2 else FOUR_PLACES)
    sign = MINUS if amount < 0 else ""
    return f"{sign}${abs(amount):,.{places}f}"


def is_whole_cents(value: Decimal | int | str) -> bool:
    """True when rounding to cents loses nothing (no tooltip needed for the exact value)."""
    amount = money(value)
    return amount == cents(amount)

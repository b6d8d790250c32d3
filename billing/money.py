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


def format_usd(value: Decimal, *, places: int = 2) -> str:
    """``-1234.5`` → ``-$1,234.50``; sub-cent amounts keep up to 4 places when present."""
    amount = money(value)
    if places == 2 and amount != cents(amount):
        places = 4
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.{places}f}"

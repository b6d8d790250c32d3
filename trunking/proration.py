"""The prorated charge for channels added in the middle of a billing month: plain values only.

The rest of the month is counted in whole days in the account's time zone, today included (an
increase on the first day pays the whole month, on the last day one day of it). Each kind's
line is rounded to whole cents, half up, and the charge is the sum of the lines, so the
explanation adds up to exactly what is charged.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from billing.money import cents, format_usd
from billing.periods import Period


@dataclass(frozen=True)
class ProratedLine:
    noun: str  # "two-way"
    added: int
    unit_price: Decimal
    days_left: int
    days_in_period: int
    amount: Decimal

    def describe(self) -> str:
        plural = "channel" if self.added == 1 else "channels"
        return (
            f"{self.added} {self.noun} {plural} × {format_usd(self.unit_price)} × "
            f"{self.days_left}/{self.days_in_period} days = {format_usd(self.amount)}"
        )


def days_of(period: Period, today: dt.date) -> tuple[int, int]:
    """(days left including ``today``, days in the period) for a local date in the period."""
    total = (period.last_day - period.start_date).days + 1
    left = (period.last_day - today).days + 1
    if not 1 <= left <= total:
        raise ValueError(f"{today} is not in the period {period.start_date} to {period.last_day}")
    return left, total


def prorated_line(
    *, noun: str, added: int, unit_price: Decimal, period: Period, today: dt.date
) -> ProratedLine:
    left, total = days_of(period, today)
    amount = cents(Decimal(added) * unit_price * left / total)
    return ProratedLine(noun, added, unit_price, left, total, amount)

"""Form fields shared by the billing filters."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

# Filter dates are whole local days turned into UTC midnights (and the day after the last one):
# near date.min/max that arithmetic overflows, and no call or ledger entry lies outside this.
EARLIEST_FILTER_DATE = dt.date(2000, 1, 1)
LATEST_FILTER_DATE = dt.date(2099, 12, 31)


class FilterDateField(forms.DateField):
    """An optional day of a filter, refused with a message outside the supported range."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.DateInput(attrs={"type": "date"}))
        super().__init__(**kwargs)

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value and not EARLIEST_FILTER_DATE <= value <= LATEST_FILTER_DATE:
            raise forms.ValidationError(
                f"Enter a date between {EARLIEST_FILTER_DATE.isoformat()} and "
                f"{LATEST_FILTER_DATE.isoformat()}.",
                code="out_of_range",
            )

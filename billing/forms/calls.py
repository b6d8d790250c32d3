"""The Calls page filters."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from billing.forms.fields import FilterDateField
from billing.models import Call
from billing.selectors.calls import CallFilters


class CallFilterForm(forms.Form):
    """The Calls page filters (GET). Dates are days in the account's time zone."""

    DIRECTIONS = [("", "All directions"), *Call.Direction.choices]

    date_from = FilterDateField(label="From")
    date_to = FilterDateField(label="To")
    direction = forms.ChoiceField(required=False, choices=DIRECTIONS)
    number = forms.CharField(
        required=False,
        max_length=40,
        label="Number",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Any part of a number"}),
    )

    def clean_number(self) -> str:
        number: str = self.cleaned_data["number"].strip()
        if number and not re.sub(r"\D", "", number):
            raise forms.ValidationError("Enter digits of a phone number or extension.")
        return number

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError("The “From” date is after the “To” date.")
        return cleaned

    def filters(self) -> CallFilters:
        """The valid filters (an invalid form filters nothing: the page shows the errors)."""
        if not self.is_valid():
            return CallFilters()
        data = self.cleaned_data
        return CallFilters(
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            direction=data.get("direction") or "",
            number=data.get("number") or "",
        )

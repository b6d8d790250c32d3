from __future__ import annotations

import re
import uuid
from decimal import Decimal
from typing import Any

from django import forms

from billing.models import Call
from billing.money import money
from billing.selectors import CallFilters


class AdjustmentForm(forms.Form):
    """Staff adjustment. The hidden key makes a double-submitted form post once."""

    amount = forms.DecimalField(
        max_digits=12,
        decimal_places=4,
        help_text="Positive credits the customer, negative debits them.",
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=1000)
    idempotency_key = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", f"adjustment:{uuid.uuid4()}")

    def clean_amount(self) -> Decimal:
        amount = money(self.cleaned_data["amount"])
        if amount == 0:
            raise forms.ValidationError("The amount cannot be zero.")
        return amount

    def clean_idempotency_key(self) -> str:
        key: str = self.cleaned_data["idempotency_key"]
        if not key.startswith("adjustment:") or len(key) > 100:
            raise forms.ValidationError("Invalid form key; reload the page.")
        return key


class CallFilterForm(forms.Form):
    """The Calls page filters (GET). Dates are days in the account's time zone."""

    DIRECTIONS = [("", "All directions"), *Call.Direction.choices]

    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
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


class RateLookupForm(forms.Form):
    number = forms.CharField(
        max_length=40,
        label="Phone number",
        help_text="International format with the country code, e.g. +49 30 1234567.",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )


class RateDeckImportForm(forms.Form):
    """Staff: import a rate CSV into a deck (new or existing)."""

    deck_name = forms.CharField(
        max_length=100, help_text="An existing deck's name, or a new name to create a deck."
    )
    csv_file = forms.FileField(
        label="CSV file",
        help_text="Header: prefix,destination,rate[,connect_fee,initial,increment]. "
        "Any bad row and nothing is imported.",
    )
    replace = forms.BooleanField(
        required=False,
        help_text="Replace the whole deck with the file. Unticked: add and update rows by "
        "prefix, keep the others.",
    )


class ApiClientCreateForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Which switch uses it, e.g. “asterisk-nyc-1”.")

"""Ledger forms: the staff adjustment and the balance history filters."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django import forms

from billing.forms.fields import FilterDateField
from billing.money import money
from billing.selectors.ledger import HISTORY_KINDS, HistoryFilters


class AdjustmentForm(forms.Form):
    """Staff adjustment. The hidden key makes a double-submitted form post once; ``confirmed``
    is set by the preview step, which shows the resulting balance before anything is posted."""

    amount = forms.DecimalField(
        max_digits=12,
        decimal_places=4,
        help_text="Positive credits the customer, negative debits them.",
    )
    customer_description = forms.CharField(
        label="Description for the customer",
        max_length=255,
        help_text="Shown to the customer in their transaction history and CSV export.",
    )
    internal_note = forms.CharField(
        label="Internal note",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        help_text="Why: kept for staff with your user; never shown to the customer.",
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput)
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)
    confirm_large = forms.BooleanField(
        label="I have checked this amount and want to post it", required=False
    )

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


class HistoryFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label="Type", required=False, choices=[("", "All types"), *HISTORY_KINDS]
    )
    date_from = FilterDateField(label="From")
    date_to = FilterDateField(label="To")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError("The “From” date is after the “To” date.")
        return data

    def filters(self) -> HistoryFilters:
        if not self.is_bound or not self.is_valid():
            return HistoryFilters()
        data = self.cleaned_data
        return HistoryFilters(
            kind=data.get("kind") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )

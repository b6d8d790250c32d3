from __future__ import annotations

import uuid
from decimal import Decimal

from django import forms

from billing.money import money


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

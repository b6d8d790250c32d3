from __future__ import annotations

import re
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.conf import settings

from billing.models import Call
from billing.money import format_usd, money
from billing.selectors.calls import CallFilters
from billing.selectors.ledger import HISTORY_KINDS, HistoryFilters
from billing.services.deposits import deposit_amount_check
from portal.errors import DomainError


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


# --- Prepaid balance: Add Credit, auto-recharge, history filters (issue 4) -------------------


def _parse_amount(raw: str, *, empty_message: str) -> Decimal:
    text = (raw or "").strip().replace(" ", "")
    if text.startswith("$"):
        text = text[1:]
    if not text:
        raise forms.ValidationError(empty_message)
    if text.startswith("-"):
        raise forms.ValidationError("The amount must be a positive number of dollars.")
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:
        raise forms.ValidationError(
            "Enter the amount as a number of dollars, for example 25.00."
        ) from exc
    if not amount.is_finite():
        raise forms.ValidationError("Enter the amount as a number of dollars, for example 25.00.")
    return amount


def _deposit_amount(raw: str, *, empty_message: str) -> Decimal:
    amount = _parse_amount(raw, empty_message=empty_message)
    try:
        return deposit_amount_check(amount)
    except DomainError as exc:
        raise forms.ValidationError(exc.message) from exc


class AddCreditForm(forms.Form):
    """The amount of a card payment: $5.00 minimum, the configured maximum, whole cents.

    A text field (not a number field) so that every bad input reaches the server and gets our
    own clear message rather than a browser's."""

    amount = forms.CharField(
        label="Amount (USD)",
        required=False,
        max_length=20,
        widget=forms.TextInput(
            attrs={"inputmode": "decimal", "autocomplete": "off", "placeholder": "25.00"}
        ),
    )
    save_card = forms.BooleanField(
        label="Keep this card for auto-recharge", required=False, initial=True
    )
    use_saved_card = forms.BooleanField(required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["amount"].help_text = (
            f"Minimum {format_usd(settings.BILLING_MIN_DEPOSIT)}, maximum "
            f"{format_usd(settings.BILLING_MAX_DEPOSIT)} per payment."
        )

    def clean_amount(self) -> Decimal:
        return _deposit_amount(
            self.cleaned_data.get("amount", ""),
            empty_message="Enter an amount, for example 25.00.",
        )


class AutoRechargeForm(forms.Form):
    """Auto-recharge and low-balance settings (ids ``id_auto_*``: the page has two amounts)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "id_auto_%s")
        super().__init__(*args, **kwargs)

    enabled = forms.BooleanField(label="Turn on auto-recharge", required=False)
    threshold = forms.CharField(
        label="When my balance falls below (USD)",
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    amount = forms.CharField(
        label="Add this amount (USD)",
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    low_balance_threshold = forms.CharField(
        label="E-mail me when my balance falls below (USD)",
        required=False,
        max_length=20,
        help_text="Leave empty for no low-balance e-mail.",
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )

    def clean_threshold(self) -> Decimal:
        amount = _parse_amount(
            self.cleaned_data.get("threshold", ""), empty_message="Enter a threshold."
        )
        if amount > Decimal("100000"):
            raise forms.ValidationError("The threshold is too large.")
        return amount

    def clean_amount(self) -> Decimal:
        return _deposit_amount(
            self.cleaned_data.get("amount", ""),
            empty_message="Enter the amount to add, for example 25.00.",
        )

    def clean_low_balance_threshold(self) -> Decimal | None:
        raw = self.cleaned_data.get("low_balance_threshold", "")
        if not (raw or "").strip():
            return None
        amount = _parse_amount(raw, empty_message="")
        if amount > Decimal("100000"):
            raise forms.ValidationError("The alert threshold is too large.")
        return amount


class HistoryFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label="Type", required=False, choices=[("", "All types"), *HISTORY_KINDS]
    )
    date_from = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

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

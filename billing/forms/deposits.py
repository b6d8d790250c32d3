"""Card payments: the amount parsing, Add Credit and the auto-recharge settings."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms

from billing.money import format_usd
from billing.services.deposits import deposit_amount_check, deposit_limits
from portal.errors import DomainError


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
    """The amount of a card payment: whole cents, within ``deposit_limits()``.

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
        minimum, maximum = deposit_limits()
        self.fields[
            "amount"
        ].help_text = f"Minimum {format_usd(minimum)}, maximum {format_usd(maximum)} per payment."

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

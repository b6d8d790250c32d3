"""The port-in request form: the numbers, the losing carrier's account, the letter of
authorization and an optional bill copy."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from billing.models import DIDGroup
from billing.services.ports import port_bill_check
from portal.errors import DomainError


class PortRequestForm(forms.Form):
    numbers = forms.CharField(
        label="Numbers to port",
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        help_text="One per line, or a pasted list separated by commas, in any common format, "
        "e.g. (202) 555-0123 or +44 20 7123 4567.",
    )
    losing_carrier = forms.CharField(label="Current carrier", max_length=100)
    carrier_account_number = forms.CharField(label="Account number at that carrier", max_length=64)
    carrier_pin = forms.CharField(
        label="PIN or passcode at that carrier",
        max_length=32,
        required=False,
        help_text="If the carrier gave one; many mobile carriers require it.",
    )
    account_holder_name = forms.CharField(
        label="Name on that account",
        max_length=150,
        help_text="Exactly as on the carrier's bill.",
    )
    service_address = forms.CharField(
        label="Service address on that account",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    requested_date = forms.DateField(
        label="Requested port date",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The carrier confirms the final date (FOC); usually 5 to 10 business days.",
    )
    bill = forms.FileField(
        label="Copy of a recent bill (optional)",
        required=False,
        help_text="PDF, PNG or JPEG, at most 10 MB.",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg"}),
    )
    loa_name = forms.CharField(
        label="Authorised person's full name (your signature)",
        max_length=150,
    )
    loa_agree = forms.BooleanField(
        label="I am authorised to sign for the account above and I sign this letter of "
        "authorization.",
        error_messages={"required": "Tick the box to sign the letter of authorization."},
    )

    def __init__(self, *args: Any, today: dt.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.content_type = ""

    def clean_requested_date(self) -> dt.date:
        value: dt.date = self.cleaned_data["requested_date"]
        if value < self.today:
            raise forms.ValidationError("The port date cannot be in the past.")
        if value > self.today + dt.timedelta(days=365):
            raise forms.ValidationError("Choose a date within the next year.")
        return value

    def clean_bill(self) -> Any:
        bill = self.cleaned_data.get("bill")
        if not bill:
            return None
        try:
            self.content_type, _ = port_bill_check(upload=bill)
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from exc
        return bill


class PortCancelForm(forms.Form):
    note = forms.CharField(label="Why (optional)", max_length=500, required=False)


# --- Staff (the admin's actions on one request) ---------------------------------------------


class PortStartForm(forms.Form):
    foc_date = forms.DateField(
        label="FOC date",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The date the losing carrier confirmed.",
    )
    note = forms.CharField(
        label="Note to the customer", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )


class PortCompleteForm(forms.Form):
    ported = forms.MultipleChoiceField(
        label="Numbers that ported",
        widget=forms.CheckboxSelectMultiple,
        help_text="The fee of the numbers not ticked is refunded.",
    )
    did_group = forms.ModelChoiceField(
        label="DID group", queryset=DIDGroup.objects.order_by("name"), empty_label=None
    )
    note = forms.CharField(
        label="Note to the customer", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(self, *args: Any, numbers: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["ported"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(n, n) for n in numbers]
        if not self.is_bound:
            self.initial.setdefault("ported", numbers)


class PortRejectForm(forms.Form):
    reason = forms.CharField(
        label="Reason (the customer sees it)", widget=forms.Textarea(attrs={"rows": 3})
    )


class PortStaffCancelForm(forms.Form):
    note = forms.CharField(
        label="Note to the customer", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

"""Rates: the customer's rate lookup and the staff rate deck import."""

from __future__ import annotations

from django import forms


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

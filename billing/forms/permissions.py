"""The Call permissions page's form: tier toggles, the price ceiling and the daily cap; the
country toggles are read by the view from the countries the page showed."""

from __future__ import annotations

from decimal import Decimal

from django import forms


class CallPermissionsForm(forms.Form):
    allow_low = forms.BooleanField(required=False, label="Allow all low-risk countries")
    allow_medium = forms.BooleanField(required=False, label="Allow all medium-risk countries")
    allow_high = forms.BooleanField(required=False, label="Allow high-risk countries")
    price_ceiling = forms.DecimalField(
        label="Price ceiling (USD per minute)",
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        decimal_places=4,
        max_digits=10,
    )
    daily_cap = forms.DecimalField(
        label="Daily spend cap (USD per day)",
        min_value=Decimal("0"),
        max_value=Decimal("100000"),
        decimal_places=2,
        max_digits=10,
    )

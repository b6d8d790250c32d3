"""Service plans: the customer's "switch plan" button."""

from __future__ import annotations

from django import forms


class PlanSwitchForm(forms.Form):
    """One button per offered plan posts its id; the service checks that it is offered."""

    plan = forms.IntegerField(
        min_value=1,
        widget=forms.HiddenInput,
        error_messages={
            "required": "Choose a plan to switch to.",
            "invalid": "Choose one of the plans shown.",
            "min_value": "Choose one of the plans shown.",
        },
    )

"""Staff: a new switch API client."""

from __future__ import annotations

from django import forms


class ApiClientCreateForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Which switch uses it, e.g. “asterisk-nyc-1”.")

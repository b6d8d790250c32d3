"""The channel counts form: whole numbers from 0 to the maximum, and the version it was based
on (a form submitted after another change is refused by the service)."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from portal.mail import support_contact
from trunking.models import KINDS, ChannelKind

_WHOLE = re.compile(r"^\s*[+-]?\d{1,9}\s*$")


class CountField(forms.IntegerField):
    """Django's IntegerField takes "2.0" as 2; a channel count is typed as a whole number."""

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        if not _WHOLE.match(str(value)):
            raise forms.ValidationError(
                "Enter a whole number of channels, such as 0, 1 or 2.", code="invalid"
            )
        return int(str(value))


class ChannelCountsForm(forms.Form):
    version = forms.IntegerField(min_value=0, widget=forms.HiddenInput)

    def __init__(self, *args: Any, maximums: dict[str, int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kind in KINDS:
            maximum = maximums[kind]
            self.fields[kind] = CountField(
                label=f"{ChannelKind(kind).label} channels",
                min_value=0,
                max_value=maximum,
                error_messages={
                    "required": "Enter a number of channels (0 for none).",
                    "min_value": "The count cannot be negative.",
                    "max_value": f"At most {maximum} channels of this kind; contact support at "
                    f"{support_contact()} for more.",
                },
                widget=forms.NumberInput(attrs={"min": 0, "max": maximum, "step": 1}),
            )

    def counts(self) -> dict[str, int]:
        return {kind: int(self.cleaned_data[kind]) for kind in KINDS}

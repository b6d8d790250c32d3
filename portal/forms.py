from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms
from django.http import HttpRequest
from django.utils import timezone as djtz

from portal import services
from portal.models import User

COMMON_TIMEZONES = sorted(
    tz
    for tz in zoneinfo.available_timezones()
    if "/" in tz and not tz.startswith(("Etc/", "SystemV/"))
)
TIMEZONE_CHOICES = [(tz, tz.replace("_", " ")) for tz in COMMON_TIMEZONES]


class SignupForm(forms.Form):
    """Extra fields on allauth's sign-up: the company (account) being created."""

    account_name = forms.CharField(
        label="Company name",
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    timezone = forms.ChoiceField(
        label="Time zone",
        choices=TIMEZONE_CHOICES,
        initial="America/New_York",
        help_text="Your billing months start at midnight in this time zone.",
    )

    def signup(self, request: HttpRequest, user: User) -> None:
        account = services.account_create(
            name=self.cleaned_data["account_name"],
            timezone=self.cleaned_data["timezone"],
            now=djtz.now(),
        )
        services.user_attach_to_account(user=user, account=account, role=User.Role.OWNER)


class AccountSettingsForm(forms.Form):
    name = forms.CharField(label="Company name", max_length=200)
    timezone = forms.ChoiceField(label="Time zone", choices=TIMEZONE_CHOICES)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)

from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms
from django.contrib.auth.forms import SetPasswordForm
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone as djtz

from portal import services
from portal.models import User
from portal.new_account import new_account_setup


def _alias_zones() -> set[str]:
    """Backward-compatible alias names (US/Eastern, Asia/Calcutta…) from the system tzdata,
    where it is there: customers pick from the canonical names only."""
    try:
        with open("/usr/share/zoneinfo/tzdata.zi", encoding="utf-8") as source:
            return {line.split()[2] for line in source if line.startswith("L ")}
    except OSError:
        return set()


_ALIASES = _alias_zones()
COMMON_TIMEZONES = [
    *sorted(
        tz
        for tz in zoneinfo.available_timezones()
        if "/" in tz
        and tz not in _ALIASES
        and not tz.startswith(
            ("Etc/", "SystemV/", "US/", "Canada/", "Brazil/", "Mexico/", "Chile/")
        )
    ),
    "UTC",
]
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
        now = djtz.now()
        with transaction.atomic():
            account = services.account_create(
                name=self.cleaned_data["account_name"],
                timezone=self.cleaned_data["timezone"],
                now=now,
            )
            new_account_setup(account=account, now=now)
            services.user_attach_to_account(user=user, account=account, role=User.Role.OWNER)


ROLE_HELP = "Billing: money settings, Add Credit, trunks, ports. Member: reads only."


class InviteForm(forms.Form):
    email = forms.EmailField(label="E-mail address", max_length=254)
    role = forms.ChoiceField(
        choices=User.Role.choices, initial=User.Role.MEMBER, help_text=ROLE_HELP
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=User.Role.choices)


class InvitationAcceptForm(SetPasswordForm):
    """The invitee's new password, checked by the project's password validators."""


class AccountSettingsForm(forms.Form):
    name = forms.CharField(label="Company name", max_length=200)
    timezone = forms.ChoiceField(label="Time zone", choices=TIMEZONE_CHOICES)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)

"""Demo data for ``make run``: the demo account's trunk, added through the change flow ten days
ago and two days ago (so its history shows the prorated charges). Idempotent: nothing is done
once the account has a trunk."""

from __future__ import annotations

import datetime as dt

from django.apps import apps as django_apps

from portal.models import Account
from trunking.defaults import install_channel_defaults
from trunking.models import Trunk
from trunking.services.trunks import channels_change


def seed_trunks(account: Account, now: dt.datetime) -> None:
    # The prices and maximums come from a data migration; a database flushed since (a
    # transactional test) has none, and a demo trunk cannot be priced without them.
    install_channel_defaults(django_apps)
    if Trunk.objects.filter(account=account).exists():
        return
    owner = account.users.order_by("pk").first()
    channels_change(
        account=account,
        user=owner,
        counts={"outbound": 1, "inbound": 1, "two_way": 2},
        version=0,
        now=now - dt.timedelta(days=10),
    )
    channels_change(
        account=account,
        user=owner,
        counts={"outbound": 1, "inbound": 1, "two_way": 3},
        version=1,
        now=now - dt.timedelta(days=2),
    )

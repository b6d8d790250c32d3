"""The channel prices and maximums every installation starts with.

Our choice for a small hosted-PBX provider (the seeds give no prices): per channel per month
outbound $8.00, inbound $6.00, two-way $12.00, and at most 50 channels of each kind per account
until staff set otherwise. Staff change them in the admin (a new price row with the date it
applies from; an account's own maximum).

``install_channel_defaults(apps)`` is idempotent and works with a migration's historical models
as well as the real ones (``django.apps.apps``), so tests that flush the database can re-create
exactly what the data migration created.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

PRICES = {"outbound": Decimal("8.00"), "inbound": Decimal("6.00"), "two_way": Decimal("12.00")}
MAXIMUM = 50
SINCE = dt.date(2000, 1, 1)


def install_channel_defaults(apps: Any) -> None:
    channel_price = apps.get_model("trunking", "ChannelPrice")
    channel_maximum = apps.get_model("trunking", "ChannelMaximum")
    for kind, price in PRICES.items():
        channel_price.objects.get_or_create(
            kind=kind, effective_from=SINCE, defaults={"monthly_price": price}
        )
        channel_maximum.objects.get_or_create(
            kind=kind, account=None, defaults={"maximum": MAXIMUM}
        )

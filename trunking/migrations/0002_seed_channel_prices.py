"""Starting prices and maximums: our choice for a small hosted-PBX provider, per channel per
month (outbound $8.00, inbound $6.00, two-way $12.00), and at most 50 channels of each kind
per account until staff set otherwise. Staff change them in the admin (a new price row with
the date it applies from)."""

import datetime as dt
from decimal import Decimal

from django.db import migrations

PRICES = {"outbound": Decimal("8.00"), "inbound": Decimal("6.00"), "two_way": Decimal("12.00")}
MAXIMUM = 50
SINCE = dt.date(2000, 1, 1)


def seed(apps, schema_editor):
    ChannelPrice = apps.get_model("trunking", "ChannelPrice")
    ChannelMaximum = apps.get_model("trunking", "ChannelMaximum")
    for kind, price in PRICES.items():
        ChannelPrice.objects.get_or_create(
            kind=kind, effective_from=SINCE, defaults={"monthly_price": price}
        )
        ChannelMaximum.objects.get_or_create(
            kind=kind, account=None, defaults={"maximum": MAXIMUM}
        )


def unseed(apps, schema_editor):
    apps.get_model("trunking", "ChannelPrice").objects.filter(effective_from=SINCE).delete()
    apps.get_model("trunking", "ChannelMaximum").objects.filter(account=None).delete()


class Migration(migrations.Migration):
    dependencies = [("trunking", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]

"""The starting channel prices and maximums (trunking/defaults.py says which and why)."""

from django.db import migrations


def seed(apps, schema_editor):
    from trunking.defaults import install_channel_defaults

    install_channel_defaults(apps)


def unseed(apps, schema_editor):
    from trunking.defaults import SINCE

    apps.get_model("trunking", "ChannelPrice").objects.filter(effective_from=SINCE).delete()
    apps.get_model("trunking", "ChannelMaximum").objects.filter(account=None).delete()


class Migration(migrations.Migration):
    dependencies = [("trunking", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]

"""Data: the Standard rate deck, the Starter plan (500 min, $0.025/min 60/60, $19.99/month)
with its included destinations, and the DID groups (USA standard, USA PN Group A/B/C, one
international group with a monthly cap). See billing/defaults.py."""

from django.db import migrations


def forwards(apps, schema_editor):
    from billing.defaults import install_defaults

    install_defaults(apps)


class Migration(migrations.Migration):

    dependencies = [
        ("billing", "0004_prepaid_stripe"),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]

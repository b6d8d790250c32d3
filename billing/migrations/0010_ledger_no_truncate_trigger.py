"""On PostgreSQL, the database itself refuses TRUNCATE of ledger rows (directly or by CASCADE
from the accounts). The row trigger of 0002 never fires for TRUNCATE, so this needs a statement
trigger.

The one way through is a session that sets ``billing.allow_ledger_truncate = 'on'``: the test
run's flush between transactional tests (tests/conftest.py). It guards against an accidental
``manage.py flush`` or TRUNCATE, not against the table's owner, who could drop the trigger.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION billing_ledger_no_truncate() RETURNS trigger AS $$
BEGIN
    IF coalesce(current_setting('billing.allow_ledger_truncate', true), '') = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'billing_ledgerentry is append-only (TRUNCATE refused)';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS billing_ledger_no_truncate ON billing_ledgerentry;
CREATE TRIGGER billing_ledger_no_truncate
    BEFORE TRUNCATE ON billing_ledgerentry
    FOR EACH STATEMENT EXECUTE FUNCTION billing_ledger_no_truncate();
"""
DROP = """
DROP TRIGGER IF EXISTS billing_ledger_no_truncate ON billing_ledgerentry;
DROP FUNCTION IF EXISTS billing_ledger_no_truncate();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("billing", "0009_service_plan_public_default")]
    operations = [migrations.RunPython(forwards, backwards, elidable=False)]

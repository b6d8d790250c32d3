"""Pricing versions: ``RateDeck.version`` and the one-row ``PricingCatalog``, raised by
triggers in the transaction of every change to what pricing keeps in memory per process (rates,
decks, plans, included destinations, DID groups, country risk tiers) — whatever makes the
change: the admin, a rate import, a queryset update, raw SQL. Each raise is a random step, so
a version seen inside a rolled-back transaction is never the version of other, committed data.
"""

from django.db import migrations, models

# Tables whose any change moves the catalog's version (rate changes move their deck's version,
# whose UPDATE moves the catalog's in turn).
CATALOG_TABLES = (
    "billing_ratedeck",
    "billing_serviceplan",
    "billing_includeddestination",
    "billing_didgroup",
    "billing_countryrisk",
)

PG_STEP = "(1 + floor(random() * 2147483647))::bigint"
SQLITE_STEP = "(1 + (random() & 2147483647))"

PG_FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION billing_pricing_catalog_bump() RETURNS trigger AS $$
BEGIN
    UPDATE billing_pricingcatalog SET version = version + {PG_STEP};
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION billing_rate_deck_bump() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE billing_ratedeck SET version = version + {PG_STEP}
        WHERE id IN (SELECT DISTINCT deck_id FROM old_rows);
    ELSIF TG_OP = 'UPDATE' THEN
        UPDATE billing_ratedeck SET version = version + {PG_STEP}
        WHERE id IN (SELECT deck_id FROM old_rows UNION SELECT deck_id FROM new_rows);
    ELSE
        UPDATE billing_ratedeck SET version = version + {PG_STEP}
        WHERE id IN (SELECT DISTINCT deck_id FROM new_rows);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""


def _pg_sql() -> list[str]:
    sql = [PG_FUNCTIONS]
    for table in CATALOG_TABLES:
        sql.append(
            f"CREATE TRIGGER {table}_catalog_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION billing_pricing_catalog_bump();"
        )
    # Statement-level with transition tables: one UPDATE of each touched deck per statement
    # (a 100k-row import in batches of 5,000 raises its deck 20 times, not 100,000).
    for event, refs in (
        ("INSERT", "NEW TABLE AS new_rows"),
        ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("DELETE", "OLD TABLE AS old_rows"),
    ):
        sql.append(
            f"CREATE TRIGGER billing_rate_{event.lower()}_deck_bump AFTER {event} ON billing_rate "
            f"REFERENCING {refs} FOR EACH STATEMENT EXECUTE FUNCTION billing_rate_deck_bump();"
        )
    return sql


def _sqlite_sql() -> list[str]:
    sql = []
    for table in CATALOG_TABLES:
        for event in ("INSERT", "UPDATE", "DELETE"):
            sql.append(
                f"CREATE TRIGGER {table}_catalog_bump_{event.lower()} AFTER {event} ON {table} "
                f"BEGIN UPDATE billing_pricingcatalog SET version = version + {SQLITE_STEP}; END;"
            )
    for event, ids in (
        ("INSERT", "NEW.deck_id"),
        ("UPDATE", "OLD.deck_id, NEW.deck_id"),
        ("DELETE", "OLD.deck_id"),
    ):
        sql.append(
            f"CREATE TRIGGER billing_rate_deck_bump_{event.lower()} AFTER {event} ON billing_rate "
            f"BEGIN UPDATE billing_ratedeck SET version = version + {SQLITE_STEP} "
            f"WHERE id IN ({ids}); END;"
        )
    return sql


def forwards(apps, schema_editor):
    apps.get_model("billing", "PricingCatalog").objects.get_or_create(pk=1)
    vendor = schema_editor.connection.vendor
    statements = _pg_sql() if vendor == "postgresql" else _sqlite_sql() if vendor == "sqlite" else []
    with schema_editor.connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    with schema_editor.connection.cursor() as cursor:
        if vendor == "postgresql":
            for table in CATALOG_TABLES:
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_catalog_bump ON {table}")
            for event in ("insert", "update", "delete"):
                cursor.execute(f"DROP TRIGGER IF EXISTS billing_rate_{event}_deck_bump ON billing_rate")
            cursor.execute("DROP FUNCTION IF EXISTS billing_pricing_catalog_bump()")
            cursor.execute("DROP FUNCTION IF EXISTS billing_rate_deck_bump()")
        elif vendor == "sqlite":
            for table in CATALOG_TABLES:
                for event in ("insert", "update", "delete"):
                    cursor.execute(f"DROP TRIGGER IF EXISTS {table}_catalog_bump_{event}")
            for event in ("insert", "update", "delete"):
                cursor.execute(f"DROP TRIGGER IF EXISTS billing_rate_deck_bump_{event}")


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0015_deposit_cancel_expire'),
    ]

    operations = [
        migrations.CreateModel(
            name='PricingCatalog',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('version', models.BigIntegerField(default=1)),
            ],
        ),
        migrations.AddField(
            model_name='ratedeck',
            name='version',
            field=models.BigIntegerField(default=1, editable=False, help_text='Raised by a database trigger, in the same transaction, whenever a rate of the deck is inserted, changed or deleted: processes that keep the deck in memory reload it when it moves.'),
        ),
        migrations.RunPython(forwards, backwards, elidable=False),
    ]

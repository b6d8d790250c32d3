import django.db.models.deletion
from django.db import migrations, models


def drop_like_index(apps, schema_editor):
    """PostgreSQL: Django adds a ``varchar_pattern_ops`` twin to the primary key of a CharField
    for LIKE queries; call ids are only ever looked up whole, so it would only cost writes."""
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'billing_callkey' "
            "AND indexname LIKE '%%_like'"
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{name}"')


def backfill(apps, schema_editor):
    """One key per call already stored, in one statement (no rows through Python; the WHERE
    tells SQLite's parser the SELECT from the ON CONFLICT clause)."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO billing_callkey (call_id, account_id, created_at) "
            "SELECT call_id, account_id, created_at FROM billing_call WHERE true "
            "ON CONFLICT (call_id) DO NOTHING"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0016_pricing_versions"),
        ("portal", "0003_invitation"),
    ]

    operations = [
        migrations.CreateModel(
            name="CallKey",
            fields=[
                ("call_id", models.CharField(max_length=150, primary_key=True, serialize=False)),
                ("created_at", models.DateTimeField()),
                (
                    "account",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="portal.account",
                    ),
                ),
            ],
        ),
        migrations.RunPython(drop_like_index, migrations.RunPython.noop),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]

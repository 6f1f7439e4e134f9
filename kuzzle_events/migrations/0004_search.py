"""Search in the database: scroll cursors, and on PostgreSQL a GIN index on the documents' content.

The index (``jsonb_path_ops``) answers containment (``source @> '{"field": value}'``), which is how
an equality on a field (``term``, ``terms``, ``match`` on a number, Koncorde's ``equals`` and
``in``) is searched on PostgreSQL: such a search reads the matching rows, not the collection.
SQLite has no such index; its searches read the collection's rows (in SQL, not in Python).
"""

import django.db.models.deletion
from django.db import migrations, models

INDEX = "kuzzle_document_source_gin"


def add_source_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(apps.get_model("kuzzle_events", "Document")._meta.db_table)
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON {table} USING GIN (source jsonb_path_ops)")


def drop_source_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):

    dependencies = [
        ("kuzzle_events", "0003_base_roles_and_profiles"),
    ]

    operations = [
        migrations.CreateModel(
            name="ScrollCursor",
            fields=[
                ("digest", models.CharField(max_length=64, primary_key=True, serialize=False)),
                ("search", models.JSONField(help_text="The search body (query in Elasticsearch's language, sort).")),
                ("after", models.JSONField(default=list, help_text="Sort values, then _id, of the last document sent.")),
                ("size", models.PositiveIntegerField()),
                ("total", models.BigIntegerField()),
                ("fetched", models.BigIntegerField()),
                ("expires_at", models.BigIntegerField(db_index=True, help_text="Epoch milliseconds.")),
                (
                    "collection",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="scrolls",
                        to="kuzzle_events.collection",
                    ),
                ),
            ],
        ),
        migrations.RunPython(add_source_index, drop_source_index),
    ]

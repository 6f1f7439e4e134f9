"""Kuzzle's base roles and profiles, created with the tables.

Servers also create them at start when missing (a flushed database), but several workers starting
together on a new database would otherwise all write them at once.
"""

from django.db import migrations


def create(apps, schema_editor):
    from kuzzle_events.security.store import create_base

    create_base(apps.get_model("kuzzle_events", "Role"), apps.get_model("kuzzle_events", "Profile"))


class Migration(migrations.Migration):
    dependencies = [("kuzzle_events", "0002_documents")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]

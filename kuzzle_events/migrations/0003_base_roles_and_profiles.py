"""Kuzzle's base roles and profiles, created with the tables.

Servers also create them at start when missing (a flushed database), but several workers starting
together on a new database would otherwise all write them at once.
"""

from django.db import migrations


def create(apps, schema_editor):
    from kuzzle_events.security.rights import DEFAULT_PROFILES, DEFAULT_ROLES

    Role = apps.get_model("kuzzle_events", "Role")
    Profile = apps.get_model("kuzzle_events", "Profile")
    for name, controllers in DEFAULT_ROLES.items():
        Role.objects.get_or_create(name=name, defaults={"controllers": controllers})
    for name, role_ids in DEFAULT_PROFILES.items():
        profile, created = Profile.objects.get_or_create(name=name)
        if created:
            profile.roles.set(role_ids)


class Migration(migrations.Migration):
    dependencies = [("kuzzle_events", "0002_documents")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]

"""Kuzzle's base roles and profiles, created with the tables.

Servers also create them at start when missing (a flushed database), but several workers starting
together on a new database would otherwise all write them at once.

The roles below are a frozen copy of what the base roles were when this migration was written:
a migration must do the same thing forever, whatever the live code says later.
"""

from django.db import migrations

_SERVER = {"server": {"actions": {"info": True, "now": True, "publicApi": True}}}
ROLES = {
    "admin": {"*": {"actions": {"*": True}}},
    "default": {
        "auth": {
            "actions": {
                "checkToken": True,
                "getCurrentUser": True,
                "getMyRights": True,
                "logout": True,
                "refreshToken": True,
                "createApiKey": True,
                "deleteApiKey": True,
                "searchApiKeys": True,
            }
        },
        **_SERVER,
    },
    "anonymous": {"auth": {"actions": {"checkToken": True, "login": True}}, **_SERVER},
}
PROFILES = {"admin": ["admin"], "default": ["default"], "anonymous": ["anonymous"]}


def create(apps, schema_editor):
    role_model = apps.get_model("kuzzle_events", "Role")
    profile_model = apps.get_model("kuzzle_events", "Profile")
    for name, controllers in ROLES.items():
        role_model.objects.get_or_create(name=name, defaults={"controllers": controllers})
    for name, role_ids in PROFILES.items():
        profile, created = profile_model.objects.get_or_create(name=name)
        if created:
            profile.roles.set(role_ids)


class Migration(migrations.Migration):
    dependencies = [("kuzzle_events", "0002_documents")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]

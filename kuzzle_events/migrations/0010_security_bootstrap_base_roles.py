"""Kuzzle's bootstrap rights for the base roles of a database that has no administrator yet.

0003 gave the base roles restricted rights, which held only once an administrator existed (until
then every action was allowed whatever the roles said). The roles now say what they grant: on a
database without an administrator, the base roles still as 0003 left them grant every action, as
a new Kuzzle's do, until ``createFirstAdmin`` with ``reset`` (or a first superuser) restricts them.
Databases with an administrator, and roles edited since 0003, are left as they are.

Frozen copies of the contents, as a migration must do the same thing forever.
"""

from django.conf import settings
from django.db import migrations

_SERVER = {"server": {"actions": {"info": True, "now": True, "publicApi": True}}}
AS_0003_LEFT_THEM = {
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
EVERYTHING = {"*": {"actions": {"*": True}}}


def open_base_roles(apps, schema_editor):
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    kuzzle_user = apps.get_model("kuzzle_events", "KuzzleUser")
    if (
        kuzzle_user.objects.filter(profiles__name="admin", user__is_active=True).exists()
        or user_model.objects.filter(is_superuser=True, is_active=True).exists()
    ):
        return
    role_model = apps.get_model("kuzzle_events", "Role")
    for role in role_model.objects.filter(name__in=AS_0003_LEFT_THEM):
        if role.controllers == AS_0003_LEFT_THEM[role.name]:
            role.controllers = EVERYTHING
            role.save(update_fields=["controllers"])


class Migration(migrations.Migration):
    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("kuzzle_events", "0009_deliveries"),
    ]
    operations = [migrations.RunPython(open_base_roles, migrations.RunPython.noop)]

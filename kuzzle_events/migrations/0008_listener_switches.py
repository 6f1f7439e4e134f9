"""Runtime switches: pipes and hooks switched off and on (who, when), and the counter processes watch."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("kuzzle_events", "0007_document_versions_and_raw_metadata"),
    ]

    operations = [
        migrations.CreateModel(
            name="SwitchState",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ("version", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.CreateModel(
            name="ListenerSwitch",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(choices=[("pipe", "pipe"), ("hook", "hook")], max_length=4)),
                (
                    "event",
                    models.CharField(
                        help_text="The event the listener is registered on (wildcard included).", max_length=255
                    ),
                ),
                (
                    "listener",
                    models.CharField(help_text="The listener's qualified name (module.function).", max_length=500),
                ),
                ("enabled", models.BooleanField(default=True)),
                ("changed_by", models.CharField(blank=True, max_length=255)),
                ("changed_at", models.DateTimeField()),
            ],
            options={
                "ordering": ["event", "kind", "listener"],
                "permissions": [("switch_listener", "Can switch pipes and hooks off and on")],
                "default_permissions": ("view",),
                "constraints": [
                    models.UniqueConstraint(fields=("kind", "event", "listener"), name="kuzzle_listener_switch")
                ],
            },
        ),
    ]

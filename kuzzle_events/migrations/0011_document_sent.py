"""Documents keep their content as sent when it has keys with dots (searches read them as paths)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("kuzzle_events", "0010_security_bootstrap_base_roles"),
    ]

    operations = [
        migrations.AddField(
            model_name="document",
            name="sent",
            field=models.JSONField(
                blank=True,
                help_text="The content as sent, when it has keys with dots (source holds them as paths).",
                null=True,
            ),
        ),
    ]

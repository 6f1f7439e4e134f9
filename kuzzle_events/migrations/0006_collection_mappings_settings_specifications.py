"""Collections keep their mappings, settings and validation specifications."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("kuzzle_events", "0005_kuzzle_fields_of_roles_profiles_and_tokens"),
    ]

    operations = [
        migrations.AddField(
            model_name="collection",
            name="mappings",
            field=models.JSONField(
                blank=True, default=dict, help_text="Elasticsearch's mappings: dynamic, _meta, properties."
            ),
        ),
        migrations.AddField(
            model_name="collection",
            name="settings",
            field=models.JSONField(blank=True, default=dict, help_text="Elasticsearch's index settings, as given."),
        ),
        migrations.AddField(
            model_name="collection",
            name="specifications",
            field=models.JSONField(
                blank=True, help_text="Kuzzle's validation specifications: strict, fields, validators.", null=True
            ),
        ),
    ]

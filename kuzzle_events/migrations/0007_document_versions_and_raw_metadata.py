"""Documents get Kuzzle's ``_version``, and may carry a ``_kuzzle_info`` of their own or none.

``version`` starts at 1 and grows with each write. ``has_info``/``extra_info`` keep what raw writes
(``bulk:write``, ``bulk:mWrite``) and ``generic:document:injectMetadata`` pipes give: no
``_kuzzle_info`` at all, or keys beyond author/createdAt/updater/updatedAt (so ``createdAt`` may
be empty).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("kuzzle_events", "0006_collection_mappings_settings_specifications"),
    ]

    operations = [
        migrations.AlterField(
            model_name="document",
            name="created_at",
            field=models.BigIntegerField(blank=True, help_text="Epoch milliseconds.", null=True),
        ),
        migrations.AddField(
            model_name="document",
            name="version",
            field=models.PositiveBigIntegerField(default=1, help_text="Kuzzle's _version: 1, then +1 on each write."),
        ),
        migrations.AddField(
            model_name="document",
            name="has_info",
            field=models.BooleanField(default=True, help_text="False: the document has no _kuzzle_info."),
        ),
        migrations.AddField(
            model_name="document",
            name="extra_info",
            field=models.JSONField(blank=True, default=dict, help_text="_kuzzle_info keys beyond the four columns."),
        ),
    ]

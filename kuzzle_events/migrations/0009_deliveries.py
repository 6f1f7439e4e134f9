"""Deliveries of durable hooks: one row per call recorded, until it succeeds or fails for good."""

import uuid

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("kuzzle_events", "0008_listener_switches"),
    ]

    operations = [
        migrations.CreateModel(
            name="Delivery",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                (
                    "hook",
                    models.CharField(help_text="The durable hook's key: owner, function and event.", max_length=500),
                ),
                ("event", models.CharField(help_text="The event that fired.", max_length=500)),
                ("payload", models.JSONField(default=list, help_text="The event's arguments, in their JSON form.")),
                (
                    "status",
                    models.CharField(
                        choices=[("pending", "pending"), ("failed", "failed")], default="pending", max_length=10
                    ),
                ),
                ("attempts", models.PositiveIntegerField(default=0, help_text="Tries started so far.")),
                (
                    "due_at",
                    models.DateTimeField(default=django.utils.timezone.now, help_text="When the next try may start."),
                ),
                (
                    "locked_by",
                    models.CharField(blank=True, default="", help_text="The process running it.", max_length=200),
                ),
                ("locked_until", models.DateTimeField(blank=True, null=True)),
                ("last_error", models.TextField(blank=True, default="")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={
                "verbose_name_plural": "deliveries",
                "ordering": ["created_at"],
                "indexes": [models.Index(fields=["status", "due_at"], name="kuzzle_delivery_due")],
            },
        ),
    ]

"""The project's settings, with subscriptions that expire one second after their process stops refreshing them."""

from project.settings import *  # noqa: F403

KUZZLE_EVENTS = {**KUZZLE_EVENTS, "SUBSCRIPTIONS_TTL": 1.0}  # noqa: F405

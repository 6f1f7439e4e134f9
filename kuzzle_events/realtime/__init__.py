"""Realtime subscriptions and notifications: ``rooms`` (no Django) and ``hub`` (``app.realtime``)."""

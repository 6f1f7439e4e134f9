"""The authentication strategies there are, and the fields of their credentials. No Django import:
the action tables read them when they are built, before Django's apps are ready."""

from __future__ import annotations

from kuzzle_events import errors

__all__ = ["STRATEGIES", "FIELDS", "check_strategy"]

STRATEGIES = ("local",)  # a user's Django username and password
FIELDS = {"local": ["username", "password"]}


def check_strategy(strategy: str) -> None:
    """``security.credentials.unknown_strategy`` unless ``strategy`` is one we have."""
    if strategy not in STRATEGIES:
        raise errors.get("security.credentials.unknown_strategy", strategy)

"""The admin: model admins of roles, profiles, users and tokens, and the model-less Kuzzle pages.

Django's admin autodiscovery imports this package, which registers the model admins.
"""

from __future__ import annotations

from kuzzle_events.admin import security

__all__ = ["security"]

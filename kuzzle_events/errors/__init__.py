"""Kuzzle's errors: the classes, the table of ids, and the translation of any exception.

Errors are data: each class carries its HTTP status; each id (``domain.subdomain.name``) maps to a
class, a numeric code and a message template in :mod:`kuzzle_events.errors.table`;
:func:`from_exception` is the one way an exception becomes what a client receives. Every protocol
turns an error into the same JSON object with :meth:`KuzzleError.to_dict`.
"""

from __future__ import annotations

from kuzzle_events.errors import classes
from kuzzle_events.errors.classes import *  # noqa: F403  (the classes are the package's public names)
from kuzzle_events.errors.mapping import from_exception
from kuzzle_events.errors.registry import ErrorRegistry, get

__all__ = [*classes.__all__, "ErrorRegistry", "from_exception", "get"]


"""Request and connection ids: unique, shaped as version-4 UUIDs, cheap to make.

``str(uuid.uuid4())`` costs more than the rest of a quiet request's envelope (a ``UUID`` object,
16 bytes from the kernel, then its formatting), and every request needs one, an HTTP request two
(its own and its connection's). Ids need to be unique, not secret: nothing is authorised by
knowing one. So each process draws 74 random bits once (again after a ``fork``) and numbers its
ids after them: ``xxxxxxxx-xxxx-4xxx-yxxx-<48-bit counter>``, where the counter starts at a
random value too. Two processes share a prefix with a chance of 1 in 2**74.
"""

from __future__ import annotations

import itertools
import os
import secrets

__all__ = ["new_id"]

_COUNTER_MASK = (1 << 48) - 1


def _prefix() -> str:
    bits = secrets.randbits(74)
    # 32 + 16 bits, the version nibble 4, 12 bits, the variant (binary 10) and 14 bits.
    return f"{bits >> 42:08x}-{(bits >> 26) & 0xFFFF:04x}-4{(bits >> 14) & 0xFFF:03x}-{0x8000 | (bits & 0x3FFF):04x}-"


_PREFIX = _prefix()
_counter = itertools.count(secrets.randbits(47))


def _reseed() -> None:
    # A forked child (a server's worker) would repeat its parent's ids otherwise.
    global _PREFIX, _counter
    _PREFIX = _prefix()
    _counter = itertools.count(secrets.randbits(47))


os.register_at_fork(after_in_child=_reseed)


def new_id() -> str:
    """A new id, unique among this process's and (but for a 2**-74 chance) every other's."""
    return f"{_PREFIX}{next(_counter) & _COUNTER_MASK:012x}"

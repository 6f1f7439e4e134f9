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
from collections.abc import Iterator

__all__ = ["new_id"]

# The counter's 48 bits as 12 hex digits: the 36 high bits (9 digits) are written once per block
# of 4,096 ids, the 12 low ones taken from this table. Formatting an integer as hex costs more
# than the rest of making an id, and a block's ids are made by C code alone (see _ids).
_BLOCK_MASK = (1 << 36) - 1
_LOW = tuple(f"{low:03x}" for low in range(4096))


def _prefix() -> str:
    bits = secrets.randbits(74)
    # 32 + 16 bits, the version nibble 4, 12 bits, the variant (binary 10) and 14 bits.
    return f"{bits >> 42:08x}-{(bits >> 26) & 0xFFFF:04x}-4{(bits >> 14) & 0xFFF:03x}-{0x8000 | (bits & 0x3FFF):04x}-"


def _ids(first_block: int | None = None) -> Iterator[str]:
    """Every id of this process in turn: the counter starts at a random block (one of the first
    2**35, so 2**47 ids at least before it wraps) and wraps at 48 bits."""
    prefix = _prefix()
    if first_block is None:
        first_block = secrets.randbits(35)

    def block(number: int) -> Iterator[str]:
        return map(f"{prefix}{number & _BLOCK_MASK:09x}".__add__, _LOW)

    # (chain, map and count are C iterators: next() on them is atomic under the GIL but for the
    # call of block(), once per 4,096 ids, where two threads could at worst each take a block.)
    return itertools.chain.from_iterable(map(block, itertools.count(first_block)))


_next_ids = _ids()


def _reseed() -> None:
    # A forked child (a server's worker) would repeat its parent's ids otherwise.
    global _next_ids
    _next_ids = _ids()


os.register_at_fork(after_in_child=_reseed)


def new_id() -> str:
    """A new id, unique among this process's and (but for a 2**-74 chance) every other's."""
    return next(_next_ids)

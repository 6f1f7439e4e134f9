"""HTTP content codings, as Kuzzle's: compressed requests in, compressed answers out.

A request body may come compressed with ``gzip``, ``deflate`` or ``identity``, in up to
:data:`MAX_ENCODING_LAYERS` layers listed in the order they were applied (``Content-Encoding:
deflate, gzip``). An answer is compressed with ``gzip`` or ``deflate`` whenever the client's
``Accept-Encoding`` names one of them (``gzip`` on a tie), whatever its size, and says so in
``Content-Encoding`` (``identity`` when it is sent as is).
"""

from __future__ import annotations

import zlib

from kuzzle_events import errors

__all__ = ["MAX_ENCODING_LAYERS", "ACCEPTED_ENCODINGS", "inflate", "compress", "pick_encoding"]

# Kuzzle's server.protocols.http.maxEncodingLayers default.
MAX_ENCODING_LAYERS = 3
# What every answer says the server reads (Kuzzle's default Accept-Encoding response header).
ACCEPTED_ENCODINGS = "gzip,deflate,identity"

# zlib window bits: 31 = a gzip member, 15 = a zlib stream (what Node's zlib.deflate writes).
_WBITS = {"gzip": 31, "deflate": 15}


def inflate(content_encoding: str, body: bytes, limit: int) -> bytes:
    """``body`` decoded from the codings ``content_encoding`` lists; 400 for an unknown coding, too
    many layers or a corrupt stream, 413 when the decoded body would exceed ``limit`` bytes (the
    size a compressed body may not hide past ``MAX_REQUEST_SIZE``)."""
    codings = [coding.strip().lower() for coding in content_encoding.split(",")]
    if len(codings) > MAX_ENCODING_LAYERS:
        raise errors.get("network.http.too_many_encodings")
    for coding in reversed(codings):  # the last one listed was applied last
        if coding in ("identity", ""):
            continue
        wbits = _WBITS.get(coding)
        if wbits is None:
            raise errors.get("network.http.unsupported_compression", coding)
        decoder = zlib.decompressobj(wbits)
        try:
            inflated = decoder.decompress(body, limit + 1)
        except zlib.error as error:
            raise errors.get("network.http.unexpected_error", error) from None
        if len(inflated) > limit:
            raise errors.get("network.http.request_too_large")
        if not decoder.eof:
            raise errors.get("network.http.unexpected_error", f"truncated {coding} body")
        body = inflated
    return body


def pick_encoding(accept_encoding: str) -> str | None:
    """``gzip`` or ``deflate``, whichever ``Accept-Encoding`` prefers (``gzip`` on a tie), or None.

    A coding without a weight weighs 1, one weighing 0 is refused."""
    best: str | None = None
    weight = 0.0
    for item in accept_encoding.lower().split(","):
        name, _, params = item.partition(";")
        name = name.strip()
        if name not in _WBITS:
            continue
        q = 1.0
        key, _, value = params.strip().partition("=")
        if key.strip() == "q":
            try:
                q = float(value)
            except ValueError:
                continue
        if q > weight or (q == weight and q > 0 and name == "gzip"):
            best, weight = name, q
    return best


def compress(body: bytes, coding: str) -> bytes:
    """``body`` compressed with ``gzip`` or ``deflate`` at zlib's default level (as Node's zlib)."""
    encoder = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, _WBITS[coding])
    return encoder.compress(body) + encoder.flush()

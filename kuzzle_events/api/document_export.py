"""``document:export`` over HTTP: a file to download, as Kuzzle sends it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kuzzle_events import errors
from kuzzle_events.api import document_args as args
from kuzzle_events.api.service import Service

if TYPE_CHECKING:
    from kuzzle_events.application import Application
    from kuzzle_events.core.request import KuzzleRequest

__all__ = ["export"]

_dump = Service("kuzzle_events.documents.export")


def _from_body_or_args(request: KuzzleRequest, name: str, default: Any) -> Any:
    body = request.input.body
    if isinstance(body, dict) and name in body:
        return body[name]
    if isinstance(default, list):
        return request.get_array(name, default)
    return request.get_object(name, default)


async def export(app: Application, request: KuzzleRequest) -> str:
    """The documents matching ``query``, ``format`` ``jsonl`` (the default) or ``csv``."""
    index, collection = args.target(request)
    protocol = request.context.connection.protocol
    if protocol != "http":
        raise errors.get("api.assert.unsupported_protocol", protocol, "document:export")
    fmt = request.get_string("format", "jsonl").lower()
    separator = request.get_string("separator", ",")
    query = _from_body_or_args(request, "query", {})
    fields = _from_body_or_args(request, "fields", [])
    names = _from_body_or_args(request, "fieldsName", {})
    if not isinstance(query, dict) or not isinstance(names, dict):
        raise errors.get("api.assert.invalid_type", "query/fieldsName", "object")
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise errors.get("api.assert.invalid_type", "fields", "array of strings")
    text = await _dump.export(index, collection, query, args.lang(request), fmt, fields, separator, names)
    request.response.raw = True
    request.response.set_header("Content-Disposition", f'attachment; filename="{index}-{collection}.{fmt}"')
    request.response.set_header("Content-Type", "text/csv" if fmt == "csv" else "html/text")
    return text

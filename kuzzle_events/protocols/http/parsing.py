"""HTTP bytes to a ``KuzzleRequest``: arguments, body, token, volatile data, connection.

Shared by the lean ASGI entry point and the DRF views, so that both read a request the same way.
Every bad input becomes a Kuzzle error (400/413), never an exception that escapes.
"""

from __future__ import annotations

import base64
from collections.abc import Collection
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl, unquote

from kuzzle_events import errors
from kuzzle_events.core import jsontext
from kuzzle_events.core.identifiers import new_id
from kuzzle_events.core.request import Connection, KuzzleRequest
from kuzzle_events.protocols.addresses import forwarded_chain

__all__ = [
    "HttpInput",
    "parse_query",
    "check_content_type",
    "parse_body",
    "parse_volatile",
    "bearer_token",
    "new_request",
]


@dataclass
class HttpInput:
    """One HTTP request as the adapters see it: verb, path, query, lower-case headers, body."""

    method: str
    path: str
    query_string: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    client: str | None = None


def parse_query(query_string: str) -> dict[str, Any]:
    """Query-string arguments; a bare key (``?pretty``) is ``""``; a repeated key is the list of
    its values, in order (``?keys=a&keys=b``: ``["a", "b"]``), as Node's ``querystring`` gives
    them to Kuzzle."""
    if not query_string:
        return {}
    return _grouped(parse_qsl(query_string, keep_blank_values=True))


def _grouped(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key not in found:
            found[key] = value
        elif isinstance(found[key], list):
            found[key].append(value)
        else:
            found[key] = [found[key], value]
    return found


def _content_type(headers: dict[str, str]) -> tuple[str, dict[str, str]]:
    raw = headers.get("content-type", "")
    kind, _, rest = raw.partition(";")
    params: dict[str, str] = {}
    for part in rest.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep:
            params[key.strip().lower()] = value.strip().strip('"')
    return kind.strip().lower(), params


def check_content_type(headers: dict[str, str], extra: Collection[str] = ()) -> None:
    """Refuse, as Kuzzle does before reading a body, a content type it does not read (400
    ``network.http.unsupported_content``) or a charset other than utf-8.

    ``extra``: the other types accepted (``ADDITIONAL_CONTENT_TYPES``), read as JSON once the
    ``protocol:http:beforeParsingPayload`` pipes have turned them into JSON."""
    kind, params = _content_type(headers)
    if not (kind in _READ_TYPES or kind.endswith("+json") or kind in extra):
        raise errors.get("network.http.unsupported_content", kind)
    charset = params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise errors.get("network.http.unsupported_charset", charset)


_READ_TYPES = frozenset({"", "application/json", "application/x-www-form-urlencoded", "multipart/form-data"})


def parse_body(headers: dict[str, str], body: bytes | str, extra: Collection[str] = ()) -> Any:
    """The body as Kuzzle reads it: JSON, urlencoded form, or multipart form with base64 files;
    a type of ``extra`` as JSON (see :func:`check_content_type`)."""
    if not body:
        return None
    check_content_type(headers, extra)
    kind, _ = _content_type(headers)
    if kind == "application/x-www-form-urlencoded":
        try:
            text = body if isinstance(body, str) else body.decode("utf-8")
        except UnicodeDecodeError as error:
            raise errors.get("network.http.body_parse_failed", error) from None
        return _grouped(parse_qsl(text, keep_blank_values=True))
    if kind == "multipart/form-data":
        return _parse_multipart(headers["content-type"], body.encode() if isinstance(body, str) else body)
    try:
        return jsontext.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise errors.get("network.http.body_parse_failed", error) from None


def _parse_multipart(content_type: str, body: bytes) -> dict[str, Any]:
    if "boundary=" not in content_type:
        raise errors.get("network.http.body_parse_failed", "multipart body without boundary")
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body)
    if not message.is_multipart():
        raise errors.get("network.http.body_parse_failed", "malformed multipart body")
    form: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or not name:  # absent, or an RFC 2231 tuple we do not accept
            continue
        filename = part.get_filename()
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):  # a nested multipart part: no payload of its own
            payload = b""
        if filename is not None:
            form[name] = {
                "filename": filename,
                "encoding": part.get("content-transfer-encoding", "7bit"),
                "mimetype": part.get_content_type(),
                "file": base64.b64encode(payload).decode("ascii"),
            }
        else:
            form[name] = payload.decode(part.get_content_charset() or "utf-8", errors="replace")
    return form


def parse_volatile(headers: dict[str, str]) -> dict[str, Any] | None:
    raw = headers.get("x-kuzzle-volatile")
    if not raw:
        return None
    try:
        volatile = jsontext.loads(raw)
    except ValueError as error:
        raise errors.get("network.http.volatile_parse_failed", error) from None
    if not isinstance(volatile, dict):
        raise errors.get("network.http.volatile_parse_failed", "expected a JSON object")
    return volatile


def bearer_token(headers: dict[str, str]) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def connection_of(http: HttpInput) -> Connection:
    ips = forwarded_chain(http.headers, http.client)
    url = http.path + (f"?{http.query_string}" if http.query_string else "")
    return Connection(
        id=new_id(),
        protocol="http",
        ips=ips,
        misc={"headers": http.headers, "verb": http.method, "path": http.path, "url": url},
    )


def new_request(
    http: HttpInput,
    connection: Connection,
    *,
    controller: str | None,
    action: str | None,
    params: dict[str, str],
    body: Any,
) -> KuzzleRequest:
    """The request of a routed HTTP call: query arguments, then URL parameters (which win)."""
    request = KuzzleRequest(
        {"controller": controller, "action": action, "requestId": http.headers.get("x-kuzzle-request-id")},
        connection=connection,
    )
    # (Each step only where the request has something for it: most have no query string, URL
    # parameter, token or volatile data, and each call is a frame.)
    args = parse_query(http.query_string) if http.query_string else {}
    for key, value in params.items():
        args[key] = unquote(value)
    headers = http.headers
    given = request.input
    given.args = args
    given.body = body
    given.jwt = bearer_token(headers) if "authorization" in headers else None
    given.volatile = parse_volatile(headers) if "x-kuzzle-volatile" in headers else None
    return request

"""Elasticsearch's collection mappings as Kuzzle checks them, and what ``dynamic`` means for a document.

Documents are stored as JSON whatever their mapping says; the mapping decides which documents are
refused: under ``dynamic: "strict"``, one with a field the mapping does not declare is
(``services.storage.strict_mapping_rejection``). ``dynamic: false`` (and ``true``) keep such fields,
but under ``dynamic: false`` they are not indexed: a search on one matches nothing
(:func:`is_indexed`), as a field declared with ``index: false`` or ``enabled: false``.
"""

from __future__ import annotations

import difflib
from typing import Any

from kuzzle_events import errors

__all__ = ["DEFAULT_DYNAMIC", "KUZZLE_META", "check", "merge", "public", "rendered", "unknown_field", "is_indexed"]

_ROOT = ("properties", "_meta", "dynamic", "dynamic_templates")
_CHILD = ("type",)
_DYNAMIC = ("true", "false", "strict")
DEFAULT_DYNAMIC = "true"
"""Every field of a document is searchable here, as under Elasticsearch's ``dynamic: true``."""

KUZZLE_META = {
    "properties": {
        "author": {"type": "keyword"},
        "createdAt": {"type": "date"},
        "updater": {"type": "keyword"},
        "updatedAt": {"type": "date"},
    }
}
"""The mapping of ``_kuzzle_info``, as Kuzzle's common mapping declares it."""


def check(mappings: Any) -> dict[str, Any]:
    """``mappings`` with its ``dynamic`` values as strings; ``services.storage.invalid_mapping`` if malformed."""
    if not isinstance(mappings, dict):
        raise errors.get("services.storage.invalid_mapping", "", " The mappings must be an object.")
    mappings = _dynamic_as_strings(mappings, [])
    _check_properties(mappings, [], check=True)
    return mappings


def _dynamic_as_strings(mapping: dict[str, Any], path: list[str]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in mapping.items():
        if key == "dynamic":
            where = ".".join([*path, "dynamic"])
            if isinstance(value, bool):
                value = str(value).lower()  # a common mistake, as Kuzzle forgives it
            elif not isinstance(value, str):
                raise errors.get(
                    "services.storage.invalid_mapping", where, " Dynamic property value should be a string."
                )
            if value not in _DYNAMIC:
                expected = '", "'.join(_DYNAMIC)
                reason = f' Incorrect dynamic property value ({value}). Should be one of "{expected}"'
                raise errors.get("services.storage.invalid_mapping", where, reason)
        elif isinstance(value, dict):
            value = _dynamic_as_strings(value, [*path, key])
        result[key] = value
    return result


def _check_properties(mapping: dict[str, Any], path: list[str], *, check: bool) -> None:
    allowed = _ROOT if not path else (*_ROOT, *_CHILD)
    for key, value in mapping.items():
        if check and key not in allowed:
            raise errors.get("services.storage.invalid_mapping", ".".join([*path, key]), _did_you_mean(key, allowed))
        if key == "properties":
            if not isinstance(value, dict):
                where = ".".join([*path, key])
                raise errors.get("services.storage.invalid_mapping", where, " The properties must be an object.")
            # Field definitions: any Elasticsearch type parameters are accepted.
            _check_properties(value, [*path, key], check=False)
        elif isinstance(value, dict) and "properties" in value:
            _check_properties(value, [*path, key], check=True)


def _did_you_mean(word: str, choices: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f' Did you mean "{close[0]}"?' if close else ""


def merge(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``changes`` merged into ``current``: ``dynamic`` and ``_meta`` replaced, properties merged deeply."""
    merged = dict(current)
    for key in ("dynamic", "_meta", "dynamic_templates"):
        if key in changes:
            merged[key] = changes[key]
    if "properties" in changes:
        merged["properties"] = _deep_merge(current.get("properties", {}), changes["properties"])
    return merged


def _deep_merge(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    merged = dict(left)
    for key, value in right.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def public(mappings: dict[str, Any], *, kuzzle_meta: bool = False) -> dict[str, Any]:
    """What ``collection:getMapping`` answers: ``{_meta, dynamic, properties}``."""
    properties = {k: v for k, v in mappings.get("properties", {}).items() if k != "_kuzzle_info"}
    if kuzzle_meta:
        properties["_kuzzle_info"] = KUZZLE_META
    return {
        "_meta": mappings.get("_meta", {}),
        "dynamic": mappings.get("dynamic", DEFAULT_DYNAMIC),
        "properties": properties,
    }


def rendered(properties: dict[str, Any]) -> dict[str, Any]:
    """``properties`` as Elasticsearch's get-mapping renders them: an object field with no
    properties is ``"type": "object"`` (its empty ``properties`` left out); one with properties has
    no ``type`` (``object`` is implied). Other fields, ``nested`` ones included, are unchanged."""
    result: dict[str, Any] = {}
    for name, field in properties.items():
        if not isinstance(field, dict) or field.get("type") not in (None, "object"):
            nested = field.get("properties") if isinstance(field, dict) else None
            result[name] = {**field, "properties": rendered(nested)} if isinstance(nested, dict) else field
            continue
        children = field.get("properties")
        rest = {k: v for k, v in field.items() if k not in ("type", "properties")}
        if isinstance(children, dict) and children:
            result[name] = {**rest, "properties": rendered(children)}
        else:
            result[name] = {"type": "object", **rest}
    return result


def unknown_field(mappings: dict[str, Any], source: dict[str, Any]) -> str | None:
    """The first field of ``source`` (dotted path) that a ``strict`` level of ``mappings`` refuses, or None."""
    return _unknown(mappings, source, [], mappings.get("dynamic", DEFAULT_DYNAMIC))


def _unknown(mapping: dict[str, Any], value: dict[str, Any], path: list[str], inherited: str) -> str | None:
    dynamic = str(mapping.get("dynamic", inherited))
    properties = mapping.get("properties", {})
    for key, child in value.items():
        if key == "_kuzzle_info" and not path:
            continue
        declared = properties.get(key)
        if declared is None:
            if dynamic == "strict":
                return ".".join([*path, key])
            continue
        if isinstance(declared, dict) and isinstance(child, dict):
            found = _unknown(declared, child, [*path, key], dynamic)
            if found is not None:
                return found
    return None


def is_indexed(mappings: dict[str, Any], path: str) -> bool:
    """Whether a search on the dotted field ``path`` sees it: not when it is undeclared under
    ``dynamic: false`` (the document keeps it, unindexed, as in Elasticsearch)."""
    mapping, dynamic = mappings, str(mappings.get("dynamic", DEFAULT_DYNAMIC))
    for part in path.split("."):
        declared = mapping.get("properties", {}).get(part)
        if declared is None:
            return dynamic != "false"
        if not isinstance(declared, dict) or declared.get("enabled") is False or declared.get("index") is False:
            return False  # Elasticsearch keeps such a field (or object) in the source only
        mapping = declared
        dynamic = str(mapping.get("dynamic", dynamic))
    return True

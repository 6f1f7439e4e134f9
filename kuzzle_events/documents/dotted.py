"""Keys with dots in a document, as Elasticsearch indexes them: as paths.

Elasticsearch indexes ``{"field.path": 1}`` as ``{"field": {"path": 1}}`` (searches, sorts,
aggregations and the mapping see the field ``field.path``) yet returns the source as it was sent.
So a document keeps both: what it was sent, and its content with the dotted keys expanded, which
the SQL of searches reads.
"""

from __future__ import annotations

from typing import Any

__all__ = ["expanded", "has_dotted_keys", "indexed"]


def has_dotted_keys(value: Any) -> bool:
    """Whether an object of ``value``, at any depth (arrays included), has a key with a dot."""
    if isinstance(value, dict):
        return any("." in key or has_dotted_keys(child) for key, child in value.items())
    if isinstance(value, list):
        return any(has_dotted_keys(item) for item in value)
    return False


def indexed(content: dict[str, Any]) -> dict[str, Any]:
    """``content`` as searches see it: itself, or :func:`expanded` when it has keys with dots."""
    return expanded(content) if has_dotted_keys(content) else content


def expanded(value: Any) -> Any:
    """``value`` with each key holding dots turned into nested objects, at any depth.

    Objects meeting on the same path are merged (``{"a.b": 1, "a": {"c": 2}}`` gives
    ``{"a": {"b": 1, "c": 2}}``); where a value meets an object of the same name, the later one in
    the document's order wins (Elasticsearch refuses such a document: mappings cannot make a field
    both a value and an object).
    """
    if isinstance(value, list):
        return [expanded(item) for item in value]
    if not isinstance(value, dict):
        return value
    result: dict[str, Any] = {}
    for key, child in value.items():
        names = key.split(".")
        if "" in names:  # "a..b", ".a", "a.": no path Elasticsearch would make of it; kept whole
            names = [key]
        node = result
        for name in names[:-1]:
            if not isinstance(node.get(name), dict):
                node[name] = {}
            node = node[name]
        _put(node, names[-1], expanded(child))
    return result


def _put(node: dict[str, Any], name: str, value: Any) -> None:
    current = node.get(name)
    if isinstance(current, dict) and isinstance(value, dict):
        for key, child in value.items():
            _put(current, key, child)
    else:
        node[name] = value

"""``lang: "koncorde"``: Koncorde filters turned into Elasticsearch's query DSL, as Kuzzle does.

``equals`` becomes ``term``, ``in`` ``terms``, ``exists`` ``exists`` (``"field[value]"`` checks a
value too), ``missing`` a negated ``exists``, ``and`` / ``or`` / ``not`` a ``bool``
(``filter`` / ``should`` / ``must_not``), and ``range`` / ``ids`` stay; the ``geo*`` keywords take
their Elasticsearch names. Any other keyword is passed on as an Elasticsearch clause (Kuzzle lets
a Koncorde search hold ``wildcard`` or ``match``). Koncorde's ``bool`` operator is refused with
``api.assert.koncorde_restricted_keyword``, as in Kuzzle.
"""

from __future__ import annotations

import json
from typing import Any

from kuzzle_events import errors

__all__ = ["to_elasticsearch"]

_RENAMED = {
    "equals": "term",
    "in": "terms",
    "geoBoundingBox": "geo_bounding_box",
    "geoDistance": "geo_distance",
    "geoDistanceRange": "geo_distance_range",
    "geoPolygon": "geo_polygon",
}


def to_elasticsearch(filters: Any, where: str = "body.query") -> dict[str, Any]:
    """The Elasticsearch query of Koncorde ``filters`` (``{}`` stays ``{}``: every document)."""
    if not isinstance(filters, dict):
        raise errors.get("api.assert.invalid_type", where, "object")
    if not filters:
        return {}
    if len(filters) != 1:
        raise errors.get("api.assert.invalid_argument", where, "exactly one keyword per object (combine with and/or)")
    ((keyword, content),) = filters.items()
    if keyword == "bool":
        raise errors.get("api.assert.koncorde_restricted_keyword", "operator", "bool")
    if keyword in ("and", "or"):
        if not isinstance(content, list) or not content:
            raise errors.get("api.assert.invalid_argument", f"{where}.{keyword}", "a non-empty array of filters")
        operands = [to_elasticsearch(f, f"{where}.{keyword}[{i}]") for i, f in enumerate(content)]
        return {"bool": {"filter" if keyword == "and" else "should": operands}}
    if keyword == "not":
        return {"bool": {"must_not": [to_elasticsearch(content, f"{where}.not")]}}
    if keyword == "exists":
        return _exists(content, f"{where}.exists")
    if keyword == "missing":
        missing = content.get("field") if isinstance(content, dict) else content
        return {"bool": {"must_not": [{"exists": {"field": missing}}]}}
    return {str(_RENAMED.get(keyword, keyword)): content}


def _exists(content: Any, where: str) -> dict[str, Any]:
    path = content.get("field") if isinstance(content, dict) else content
    if not isinstance(path, str) or not path:
        raise errors.get("api.assert.invalid_argument", where, 'a field name, or {"field": <name>}')
    bracket = path.find("[")
    if bracket < 0:
        return {"exists": {"field": path}}
    # "tags[\"blue\"]": the field holds this value (an array element, for arrays).
    if not path.endswith("]"):
        raise errors.get("api.assert.invalid_argument", where, 'a path such as "field[value]"')
    try:
        value = json.loads(path[bracket + 1 : -1])
    except ValueError:
        raise errors.get("api.assert.invalid_argument", where, "a JSON value between the brackets") from None
    name = path[:bracket]
    return {"bool": {"filter": [{"exists": {"field": name}}, {"term": {name: value}}]}}

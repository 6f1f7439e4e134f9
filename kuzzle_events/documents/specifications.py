"""Kuzzle's validation specifications: their format, checked as Kuzzle does, and documents checked against them.

A specification is ``{"strict": bool, "fields": {"<path/of/field>": {...}}, "validators": [...]}``;
a field has a ``type`` (Kuzzle's types: anything, boolean, date, email, enum, geo_point, geo_shape,
integer, ip_address, numeric, object, string, url), and may be ``mandatory``, have a
``defaultValue``, be ``multivalued`` (``value``, ``minCount``, ``maxCount``) and take
``typeOptions``. Errors carry Kuzzle's ids and messages (``validation.assert.*``).
"""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

from kuzzle_events import errors

__all__ = [
    "Problem",
    "format_errors",
    "structure",
    "document_errors",
    "tree_errors",
    "apply_defaults",
    "error_messages",
    "failure",
]

# type -> allowed typeOptions
_TYPES: dict[str, tuple[str, ...]] = {
    "anything": (),
    "boolean": (),
    "date": ("range", "formats"),
    "email": ("notEmpty",),
    "enum": ("values",),
    "geo_point": (),
    "geo_shape": ("shapeTypes",),
    "integer": ("range",),
    "ip_address": ("notEmpty",),
    "numeric": ("range",),
    "object": ("strict",),
    "string": ("length",),
    "url": ("notEmpty",),
}
_FIELD = ("mandatory", "type", "defaultValue", "description", "multivalued", "typeOptions")
_MULTIVALUED = ("value", "minCount", "maxCount")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _error(name: str, *args: Any) -> errors.KuzzleError:
    return errors.get(f"validation.assert.{name}", *args)


def _allowed(value: Any, allowed: tuple[str, ...]) -> bool:
    return isinstance(value, dict) and all(key in allowed for key in value)


def format_errors(index: str, collection: str, spec: Any) -> list[str]:
    """Every problem of ``spec``'s format (Kuzzle's messages); ``[]`` when it is valid."""
    if not _allowed(spec, ("strict", "fields", "validators")):
        return [_error("unexpected_properties", f"{index}.{collection}", "strict, fields, validators").message]
    problems: list[str] = []
    if "strict" in spec and not isinstance(spec["strict"], bool):
        problems.append(_error("invalid_type", f"{index}.{collection}.strict", "boolean").message)
    if "validators" in spec and spec["validators"] is not None and not isinstance(spec["validators"], list):
        problems.append(_error("invalid_filters", "the validators must be an array of filters").message)
    fields = spec.get("fields", {})
    if not isinstance(fields, dict):
        return [*problems, _error("invalid_type", f"{index}.{collection}.fields", "object").message]
    for name, field in fields.items():
        problems += _field_errors(f"{index}.{collection}.{name}", field)
    if not problems:
        try:
            structure(spec)
        except errors.KuzzleError as error:
            problems.append(error.message)
    return problems


def _field_errors(where: str, field: Any) -> list[str]:
    problems: list[str] = []
    if not _allowed(field, _FIELD):
        problems.append(_error("unexpected_properties", where, ", ".join(_FIELD)).message)
        if not isinstance(field, dict):
            return problems
    kind = field.get("type")
    if "type" not in field:
        problems.append(_error("missing_type", where).message)
    elif kind not in _TYPES:
        problems.append(_error("unknown_type", where, kind).message)
    if "mandatory" in field and not isinstance(field["mandatory"], bool):
        problems.append(_error("invalid_type", f"{where}.mandatory", "boolean").message)
    if "multivalued" in field:
        problems += _multivalued_errors(where, field["multivalued"])
    if kind in _TYPES:
        options = field.get("typeOptions", {})
        if not _allowed(options, _TYPES[kind]):
            problems.append(_error("unexpected_properties", where, ", ".join(_TYPES[kind])).message)
        else:
            problems += _options_errors(kind, options)
    return problems


def _multivalued_errors(where: str, multivalued: Any) -> list[str]:
    if not _allowed(multivalued, _MULTIVALUED):
        return [_error("unexpected_properties", f"{where}.multivalued", ", ".join(_MULTIVALUED)).message]
    problems = []
    if "value" not in multivalued:
        problems.append(_error("missing_value", f"{where}.multivalued").message)
    elif not isinstance(multivalued["value"], bool):
        problems.append(_error("invalid_type", f"{where}.multivalued.value", "boolean").message)
    for bound in ("minCount", "maxCount"):
        if bound in multivalued and not multivalued.get("value"):
            problems.append(_error("not_multivalued", where, bound).message)
    low, high = multivalued.get("minCount"), multivalued.get("maxCount")
    if isinstance(low, int | float) and isinstance(high, int | float) and low > high:
        problems.append(_error("invalid_range", where, "minCount", "maxCount").message)
    return problems


def _options_errors(kind: str, options: dict[str, Any]) -> list[str]:
    problems = []
    for name in ("range", "length"):
        if name in options:
            bounds = options[name]
            if kind == "date":
                continue
            if not _allowed(bounds, ("min", "max")):
                problems.append(_error("unexpected_properties", name, "min, max").message)
                continue
            for side in ("min", "max"):
                if side in bounds and (not isinstance(bounds[side], int | float) or isinstance(bounds[side], bool)):
                    problems.append(_error("invalid_type", f"{name}.{side}", "number").message)
            if not problems and "min" in bounds and "max" in bounds and bounds["max"] < bounds["min"]:
                problems.append(_error("invalid_range", name, "min", "max").message)
    for name in ("notEmpty", "strict"):
        if name in options and not isinstance(options[name], bool):
            problems.append(_error("invalid_type", name, "boolean").message)
    if kind == "enum":
        values = options.get("values")
        if values is None:
            problems.append(errors.get("validation.types.missing_enum_values").message)
        elif not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
            problems.append(_error("invalid_type", "values", "array of strings").message)
    if kind == "date" and "formats" in options:
        formats = options["formats"]
        if not isinstance(formats, list) or not formats:
            problems.append(_error("invalid_type", "formats", "non-empty array").message)
    return problems


def structure(spec: dict[str, Any]) -> dict[str, Any]:
    """The fields of a valid ``spec`` as a tree: ``{name: {**field, "children": {...}}}``.

    ``validation.assert.missing_parent`` if ``a/b`` is given without ``a``,
    ``validation.assert.unexpected_children`` if ``a`` cannot have children.
    """
    tree: dict[str, Any] = {}
    # By name: the stored order of an object's keys is not kept by every database (jsonb sorts them).
    for name in sorted(spec.get("fields", {}), key=lambda n: (n.count("/"), n)):
        path = name.split("/")
        level = tree
        for part in path[:-1]:
            parent = level.get(part)
            if parent is None:
                raise _error("missing_parent", ".".join(path))
            if parent["type"] != "object":
                raise _error("unexpected_children", parent["type"])
            level = parent.setdefault("children", {})
        level[path[-1]] = {**spec["fields"][name]}
    return tree


Problem = tuple[list[str] | None, str]
"""A field's path (``None``: the whole document) and what is wrong, in Kuzzle's words."""


def document_errors(spec: dict[str, Any], source: dict[str, Any]) -> list[Problem]:
    """Why ``source`` does not satisfy ``spec``'s fields, ``[]`` if it does."""
    return tree_errors(structure(spec), bool(spec.get("strict")), source)


def tree_errors(tree: dict[str, Any], strict: bool, source: dict[str, Any]) -> list[Problem]:
    """Why ``source`` does not satisfy the fields ``tree`` (:func:`structure`), ``[]`` if it does."""
    problems: list[Problem] = []
    _check_level(tree, source, strict, [], problems)
    return problems


def _check_level(
    tree: dict[str, Any], value: dict[str, Any], strict: bool, path: list[str], out: list[Problem]
) -> None:
    if strict:
        for key in value:
            if key not in tree and not (key == "_kuzzle_info" and not path):
                if path:
                    out.append((path, f'The field is set to "strict"; cannot add unspecified sub-field "{key}".'))
                else:
                    out.append((None, f'The document validation is strict. Cannot add unspecified sub-field "{key}"'))
                return
    for name, field in tree.items():
        where = [*path, name]
        present = value.get(name)
        if present is None:
            if field.get("mandatory") and "defaultValue" not in field:
                out.append((where, "The field is mandatory."))
            continue
        values, problem = _values(field.get("multivalued", {}), present)
        if problem is not None:
            out.append((where, problem))
            continue
        options = field.get("typeOptions", {})
        for item in values:
            message = _type_error(field["type"], options, item)
            if message is not None:
                out.append((where, message))
                break
            if field["type"] == "object" and "children" in field:
                _check_level(field["children"], item, bool(options.get("strict", strict)), where, out)


def _values(multivalued: dict[str, Any], present: Any) -> tuple[list[Any], str | None]:
    if not multivalued.get("value"):
        if isinstance(present, list):
            return [], "The field is not a multivalued field; Multiple values provided."
        return [present], None
    if not isinstance(present, list):
        return [], "The field must be multivalued, unary value provided."
    if "minCount" in multivalued and len(present) < multivalued["minCount"]:
        return [], f"Not enough elements. Minimum count is set to {multivalued['minCount']}."
    if "maxCount" in multivalued and len(present) > multivalued["maxCount"]:
        return [], f"Too many elements. Maximum count is set to {multivalued['maxCount']}."
    return present, None


def apply_defaults(tree: dict[str, Any], source: dict[str, Any], *, update: bool = False) -> dict[str, Any]:
    """``source`` with the ``defaultValue`` of each specified field that is null (or, unless ``update``,
    missing), at every level, as Kuzzle fills them in before a write."""
    result = dict(source)
    for name, field in tree.items():
        present = result.get(name)
        if field["type"] == "object" and "children" in field and name in result:
            if isinstance(present, list):
                result[name] = [
                    apply_defaults(field["children"], v, update=update) if isinstance(v, dict) else v for v in present
                ]
            elif isinstance(present, dict):
                result[name] = apply_defaults(field["children"], present, update=update)
        # Kuzzle skips a default that JavaScript reads as false (0, "", false).
        elif _truthy(field.get("defaultValue")) and (present is None and (name in result or not update)):
            result[name] = field["defaultValue"]
    return result


def _truthy(value: Any) -> bool:
    return value is not None and value is not False and value != 0 and value != ""


def error_messages(problems: list[Problem]) -> dict[str, Any]:
    """Problems as ``document:validate`` answers them: ``{documentScope: [...], fieldScope: {children: ...}}``."""
    holder: dict[str, Any] = {}
    for path, message in problems:
        if path is None:
            holder.setdefault("documentScope", []).append(message)
            continue
        pointer = holder.setdefault("fieldScope", {})
        for part in path:
            pointer = pointer.setdefault("children", {}).setdefault(part, {})
        pointer.setdefault("messages", []).append(message)
    return holder


def failure(problems: list[Problem]) -> errors.KuzzleError:
    """The error a write answers for a document with ``problems`` (the first one), as Kuzzle does."""
    path, message = problems[0]
    if path is None:
        return errors.get("validation.check.failed_document", message)
    return errors.get("validation.check.failed_field", ".".join(path), message)


def _type_error(kind: str, options: dict[str, Any], value: Any) -> str | None:  # noqa: C901 (one case per type)
    if kind == "boolean" and not isinstance(value, bool):
        return "The field must be of type boolean."
    if kind in ("numeric", "integer"):
        if not isinstance(value, int | float) or isinstance(value, bool):
            return "The field must be a number." if kind == "numeric" else "The field must be an integer."
        if kind == "integer" and not float(value).is_integer():
            return "The field must be an integer."
        bounds = options.get("range", {})
        if "min" in bounds and value < bounds["min"]:
            return f"Value {value} is lesser than the allowed minimum ({bounds['min']})"
        if "max" in bounds and value > bounds["max"]:
            return f"Value {value} is greater than the allowed maximum ({bounds['max']})"
    if kind in ("string", "email", "url", "ip_address", "enum") and not isinstance(value, str):
        return "The field must be a string."
    if kind == "string":
        bounds = options.get("length", {})
        if "min" in bounds and len(value) < bounds["min"]:
            return f'Invalid string length. Expected min: {bounds["min"]}. Received: {len(value)} ("{value}")'
        if "max" in bounds and len(value) > bounds["max"]:
            return f'Invalid string length. Expected max: {bounds["max"]}. Received: {len(value)} ("{value}")'
    if kind in ("email", "url", "ip_address") and value == "":
        return "The string must not be empty." if options.get("notEmpty") else None
    if kind == "email" and not _EMAIL.match(value):
        return "The string must be a valid email address."
    if kind == "url" and not (urlparse(value).scheme and urlparse(value).netloc):
        return "The string must be a valid URL."
    if kind == "ip_address":
        try:
            ipaddress.ip_address(value)
        except ValueError:
            return "The string must be a valid IP address."
    if kind == "enum" and value not in options.get("values", []):
        return f'The field only accepts following values: "{", ".join(options.get("values", []))}".'
    if kind == "object" and not isinstance(value, dict):
        return "The value must be an object."
    if kind == "date" and not _is_date(value):
        return "The date format is invalid."
    if kind == "geo_point" and not _is_geo_point(value):
        return "Invalid GeoPoint format"
    if kind == "geo_shape" and not (isinstance(value, dict) and "type" in value):
        return "The shape object has no type defined."
    return None


def _is_date(value: Any) -> bool:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return True  # epoch milliseconds, Elasticsearch's default "epoch_millis"
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _is_geo_point(value: Any) -> bool:
    if isinstance(value, dict):
        return isinstance(value.get("lat"), int | float) and isinstance(value.get("lon"), int | float)
    if isinstance(value, list):
        return len(value) == 2 and all(isinstance(v, int | float) for v in value)
    return isinstance(value, str) and bool(value)

"""The table of error ids: every id the package uses is in it, with a class and a code."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from kuzzle_events import errors
from kuzzle_events.errors.classes import CLASSES, KuzzleError
from kuzzle_events.errors.table import ERROR_TABLE

PACKAGE = Path(__file__).resolve().parents[2] / "kuzzle_events"


def _id_argument(node: ast.Call) -> ast.expr | None:
    """Where a call names an error id: ``errors.get(id, ...)``, ``SomeError(message, id)``, ``id=``."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    receiver = ast.unparse(func.value) if isinstance(func, ast.Attribute) else ""
    if name == "Error":  # Django's system checks (checks.Error(..., id="kuzzle_events.E001"))
        return None
    for keyword in node.keywords:
        if keyword.arg == "id" and name.endswith("Error"):
            return keyword.value
    if name == "get" and receiver.endswith("errors") and node.args:
        return node.args[0]
    if name.endswith("Error") and len(node.args) >= 2:
        return node.args[1]
    return None


def used_ids() -> tuple[set[str], set[str]]:
    """Every error id the package's source names: literal ids, and f-strings such as
    ``f"security.{kind}.cannot_delete"`` as regular expressions."""
    literal: set[str] = set()
    patterns: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call):
                found = _id_argument(node)
            elif isinstance(node, ast.Assign) and [ast.unparse(t) for t in node.targets] == ["default_id"]:
                found = node.value
            else:
                continue
            if isinstance(found, ast.Constant) and isinstance(found.value, str):
                literal.add(found.value)
            elif isinstance(found, ast.JoinedStr):
                parts = [re.escape(v.value) if isinstance(v, ast.Constant) else r"[\w-]+" for v in found.values]
                patterns.add("".join(parts))
    return literal, patterns


def test_the_source_names_error_ids() -> None:
    literal, patterns = used_ids()
    # The collection itself works: ids met in the code today, literal and built.
    assert {"api.assert.missing_argument", "app.errors.bad_request", "plugin.runtime.failed_init"} <= literal
    assert r"security\.[\w-]+\.cannot_delete" in patterns


def test_every_id_used_is_in_the_table_with_a_code() -> None:
    literal, patterns = used_ids()
    missing = sorted(i for i in literal if i not in ERROR_TABLE)
    assert missing == []
    unmatched = sorted(p for p in patterns if not any(re.fullmatch(p, i) for i in ERROR_TABLE))
    assert unmatched == []
    assert [i for i in literal if ERROR_TABLE[i][0] == 0] == []


def test_every_class_default_id_is_in_the_table_with_its_class() -> None:
    for cls in CLASSES.values():
        code, table_class, _ = ERROR_TABLE[cls.default_id]
        assert code != 0 and table_class is cls
        assert cls("message").code == code


@pytest.mark.parametrize("error_id", sorted(ERROR_TABLE))
def test_rows_name_a_class_and_a_code(error_id: str) -> None:
    code, cls, template = ERROR_TABLE[error_id]
    assert isinstance(cls, type) and issubclass(cls, KuzzleError)
    assert code > 0 and isinstance(template, str)
    assert errors.get(error_id).code == code


def test_codes_are_unique() -> None:
    codes = [row[0] for row in ERROR_TABLE.values()]
    assert len(codes) == len(set(codes))


def test_an_application_error_names_a_class_that_exists(kapp: object) -> None:
    registry = errors.ErrorRegistry()
    registry.register("app", "shop", "sold_out", message="Sold out", cls=errors.PreconditionError, code=1)
    assert type(registry.get("app.shop.sold_out")) is errors.PreconditionError
    with pytest.raises(errors.PluginImplementationError, match="Unknown error class"):
        registry.register("app", "shop", "odd", message="x", cls=int)  # type: ignore[arg-type]

"""Indexes on the fields that existing collections' mappings declare: one B-tree index per field
path declared with an ordered type, on ``(collection, the value's JSON type, the value)``, rows
without the field left out. Collections created or remapped later get theirs then
(``kuzzle_events.documents.field_indexes``, whose names and expressions this frozen copy matches).
"""

import hashlib

from django.db import migrations, models
from django.db.models import F, Func, Q
from django.db.models.fields.json import KeyTransform, compile_json_path

ORDERED_TYPES = {
    "long", "integer", "short", "byte", "unsigned_long", "double", "float", "half_float", "scaled_float",
    "date", "date_nanos", "keyword", "constant_keyword", "wildcard",
}  # fmt: skip
DEFINITION = "collection, type, value"


class JsonPathCall(Func):
    """SQLite's ``<function>(source, '<path>')`` with the path as a literal (as the queries write it)."""

    def __init__(self, json_path, function, output_field):
        super().__init__(F("source"), output_field=output_field)
        self.json_path, self.function = json_path, function

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"{self.function}({sql}, '{self.json_path.replace(chr(39), chr(39) * 2)}')", params


def declared(mapping, prefix=""):
    for name, field in (mapping.get("properties") or {}).items():
        if not isinstance(field, dict):
            continue
        if field.get("type") in ORDERED_TYPES:
            yield [*prefix, name]
        yield from declared(field, [*prefix, name])


def index(path, postgres):
    if postgres:
        value = "source"
        for part in path:
            value = KeyTransform(part, value)
        kind = Func(value, function="jsonb_typeof", output_field=models.TextField())
    else:
        json_path = str(compile_json_path(path))
        value = JsonPathCall(json_path, "JSON_EXTRACT", models.TextField())
        kind = JsonPathCall(json_path, "JSON_TYPE", models.TextField())
    name = "kuzzle_doc_field_" + hashlib.sha1("\x00".join([DEFINITION, *path]).encode()).hexdigest()[:24]
    return models.Index(F("collection"), kind, value, name=name, condition=Q(models.lookups.IsNull(value, False)))


def build_field_indexes(apps, schema_editor):
    document = apps.get_model("kuzzle_events", "Document")
    collection = apps.get_model("kuzzle_events", "Collection")
    postgres = schema_editor.connection.vendor == "postgresql"
    paths = {}
    for mapping in collection.objects.using(schema_editor.connection.alias).values_list("mappings", flat=True):
        for path in declared(mapping or {}):
            paths["\x00".join(path)] = path
    for path in paths.values():
        statement = str(index(path, postgres).create_sql(document, schema_editor))
        schema_editor.execute(statement.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1), params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("kuzzle_events", "0011_document_sent"),
    ]

    operations = [
        migrations.RunPython(build_field_indexes, migrations.RunPython.noop),
    ]

"""What a collection asks of the documents written to it: a write block in its settings, its
mapping's ``dynamic: "strict"`` levels, and its validation specifications.

As in Kuzzle, the storage (Elasticsearch there) enforces the mapping and the write block on every
write, ``bulk`` and ``m*`` actions included, while the specifications are checked (and their default
values filled in) only by the writes Kuzzle validates: ``document:create``, ``createOrReplace``,
``replace`` and ``update``, and answered by ``document:validate``.

A :class:`WriteRules` is built once per write request from the collection's row, then asked for each
document: no query, and the specifications are neither parsed nor compiled again per document.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kuzzle_events import errors
from kuzzle_events.documents import mappings as mapping
from kuzzle_events.documents import specifications as specs
from kuzzle_events.documents.filters import Predicate, compile_filter

if TYPE_CHECKING:
    from kuzzle_events.models import Collection

__all__ = ["StrictMappingRejection", "WriteRules"]


class StrictMappingRejection(errors.BadRequestError):
    """``services.storage.strict_mapping_rejection`` for the field at ``path`` (dotted), with
    Elasticsearch's own words in :attr:`reason` (what an ``m*`` or ``bulk:import`` error says)."""

    def __init__(self, path: str, index: str, collection: str) -> None:
        parent, _, leaf = path.rpartition(".")
        # Elasticsearch names the field by its last part (Kuzzle's message too) and the object holding it.
        base = errors.get("services.storage.strict_mapping_rejection", leaf, index, collection)
        super().__init__(base.message, id=base.id, code=base.code)
        self.reason = f"mapping set to strict, dynamic introduction of [{leaf}] within [{parent or '_doc'}] is not allowed"


@dataclass(frozen=True)
class WriteRules:
    """A collection's constraints on writes, ready to check documents."""

    index: str
    collection: str
    mappings: dict[str, Any]
    blocked: bool
    fields: dict[str, Any] | None
    """The specifications' fields as a tree (:func:`specifications.structure`); None: no specifications."""
    strict: bool
    validators: Predicate | None

    @classmethod
    def of(cls, row: Collection) -> WriteRules:
        """The rules of a collection's row."""
        settings = row.settings or {}
        blocks = settings.get("index", {}).get("blocks", {}) or settings.get("blocks", {})
        spec = row.specifications or None
        validators = spec.get("validators") if spec else None
        return cls(
            index=row.index_id,
            collection=row.name,
            mappings=row.mappings or {},
            blocked=str(blocks.get("write", "false")).lower() == "true",
            fields=specs.structure(spec) if spec else None,
            strict=bool(spec.get("strict")) if spec else False,
            validators=compile_filter({"and": validators}, "validators") if validators else None,
        )

    def check_writable(self) -> None:
        """``services.storage.unexpected_bad_request`` if the collection's settings block writes."""
        if self.blocked:
            reason = f"index [{self.index}:{self.collection}] blocked by: [FORBIDDEN/8/index write (api)];"
            raise errors.get("services.storage.unexpected_bad_request", reason)

    def check_mapping(self, source: dict[str, Any]) -> None:
        """:class:`StrictMappingRejection` for a field a ``strict`` level of the mapping does not declare."""
        refused = mapping.unknown_field(self.mappings, source)
        if refused is not None:
            raise StrictMappingRejection(refused, self.index, self.collection)

    def problems(self, key: str, source: dict[str, Any]) -> list[specs.Problem]:
        """Why ``source`` breaks the specifications, ``[]`` if it does not (or there are none)."""
        found: list[specs.Problem] = []
        if self.fields is not None:
            found = specs.tree_errors(self.fields, self.strict, source)
        if self.validators is not None and not self.validators(key, source):
            found.append((None, "The document does not match validation filters."))
        return found

    def validated(self, key: str, body: dict[str, Any], whole: dict[str, Any], *, update: bool) -> dict[str, Any]:
        """``body`` with its default values, once ``whole`` (the document it makes) is valid.

        Raises Kuzzle's ``validation.check.failed_field`` / ``failed_document`` for the first problem.
        ``update``: only the fields ``body`` sets to null get their default, as in Kuzzle.
        """
        problems = self.problems(key, whole)
        if problems:
            raise specs.failure(problems)
        if self.fields is None:
            return body
        return specs.apply_defaults(self.fields, body, update=update)

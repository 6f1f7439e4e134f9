"""Kuzzle's generic document events around the ``document`` actions. No Django here.

``generic:document:before<Family>`` runs before ``document:before<Action>`` with
``(documents, request)``, documents being taken from the request (``[{"_id", "_source"}]`` for a
write, ``[{"_id"}]`` for a read or a deletion); what the pipes return is written back into the
request, so a pipe may change ids and contents before a write (or abort it by raising: nothing is
stored). ``generic:document:after<Family>`` runs after ``document:after<Action>`` with the documents
of the result, and what the pipes return replaces them in the result.

Which action belongs to which family, and what its documents are, is Kuzzle's
(``documentController.actions`` and ``lib/api/documentExtractor.js``): ``search``,
``deleteByQuery``, ``updateByQuery`` have no ``before`` event, only an ``after`` one; ``count``,
``scroll``, ``validate`` and ``export`` (whose result is a stream) have none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kuzzle_events import errors

if TYPE_CHECKING:
    from kuzzle_events.core.request import KuzzleRequest
    from kuzzle_events.core.traces import Events

__all__ = ["FAMILIES", "GenericDocumentEvents"]

FAMILIES = {
    **dict.fromkeys(("create", "createOrReplace", "replace", "mCreate", "mCreateOrReplace", "mReplace"), "Write"),
    **dict.fromkeys(("update", "upsert", "deleteFields", "mUpdate", "mUpsert", "updateByQuery"), "Update"),
    **dict.fromkeys(("delete", "mDelete", "deleteByQuery"), "Delete"),
    **dict.fromkeys(("get", "exists", "mGet", "mExists", "search"), "Get"),
}
_NOT_BEFORE = {"search", "deleteByQuery", "updateByQuery"}
_MULTI_BODIES = {"mCreate", "mCreateOrReplace", "mReplace", "mUpdate", "mUpsert"}
_MULTI_IDS = {"mDelete", "mGet", "mExists"}
_BY_ID = {"delete", "get", "exists"}


def _checked(documents: Any, event: str, *, count: int | None = None) -> list[Any]:
    if not isinstance(documents, list) or (
        count is None and not all(isinstance(d, dict) and "_id" in d for d in documents)
    ):
        raise errors.get(
            "plugin.runtime.unexpected_error", f'pipes on "{event}" must return a list of {{"_id", "_source"}}'
        )
    if count is not None and len(documents) != count:
        raise errors.get("plugin.runtime.unexpected_error", f'pipes on "{event}" must keep one document')
    return documents


def _request_ids(request: KuzzleRequest) -> list[Any] | None:
    """The ids of an ``mDelete``, ``mGet`` or ``mExists``: the body's, else the ``ids`` argument."""
    body = request.input.body
    ids = body.get("ids") if isinstance(body, dict) else None
    if not ids:
        ids = request.input.args.get("ids")
        if isinstance(ids, str):  # comma-separated, over HTTP
            ids = [i for i in ids.split(",") if i]
    return ids if isinstance(ids, list) else None


class GenericDocumentEvents:
    """The generic events of one ``document`` action (see :data:`FAMILIES`)."""

    __slots__ = ("action", "before_event", "after_event", "single")

    def __init__(self, action: str) -> None:
        family = FAMILIES[action]
        self.action = action
        self.before_event = f"generic:document:before{family}"
        self.after_event = f"generic:document:after{family}"
        # Single-document actions: their result is the one document.
        self.single = action not in _MULTI_BODIES | _MULTI_IDS | _NOT_BEFORE

    async def before(self, events: Events, request: KuzzleRequest) -> None:
        if self.action in _NOT_BEFORE or not events.has_listeners(self.before_event):
            return
        documents = self._from_request(request)
        if documents is None:
            return  # a malformed request: the action itself reports it
        count = 1 if self.single else None
        documents = _checked(await events.trigger(self.before_event, documents, request), self.before_event)
        if count is not None:
            _checked(documents, self.before_event, count=count)
        self._to_request(request, documents)

    async def after(self, events: Events, request: KuzzleRequest) -> None:
        if not events.has_listeners(self.after_event):
            return
        result = request.result
        if self.single:
            # Kuzzle hands the whole result over (``exists``: the boolean), and takes back the first.
            (document,) = _checked(
                await events.trigger(self.after_event, [result], request), self.after_event, count=1
            )
            request.set_result(document, request.status)
            return
        documents = _checked(await events.trigger(self.after_event, self._from_result(result), request), self.after_event)
        request.set_result(self._to_result(result, documents), request.status)

    # The request side ---------------------------------------------------------------------------

    def _from_request(self, request: KuzzleRequest) -> list[dict[str, Any]] | None:
        args, body = request.input.args, request.input.body
        if self.action in _MULTI_BODIES:
            items = body.get("documents") if isinstance(body, dict) else None
            if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                return None
            content = "changes" if self.action == "mUpsert" else "body"
            return [{"_id": i.get("_id"), "_source": i.get(content)} for i in items]
        if self.action in _MULTI_IDS:
            ids = _request_ids(request)
            return None if ids is None else [{"_id": i} for i in ids]
        if self.action in _BY_ID:
            return [{"_id": args.get("_id")}]
        if not isinstance(body, dict):
            return None
        if self.action == "upsert":
            return [{"_id": args.get("_id"), "_source": body.get("changes")}]
        if self.action == "deleteFields":
            return [{"_id": args.get("_id"), "_source": body.get("fields")}]
        return [{"_id": args.get("_id"), "_source": body}]

    def _to_request(self, request: KuzzleRequest, documents: list[dict[str, Any]]) -> None:
        body = request.input.body
        if self.action in _MULTI_BODIES:
            if self.action == "mUpsert":
                # Kuzzle keeps each document's default by position.
                defaults = [i.get("default") for i in body["documents"]]
                body["documents"] = [
                    {"_id": d["_id"], "changes": d.get("_source"), "default": defaults[n] if n < len(defaults) else None}
                    for n, d in enumerate(documents)
                ]
            else:
                body["documents"] = [{"_id": d["_id"], "body": d.get("_source")} for d in documents]
            return
        if self.action in _MULTI_IDS:
            ids = [d["_id"] for d in documents]
            if isinstance(body, dict) and body:
                body["ids"] = ids
            else:
                request.input.args["ids"] = ids
            return
        (document,) = documents
        request.input.args["_id"] = document["_id"]
        if self.action == "upsert":
            body["changes"] = document.get("_source")
        elif self.action == "deleteFields":
            body["fields"] = document.get("_source")
        elif self.action not in _BY_ID:
            request.input.body = document.get("_source")

    # The result side (actions on several documents) ---------------------------------------------

    def _from_result(self, result: Any) -> list[Any]:
        if self.action == "search":
            return list(result["hits"])
        if self.action == "deleteByQuery":
            return list(result["documents"])
        if self.action in ("mDelete", "mExists"):
            return [{"_id": i} for i in result["successes"]]
        return list(result["successes"])

    def _to_result(self, result: Any, documents: list[dict[str, Any]]) -> Any:
        if self.action == "search":
            return {**result, "hits": documents}
        if self.action == "deleteByQuery":
            return {**result, "documents": documents}
        if self.action in ("mDelete", "mExists"):
            return {**result, "successes": [d["_id"] for d in documents]}
        return {**result, "successes": documents}

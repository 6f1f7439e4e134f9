"""Kuzzle's generic document events around the ``document`` actions. No Django here.

``generic:document:before<Family>`` runs before ``document:before<Action>`` with
``(documents, request)``, documents being ``[{"_id", "_source"}]`` taken from the request; what the
pipes return is written back into the request, so a pipe may change ids and contents before a write
(or abort it by raising: nothing is stored). ``generic:document:after<Family>`` runs after
``document:after<Action>`` with the documents of the result, and what the pipes return replaces
them in the result.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kuzzle_events import errors

if TYPE_CHECKING:
    from kuzzle_events.core.request import KuzzleRequest
    from kuzzle_events.core.traces import Events

__all__ = ["FAMILIES", "GenericDocumentEvents"]

FAMILIES = {
    "create": "Write",
    "createOrReplace": "Write",
    "replace": "Write",
    "mCreate": "Write",
    "mCreateOrReplace": "Write",
    "mReplace": "Write",
    "update": "Update",
    "upsert": "Update",
    "mUpdate": "Update",
    "delete": "Delete",
    "mDelete": "Delete",
    "get": "Get",
    "mGet": "Get",
    "search": "Get",
}
_MULTI_BODIES = {"mCreate", "mCreateOrReplace", "mReplace", "mUpdate"}
_MULTI_IDS = {"mDelete", "mGet"}


def _checked(documents: Any, event: str) -> list[dict[str, Any]]:
    if not isinstance(documents, list) or not all(isinstance(d, dict) and "_id" in d for d in documents):
        raise errors.get(
            "plugin.runtime.unexpected_error", f'pipes on "{event}" must return a list of {{"_id", "_source"}}'
        )
    return documents


class GenericDocumentEvents:
    """The generic events of one ``document`` action (see :data:`FAMILIES`)."""

    __slots__ = ("action", "before_event", "after_event")

    def __init__(self, action: str) -> None:
        family = FAMILIES[action]
        self.action = action
        self.before_event = f"generic:document:before{family}"
        self.after_event = f"generic:document:after{family}"

    async def before(self, events: Events, request: KuzzleRequest) -> None:
        if self.action == "search" or not events.has_listeners(self.before_event):
            return
        documents = self._from_request(request)
        if documents is None:
            return  # a malformed request: the action itself reports it
        documents = _checked(await events.trigger(self.before_event, documents, request), self.before_event)
        self._to_request(request, documents)

    async def after(self, events: Events, request: KuzzleRequest) -> None:
        if not events.has_listeners(self.after_event):
            return
        result = request.result
        documents = self._from_result(result)
        documents = _checked(await events.trigger(self.after_event, documents, request), self.after_event)
        request.set_result(self._to_result(result, documents), request.status)

    # The request side ---------------------------------------------------------------------------

    def _from_request(self, request: KuzzleRequest) -> list[dict[str, Any]] | None:
        args, body = request.input.args, request.input.body
        if self.action in _MULTI_BODIES:
            items = body.get("documents") if isinstance(body, dict) else None
            if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                return None
            return [{"_id": i.get("_id"), "_source": i.get("body")} for i in items]
        if self.action in _MULTI_IDS:
            ids = body.get("ids") if isinstance(body, dict) else None
            return [{"_id": i, "_source": None} for i in ids] if isinstance(ids, list) else None
        if self.action == "upsert":
            changes = body.get("changes") if isinstance(body, dict) else None
            return [{"_id": args.get("_id"), "_source": changes}]
        source = body if FAMILIES[self.action] in ("Write", "Update") else None
        return [{"_id": args.get("_id"), "_source": source}]

    def _to_request(self, request: KuzzleRequest, documents: list[dict[str, Any]]) -> None:
        body = request.input.body
        if self.action in _MULTI_BODIES:
            body["documents"] = [{"_id": d["_id"], "body": d.get("_source")} for d in documents]
        elif self.action in _MULTI_IDS:
            body["ids"] = [d["_id"] for d in documents]
        else:
            if len(documents) != 1:
                raise errors.get(
                    "plugin.runtime.unexpected_error", f'pipes on "{self.before_event}" must keep one document'
                )
            request.input.args["_id"] = documents[0]["_id"]
            if self.action == "upsert":
                body["changes"] = documents[0].get("_source")
            elif FAMILIES[self.action] in ("Write", "Update"):
                request.input.body = documents[0].get("_source")

    # The result side ----------------------------------------------------------------------------

    def _from_result(self, result: Any) -> list[dict[str, Any]]:
        if self.action == "search":
            return list(result["hits"])
        if self.action in _MULTI_BODIES or self.action in _MULTI_IDS:
            if self.action == "mDelete":
                return [{"_id": i, "_source": None} for i in result["successes"]]
            return list(result["successes"])
        if self.action == "delete":
            return [{"_id": result["_id"], "_source": None}]
        return [{"_id": result["_id"], "_source": result.get("_source")}]

    def _to_result(self, result: Any, documents: list[dict[str, Any]]) -> Any:
        if self.action == "search":
            return {**result, "hits": documents}
        if self.action == "mDelete":
            return {**result, "successes": [d["_id"] for d in documents]}
        if self.action in _MULTI_BODIES or self.action in _MULTI_IDS:
            return {**result, "successes": documents}
        if len(documents) != 1:
            raise errors.get("plugin.runtime.unexpected_error", f'pipes on "{self.after_event}" must keep one document')
        if self.action == "delete":
            return {**result, "_id": documents[0]["_id"]}
        return {**result, "_id": documents[0]["_id"], "_source": documents[0].get("_source")}

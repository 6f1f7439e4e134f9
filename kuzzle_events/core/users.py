"""``User``: the caller of a request, and the two users of no account. No Django import."""

from __future__ import annotations

from typing import Any

__all__ = ["ANONYMOUS", "NOBODY", "User"]


class User:
    """The caller: ``_id`` is the kuid, ``"-1"`` for anonymous."""

    __slots__ = ("_id", "profile_ids", "content")

    def __init__(self, _id: str, profile_ids: list[str] | None = None, content: dict[str, Any] | None = None) -> None:
        self._id = _id
        self.profile_ids = profile_ids or []
        self.content = content or {}

    @property
    def id(self) -> str:
        return self._id

    def to_dict(self) -> dict[str, Any]:
        return {"_id": self._id, "_source": {**self.content, "profileIds": self.profile_ids}}

    def __repr__(self) -> str:
        return f"User({self._id!r})"


ANONYMOUS = User("-1", ["anonymous"])
# The user of the server's own requests (the embedded SDK) when none is given: anonymous's rights,
# checked only on demand, and nobody as the author: what it writes has `_kuzzle_info.author` null,
# as Kuzzle's embedded SDK leaves a request without a user.
NOBODY = User("-1", ["anonymous"])

"""The credentials actions of the ``security`` controller, on the ``local`` strategy
(:mod:`kuzzle_events.security.credentials`): a user's username and password."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kuzzle_events.api.service import Service
from kuzzle_events.security.strategies import FIELDS, check_strategy

if TYPE_CHECKING:
    from kuzzle_events.application import Application
    from kuzzle_events.core.request import KuzzleRequest

__all__ = [
    "create_credentials",
    "update_credentials",
    "has_credentials",
    "validate_credentials",
    "delete_credentials",
    "get_credentials",
    "get_credentials_by_id",
    "get_credential_fields",
    "get_all_credential_fields",
]

_credentials = Service("kuzzle_events.security.credentials")


async def create_credentials(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return await _credentials.create(request.get_id(), request.get_body(), request.get_string("strategy"))


async def update_credentials(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return await _credentials.update(request.get_id(), request.get_body(), request.get_string("strategy"))


async def has_credentials(app: Application, request: KuzzleRequest) -> bool:
    return await _credentials.exists(request.get_id(), request.get_string("strategy"))


async def validate_credentials(app: Application, request: KuzzleRequest) -> bool:
    kuid = request.get_string("_id", None) or None
    return await _credentials.validate(kuid, request.get_body(), False, request.get_string("strategy"))


async def delete_credentials(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    await _credentials.delete(request.get_id(), request.get_string("strategy"))
    return {"acknowledged": True}


async def get_credentials(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return await _credentials.get_info(request.get_id(), request.get_string("strategy"))


async def get_credentials_by_id(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return await _credentials.get_by_id(request.get_id(), request.get_string("strategy"))


async def get_credential_fields(app: Application, request: KuzzleRequest) -> list[str]:
    strategy = request.get_string("strategy")
    check_strategy(strategy)
    return list(FIELDS[strategy])


async def get_all_credential_fields(app: Application, request: KuzzleRequest) -> dict[str, list[str]]:
    return {strategy: list(fields) for strategy, fields in FIELDS.items()}

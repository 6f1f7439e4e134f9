"""The mappings of the security collections as Kuzzle's Elasticsearch renders them."""

from __future__ import annotations

from typing import Any

from kuzzle_events import Application
from kuzzle_events.documents.mappings import rendered
from tests.api.test_auth import call


async def mapping(app: Application, action: str, **data: Any) -> dict[str, Any]:
    answer = await call(app, controller="security", action=action, **data)
    assert answer["status"] == 200, answer["error"]
    return answer["result"]


async def test_the_role_mapping_shows_controllers_as_an_object(started: Application) -> None:
    roles = (await mapping(started, "getRoleMapping"))["mapping"]
    assert roles == {"tags": {"type": "keyword"}, "controllers": {"type": "object", "dynamic": "false"}}
    await mapping(
        started, "updateRoleMapping", body={"properties": {"foo": {"type": "text"}, "bar": {"type": "keyword"}}}
    )
    roles = (await mapping(started, "getRoleMapping"))["mapping"]
    assert (roles["controllers"]["type"], roles["foo"]["type"], roles["bar"]["type"]) == ("object", "text", "keyword")
    profiles = (await mapping(started, "getProfileMapping"))["mapping"]
    assert "type" not in profiles["policies"] and profiles["policies"]["properties"]["restrictedTo"]["type"] == "nested"


def test_objects_are_rendered_as_elasticsearch_does() -> None:
    assert rendered(
        {
            "empty": {"properties": {}},
            "typed": {"type": "object", "properties": {"a": {"type": "keyword"}, "b": {"enabled": False}}},
            "nested": {"type": "nested", "properties": {"c": {"dynamic": "strict"}}},
            "text": {"type": "text", "fields": {"raw": {"type": "keyword"}}},
        }
    ) == {
        "empty": {"type": "object"},
        "typed": {"properties": {"a": {"type": "keyword"}, "b": {"type": "object", "enabled": False}}},
        "nested": {"type": "nested", "properties": {"c": {"type": "object", "dynamic": "strict"}}},
        "text": {"type": "text", "fields": {"raw": {"type": "keyword"}}},
    }

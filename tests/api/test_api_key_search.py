"""auth:searchApiKeys and security:searchApiKeys compare values as Kuzzle's Elasticsearch mapping
of API keys types them."""

from __future__ import annotations

from typing import Any

from kuzzle_events import Application
from tests.api.test_auth import ada, call, login  # noqa: F401 (ada: the fixture)


async def test_api_key_searches_compare_values_in_the_mappings_types(ada: Application) -> None:  # noqa: F811
    jwt = (await login(ada))["result"]["jwt"]
    for description, ttl in (("Lora API key", -1), ("Lora API key 2", 42)):
        made = await call(ada, controller="auth", action="createApiKey", jwt=jwt, expiresIn=ttl,
                          body={"description": description})  # fmt: skip
        assert made["status"] == 200, made["error"]

    async def found(body: Any, lang: str = "elasticsearch", controller: str = "auth", **args: Any) -> list[Any]:
        answer = await call(ada, controller=controller, action="searchApiKeys", jwt=jwt, body=body, lang=lang, **args)
        assert answer["status"] == 200, answer["error"]
        return [hit["_source"]["description"] for hit in answer["result"]["hits"]]

    # ttl is a keyword: "42" and 42 are the same term; expiresAt a long: "-1" is -1.
    assert await found({"equals": {"ttl": "42"}}, "koncorde") == ["Lora API key 2"]
    assert await found({"equals": {"ttl": 42}}, "koncorde") == ["Lora API key 2"]
    assert await found({"in": {"ttl": ["-1", "7"]}}, "koncorde") == ["Lora API key"]
    assert await found({"range": {"expiresAt": {"lt": "0"}}}, "koncorde") == ["Lora API key"]
    assert await found({"term": {"ttl": "42"}}) == ["Lora API key 2"]
    assert await found({"bool": {"must_not": [{"term": {"expiresAt": "-1"}}]}}) == ["Lora API key 2"]
    assert await found({"equals": {"ttl": "42"}}, "koncorde", controller="security", userId="ada") == ["Lora API key 2"]
    # The keys come back as stored: ttl still a number.
    answer = await call(ada, controller="auth", action="searchApiKeys", jwt=jwt, body={"term": {"ttl": "42"}})
    assert answer["result"]["hits"][0]["_source"]["ttl"] == 42

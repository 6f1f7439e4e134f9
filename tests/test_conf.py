"""Settings: the request limits and the rule that binds them, as Kuzzle's limits are checked."""

from __future__ import annotations

from typing import Any

import pytest

from kuzzle_events import conf
from kuzzle_events.checks import check_settings
from kuzzle_events.errors import KuzzleError


def test_request_limits_default_to_kuzzles() -> None:
    assert conf.DEFAULTS["MAX_CONCURRENT_REQUESTS"] == 100
    assert conf.DEFAULTS["REQUESTS_BUFFER_SIZE"] == 50_000
    assert conf.DEFAULTS["REQUESTS_BUFFER_WARNING_THRESHOLD"] == 5_000


@pytest.mark.parametrize(
    "key", ["MAX_CONCURRENT_REQUESTS", "REQUESTS_BUFFER_SIZE", "REQUESTS_BUFFER_WARNING_THRESHOLD"]
)
@pytest.mark.parametrize("value", [0, -1, "10", True, 1.5])
def test_request_limits_are_integers_from_one(key: str, value: Any) -> None:
    assert conf.wrong_types({key: value}) == {key: "an integer >= 1"}


@pytest.mark.parametrize(
    ("values", "key", "expected"),
    [
        ({"MAX_CONCURRENT_REQUESTS": 50_000}, "MAX_CONCURRENT_REQUESTS", "lower than REQUESTS_BUFFER_SIZE (50000)"),
        ({"REQUESTS_BUFFER_SIZE": 100}, "REQUESTS_BUFFER_SIZE", "greater than MAX_CONCURRENT_REQUESTS (100)"),
        ({"REQUESTS_BUFFER_WARNING_THRESHOLD": 99}, "REQUESTS_BUFFER_WARNING_THRESHOLD", "between"),
        ({"REQUESTS_BUFFER_WARNING_THRESHOLD": 50_001}, "REQUESTS_BUFFER_WARNING_THRESHOLD", "between"),
        ({"MAX_CONCURRENT_REQUESTS": 6_000}, "MAX_CONCURRENT_REQUESTS", "at most REQUESTS_BUFFER_WARNING_THRESHOLD"),
        ({"REQUESTS_BUFFER_SIZE": 4_000}, "REQUESTS_BUFFER_SIZE", "at least REQUESTS_BUFFER_WARNING_THRESHOLD"),
    ],
)
def test_request_limits_must_agree(values: dict[str, Any], key: str, expected: str) -> None:
    [(found, message)] = conf.wrong_types(values).items()
    assert found == key and expected in message


def test_agreeing_request_limits_pass() -> None:
    limits = {"MAX_CONCURRENT_REQUESTS": 2, "REQUESTS_BUFFER_SIZE": 3, "REQUESTS_BUFFER_WARNING_THRESHOLD": 2}
    assert conf.wrong_types(limits) == {}
    assert conf.wrong_types({**conf.DEFAULTS, **limits}) == {}


def test_the_check_and_the_start_refuse_disagreeing_limits(settings: Any, make_app: Any) -> None:
    settings.KUZZLE_EVENTS = {"REQUESTS_BUFFER_SIZE": 10}
    [found] = check_settings()
    assert found.id == "kuzzle_events.E003" and "'REQUESTS_BUFFER_SIZE'" in found.msg
    with pytest.raises(KuzzleError, match="REQUESTS_BUFFER_SIZE must be an integer greater than"):
        _ = make_app().config


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("DURABLE_RUNNER", "yes", "True or False"),
        ("DURABLE_POLL_INTERVAL", 0, "a number of seconds above 0"),
        ("DURABLE_POLL_INTERVAL", "1s", "a number of seconds above 0"),
        ("DURABLE_LEASE", -5, "a number of seconds above 0"),
        ("DURABLE_BATCH", 0, "an integer >= 1"),
    ],
)
def test_durable_hook_settings_are_checked(key: str, value: Any, expected: str) -> None:
    assert conf.wrong_types({key: value}) == {key: expected}
    with pytest.raises(KuzzleError, match=key):
        conf.load({key: value})


def test_durable_hook_settings_accept_their_values() -> None:
    values = {"DURABLE_RUNNER": False, "DURABLE_POLL_INTERVAL": 0.2, "DURABLE_LEASE": 2, "DURABLE_BATCH": 3}
    assert conf.wrong_types(values) == {}
    assert {key: conf.load(values)[key] for key in values} == values


def test_cookie_authentication_is_kuzzles_boolean() -> None:
    assert conf.DEFAULTS["COOKIE_AUTHENTICATION"] is True  # Kuzzle's http.cookieAuthentication
    assert conf.wrong_types({"COOKIE_AUTHENTICATION": False}) == {}
    for value in ("false", 0, None):
        assert conf.wrong_types({"COOKIE_AUTHENTICATION": value}) == {"COOKIE_AUTHENTICATION": "True or False"}


def test_settings_read_as_attributes_follow_every_change_of_the_keys() -> None:
    from kuzzle_events.conf import Config

    config = Config({"PIPE_WARN_TIME": 5, "items": "a setting named like a dict method"})
    assert config.PIPE_WARN_TIME == 5 and "PIPE_WARN_TIME" in vars(config)
    assert callable(config.items) and config["items"] == "a setting named like a dict method"
    config["PIPE_WARN_TIME"] = 6
    config.update({"NODE": "n1"}, ERROR_STACK=True)
    config |= {"PORT": 1}
    assert (config.PIPE_WARN_TIME, config.NODE, config.ERROR_STACK, config.PORT) == (6, "n1", True, 1)
    assert config.setdefault("DEBUG", "x") == "x" and config.DEBUG == "x"
    del config["NODE"]
    assert config.pop("PORT") == 1
    for gone in ("NODE", "PORT"):
        with pytest.raises(AttributeError):
            getattr(config, gone)
    config.clear()
    with pytest.raises(AttributeError):
        _ = config.PIPE_WARN_TIME
    assert not hasattr(config, "ERROR_STACK")


def test_memory_storage_url_is_none_or_a_redis_url() -> None:
    assert conf.DEFAULTS["MEMORY_STORAGE_URL"] is None
    for good in (None, "redis://127.0.0.1:6379/8", "rediss://cache:6380/0", "unix:///run/redis.sock"):
        assert conf.wrong_types({"MEMORY_STORAGE_URL": good}) == {}
    expected = "None, or a redis://, rediss:// or unix:// URL"
    assert conf.wrong_types({"MEMORY_STORAGE_URL": "127.0.0.1:6379"}) == {"MEMORY_STORAGE_URL": expected}
    with pytest.raises(KuzzleError, match="MEMORY_STORAGE_URL"):
        conf.load({"MEMORY_STORAGE_URL": 6379})

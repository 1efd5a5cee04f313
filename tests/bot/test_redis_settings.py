"""REDIS_URL and REDIS_KEY_PREFIX: optional, checked at start, never echoed; unset, nothing changes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.app import build_runtime
from bot.redis_state import RedisStateStore
from bot.settings import SettingsError, load_settings
from bot.slack_poster import ChannelPoster

REQUIRED = {"slack_bot_token": "xoxb-test", "slack_signing_secret": "secret"}


def test_without_redis_everything_stays_in_memory() -> None:
    runtime = build_runtime(load_settings(**REQUIRED), environ={})
    assert runtime.fleet is None
    assert isinstance(runtime.poster, ChannelPoster)


def test_with_redis_the_shared_versions_are_wired() -> None:
    settings = load_settings(**REQUIRED, redis_url="rediss://:pw-hush@redis.internal:6380/2", redis_key_prefix="bw1:")
    runtime = build_runtime(settings, environ={})
    assert runtime.fleet is not None
    assert isinstance(runtime.fleet.store, RedisStateStore)
    assert runtime.fleet.link.key("claim", "x") == "bw1:claim:x"
    assert "pw-hush" not in repr(settings)
    assert "pw-hush" not in str(settings.model_dump())


@pytest.mark.parametrize(
    "url", ["http://:hush@redis:6379", "redis://:hush@", "redis:///hush", "redis://hush:0x1/0", "mysql://hush@b"]
)
def test_a_url_that_is_not_redis_stops_the_start_naming_the_setting_only(url: str) -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(**REQUIRED, redis_url=url)
    assert "REDIS_URL" in str(error.value)
    assert "hush" not in str(error.value)


@pytest.mark.parametrize("prefix", ["", "with space", "x" * 65, "new\nline"])
def test_a_bad_prefix_stops_the_start(prefix: str) -> None:
    with pytest.raises(SettingsError, match="REDIS_KEY_PREFIX"):
        load_settings(**REQUIRED, redis_key_prefix=prefix)


@settings(deadline=None)  # the first example pays for importing pydantic's URL parsing
@given(st.sampled_from(["", "redis://:", "rediss://user:", "http://"]), st.text(max_size=40), st.text(max_size=40))
def test_whatever_the_url_its_secret_is_never_echoed(scheme: str, before: str, after: str) -> None:
    secret = "hush-" + before
    assert secret not in _what_birdwatch_says(f"{scheme}{secret}@{after}")


def _what_birdwatch_says(url: str) -> str:
    """The settings as they would be shown, or the error that stops the start."""
    try:
        return repr(load_settings(**REQUIRED, redis_url=url))
    except SettingsError as error:
        return str(error)

"""Shared fixtures: hermetic environment, the fake Slack, and the real bot served over HTTP."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from hypothesis import settings

from tests.fakes.fake_slack import FakeSlack

# The real Redis server fixtures, for every test that needs shared state.
pytest_plugins = ["tests.redis_server"]

# Tests assert behaviour, never speed: on a shared 2-core machine a per-example deadline only makes
# property tests flaky. Benchmarks measure time.
settings.register_profile("birdwatch", deadline=None)
settings.load_profile("birdwatch")

_OUR_VARIABLES = ("SLACK_", "BIRD_", "BIRDWATCH_", "REDIS_", "PORT", "HOST", "LOG_LEVEL")


@pytest.fixture(autouse=True)
def hermetic_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests never see the developer's settings or .env file."""
    for name in list(os.environ):
        if name.startswith(_OUR_VARIABLES):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as slack:
        yield slack

"""The real bot over HTTP for tests of its infrastructure (Slack failing, shutdown, readiness)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from bot.app import build_runtime
from bot.server import create_web_app
from tests.fakes.fake_slack import FakeSlack
from tests.scenario.conftest import BotUnderTest, make_settings

StartBot = Callable[..., Awaitable[BotUnderTest]]


@pytest.fixture
async def start_bot(fake_slack: FakeSlack) -> AsyncIterator[StartBot]:
    """Start the bot against the fake Slack; keyword arguments override settings."""
    started: list[tuple[TestServer, ClientSession]] = []

    async def start(**settings: Any) -> BotUnderTest:
        settings.setdefault("birdwatch_enrich_channels", "all")
        runtime = build_runtime(make_settings(fake_slack, **settings), environ={})
        server = TestServer(create_web_app(runtime), host="127.0.0.1")
        await server.start_server()
        session = ClientSession()
        started.append((server, session))
        return BotUnderTest(server, session, fake_slack, runtime)

    yield start
    for server, session in started:
        await session.close()
        await server.close()

"""The real bot behind a real HTTP server on 127.0.0.1, talking to the fake Slack."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from bot.app import Runtime, build_runtime
from bot.bird import BirdClient
from bot.server import SLACK_PATH, create_web_app
from bot.settings import Settings
from tests.fakes.fake_bird import DEFAULT_ACCESS_KEY, FakeBird
from tests.fakes.fake_slack import FakeSlack
from tests.slack_requests import SIGNING_SECRET, action_body, command_body, event_body, signed_headers


@dataclass
class Reply:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class BotUnderTest:
    """Sends signed Slack requests to the running bot, as Slack would."""

    server: TestServer
    session: ClientSession
    slack: FakeSlack
    runtime: Runtime

    async def post(self, body: str, headers: dict[str, str]) -> Reply:
        async with self.session.post(self.server.make_url(SLACK_PATH), data=body, headers=headers) as response:
            text = await response.text()
            data = await response.json(content_type=None) if text.startswith("{") else {"_text": text}
            return Reply(response.status, data, dict(response.headers))

    async def command(self, command: str, text: str, **kwargs: Any) -> Reply:
        body = command_body(command, text, response_url=self.slack.response_url("command"), **kwargs)
        return await self.post(body, signed_headers(body))

    async def action(self, action_id: str, value: str, **kwargs: Any) -> Reply:
        body = action_body(action_id, value, response_url=self.slack.response_url("action"), **kwargs)
        return await self.post(body, signed_headers(body))

    async def event(self, event: dict[str, Any], *, event_id: str | None = None, retry_num: int | None = None) -> Reply:
        body = event_body(event, event_id=event_id)
        headers = signed_headers(body, content_type="application/json")
        if retry_num is not None:
            headers |= {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        return await self.post(body, headers)

    async def settle(self) -> None:
        """Wait for the bot's background work (Bird lookups, queued posts) to finish."""
        await self.runtime.drain()


WORKSPACE_ID = "6a1e1f5c-3b7d-4c59-9d2e-7f0a1b2c3d4e"


@pytest.fixture
async def fake_bird() -> AsyncIterator[FakeBird]:
    async with FakeBird() as bird:
        yield bird


def make_settings(
    slack: FakeSlack, bird: FakeBird | None = None, config_file: Path | None = None, **overrides: Any
) -> Settings:
    # model_validate skips the environment and .env sources: the test states every setting.
    return Settings.model_validate(
        {
            "slack_bot_token": "xoxb-test-token",
            "slack_signing_secret": SIGNING_SECRET,
            "slack_api_url": slack.api_url,
            **({"bird_api_url": bird.url} if bird else {}),
            **({"birdwatch_config": config_file} if config_file else {}),
            **overrides,
        }
    )


BotFactory = Callable[..., Awaitable[BotUnderTest]]


@pytest.fixture
async def make_bot(fake_slack: FakeSlack, tmp_path: Path) -> AsyncIterator[BotFactory]:
    """Start the real bot over HTTP. ``settings`` override Settings fields (e.g. bird_access_key),
    ``environ`` stands in for the process environment (per-workspace keys), ``config`` (TOML text)
    for the file named by BIRDWATCH_CONFIG, ``bird_client`` replaces the BirdClient the settings
    would build (e.g. one with a short total time budget or recorded sleeps)."""
    started: list[tuple[TestServer, ClientSession]] = []

    async def start(
        *,
        bird: FakeBird | None = None,
        environ: dict[str, str] | None = None,
        config: str | None = None,
        bird_client: BirdClient | None = None,
        clock: Callable[[], float] | None = None,
        **settings: Any,
    ) -> BotUnderTest:
        config_file = None
        if config is not None:
            config_file = tmp_path / "birdwatch.toml"
            config_file.write_text(config, encoding="utf-8")
        # Most scenarios are about alerts, so enrichment is on unless a test says otherwise.
        settings.setdefault("birdwatch_enrich_channels", "all")
        # With a clock, time moves only when the test moves it: alert ticks are then the test's to call.
        timing: dict[str, Any] = {"clock": clock, "alert_tick_seconds": None} if clock else {}
        runtime = build_runtime(
            make_settings(fake_slack, bird, config_file, **settings), environ=environ or {}, bird=bird_client, **timing
        )
        server = TestServer(create_web_app(runtime), host="127.0.0.1")
        await server.start_server()
        session = ClientSession()
        started.append((server, session))
        return BotUnderTest(server, session, fake_slack, runtime)

    yield start
    for server, session in started:
        await session.close()
        await server.close()


@pytest.fixture
async def bot(make_bot: BotFactory) -> BotUnderTest:
    """The bot with no Bird workspace configured (enough for /failure)."""
    return await make_bot()


@pytest.fixture
async def bird_bot(make_bot: BotFactory, fake_bird: FakeBird) -> BotUnderTest:
    """The bot with one Bird key and a default workspace, pointed at the fake Bird."""
    return await make_bot(bird=fake_bird, bird_access_key=DEFAULT_ACCESS_KEY, bird_workspace_id=WORKSPACE_ID)

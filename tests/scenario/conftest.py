"""The real bot behind a real HTTP server on 127.0.0.1, talking to the fake Slack."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from bot.app import Runtime, build_runtime
from bot.server import SLACK_PATH, create_web_app
from bot.settings import Settings
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


@pytest.fixture
def settings(fake_slack: FakeSlack) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        slack_bot_token="xoxb-test-token",
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake_slack.api_url,  # type: ignore[arg-type]
    )


@pytest.fixture
async def bot(settings: Settings, fake_slack: FakeSlack) -> AsyncIterator[BotUnderTest]:
    runtime = build_runtime(settings, environ={})
    server = TestServer(create_web_app(runtime), host="127.0.0.1")
    await server.start_server()
    async with ClientSession() as session:
        yield BotUnderTest(server, session, fake_slack, runtime)
    await server.close()

"""With SLACK_APP_TOKEN set, ``serve`` talks to Slack over Socket Mode instead of taking HTTP requests."""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import parse_qsl

import aiohttp
import pytest

from bot.cli import serve
from bot.settings import Settings
from tests.fakes.fake_slack import FakeSlack
from tests.ports import free_port
from tests.slack_requests import command_body


async def test_socket_mode_answers_failure_and_serves_only_health(
    fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="birdwatch.http")
    port = free_port()
    settings = Settings(
        _env_file=None,
        slack_bot_token="xoxb-test-token",
        slack_signing_secret="unused-in-socket-mode",
        slack_app_token="xapp-test-token",
        slack_api_url=fake_slack.api_url,
        host="127.0.0.1",
        port=port,
    )
    stop = asyncio.Event()
    server = asyncio.create_task(serve(settings, stop=stop))
    try:
        await fake_slack.socket_connected()
        payload = dict(parse_qsl(command_body("/failure", "15011", response_url=fake_slack.response_url())))
        ack = await fake_slack.socket_send(
            {"envelope_id": "env-1", "type": "slash_commands", "payload": payload, "accepts_response_payload": True}
        )
        assert ack["payload"]["blocks"][0]["text"]["text"] == "15011 INVALID_SPAM"
        (logged,) = [r for r in caplog.records if getattr(r, "mode", None) == "socket"]
        assert logged.slack == "command /failure"  # type: ignore[attr-defined]
        assert logged.status == 200  # type: ignore[attr-defined]

        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/healthz") as health:
                assert health.status == 200
            async with session.post(f"http://127.0.0.1:{port}/slack/events", data="x") as events:
                assert events.status in (404, 405)
    finally:
        stop.set()
        await asyncio.wait_for(server, 10)


@pytest.mark.parametrize(
    "envelope",
    [
        {  # an event no listener takes: Bolt answers 404 and its handler sent no ack
            "type": "events_api",
            "payload": {
                "type": "event_callback",
                "team_id": "T0TEAM",
                "api_app_id": "A0BIRDWATCH",
                "event": {"type": "reaction_added", "user": "U0ALICE", "reaction": "eyes"},
                "event_id": "Ev0UNHANDLED",
                "event_time": 1700000000,
            },
        },
        {"type": "interactive", "payload": {"type": "block_actions", "actions": "not a list"}},
        {"type": "events_api", "payload": {"type": "event_callback", "event": [1, 2]}},
    ],
)
async def test_every_envelope_is_acknowledged(fake_slack: FakeSlack, envelope: dict[str, object]) -> None:
    settings = Settings(
        _env_file=None,
        slack_bot_token="xoxb-test-token",
        slack_signing_secret="unused-in-socket-mode",
        slack_app_token="xapp-test-token",
        slack_api_url=fake_slack.api_url,
        host="127.0.0.1",
        port=free_port(),
    )
    stop = asyncio.Event()
    server = asyncio.create_task(serve(settings, stop=stop))
    try:
        await fake_slack.socket_connected()
        ack = await fake_slack.socket_send({"envelope_id": "env-x", **envelope})
        assert ack == {"envelope_id": "env-x"}
    finally:
        stop.set()
        await asyncio.wait_for(server, 10)

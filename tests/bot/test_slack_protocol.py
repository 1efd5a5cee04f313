"""Slack's protocol at the server: notices are acknowledged, malformed but signed payloads get a 4xx."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from bot.app import build_runtime
from bot.server import SLACK_PATH, create_web_app
from bot.settings import Settings
from tests.fakes.fake_slack import FakeSlack
from tests.slack_requests import SIGNING_SECRET, signed_headers


@pytest.fixture
async def server(fake_slack: FakeSlack) -> AsyncIterator[TestServer]:
    settings = Settings.model_validate(
        {
            "slack_bot_token": "xoxb-test-token",
            "slack_signing_secret": SIGNING_SECRET,
            "slack_api_url": fake_slack.api_url,
        }
    )
    runtime = build_runtime(settings, environ={})
    test_server = TestServer(create_web_app(runtime), host="127.0.0.1")
    await test_server.start_server()
    yield test_server
    await test_server.close()


async def _post(server: TestServer, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    async with (
        ClientSession() as session,
        session.post(server.make_url(SLACK_PATH), data=body, headers=headers) as response,
    ):
        return response.status, await response.text()


def _signed(body: bytes, *, content_type: str, timestamp: int | None = None) -> dict[str, str]:
    # The signature covers the bytes as sent; latin-1 maps every byte to one character.
    return signed_headers(body.decode("latin-1"), content_type=content_type, timestamp=timestamp)


async def test_app_rate_limited_notice_is_acknowledged(server: TestServer, caplog: pytest.LogCaptureFixture) -> None:
    notice = json.dumps(
        {
            "token": "deprecated",
            "type": "app_rate_limited",
            "team_id": "T0TEAM",
            "minute_rate_limited": 1518467820,
            "api_app_id": "A0BIRDWATCH",
        }
    ).encode()
    status, _ = await _post(server, notice, _signed(notice, content_type="application/json"))
    assert status == 200
    assert any("rate limited" in r.getMessage() for r in caplog.records)


def _form_payload(payload: Any) -> bytes:
    return urlencode({"payload": payload if isinstance(payload, str) else json.dumps(payload)}).encode()


MALFORMED: dict[str, tuple[bytes, str]] = {
    "actions not a list": (
        _form_payload({"type": "block_actions", "actions": "share_answer", "team": {"id": "T0TEAM"}}),
        "application/x-www-form-urlencoded",
    ),
    "actions of strings": (
        _form_payload({"type": "block_actions", "actions": ["share_answer"], "team": {"id": "T0TEAM"}}),
        "application/x-www-form-urlencoded",
    ),
    "action without id": (
        _form_payload({"type": "block_actions", "actions": [{"value": 1}], "team": {"id": "T0TEAM"}}),
        "application/x-www-form-urlencoded",
    ),
    "payload not JSON": (_form_payload("{not json"), "application/x-www-form-urlencoded"),
    "payload a JSON list": (_form_payload("[1, 2]"), "application/x-www-form-urlencoded"),
    "invalid UTF-8": (b'{"type": "block_actions", "actions": [], "text": "\xff\xfe"}', "application/json"),
    "unknown charset": (b'{"type": "block_actions"}', "application/json; charset=klingon-8"),
    "JSON body a list": (b"[1, 2, 3]", "application/json"),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
async def test_malformed_signed_payloads_get_a_4xx_without_a_traceback(
    server: TestServer, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    caplog.set_level(logging.DEBUG)
    body, content_type = MALFORMED[name]
    status, _ = await _post(server, body, _signed(body, content_type=content_type))
    assert 400 <= status < 500, name
    assert not any(r.exc_info and r.levelno >= logging.WARNING for r in caplog.records)
    assert not any(r.levelno >= logging.ERROR for r in caplog.records)


@pytest.mark.parametrize("timestamp", ["99999999999999999999999", "-5", "1e9", "", "٣٤٥", "0"])
async def test_absurd_timestamps_get_a_4xx(
    server: TestServer, caplog: pytest.LogCaptureFixture, timestamp: str
) -> None:
    body = _form_payload({"type": "block_actions", "actions": []})
    headers = _signed(body, content_type="application/x-www-form-urlencoded")
    headers["X-Slack-Request-Timestamp"] = timestamp
    status, _ = await _post(server, body, headers)
    assert 400 <= status < 500
    assert not any(r.levelno >= logging.ERROR for r in caplog.records)

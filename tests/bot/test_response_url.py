"""Every response_url post is checked, retried on 5xx, 429 and connection errors, and a final failure logged."""

from __future__ import annotations

import json
import logging

import pytest

from bot.slack_poster import ResponseUrlSender
from tests.bot.conftest import StartBot
from tests.fakes.fake_slack import FakeSlack
from tests.ports import free_port

MESSAGE = {"text": "15011 INVALID_SPAM", "response_type": "ephemeral"}


def _sender(sleeps: list[float], **kwargs: float) -> ResponseUrlSender:
    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    return ResponseUrlSender(sleep=sleep, **kwargs)  # type: ignore[arg-type]


async def test_server_errors_are_retried_with_backoff(fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("response_url", status=500, error="internal_error", retry_after=None, times=2)
    sleeps: list[float] = []

    response = await _sender(sleeps).send(fake_slack.response_url(), MESSAGE)

    assert response.status_code == 200
    assert len(fake_slack.of("response_url")) == 3
    assert sleeps == [0.5, 1.0]


async def test_rate_limit_waits_for_retry_after(fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("response_url", status=429, error="rate_limited", retry_after=3)
    sleeps: list[float] = []

    response = await _sender(sleeps).send(fake_slack.response_url(), MESSAGE)

    assert response.status_code == 200
    assert sleeps == [3.0]


async def test_expired_url_is_not_retried_and_is_logged(
    fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    fake_slack.fail_next("response_url", status=404, error="expired_url", retry_after=None)
    sleeps: list[float] = []

    response = await _sender(sleeps).send(fake_slack.response_url(), MESSAGE)

    assert response.status_code == 404
    assert sleeps == []
    (logged,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "expired_url" in logged.getMessage()
    assert "INVALID_SPAM" not in logged.getMessage()  # never the message's text


async def test_connection_errors_are_retried_then_logged(caplog: pytest.LogCaptureFixture) -> None:
    sleeps: list[float] = []
    url = f"http://127.0.0.1:{free_port()}/response/x"

    response = await _sender(sleeps, max_attempts=3).send(url, MESSAGE)

    assert response.status_code == 0
    assert sleeps == [0.5, 1.0]
    (logged,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "ClientConnectorError" in logged.getMessage()
    assert "3 attempts" in logged.getMessage()


async def test_retries_stay_within_the_budget(fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture) -> None:
    fake_slack.fail_next("response_url", status=429, error="rate_limited", retry_after=50)
    sleeps: list[float] = []

    response = await _sender(sleeps, budget=20.0).send(fake_slack.response_url(), MESSAGE)

    assert response.status_code == 429
    assert sleeps == []  # waiting 50 s would overrun the 20 s budget: give up and say so
    assert any("response_url post failed" in r.getMessage() for r in caplog.records)


async def _shared_answer_value(bot_command_reply: dict[str, object]) -> str:
    blocks = bot_command_reply["blocks"]
    assert isinstance(blocks, list)
    for block in blocks:
        for element in block.get("elements", []):
            if element.get("action_id") == "share_answer":
                return str(element["value"])
    raise AssertionError("no Share button")


async def test_listeners_get_the_checked_respond(start_bot: StartBot, fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("response_url", status=503, error="service_unavailable", retry_after=None)
    bot = await start_bot()
    value = await _shared_answer_value((await bot.command("/failure", "15011")).body)

    await bot.action("share_answer", value, user="U0BOB")
    await bot.settle()

    failed, shared, deleted = fake_slack.of("response_url")
    assert failed == shared  # the same post again after the 503
    assert shared["response_type"] == "in_channel"
    assert deleted == {"text": "", "delete_original": True, "_token": "action"}


async def test_a_share_that_fails_keeps_the_private_copy(start_bot: StartBot, fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("response_url", status=404, error="used_url", retry_after=None)
    bot = await start_bot()
    value = await _shared_answer_value((await bot.command("/failure", "15011")).body)

    await bot.action("share_answer", value, user="U0BOB")
    await bot.settle()

    (shared,) = fake_slack.of("response_url")
    assert json.dumps(shared).count("delete_original") == 0

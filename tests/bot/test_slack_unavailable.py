"""Answers from the acknowledgement keep working while Slack's Web API fails or cannot be reached."""

from __future__ import annotations

import asyncio
import logging

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack_auth import SlackIdentity, TokenRejected
from tests.bot.conftest import StartBot
from tests.fakes.fake_slack import BOT_ID, BOT_USER_ID, FakeSlack
from tests.ports import free_port


async def test_failure_is_answered_while_auth_test_fails(start_bot: StartBot, fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("auth.test", status=500, error="internal_error", retry_after=None, times=100)
    bot = await start_bot()

    for _ in range(3):
        reply = await bot.command("/failure", "15011")
        assert reply.status == 200
        assert reply.body["blocks"][0]["text"]["text"] == "15011 INVALID_SPAM"
        assert "reinstall" not in str(reply.body).lower()


async def test_failure_is_answered_while_slack_cannot_be_reached(start_bot: StartBot, fake_slack: FakeSlack) -> None:
    bot = await start_bot(slack_api_url=f"http://127.0.0.1:{free_port()}/api/")

    reply = await bot.command("/failure", "invalid spam")

    assert reply.status == 200
    assert reply.body["blocks"][0]["text"]["text"] == "15011 INVALID_SPAM"


async def test_bot_ignores_its_own_posts_while_auth_test_fails(start_bot: StartBot, fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("auth.test", status=500, error="internal_error", retry_after=None, times=100)
    bot = await start_bot()
    # The bot's own reply in a thread, naming a code: Slack's authorizations say who the bot is.
    own = {"type": "message", "user": BOT_USER_ID, "channel": "C0ONCALL", "ts": "1700000001.000100"}
    reply = await bot.event({**own, "text": "Bird failure code 15011 INVALID_SPAM via sms-messagebird"})
    assert reply.status == 200
    await bot.settle()
    assert fake_slack.of("chat.postMessage") == []


def _identity(fake_slack: FakeSlack, **kwargs: float) -> SlackIdentity:
    return SlackIdentity(AsyncWebClient(token="xoxb-test-token", base_url=fake_slack.api_url), **kwargs)  # type: ignore[arg-type]


async def test_identity_is_learnt_later_in_the_background(fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("auth.test", status=503, error="service_unavailable", retry_after=None, times=1)
    now = [0.0]
    identity = SlackIdentity(
        AsyncWebClient(token="xoxb-test-token", base_url=fake_slack.api_url), retry_interval=30.0, clock=lambda: now[0]
    )
    await identity.verify()  # transient: no exception, not ready
    assert not identity.accepted
    authorize = identity.bolt_authorize()

    result = await authorize(enterprise_id=None, team_id="T0TEAM", user_id="U0ALICE", context={})
    assert result.bot_token == "xoxb-test-token"
    await asyncio.sleep(0.05)
    assert len(fake_slack.of("auth.test")) == 1  # not again before the retry interval

    now[0] = 31.0
    await authorize(enterprise_id=None, team_id="T0TEAM", user_id="U0ALICE", context={})
    await fake_slack.wait_for("auth.test", 2)
    for _ in range(50):
        if identity.accepted:
            break
        await asyncio.sleep(0.01)
    result = await authorize(enterprise_id=None, team_id="T0TEAM", user_id="U0ALICE", context={})
    assert (result.bot_id, result.bot_user_id) == (BOT_ID, BOT_USER_ID)
    await identity.aclose()


@pytest.mark.parametrize("error", ["invalid_auth", "not_authed", "account_inactive", "token_revoked"])
async def test_rejected_token_is_reported_at_start(fake_slack: FakeSlack, error: str) -> None:
    fake_slack.fail_next("auth.test", status=200, error=error, retry_after=None)
    with pytest.raises(TokenRejected, match=error):
        await _identity(fake_slack).verify()


async def test_unreachable_slack_at_start_is_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    client = AsyncWebClient(token="xoxb-test-token", base_url=f"http://127.0.0.1:{free_port()}/api/")
    identity = SlackIdentity(client, retry_interval=0.0)

    await identity.verify()
    await identity.verify()

    assert not identity.accepted
    warnings = [r for r in caplog.records if r.name == "birdwatch.slack"]
    assert len(warnings) == 1  # the same reason again is not logged again
    assert warnings[0].exc_info is None

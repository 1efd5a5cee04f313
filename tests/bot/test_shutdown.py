"""SIGTERM: stop taking work, finish what is in flight within one grace budget, log what is abandoned."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from tests.bot.conftest import StartBot
from tests.fakes.fake_slack import FakeSlack


async def test_new_slack_requests_get_503_once_stopping(start_bot: StartBot) -> None:
    bot = await start_bot()
    bot.runtime.stopping = True

    reply = await bot.command("/failure", "15011")

    assert reply.status == 503
    async with bot.session.get(bot.server.make_url("/readyz")) as ready:
        assert ready.status == 503
        assert (await ready.json())["checks"]["accepting_work"] is False
    async with bot.session.get(bot.server.make_url("/healthz")) as health:
        assert health.status == 200  # still alive while it drains


async def test_work_in_flight_finishes_within_the_grace(start_bot: StartBot, fake_slack: FakeSlack) -> None:
    bot = await start_bot()
    done: list[str] = []

    async def lookup() -> None:
        await asyncio.sleep(0.2)
        done.append("lookup")
        bot.runtime.poster.post(channel="C0ONCALL", text="the answer")

    bot.runtime.tasks.spawn(lookup(), name="lookup")
    await bot.runtime.shutdown(grace=5.0)

    assert done == ["lookup"]
    (posted,) = fake_slack.of("chat.postMessage")
    assert posted["text"] == "the answer"


async def test_work_past_the_grace_is_abandoned_and_logged(
    start_bot: StartBot, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    bot = await start_bot()

    async def stuck_lookup() -> None:
        await asyncio.sleep(60)

    bot.runtime.tasks.spawn(stuck_lookup(), name="message-lookup")
    # Slack keeps rate limiting this channel: the queued reply cannot go out in time.
    fake_slack.fail_next("chat.postMessage", status=429, error="ratelimited", retry_after=30, times=10)
    bot.runtime.poster.post(channel="C0BUSY", text="queued reply", thread_ts="1700000000.000100")
    await fake_slack.wait_for("chat.postMessage")

    started = time.monotonic()
    await bot.runtime.shutdown(grace=0.5)

    assert time.monotonic() - started < 1.5  # one budget for both, not one each
    abandoned = [r for r in caplog.records if r.levelno == logging.WARNING]
    lookups = [r for r in abandoned if r.getMessage() == "background task abandoned"]
    assert [getattr(r, "task", None) for r in lookups] == ["message-lookup"]
    assert "grace of 0.5s ran out" in getattr(lookups[0], "reason", "")
    replies = [r.getMessage() for r in abandoned if r.getMessage().startswith("reply abandoned")]
    assert replies == [
        "reply abandoned: channel=C0BUSY thread_ts=1700000000.000100 reason=poster stopped before posting"
    ]


async def test_readiness_is_a_registry_of_named_checks(start_bot: StartBot) -> None:
    bot = await start_bot()

    async def redis_up() -> bool:
        return True

    async def broken() -> bool:
        raise ConnectionError("no route")

    bot.runtime.add_readiness_check("redis", redis_up)
    async with bot.session.get(bot.server.make_url("/readyz")) as ready:
        assert (ready.status, await ready.json()) == (200, {"ok": True, "checks": {"redis": True}})

    bot.runtime.add_readiness_check("other", broken)
    async with bot.session.get(bot.server.make_url("/readyz")) as ready:
        assert ready.status == 503
        assert (await ready.json())["checks"] == {"redis": True, "other": False}

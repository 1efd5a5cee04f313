"""The real app on Redis, in process: readiness follows Redis, and while Redis is down /failure and
alert replies keep working on local state, within Slack's 3 seconds, then sharing comes back."""

from __future__ import annotations

import asyncio
import time

from tests.redis_round_trips import RoundTrips
from tests.redis_server import RedisServer
from tests.scenario.conftest import BotFactory, BotUnderTest
from tests.scenario.test_alert_events import alert


async def ready(bot: BotUnderTest) -> tuple[int, dict[str, object]]:
    async with bot.session.get(bot.server.make_url("/readyz")) as response:
        return response.status, await response.json()


async def test_readiness_without_redis_needs_nothing(make_bot: BotFactory) -> None:
    bot = await make_bot()
    assert await ready(bot) == (200, {"ok": True, "checks": {}})


async def test_redis_down_keeps_answers_coming_and_recovers(
    make_bot: BotFactory, own_redis_server: RedisServer, redis_prefix: str
) -> None:
    bot = await make_bot(redis_url=own_redis_server.url, redis_key_prefix=redis_prefix)
    assert await ready(bot) == (200, {"ok": True, "checks": {"redis": True}})
    first = alert("Bird: Delivery failed: error 15011", channel="C0DOWN", ts="1700100000.000100")
    assert (await bot.event(first, event_id="EvD1")).status == 200
    await bot.slack.wait_for("chat.postMessage", 1)

    own_redis_server.stop()
    started = time.monotonic()
    answer = await bot.command("/failure", "15011")
    assert answer.status == 200
    assert "INVALID_SPAM" in str(answer.body)
    during = alert("Bird: Delivery failed: error 15005", channel="C0DOWN2", ts="1700100001.000100")
    assert (await bot.event(during, event_id="EvD2")).status == 200
    assert (await bot.event(during, event_id="EvD2")).status == 200  # a retry: still one reply
    assert time.monotonic() - started < 3.0  # never past Slack's acknowledgement deadline
    assert await ready(bot) == (503, {"ok": False, "checks": {"redis": False}})
    await bot.slack.wait_for("chat.postMessage", 2, timeout=8)

    own_redis_server.start()
    deadline = time.monotonic() + 10  # the connection comes back by itself, after the outage's retry pause
    while (await ready(bot))[0] != 200:
        assert time.monotonic() < deadline, "Redis did not come back"
        await asyncio.sleep(0.2)
    assert await ready(bot) == (200, {"ok": True, "checks": {"redis": True}})
    after = alert("Bird: Delivery failed: error 14001", channel="C0DOWN3", ts="1700100002.000100")
    assert (await bot.event(after, event_id="EvD3")).status == 200
    await bot.slack.wait_for("chat.postMessage", 3, timeout=8)
    await asyncio.sleep(0.5)
    threads = sorted(post["thread_ts"] for post in bot.slack.of("chat.postMessage"))
    assert threads == ["1700100000.000100", "1700100001.000100", "1700100002.000100"]


async def test_an_alert_costs_three_redis_round_trips_and_an_unwatched_message_none(
    make_bot: BotFactory, redis_server: RedisServer, redis_prefix: str
) -> None:
    bot = await make_bot(
        redis_url=redis_server.url, redis_key_prefix=redis_prefix, birdwatch_enrich_channels="C0RT1,C0RT2,C0RT3"
    )
    warm_up = alert("Bird: Delivery failed: error 14001", channel="C0RT1", ts="1700200000.000100")
    assert (await bot.event(warm_up, event_id="EvRT0")).status == 200  # loads the scripts
    await bot.slack.wait_for("chat.postMessage", 1)
    await bot.settle()
    async with RoundTrips(redis_server.url) as unwatched:
        for n in range(5):
            elsewhere = alert("Bird: Delivery failed: error 15011", channel="C0ELSEWHERE", ts=f"1700200001.00010{n}")
            assert (await bot.event(elsewhere, event_id=f"EvRTu{n}")).status == 200
        await asyncio.sleep(0.3)  # (settle would ask Redis how many replies wait)
    async with RoundTrips(redis_server.url) as alerts:
        for n, code in enumerate(["15011", "15005", "11002"]):
            firing = alert(f"Bird: Delivery failed: error {code}", channel=f"C0RT{n + 1}", ts=f"1700200002.00010{n}")
            assert (await bot.event(firing, event_id=f"EvRTa{n}")).status == 200
        await bot.slack.wait_for("chat.postMessage", 4)
        deadline = time.monotonic() + 5
        while bot.runtime.poster.depth():  # until the last reply is removed from the queue
            assert time.monotonic() < deadline, "the reply queue did not settle"
            await asyncio.sleep(0.02)
    assert unwatched.per_event() == {}
    # Per alert: its claims (event, message, repeat window), recording its reply with the channel's
    # turn, and removing the reply once posted.
    assert alerts.per_event() == {"claim_each": 3, "reply accept": 3, "reply remove": 3}

"""The reply queue, in memory and on Redis: every reply posted once, at the channel's pace, retried on
429; on Redis also shared between replicas, taken over from a replica that stopped, and never lost
while Redis is down. Real Redis, a real (fake) Slack over HTTP, real time at a quick pace."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from redis.asyncio import Redis
from slack_sdk.web.async_client import AsyncWebClient

from bot.redis_connection import RedisLink
from bot.redis_replies import GROUP, RedisReplyQueue
from bot.slack_poster import ChannelPoster
from tests.fakes.fake_slack import FakeSlack
from tests.redis_server import RedisServer

PACE = 0.2  # seconds between posts in one channel, shorter than Slack's second to keep tests quick

Queue = ChannelPoster | RedisReplyQueue
MakeQueue = Callable[..., Queue]


@pytest.fixture
async def slack_client(fake_slack: FakeSlack) -> AsyncIterator[AsyncWebClient]:
    client = AsyncWebClient(token="xoxb-test", base_url=fake_slack.api_url)
    yield client
    if client.session is not None:
        await client.session.close()


@pytest.fixture
async def make_queue(
    request: pytest.FixtureRequest, slack_client: AsyncWebClient, redis_prefix: str
) -> AsyncIterator[Callable[..., RedisReplyQueue]]:
    """A replica's reply queue on the session's Redis (or ``url``), started."""
    made: list[tuple[RedisReplyQueue, RedisLink]] = []

    async def make(url: str | None = None, **options: Any) -> RedisReplyQueue:
        link = RedisLink(url or request.getfixturevalue("redis_server").url, redis_prefix, retry_after=0.2)
        options = {"min_interval": PACE, "reclaim_after": 0.6, "lease": 1.0} | options
        queue = RedisReplyQueue(slack_client, link, **options)
        await queue.start()
        made.append((queue, link))
        return queue

    yield make  # type: ignore[misc]
    for queue, link in made:
        await queue.aclose(timeout=0)
        await link.aclose()


@pytest.fixture(params=["memory", "redis"])
async def queue(
    request: pytest.FixtureRequest, slack_client: AsyncWebClient, make_queue: Callable[..., Any]
) -> AsyncIterator[Queue]:
    if request.param == "memory":
        poster = ChannelPoster(slack_client, min_interval=PACE)
        yield poster
        await poster.aclose()
        return
    yield await make_queue()


def reply(channel: str, number: int) -> dict[str, Any]:
    return {"channel": channel, "thread_ts": f"{number}.0", "text": f"reply {number}"}


def posts_by_channel(slack: FakeSlack) -> dict[str, list[tuple[float, str]]]:
    result: dict[str, list[tuple[float, str]]] = {}
    for call in slack.timed("chat.postMessage"):
        result.setdefault(call.body["channel"], []).append((call.at, call.body["text"]))
    return result


def assert_paced(slack: FakeSlack, interval: float) -> None:
    for posts in posts_by_channel(slack).values():
        times = [at for at, _ in posts]
        gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
        # Spacing is kept between sends; arrivals add loopback jitter (the first call also opens a connection).
        assert all(gap >= interval - 0.05 for gap in gaps), gaps


# --- the contract, in memory and on Redis ---


async def test_every_reply_is_posted_once_in_order_at_the_channels_pace(queue: Queue, fake_slack: FakeSlack) -> None:
    for number in range(4):
        queue.post(**reply("C1", number))
    queue.post(**reply("C2", 9))
    await asyncio.wait_for(queue.drain(), 10)
    posts = posts_by_channel(fake_slack)
    assert [text for _, text in posts["C1"]] == [f"reply {n}" for n in range(4)]
    assert [text for _, text in posts["C2"]] == ["reply 9"]
    assert_paced(fake_slack, PACE)
    assert posts["C2"][0][0] < posts["C1"][1][0]  # another channel does not wait for C1's turns
    body = fake_slack.of("chat.postMessage")[0]
    assert body["unfurl_links"] in (False, "0", "false")


async def test_a_rate_limited_reply_is_retried_after_retry_after(queue: Queue, fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("chat.postMessage", retry_after=1)
    started = time.monotonic()
    queue.post(**reply("C1", 1))
    await asyncio.wait_for(queue.drain(), 10)
    calls = fake_slack.timed("chat.postMessage")
    assert len(calls) == 2
    assert calls[1].at - calls[0].at >= 0.9
    assert time.monotonic() - started < 5


async def test_a_reply_slack_refuses_is_abandoned_loudly(
    queue: Queue, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="birdwatch.poster")
    fake_slack.fail_next("chat.postMessage", status=200, error="channel_not_found", retry_after=None)
    queue.post(**reply("C1", 1))
    queue.post(**reply("C1", 2))
    await asyncio.wait_for(queue.drain(), 10)
    assert len(fake_slack.of("chat.postMessage")) == 2
    (warning,) = [r for r in caplog.records if "abandoned" in r.getMessage()]
    assert "channel_not_found" in warning.getMessage()
    assert "reply 1" not in warning.getMessage()


async def test_a_reply_without_a_channel_is_refused_at_once(queue: Queue) -> None:
    with pytest.raises(ValueError, match="channel"):
        queue.post(text="nowhere")


# --- on Redis only ---


async def test_replicas_share_the_queue_and_post_each_reply_once(
    make_queue: Callable[..., Any], fake_slack: FakeSlack
) -> None:
    replicas = [await make_queue() for _ in range(3)]
    for number in range(12):
        replicas[number % 3].post(**reply(f"C{number % 2}", number))
    await asyncio.wait_for(asyncio.gather(*(r.drain() for r in replicas)), 15)
    texts = sorted(body["text"] for body in fake_slack.of("chat.postMessage"))
    assert texts == sorted(f"reply {n}" for n in range(12))
    assert_paced(fake_slack, PACE)  # one pace per channel for all three


async def test_replies_left_by_a_stopped_replica_are_posted_by_another(
    make_queue: Callable[..., Any], fake_slack: FakeSlack
) -> None:
    leaving = await make_queue()
    for number in range(6):
        leaving.post(**reply("C1", number))
    await asyncio.wait_for(fake_slack.wait_for("chat.postMessage", 1), 5)
    await leaving.aclose(timeout=0)  # stops with replies read but not posted
    left = 6 - len(fake_slack.of("chat.postMessage"))
    assert left > 0
    staying = await make_queue()
    await asyncio.wait_for(fake_slack.wait_for("chat.postMessage", 6, timeout=10), 12)
    await asyncio.wait_for(staying.drain(), 10)
    texts = [body["text"] for body in fake_slack.of("chat.postMessage")]
    assert sorted(texts) == sorted(f"reply {n}" for n in range(6))  # each once


async def test_a_reply_already_marked_done_is_not_posted_again(
    make_queue: Callable[..., Any], fake_slack: FakeSlack, redis_server: RedisServer, redis_prefix: str
) -> None:
    # A replica killed after Slack answered and the done mark, but before the entry was removed.
    async with Redis.from_url(redis_server.url) as redis:
        await redis.xgroup_create(f"{redis_prefix}replies", GROUP, id="0", mkstream=True)
        entry = json.dumps({"id": "r1", "post": reply("C1", 1)})
        await redis.xadd(f"{redis_prefix}replies", {"reply": entry})
        await redis.set(f"{redis_prefix}reply:r1", "done", px=60_000)
        queue = await make_queue()
        await asyncio.wait_for(queue.drain(), 10)
        assert fake_slack.of("chat.postMessage") == []
        assert await redis.xlen(f"{redis_prefix}replies") == 0


async def test_a_full_queue_abandons_loudly(
    make_queue: Callable[..., Any], caplog: pytest.LogCaptureFixture, fake_slack: FakeSlack
) -> None:
    caplog.set_level(logging.WARNING, logger="birdwatch.poster")
    queue = await make_queue(max_queue=2, min_interval=5.0)
    for number in range(5):
        queue.post(**reply("C1", number))
    await asyncio.sleep(0.5)
    assert len([r for r in caplog.records if "queue full" in r.getMessage()]) >= 1


async def test_replies_are_posted_while_redis_is_down_and_the_queue_recovers(
    make_queue: Callable[..., Any], own_redis_server: RedisServer, fake_slack: FakeSlack, redis_prefix: str
) -> None:
    queue = await make_queue(own_redis_server.url)
    own_redis_server.stop()
    for number in range(3):
        queue.post(**reply("C1", number))
    await asyncio.wait_for(fake_slack.wait_for("chat.postMessage", 3, timeout=8), 10)
    assert_paced(fake_slack, PACE)  # the local pace stands in
    own_redis_server.start()
    async with Redis.from_url(own_redis_server.url) as redis:
        deadline = time.monotonic() + 10
        while not await redis.exists(queue._stream):  # the reader comes back and makes its group again
            assert time.monotonic() < deadline, "the queue did not come back"
            await asyncio.sleep(0.2)
        await asyncio.sleep(0.5)
        queue.post(**reply("C2", 7))
        await asyncio.wait_for(fake_slack.wait_for("chat.postMessage", 4, timeout=8), 10)
        await asyncio.wait_for(queue.drain(), 10)
        assert await redis.keys(f"{redis_prefix}reply:*")  # its done mark: it went through the shared stream
    texts = sorted(body["text"] for body in fake_slack.of("chat.postMessage"))
    assert texts == ["reply 0", "reply 1", "reply 2", "reply 7"]


async def test_consumers_of_gone_processes_are_forgotten(
    make_queue: Callable[..., Any], fake_slack: FakeSlack, redis_server: RedisServer, redis_prefix: str
) -> None:
    earlier = await make_queue(consumer="earlier-process")
    earlier.post(**reply("C1", 1))
    await asyncio.wait_for(earlier.drain(), 10)
    await earlier.aclose(timeout=0)
    async with Redis.from_url(redis_server.url) as redis:
        before = {_name(c) for c in await redis.xinfo_consumers(f"{redis_prefix}replies", GROUP)}
        current = await make_queue(consumer="current-process", consumer_gone_after=0.3)
        current.post(**reply("C2", 2))  # Redis lists a consumer once it has read something
        await asyncio.wait_for(current.drain(), 10)
        await asyncio.sleep(1.0)  # the earlier one is idle past the threshold; the current one tidies up
        after = {_name(c) for c in await redis.xinfo_consumers(f"{redis_prefix}replies", GROUP)}
    assert "earlier-process" in before
    assert after == {"current-process"}


def _name(consumer: dict[str, Any]) -> str:
    name = consumer["name"]
    return name.decode() if isinstance(name, bytes) else str(name)

"""The reply queue, in memory and on Redis: every reply posted once, at the channel's pace, retried on
429; on Redis also paced for the whole fleet, taken over from a replica that stopped or vanished (and
never from a live one), and never lost while Redis is down. Real Redis, a real (fake) Slack over
HTTP, real time at a quick pace."""

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

from bot.redis_connection import RedisLink, RedisUnavailable
from bot.redis_replies import RedisReplyQueue
from bot.slack_poster import ChannelPoster
from tests.fakes.fake_slack import FakeSlack
from tests.redis_round_trips import RoundTrips
from tests.redis_server import RedisServer

PACE = 0.2  # seconds between posts in one channel, shorter than Slack's second to keep tests quick
LEASE = 0.6  # how long a reply stays with a replica that stops renewing it

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
        options = {"min_interval": PACE, "lease": LEASE} | options
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


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


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


async def test_replies_left_by_a_stopped_replica_are_posted_by_another_in_order(
    make_queue: Callable[..., Any], fake_slack: FakeSlack
) -> None:
    leaving = await make_queue()
    for number in range(6):
        leaving.post(**reply("C1", number))
    await asyncio.wait_for(fake_slack.wait_for("chat.postMessage", 1), 5)
    await leaving.aclose(timeout=0)  # stops with replies accepted but not posted, and hands them back
    left = 6 - len(fake_slack.of("chat.postMessage"))
    assert left > 0
    staying = await make_queue()
    await asyncio.wait_for(fake_slack.wait_for("chat.postMessage", 6, timeout=10), 12)
    await asyncio.wait_for(staying.drain(), 10)
    await asyncio.sleep(LEASE)
    texts = [body["text"] for body in fake_slack.of("chat.postMessage")]
    assert texts == [f"reply {n}" for n in range(6)]  # each once, in the order posted


async def test_a_replica_stopping_keeps_its_leases_while_it_finishes(
    make_queue: Callable[..., Any], fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    # The grace (2 s) is longer than the lease: the replies still waiting for their turn must not be
    # taken over by the replica that stays.
    caplog.set_level(logging.INFO, logger="birdwatch.poster")
    stopping, staying = await make_queue(), await make_queue()
    for number in range(6):
        stopping.post(**reply("C1", number))
    await asyncio.wait_for(fake_slack.wait_for("chat.postMessage", 1), 5)
    await stopping.aclose(timeout=2.0)
    await asyncio.wait_for(staying.drain(), 10)
    await asyncio.sleep(LEASE)
    assert [body["text"] for body in fake_slack.of("chat.postMessage")] == [f"reply {n}" for n in range(6)]
    assert not [r for r in caplog.records if "taking over" in r.getMessage()]  # all posted by the one stopping


async def test_a_reply_taken_over_while_it_waits_is_left_to_the_taker(
    make_queue: Callable[..., Any], fake_slack: FakeSlack, redis_server: RedisServer, redis_prefix: str
) -> None:
    holder, taker = await make_queue(min_interval=1.0), await make_queue(min_interval=1.0)
    for number in range(3):
        holder.post(**reply("C1", number))
    await asyncio.wait_for(fake_slack.wait_for("chat.postMessage", 1), 5)
    await until(lambda: holder.depth() == 2)  # the first one posted and removed
    async with Redis.from_url(redis_server.url, decode_responses=True) as redis:
        waiting = [str(reply_id) for reply_id in await redis.hkeys(f"{redis_prefix}replies:holder")]
        assert len(waiting) == 2
        seconds, micros = await redis.time()
        for reply_id in waiting:  # what the taker's round writes when the holder's renewals have failed
            await redis.hset(f"{redis_prefix}replies:holder", reply_id, taker.holder)
            await redis.zadd(f"{redis_prefix}replies", {reply_id: seconds * 1000 + micros // 1000 + 2500})
    await until(lambda: holder.depth() == 0, timeout=0.9)  # the holder lets them go before their turn comes
    await asyncio.wait_for(taker.drain(), 10)
    await asyncio.sleep(LEASE)
    assert sorted(body["text"] for body in fake_slack.of("chat.postMessage")) == ["reply 0", "reply 1", "reply 2"]


async def ledger_entry(redis: Redis, prefix: str, reply_id: str, body: str, *, holder: str, after: float) -> None:
    """A reply recorded as a replica does, held by ``holder`` until ``after`` seconds from now."""
    seconds, micros = await redis.time()
    await redis.zadd(f"{prefix}replies", {reply_id: seconds * 1000 + micros // 1000 + round(after * 1000)})
    await redis.hset(f"{prefix}replies:post", reply_id, body)
    await redis.hset(f"{prefix}replies:holder", reply_id, holder)


async def test_replies_of_a_replica_that_vanished_are_posted_once_after_its_lease(
    make_queue: Callable[..., Any], fake_slack: FakeSlack, redis_server: RedisServer, redis_prefix: str
) -> None:
    # As a replica killed with SIGKILL leaves them: nobody renews their deadlines any more.
    async with Redis.from_url(redis_server.url) as redis:
        started = time.monotonic()
        for number in range(3):
            body = json.dumps(reply("C1", number))
            await ledger_entry(redis, redis_prefix, f"r{number}", body, holder="killed", after=LEASE)
        await ledger_entry(redis, redis_prefix, "bad", "{not json", holder="killed", after=0)
        replicas = [await make_queue() for _ in range(3)]
        await asyncio.wait_for(fake_slack.wait_for("chat.postMessage", 3, timeout=10), 12)
        assert fake_slack.timed("chat.postMessage")[0].at - started >= LEASE - 0.1  # not before the lease ran out
        await asyncio.wait_for(asyncio.gather(*(r.drain() for r in replicas)), 10)
        await asyncio.sleep(LEASE)
        assert sorted(body["text"] for body in fake_slack.of("chat.postMessage")) == ["reply 0", "reply 1", "reply 2"]
        assert_paced(fake_slack, PACE)
        assert await redis.keys(f"{redis_prefix}replies*") == []  # the unreadable one was dropped too


async def test_a_live_replica_keeps_its_replies_however_long_they_wait(
    make_queue: Callable[..., Any], fake_slack: FakeSlack
) -> None:
    slow = await make_queue(min_interval=1.0)  # its third reply waits two seconds, over three leases
    others = [await make_queue(min_interval=1.0) for _ in range(2)]
    for number in range(3):
        slow.post(**reply("C1", number))
    await asyncio.wait_for(slow.drain(), 10)
    await asyncio.sleep(LEASE)
    assert [body["text"] for body in fake_slack.of("chat.postMessage")] == ["reply 0", "reply 1", "reply 2"]
    assert all(other.depth() == 0 for other in others)


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
    await asyncio.sleep(0.5)  # past the link's retry_after: the next call tries Redis again
    async with Redis.from_url(own_redis_server.url) as redis:
        fake_slack.fail_next("chat.postMessage", retry_after=1)  # holds the reply in the ledger for a second
        queue.post(**reply("C2", 7))
        deadline = time.monotonic() + 3
        while not await redis.zcard(f"{redis_prefix}replies"):  # it went through the shared ledger
            assert time.monotonic() < deadline, "the queue did not come back"
            await asyncio.sleep(0.05)
        await asyncio.wait_for(queue.drain(), 10)
        assert await redis.zcard(f"{redis_prefix}replies") == 0
    texts = [body["text"] for body in fake_slack.of("chat.postMessage")]
    assert sorted(texts) == ["reply 0", "reply 1", "reply 2", "reply 7", "reply 7"]  # 7 once refused with 429


async def test_each_reply_costs_two_round_trips_and_leaves_nothing_behind(
    make_queue: Callable[..., Any], fake_slack: FakeSlack, redis_server: RedisServer, redis_prefix: str
) -> None:
    queue = await make_queue(lease=60.0)  # no background round in the measured time
    queue.post(**reply("C0", 0))  # loads the scripts
    await asyncio.wait_for(queue.drain(), 10)
    async with RoundTrips(redis_server.url) as trips:
        for number in range(1, 11):
            queue.post(**reply(f"C{number}", number))
        await asyncio.wait_for(fake_slack.wait_for("chat.postMessage", 11, timeout=8), 10)
        await until(lambda: queue.depth() == 0)  # removed from the ledger too
    # One script to record a reply and take the channel's turn, one to remove it.
    assert trips.per_event() == {"reply accept": 10, "reply remove": 10}
    async with Redis.from_url(redis_server.url) as redis:
        assert await redis.keys(f"{redis_prefix}replies*") == []


class AnswerLost(RedisLink):
    """A link whose first call of one kind reaches Redis but whose answer is lost, as when a script
    runs and the reply then misses the call's time bound."""

    def __init__(self, *args: Any, lose: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lose: str | None = lose

    async def call(self, what: str, operation: Callable[[], Any], *, timeout: float | None = None) -> Any:
        result = await super().call(what, operation, timeout=timeout)
        if what == self._lose:
            self._lose = None
            raise RedisUnavailable(what)
        return result


async def test_a_reply_recorded_although_the_call_failed_is_posted_once(
    make_queue: Callable[..., Any],
    slack_client: AsyncWebClient,
    fake_slack: FakeSlack,
    redis_server: RedisServer,
    redis_prefix: str,
) -> None:
    await make_queue()  # another replica, ready to take over anything left in the ledger
    link = AnswerLost(redis_server.url, redis_prefix, retry_after=0.2, lose="enqueue reply")
    queue = RedisReplyQueue(slack_client, link, min_interval=PACE, lease=LEASE)
    await queue.start()
    try:
        queue.post(**reply("C1", 1))  # recorded in Redis, but this replica hears nothing: it posts it itself
        await asyncio.wait_for(fake_slack.wait_for("chat.postMessage", 1), 5)
        await asyncio.sleep(LEASE * 3)  # past the lease: the ledger entry was dropped, not taken over
        assert [body["text"] for body in fake_slack.of("chat.postMessage")] == ["reply 1"]
        async with Redis.from_url(redis_server.url) as redis:
            assert await redis.keys(f"{redis_prefix}replies*") == []
    finally:
        await queue.aclose(timeout=0)
        await link.aclose()

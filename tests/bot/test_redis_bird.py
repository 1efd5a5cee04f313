"""BirdClient replicas sharing Redis: one fetch serves all, one budget bounds all, and an outage only
costs the sharing."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis

from bot.bird import BirdClient
from bot.redis_bird import FleetBudget, RedisMessageCache, decode_found
from bot.redis_connection import RedisLink
from tests.fakes.fake_bird import DEFAULT_ACCESS_KEY, FakeBird, sample_message
from tests.redis_server import RedisServer

WS = "2f1c6d1e-8a5b-4c1e-9a43-0c6c1c5b7e01"

MakeReplica = Callable[..., BirdClient]


@pytest.fixture
async def fake_bird() -> AsyncIterator[FakeBird]:
    async with FakeBird() as bird:
        yield bird


@pytest.fixture
async def make_replica(fake_bird: FakeBird, redis_prefix: str) -> AsyncIterator[Callable[[str], BirdClient]]:
    """A BirdClient as one replica builds it on Redis at ``url`` (a link of its own)."""
    made: list[tuple[BirdClient, RedisLink]] = []

    def make(url: str, rate: float = 1000.0, burst: int = 1000) -> BirdClient:
        link = RedisLink(url, redis_prefix, retry_after=0.2)
        client = BirdClient(
            base_url=fake_bird.url,
            budget=FleetBudget(link, rate=rate, burst=burst),
            cache=RedisMessageCache(link),
        )
        made.append((client, link))
        return client

    yield make
    for client, link in made:
        await client.aclose()
        await link.aclose()


async def test_a_message_fetched_by_one_replica_is_cached_for_all(
    fake_bird: FakeBird, redis_server: RedisServer, make_replica: Callable[[str], BirdClient]
) -> None:
    channel = fake_bird.add_channel(WS)
    message = fake_bird.add_message(WS, channel, sample_message())
    first, second = make_replica(redis_server.url), make_replica(redis_server.url)
    fetched = await first.get_message(WS, DEFAULT_ACCESS_KEY, message["id"])
    again = await second.get_message(WS, DEFAULT_ACCESS_KEY, message["id"])
    assert not fetched.from_cache
    assert again.from_cache
    assert again.message == fetched.message
    assert fake_bird.count("/messages/") == 1


async def test_where_a_message_was_found_is_shared(
    fake_bird: FakeBird, redis_server: RedisServer, make_replica: Callable[[str], BirdClient]
) -> None:
    channels = fake_bird.add_channels(WS, 6)
    message = fake_bird.add_message(WS, channels[4], sample_message())
    first, second = make_replica(redis_server.url), make_replica(redis_server.url)
    await first.get_message(WS, DEFAULT_ACCESS_KEY, message["id"])
    searched = fake_bird.count("/messages/")
    await second.get_message(WS, DEFAULT_ACCESS_KEY, message["id"], fresh=True)
    assert fake_bird.count("/messages/") == searched + 1  # straight to the right channel, no search


async def test_three_replicas_together_keep_one_budget(
    fake_bird: FakeBird, redis_server: RedisServer, make_replica: Callable[..., BirdClient]
) -> None:
    channel = fake_bird.add_channel(WS)
    messages = [fake_bird.add_message(WS, channel, sample_message()) for _ in range(15)]
    replicas = [make_replica(redis_server.url, rate=10, burst=2) for _ in range(3)]
    await asyncio.gather(
        *(
            replicas[index % 3].get_message(WS, DEFAULT_ACCESS_KEY, message["id"], channel)
            for index, message in enumerate(messages)
        )
    )
    times = sorted(r.received_at for r in fake_bird.request_log if "/messages/" in r.path)
    assert len(times) == 15
    # 10/s with a burst of 2: any one-second window holds at most 10 + 2 requests, whoever sent them.
    assert max(sum(1 for t in times if start <= t < start + 1.0) for start in times) <= 12
    assert times[-1] - times[0] >= (15 - 2) / 10 - 0.05


async def test_lookups_keep_working_while_redis_is_down(
    fake_bird: FakeBird, own_redis_server: RedisServer, make_replica: Callable[[str], BirdClient], redis_prefix: str
) -> None:
    channel = fake_bird.add_channel(WS)
    message = fake_bird.add_message(WS, channel, sample_message())
    replica = make_replica(own_redis_server.url)
    own_redis_server.stop()
    found = await replica.get_message(WS, DEFAULT_ACCESS_KEY, message["id"])
    again = await replica.get_message(WS, DEFAULT_ACCESS_KEY, message["id"])
    assert found.message.id == message["id"]
    assert again.from_cache  # the local cache stands in
    own_redis_server.start()
    async with Redis.from_url(own_redis_server.url) as redis:
        deadline = time.monotonic() + 10  # past the outage's retry pause, the cache is written to Redis again
        while not await redis.keys(f"{redis_prefix}bird:msg:*"):
            assert time.monotonic() < deadline, "the cache did not come back"
            await asyncio.sleep(0.2)
            await replica.get_message(WS, DEFAULT_ACCESS_KEY, message["id"], fresh=True)
    fetched = fake_bird.count("/messages/")
    other = make_replica(own_redis_server.url)
    shared = await other.get_message(WS, DEFAULT_ACCESS_KEY, message["id"])
    assert shared.from_cache
    assert fake_bird.count("/messages/") == fetched  # served by Redis, no request to Bird


@settings(deadline=None)
@given(st.binary(max_size=300) | st.builds(lambda v: json.dumps(v).encode(), st.dictionaries(st.text(), st.text())))
def test_an_unreadable_cache_entry_is_a_miss_never_an_error(raw: bytes) -> None:
    found = decode_found(raw)
    assert found is None or found.from_cache

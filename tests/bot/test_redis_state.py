"""bot.redis_state on a real Redis: shared between replicas, kept across restarts, prefixed keys with
a time-to-live, and a Redis outage that costs nothing but sharing."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis

from bot.metrics import Metrics
from bot.redis_connection import RedisLink
from bot.redis_state import RedisStateStore
from bot.state import MemoryStateStore
from handlers.deps import Claim
from tests.redis_server import RedisServer

StoreFactory = Callable[[], Awaitable[RedisStateStore]]


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def factory_for(url: str, prefix: str, made: list[tuple[RedisStateStore, RedisLink]]) -> StoreFactory:
    async def make() -> RedisStateStore:
        link = RedisLink(url, prefix, retry_after=0.2)
        store = RedisStateStore(link)
        await store.start()
        made.append((store, link))
        return store

    return make


@pytest.fixture
async def make_store(redis_server: RedisServer, redis_prefix: str) -> AsyncIterator[StoreFactory]:
    made: list[tuple[RedisStateStore, RedisLink]] = []
    yield factory_for(redis_server.url, redis_prefix, made)
    for store, link in made:
        await store.aclose()
        await link.aclose()


async def test_two_replicas_share_claims_and_mutes(make_store: StoreFactory) -> None:
    first, second = await make_store(), await make_store()
    assert await first.claim("event:Ev1", 60)
    assert not await second.claim("event:Ev1", 60)
    await first.set_mute("C1", "15011", time.time() + 3600, "U1")

    async def second_sees_it() -> bool:
        return await second.get_mute("C1", "15011") is not None

    await eventually(second_sees_it)
    mute = await second.get_mute("C1", "15011")
    assert mute is not None
    assert mute.by == "U1"


async def test_mutes_survive_a_restart_of_every_replica(make_store: StoreFactory) -> None:
    first = await make_store()
    await first.set_mute("C1", "15011", time.time() + 3600, "U1")
    await first.aclose()
    restarted = await make_store()
    assert await restarted.get_mute("C1", "15011") is not None
    assert await restarted.claim("never-claimed", 60)  # claims work after a restart too
    assert not await restarted.claim("never-claimed", 60)


async def test_changes_apply_in_order_on_every_replica(make_store: StoreFactory) -> None:
    writer, reader = await make_store(), await make_store()
    for hours in range(1, 30):
        await writer.set_mute("C1", "15011", time.time() + hours * 3600, f"U{hours}")
    await writer.set_mute("C1", "15011", time.time() - 1, "ULIFT")

    async def lifted_everywhere() -> bool:
        return await reader.get_mute("C1", "15011") is None and await writer.get_mute("C1", "15011") is None

    await eventually(lifted_everywhere)
    await asyncio.sleep(0.1)  # any late message must not bring it back
    assert await reader.get_mute("C1", "15011") is None


async def test_every_key_carries_the_prefix_and_ends(
    make_store: StoreFactory, redis_server: RedisServer, redis_prefix: str
) -> None:
    store = await make_store()
    await store.claim("event:Ev1", 60)
    await store.set_mute("C1", "15011", time.time() + 3600, "U1")
    async with Redis.from_url(redis_server.url) as redis:
        keys = [key async for key in redis.scan_iter(match=f"{redis_prefix}*")]
        assert len(keys) >= 3
        for key in keys:
            ttl = await redis.pttl(key)
            version_counter = key == f"{redis_prefix}mutes:version".encode()
            assert ttl > 0 or version_counter, key


async def test_mutes_are_capped(make_store: StoreFactory, redis_server: RedisServer, redis_prefix: str) -> None:
    store = await make_store()
    store._max_mutes = 5  # a small cap, to see it hold
    for index in range(8):
        await store.set_mute("C1", f"1500{index}", time.time() + 3600 + index, "U1")
    async with Redis.from_url(redis_server.url) as redis:
        assert await redis.hlen(f"{redis_prefix}mutes") == 5
        assert await redis.zcard(f"{redis_prefix}mutes:until") == 5
    assert await store.get_mute("C1", "15000") is None  # the one ending first went first
    assert await store.get_mute("C1", "15007") is not None


async def test_redis_down_falls_back_locally_then_recovers(
    own_redis_server: RedisServer, redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="birdwatch.redis")
    made: list[tuple[RedisStateStore, RedisLink]] = []
    make = factory_for(own_redis_server.url, redis_prefix, made)
    store, other = await make(), await make()
    try:
        own_redis_server.stop()
        started = time.monotonic()
        assert await store.claim("event:Ev1", 60)  # local fallback: still once per replica
        assert not await store.claim("event:Ev1", 60)
        for index in range(20):
            await store.claim(f"event:burst{index}", 60)
        assert time.monotonic() - started < 2.0  # bounded: one timeout, then no waiting at all
        await store.set_mute("C1", "15011", time.time() + 3600, "U1")
        assert await store.get_mute("C1", "15011") is not None
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 2  # one line per replica for the whole outage, however many calls
        assert "Redis unavailable" in warnings[0].getMessage()

        own_redis_server.start()

        async def shared_again() -> bool:
            return await other.get_mute("C1", "15011") is not None  # the outage's mute reached Redis

        await eventually(shared_again, timeout=8.0)
        assert await store.claim("event:Ev2", 60)
        assert not await other.claim("event:Ev2", 60)
        assert any("answers again" in r.getMessage() for r in caplog.records)
    finally:
        for made_store, link in made:
            await made_store.aclose()
            await link.aclose()


async def test_failed_redis_operations_are_counted_in_the_metrics(
    own_redis_server: RedisServer, redis_prefix: str
) -> None:
    metrics = Metrics()
    link = RedisLink(own_redis_server.url, redis_prefix, retry_after=0.2, on_error=metrics.redis_error)
    store = RedisStateStore(link)
    await store.start()
    try:
        assert await store.claim("event:Ev1", 60)
        assert "birdwatch_redis_errors_total{" not in metrics.render().decode()
        own_redis_server.stop()
        await store.claim("event:Ev2", 60)
        lines = metrics.render().decode().splitlines()
        counted = [float(line.rsplit(" ", 1)[1]) for line in lines if line.startswith("birdwatch_redis_errors_total{")]
        assert sum(counted) >= 1
    finally:
        own_redis_server.start()
        await store.aclose()
        await link.aclose()


# Batches of claims over a few keys, each claim possibly behind an earlier one.
_batches = st.lists(
    st.lists(st.tuples(st.sampled_from("abcdef"), st.integers(min_value=-1, max_value=6)), max_size=7),
    min_size=1,
    max_size=6,
)


@settings(deadline=None, max_examples=60)
@given(batches=_batches)
def test_claim_each_on_redis_decides_as_claims_one_by_one_would(
    redis_server: RedisServer, batches: list[list[tuple[str, int]]]
) -> None:
    """The Lua batch and the in-memory store against a plain model: a key is made when its gate was made
    by the same batch and nobody holds it."""

    async def run() -> None:
        link = RedisLink(redis_server.url, f"prop{uuid.uuid4().hex[:12]}:")
        shared, alone = RedisStateStore(link), MemoryStateStore()
        held: set[str] = set()
        try:
            for raw in batches:
                batch = [
                    Claim(key, 60, after if 0 <= after < index else None) for index, (key, after) in enumerate(raw)
                ]
                expected: list[bool] = []
                for claim in batch:
                    made = (claim.after is None or expected[claim.after]) and claim.key not in held
                    held |= {claim.key} if made else set()
                    expected.append(made)
                assert await shared.claim_each(batch) == expected
                assert await alone.claim_each(batch) == expected
        finally:
            await link.aclose()

    asyncio.run(run())

"""One contract, two implementations: every shared-state seam behaves the same in memory and on Redis.

Each test runs against the in-memory version and the Redis one (a real redis-server, see
tests/redis_server.py), so a replica on Redis decides exactly as a lone process does.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from bot.redis_connection import RedisLink
from bot.redis_state import RedisStateStore
from bot.state import MemoryStateStore
from handlers.deps import StateStore
from tests.redis_server import RedisServer


@pytest.fixture
async def link(redis_server: RedisServer, redis_prefix: str) -> AsyncIterator[RedisLink]:
    link = RedisLink(redis_server.url, redis_prefix)
    yield link
    await link.aclose()


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[StateStore]:
    if request.param == "memory":
        yield MemoryStateStore()
        return
    link = RedisLink(request.getfixturevalue("redis_server").url, request.getfixturevalue("redis_prefix"))
    redis_store = RedisStateStore(link)
    await redis_store.start()
    yield redis_store
    await redis_store.aclose()
    await link.aclose()


async def test_a_key_is_claimed_once(store: StateStore) -> None:
    assert await store.claim("event:Ev1", 60)
    assert not await store.claim("event:Ev1", 60)
    assert await store.claim("event:Ev2", 60)


async def test_of_many_concurrent_claims_exactly_one_wins(store: StateStore) -> None:
    results = await asyncio.gather(*(store.claim("seen:C1:1.0:15011", 60) for _ in range(50)))
    assert results.count(True) == 1


async def test_a_claim_lapses_after_its_time_to_live(store: StateStore) -> None:
    assert await store.claim("repeat:C1:abc:15011", 0.2)
    assert not await store.claim("repeat:C1:abc:15011", 0.2)
    await asyncio.sleep(0.35)
    assert await store.claim("repeat:C1:abc:15011", 0.2)


async def test_a_claim_needs_a_positive_time_to_live(store: StateStore) -> None:
    with pytest.raises(ValueError, match="ttl"):
        await store.claim("event:Ev1", 0)


async def test_a_mute_holds_until_its_end_and_says_who(store: StateStore) -> None:
    until = time.time() + 3600
    assert await store.get_mute("C1", "15011") is None
    await store.set_mute("C1", "15011", until, "U1")
    mute = await store.get_mute("C1", "15011")
    assert mute is not None
    assert mute.until == pytest.approx(until)
    assert mute.by == "U1"
    assert await store.get_mute("C2", "15011") is None
    assert await store.get_mute("C1", "15012") is None


async def test_a_mute_ends_by_itself(store: StateStore) -> None:
    await store.set_mute("C1", "15011", time.time() + 0.2, "U1")
    assert await store.get_mute("C1", "15011") is not None
    await asyncio.sleep(0.3)
    assert await store.get_mute("C1", "15011") is None


async def test_a_mute_ending_in_the_past_lifts_it(store: StateStore) -> None:
    await store.set_mute("C1", "15011", time.time() + 3600, "U1")
    await store.set_mute("C1", "15011", time.time() - 1, "U2")
    assert await store.get_mute("C1", "15011") is None

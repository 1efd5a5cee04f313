"""One contract, two implementations: every shared-state seam behaves the same in memory and on Redis.

Each test runs against the in-memory version and the Redis one (a real redis-server, see
tests/redis_server.py), so a replica on Redis decides exactly as a lone process does.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest

from bot.bird import Budget, MemoryMessageCache, MessageCache, RequestBudget
from bot.redis_bird import FleetBudget, RedisMessageCache
from bot.redis_connection import RedisLink
from bot.redis_state import RedisStateStore
from bot.state import MemoryStateStore
from catalog.message import FoundMessage, Message
from handlers.deps import Claim, StateStore
from tests.fakes.fake_bird import sample_message
from tests.redis_server import RedisServer

WS = "2f1c6d1e-8a5b-4c1e-9a43-0c6c1c5b7e01"
MSG = "0d3c5e7a-1b2c-4d5e-8f90-a1b2c3d4e5f6"
CH = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"


@pytest.fixture
async def link(redis_server: RedisServer, redis_prefix: str) -> AsyncIterator[RedisLink]:
    link = RedisLink(redis_server.url, redis_prefix)
    yield link
    await link.aclose()


@pytest.fixture
async def links(request: pytest.FixtureRequest) -> AsyncIterator[list[RedisLink]]:
    """Links made during a test, closed after it."""
    made: list[RedisLink] = []
    yield made
    for link in made:
        await link.aclose()


def new_link(request: pytest.FixtureRequest, links: list[RedisLink]) -> RedisLink:
    links.append(RedisLink(request.getfixturevalue("redis_server").url, request.getfixturevalue("redis_prefix")))
    return links[-1]


@pytest.fixture(params=["memory", "redis"])
def cache(request: pytest.FixtureRequest, links: list[RedisLink]) -> MessageCache:
    return MemoryMessageCache() if request.param == "memory" else RedisMessageCache(new_link(request, links))


@pytest.fixture(params=["memory", "redis"])
def budgets(request: pytest.FixtureRequest, links: list[RedisLink]) -> Callable[[], Budget]:
    """Makes the budget each replica would have: one shared budget for the fleet, or a lone process's."""
    if request.param == "memory":
        shared = RequestBudget(rate=20, burst=2)
        return lambda: shared
    return lambda: FleetBudget(new_link(request, links), rate=20, burst=2)


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


async def test_a_released_claim_can_be_claimed_again(store: StateStore) -> None:
    assert await store.claim("event:Ev1", 60)
    await store.release("event:Ev1")
    assert await store.claim("event:Ev1", 60)
    assert not await store.claim("event:Ev1", 60)
    await store.release("event:never-claimed")


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


async def test_a_batch_claims_each_key_and_stops_behind_a_refused_one(store: StateStore) -> None:
    # An alert: its event, then per code the message (seen) and the alert in its channel (repeat).
    batch = [
        Claim("event:Ev1", 60),
        Claim("seen:C1:1.0:15011", 60, after=0),
        Claim("repeat:C1:abc:15011", 60, after=1),
        Claim("seen:C1:1.0:15005", 60, after=0),
        Claim("repeat:C1:abc:15005", 60, after=3),
    ]
    assert await store.claim_each(batch) == [True] * 5
    assert await store.claim_each(batch) == [False] * 5  # a redelivery: nothing behind the event is tried
    assert await store.claim("seen:C1:2.0:15011", 60)
    # A new event for a message already read: its repeat key is not tried, so it stays free.
    again = [Claim("event:Ev2", 60), Claim("seen:C1:2.0:15011", 60, after=0), Claim("repeat:C1:def:15011", 60, after=1)]
    assert await store.claim_each(again) == [True, False, False]
    assert await store.claim("repeat:C1:def:15011", 60)
    assert await store.claim_each([]) == []


async def test_of_concurrent_batches_behind_one_key_exactly_one_proceeds(store: StateStore) -> None:
    batch = [Claim("event:Ev1", 60), Claim("seen:C1:1.0:15011", 60, after=0)]
    results = await asyncio.gather(*(store.claim_each(batch) for _ in range(30)))
    assert results.count([True, True]) == 1
    assert results.count([False, False]) == 29


@pytest.mark.parametrize(
    "batch",
    [
        [Claim("event:Ev1", 60, after=0)],
        [Claim("event:Ev1", 60), Claim("seen:C1:1.0:15011", 60, after=2), Claim("x", 60)],
        [Claim("event:Ev1", 60), Claim("seen:C1:1.0:15011", 60, after=-1)],
        [Claim("event:Ev1", 60), Claim("seen:C1:1.0:15011", 0, after=0)],
    ],
)
async def test_a_batch_no_store_could_honour_is_refused_whole(store: StateStore, batch: list[Claim]) -> None:
    with pytest.raises(ValueError, match=r"ttl|earlier claim"):
        await store.claim_each(batch)
    assert await store.claim("event:Ev1", 60)  # nothing was claimed


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


def found_message(status: str = "delivery_failed") -> FoundMessage:
    message = Message.model_validate(sample_message(MSG, CH, status=status))
    return FoundMessage(message=message, channel_id=CH, from_cache=False, platform="sms")


async def test_a_cached_message_comes_back_whole(cache: MessageCache) -> None:
    assert await cache.get(WS, MSG) is None
    found = found_message()
    await cache.put(WS, MSG, found, 60)
    cached = await cache.get(WS, MSG)
    assert cached is not None
    assert cached.message == found.message
    assert (cached.channel_id, cached.platform) == (CH, "sms")
    assert await cache.get(WS, CH) is None


async def test_a_cached_message_expires_but_where_it_was_stays(cache: MessageCache) -> None:
    await cache.put(WS, MSG, found_message("sending"), 0.2)
    await asyncio.sleep(0.35)
    assert await cache.get(WS, MSG) is None
    assert await cache.channel_of(WS, MSG) == CH
    await cache.forget_channel(WS, MSG)
    assert await cache.channel_of(WS, MSG) is None


async def test_the_budget_allows_a_burst_then_paces_every_replica_together(budgets: Callable[[], Budget]) -> None:
    replicas = [budgets() for _ in range(3)]
    started = time.monotonic()
    await asyncio.gather(*(replica.acquire(WS) for replica in replicas))  # 3 at once: 2 of burst, 1 paced
    burst_done = time.monotonic() - started
    await asyncio.gather(*(replica.acquire(WS) for replica in replicas for _ in range(3)))  # 9 more
    elapsed = time.monotonic() - started
    # 12 requests at 20/s with a burst of 2: the last may go at (12 - 2) / 20 = 0.5 s, not before.
    assert burst_done >= 0.04  # the lower bounds are the budget; the upper ones only catch a hang
    assert 0.45 <= elapsed < 5.0
    other = budgets()
    started = time.monotonic()
    await other.acquire("7d4e2b1a-0c9f-4e8d-b7a6-5f4e3d2c1b0a")  # another workspace has its own budget
    assert time.monotonic() - started < 0.5

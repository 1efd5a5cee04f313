"""The alert store's contract, in memory and on a real Redis: atomic updates, deduplication, the queue."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from bot.alerting.redis_store import RedisAlertStore, RedisFailureQueue
from bot.alerting.store import AlertStore, DedupWindow, MemoryAlertStore, MemoryFailureQueue, RecentKeys
from bot.redis_connection import RedisLink
from catalog.failure_groups import DigestState, FailureFact, GroupState
from tests.redis_server import RedisServer

FACT = FailureFact(
    workspace_id="ws",
    bird_channel="ch",
    platform="sms",
    status="delivery_failed",
    message_id="m",
    code=15005,
    source="sms-messagebird",
    platform_code="1",
    reason="unknown subscriber",
    at=1_772_445_600.0,
)


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest, redis_prefix: str) -> AsyncIterator[AlertStore]:
    if request.param == "memory":
        yield MemoryAlertStore()
        return
    server: RedisServer = request.getfixturevalue("redis_server")
    link = RedisLink(server.url, redis_prefix, timeout=5.0)
    yield RedisAlertStore(link)
    await link.aclose()


def add_one(state: GroupState | None) -> tuple[GroupState, int]:
    state = state or GroupState.for_fact(FACT, "C1")
    state.add(replace(FACT, message_id=str(state.total)))
    return state, state.total


async def test_concurrent_updates_are_never_lost(store: AlertStore) -> None:
    results = await asyncio.gather(*(store.update(GroupState, "g1", add_one) for _ in range(30)))
    assert sorted(results) == list(range(1, 31))
    state = await store.read(GroupState, "g1")
    assert state is not None
    assert state.total == 30
    assert await store.keys(GroupState) == ["g1"]
    assert await store.keys(DigestState) == []


async def test_a_change_returning_none_deletes(store: AlertStore) -> None:
    await store.update(GroupState, "g1", add_one)
    await store.update(GroupState, "g1", lambda state: (None, None))
    assert await store.read(GroupState, "g1") is None
    assert await store.keys(GroupState) == []


async def test_first_seen_claims_each_key_once(store: AlertStore) -> None:
    assert await store.first_seen(["a", "b", "a"], 60, FACT.at) == [True, True, False]
    assert await store.first_seen(["b", "c"], 60, FACT.at) == [False, True]
    assert await store.first_seen([], 60, FACT.at) == []


def test_the_dedup_window_forgets_after_its_time_to_live() -> None:
    window = DedupWindow()
    assert window.first_seen("k", 7200, 0)
    assert not window.first_seen("k", 7200, 7199)
    assert window.first_seen("k", 7200, 3 * 3600 + 1)
    assert len(window) == 1


def test_recent_request_ids_are_bounded_by_count() -> None:
    recent = RecentKeys(3)
    assert [recent.first_seen(k) for k in ("a", "b", "a", "c", "d")] == [True, True, False, True, True]
    assert recent.first_seen("a")  # pushed out by c and d
    assert not recent.first_seen("d")


async def test_the_memory_queue_hands_out_batches_in_order() -> None:
    queue = MemoryFailureQueue()
    for n in range(5):
        await queue.put(replace(FACT, message_id=str(n)))
    assert [f.message_id for f in await queue.take(3)] == ["0", "1", "2"]
    assert await queue.size() == 2
    waiter = asyncio.create_task(queue.take(10))
    assert [f.message_id for f in await waiter] == ["3", "4"]


async def test_the_redis_queue_gives_each_failure_to_one_consumer_and_keeps_unacknowledged_ones(
    redis_server: RedisServer, redis_prefix: str
) -> None:
    link = RedisLink(redis_server.url, redis_prefix, timeout=5.0)
    try:
        first, second = RedisFailureQueue(link, consumer="one"), RedisFailureQueue(link, consumer="two")
        for n in range(4):
            await first.put(replace(FACT, message_id=str(n)))
        taken_by_first = await first.take(2)
        taken_by_second = await second.take(10)
        assert [f.message_id for f in taken_by_first + taken_by_second] == ["0", "1", "2", "3"]
        assert taken_by_first[0] == replace(FACT, message_id="0")
        await second.done()
        assert await first.size() == 2  # read by "one" but not acknowledged: still owed
        await first.done()
        assert await first.size() == 0
    finally:
        await link.aclose()

"""bot.state: claims, mutes, expiry and the size bound of the in-memory store."""

from __future__ import annotations

import asyncio

import pytest

from bot.state import MemoryStateStore, Mute
from handlers.deps import StateStore


class FakeClock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(clock: FakeClock) -> MemoryStateStore:
    return MemoryStateStore(clock=clock)


def test_satisfies_the_protocol(store: MemoryStateStore) -> None:
    usable: StateStore = store  # checked by mypy when tests are type-checked
    assert usable is store


class TestClaim:
    async def test_first_claim_wins(self, store: MemoryStateStore) -> None:
        assert await store.claim("event:Ev1", ttl=600)
        assert not await store.claim("event:Ev1", ttl=600)
        assert await store.claim("event:Ev2", ttl=600)

    async def test_claim_expires_after_ttl(self, store: MemoryStateStore, clock: FakeClock) -> None:
        assert await store.claim("reply:C1:1.0:15011", ttl=60)
        clock.now += 59.9
        assert not await store.claim("reply:C1:1.0:15011", ttl=60)
        clock.now += 0.1
        assert await store.claim("reply:C1:1.0:15011", ttl=60)

    async def test_a_refused_claim_does_not_extend_the_first(self, store: MemoryStateStore, clock: FakeClock) -> None:
        assert await store.claim("k", ttl=10)
        clock.now += 5
        assert not await store.claim("k", ttl=100)
        clock.now += 5
        assert await store.claim("k", ttl=10)

    async def test_concurrent_claims_have_one_winner(self, store: MemoryStateStore) -> None:
        results = await asyncio.gather(*(store.claim("same", ttl=60) for _ in range(50)))
        assert results.count(True) == 1

    @pytest.mark.parametrize("ttl", [0, -1])
    async def test_ttl_must_be_positive(self, store: MemoryStateStore, ttl: float) -> None:
        with pytest.raises(ValueError, match="ttl"):
            await store.claim("k", ttl=ttl)


class TestMute:
    async def test_set_and_get(self, store: MemoryStateStore, clock: FakeClock) -> None:
        await store.set_mute("C1", "15011", until=clock.now + 3600, by="U1")
        assert await store.get_mute("C1", "15011") == Mute("C1", "15011", clock.now + 3600, "U1")
        assert await store.get_mute("C1", "14001") is None
        assert await store.get_mute("C2", "15011") is None

    async def test_mute_expires(self, store: MemoryStateStore, clock: FakeClock) -> None:
        await store.set_mute("C1", "15011", until=clock.now + 60, by="U1")
        clock.now += 59
        assert await store.get_mute("C1", "15011") is not None
        clock.now += 1
        assert await store.get_mute("C1", "15011") is None

    async def test_later_mute_replaces_earlier(self, store: MemoryStateStore, clock: FakeClock) -> None:
        await store.set_mute("C1", "15011", until=clock.now + 60, by="U1")
        await store.set_mute("C1", "15011", until=clock.now + 7200, by="U2")
        clock.now += 120
        assert await store.get_mute("C1", "15011") == Mute("C1", "15011", clock.now - 120 + 7200, "U2")

    async def test_until_in_the_past_lifts_the_mute(self, store: MemoryStateStore, clock: FakeClock) -> None:
        await store.set_mute("C1", "15011", until=clock.now + 60, by="U1")
        await store.set_mute("C1", "15011", until=clock.now, by="U2")
        assert await store.get_mute("C1", "15011") is None

    async def test_mutes_and_claims_do_not_collide(self, store: MemoryStateStore, clock: FakeClock) -> None:
        await store.set_mute("C1", "15011", until=clock.now + 60, by="U1")
        assert await store.claim("C1", ttl=60)
        assert await store.get_mute("C1", "15011") is not None


class TestBoundedSize:
    async def test_a_full_store_sheds_new_claims_and_never_evicts_live_ones(
        self, clock: FakeClock, caplog: pytest.LogCaptureFixture
    ) -> None:
        store = MemoryStateStore(max_claims=3, clock=clock)
        for key in "abc":
            assert await store.claim(key, ttl=60)
        assert not await store.claim("d", ttl=60)  # shed: no room without evicting a live claim
        assert not await store.claim("a", ttl=60)  # still held
        assert store.shed == 1
        assert any("shed" in r.getMessage() for r in caplog.records)
        clock.now += 61
        assert await store.claim("d", ttl=60)  # room again once claims expire

    async def test_expired_claims_go_before_live_ones(self, clock: FakeClock) -> None:
        store = MemoryStateStore(max_claims=3, clock=clock)
        assert await store.claim("long", ttl=600)
        assert await store.claim("short", ttl=1)
        assert await store.claim("b", ttl=600)
        clock.now += 2
        assert await store.claim("c", ttl=600)
        assert not await store.claim("long", ttl=600)

    async def test_many_keys_stay_within_the_bound(self, clock: FakeClock) -> None:
        store = MemoryStateStore(max_claims=1_000, max_mutes=10, clock=clock)
        for i in range(5_000):
            await store.claim(f"k{i}", ttl=60)
            await store.claim(f"seen:C{i % 7}:{i}:15011", ttl=60)
            await store.set_mute(f"C{i}", "15011", until=clock.now + 60, by="U1")
        assert len(store) <= 2_010

    async def test_a_claim_flood_does_not_evict_mutes(self, clock: FakeClock) -> None:
        store = MemoryStateStore(max_claims=10, clock=clock)
        await store.set_mute("C1", "15011", until=clock.now + 60, by="U1")
        for i in range(100):
            await store.claim(f"k{i}", ttl=60)
        assert await store.get_mute("C1", "15011") is not None


async def test_a_released_claim_can_be_claimed_again(store: MemoryStateStore) -> None:
    assert await store.claim("event:Ev1", 60)
    assert not await store.claim("event:Ev1", 60)

    await store.release("event:Ev1")
    await store.release("event:never-claimed")  # nothing to forget is fine

    assert await store.claim("event:Ev1", 60)


async def test_a_released_claim_frees_its_room(clock: FakeClock) -> None:
    store = MemoryStateStore(max_claims=2, max_claims_per_channel=1, clock=clock)
    assert await store.claim("seen:C0:1:15011", ttl=600)
    assert not await store.claim("seen:C0:2:15011", ttl=600)  # the channel's share is full

    await store.release("seen:C0:1:15011")

    assert await store.claim("seen:C0:2:15011", ttl=600)


class TestExactlyOnceUnderPressure:
    async def test_a_flood_in_other_channels_cannot_evict_an_event_claim(self, clock: FakeClock) -> None:
        store = MemoryStateStore(max_claims=1_000, max_claims_per_channel=100, clock=clock)
        assert await store.claim("event:Ev0REDELIVER", ttl=3600)
        assert await store.claim("seen:C0QUIET:1700000000.000100:15011", ttl=3600)
        for i in range(10_000):
            await store.claim(f"seen:C0FLOOD{i % 50}:{i}:15011", ttl=3600)
            await store.claim(f"event:Ev{i:08d}", ttl=3600)
        # Slack redelivers the first event within the hour: it is still claimed.
        assert not await store.claim("event:Ev0REDELIVER", ttl=3600)
        assert not await store.claim("seen:C0QUIET:1700000000.000100:15011", ttl=3600)

    async def test_a_flood_in_one_channel_leaves_room_for_the_others(self, clock: FakeClock) -> None:
        store = MemoryStateStore(max_claims=1_000, max_claims_per_channel=100, clock=clock)
        for i in range(500):
            await store.claim(f"seen:C0FLOOD:{i}:15011", ttl=3600)
        assert not await store.claim("seen:C0FLOOD:new:15011", ttl=3600)  # only the flooding channel sheds
        assert await store.claim("seen:C0QUIET:1700000000.000100:15011", ttl=3600)

    async def test_expired_claims_make_room_in_expiry_order(self, clock: FakeClock) -> None:
        store = MemoryStateStore(max_claims=2, clock=clock)
        assert await store.claim("event:short", ttl=1)
        assert await store.claim("event:long", ttl=600)
        clock.now += 2
        assert await store.claim("event:new", ttl=600)
        assert await store.claim("event:short", ttl=1) is False  # full of live claims again
        assert not await store.claim("event:long", ttl=600)

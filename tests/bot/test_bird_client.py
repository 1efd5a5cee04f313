"""BirdClient against a real HTTP server that fakes Bird; sleeps and clocks are injected to stay fast."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from bot.bird import BirdClient, BirdError, RequestBudget
from tests.fakes.fake_bird import FakeBird, sample_message

WS = "2f1c6d1e-8a5b-4c1e-9a43-0c6c1c5b7e01"
KEY = "sk_live_DO-NOT-LEAK-0123456789abcdef"

MakeClient = Callable[..., BirdClient]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Sleeps:
    """A sleep that returns at once, records each wait and (optionally) moves a fake clock on."""

    def __init__(self, clock: FakeClock | None = None) -> None:
        self.waits: list[float] = []
        self._clock = clock

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        if self._clock is not None:
            self._clock.advance(seconds)


def generous_budget() -> RequestBudget:
    return RequestBudget(rate=10_000, burst=10_000)


@pytest.fixture
async def bird() -> AsyncIterator[FakeBird]:
    async with FakeBird(access_key=KEY) as server:
        yield server


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def make_client(bird: FakeBird, sleeps: Sleeps) -> AsyncIterator[MakeClient]:
    """Builds clients for the fake (fast defaults, overridable) and closes them after the test."""
    clients: list[BirdClient] = []

    def make(**overrides: Any) -> BirdClient:
        options: dict[str, Any] = {
            "base_url": bird.url,
            "budget": generous_budget(),
            "sleep": sleeps,
            "rng": lambda: 1.0,
            "total_timeout": 5.0,
        }
        clients.append(BirdClient(**(options | overrides)))
        return clients[-1]

    yield make
    for made in clients:
        await made.aclose()


@pytest.fixture
def client(make_client: MakeClient) -> BirdClient:
    return make_client()


def add_message(bird: FakeBird, channel_id: str | None = None, **fields: Any) -> tuple[str, str]:
    """Store a message in a (new) channel; return (channel id, message id)."""
    channel_id = channel_id or bird.add_channel(WS)
    return channel_id, bird.add_message(WS, channel_id, sample_message(**fields))["id"]


async def bird_error(call: Any) -> BirdError:
    with pytest.raises(BirdError) as caught:
        await call
    return caught.value


# --- fetching with a channel ---


async def test_fetches_a_message_from_its_channel(bird: FakeBird, client: BirdClient) -> None:
    channel_id, message_id = add_message(bird, status="delivery_failed")

    found = await client.get_message(WS, KEY, message_id, channel_id)

    assert found.channel_id == channel_id
    assert not found.from_cache
    assert found.message.id == message_id
    assert found.message.status == "delivery_failed"
    assert found.message.failure is not None
    assert found.message.failure.code == 15005
    [request] = bird.request_log
    assert request.headers["Authorization"] == f"AccessKey {KEY}"
    assert request.headers["Accept"] == "application/json"
    assert request.headers["User-Agent"].startswith("birdwatch/")


async def test_ids_are_normalised_before_they_go_into_the_url(bird: FakeBird, client: BirdClient) -> None:
    channel_id, message_id = add_message(bird)

    await client.get_message(WS.upper(), KEY, "{" + message_id.upper() + "}", channel_id.replace("-", ""))

    assert bird.requests[bird.message_path(WS, channel_id, message_id)] == 1


@pytest.mark.parametrize("bad", ["not-a-uuid", "../../admin", "2f1c6d1e-8a5b-4c1e-9a43-0c6c1c5b7e01/x"])
async def test_an_id_that_is_not_a_uuid_is_a_bad_request_without_a_request(
    bird: FakeBird, client: BirdClient, bad: str
) -> None:
    error = await bird_error(client.get_message(WS, KEY, bad))

    assert error.kind == "bad_request"
    assert bird.count() == 0


# --- searching the channels ---


async def test_search_follows_pagination_and_finds_the_message_in_page_two(bird: FakeBird, client: BirdClient) -> None:
    bird.page_size = 5
    channels = bird.add_channels(WS, 8)
    _, message_id = add_message(bird, channels[7])  # the 3rd channel of page 2

    found = await client.get_message(WS, KEY, message_id)

    assert found.channel_id == channels[7]
    listings = [r for r in bird.request_log if r.path == bird.channels_path(WS)]
    assert [r.query.get("limit") for r in listings] == ["100", "100"]
    assert "pageToken" not in listings[0].query
    assert listings[1].query["pageToken"]


async def test_search_remembers_the_channel_that_held_the_message(bird: FakeBird, client: BirdClient) -> None:
    channels = bird.add_channels(WS, 6)
    _, message_id = add_message(bird, channels[5])
    await client.get_message(WS, KEY, message_id)
    bird.reset_counts()

    await client.get_message(WS, KEY, message_id, fresh=True)

    assert bird.count() == 1
    assert bird.requests[bird.message_path(WS, channels[5], message_id)] == 1


async def test_search_stops_at_the_first_hit(bird: FakeBird, make_client: MakeClient) -> None:
    channels = bird.add_channels(WS, 10)
    _, message_id = add_message(bird, channels[0])

    await make_client(search_concurrency=1).get_message(WS, KEY, message_id)

    assert bird.count("/messages/") == 1


async def test_search_concurrency_is_bounded(bird: FakeBird, make_client: MakeClient) -> None:
    bird.add_channels(WS, 12)
    bird.latency = 0.02

    error = await bird_error(make_client(search_concurrency=3).get_message(WS, KEY, sample_message()["id"]))

    assert error.kind == "not_found"
    assert bird.count("/messages/") == 12
    assert bird.peak_active <= 3


async def test_search_ignores_404s_but_reports_other_failures(bird: FakeBird, client: BirdClient) -> None:
    channels = bird.add_channels(WS, 4)
    bird.fail_next(403, path_contains=f"{channels[2]}/messages")

    error = await bird_error(client.get_message(WS, KEY, sample_message()["id"]))

    assert error.kind == "forbidden"  # "not found" would be a guess: one channel could not be searched


async def test_search_finds_the_message_despite_a_failing_channel(bird: FakeBird, client: BirdClient) -> None:
    channels = bird.add_channels(WS, 4)
    _, message_id = add_message(bird, channels[3])
    bird.fail_next(403, path_contains=f"{channels[0]}/messages")

    assert (await client.get_message(WS, KEY, message_id)).channel_id == channels[3]


async def test_search_looks_at_channels_created_after_the_list_was_cached(bird: FakeBird, client: BirdClient) -> None:
    bird.add_channels(WS, 2)
    await client.list_channels(WS, KEY)
    new_channel, message_id = add_message(bird)

    found = await client.get_message(WS, KEY, message_id)

    assert found.channel_id == new_channel
    assert bird.requests[bird.channels_path(WS)] == 2


async def test_search_with_a_rejected_key_is_unauthorized(bird: FakeBird, client: BirdClient) -> None:
    bird.add_channels(WS, 3)

    error = await bird_error(client.get_message(WS, "wrong-key", sample_message()["id"]))

    assert (error.kind, error.status) == ("unauthorized", 401)
    assert bird.count("/messages/") == 0


async def test_list_channels_follows_pages_and_is_cached(bird: FakeBird, client: BirdClient) -> None:
    bird.page_size = 5
    created = bird.add_channels(WS, 12)

    channels = await client.list_channels(WS, KEY)
    again = await client.list_channels(WS, KEY)

    assert [c.id for c in channels] == created == [c.id for c in again]
    assert channels[0].platform_id == "sms-messagebird"
    assert bird.requests[bird.channels_path(WS)] == 3


async def test_concurrent_requests_are_bounded_by_max_connections(bird: FakeBird, make_client: MakeClient) -> None:
    channel_id = bird.add_channel(WS)
    message_ids = [add_message(bird, channel_id)[1] for _ in range(6)]
    bird.latency = 0.03
    client = make_client(max_connections=2)

    results = await asyncio.gather(*(client.get_message(WS, KEY, m, channel_id) for m in message_ids))

    assert [r.message.id for r in results] == message_ids
    assert bird.peak_active == 2


# --- single flight and cache ---


async def test_concurrent_lookups_share_one_upstream_request(bird: FakeBird, client: BirdClient) -> None:
    channel_id, message_id = add_message(bird)
    bird.latency = 0.1

    results = await asyncio.gather(*(client.get_message(WS, KEY, message_id, channel_id) for _ in range(20)))

    assert bird.count() == 1
    assert {r.message.id for r in results} == {message_id}


async def test_a_cancelled_waiter_does_not_cancel_the_shared_request(bird: FakeBird, client: BirdClient) -> None:
    channel_id, message_id = add_message(bird)
    bird.latency = 0.1
    impatient = asyncio.create_task(client.get_message(WS, KEY, message_id, channel_id))
    patient = asyncio.create_task(client.get_message(WS, KEY, message_id, channel_id))
    await asyncio.sleep(0.02)

    impatient.cancel()

    assert (await patient).message.id == message_id
    assert impatient.cancelled()
    assert bird.count() == 1


async def test_a_shared_failure_reaches_every_waiter_and_is_not_cached(bird: FakeBird, client: BirdClient) -> None:
    channel_id, message_id = add_message(bird)
    bird.latency = 0.05
    bird.fail_next(403)

    results = await asyncio.gather(
        *(client.get_message(WS, KEY, message_id, channel_id) for _ in range(5)), return_exceptions=True
    )

    assert all(isinstance(r, BirdError) and r.kind == "forbidden" for r in results)
    assert bird.count() == 1
    assert (await client.get_message(WS, KEY, message_id, channel_id)).message.id == message_id


@pytest.mark.parametrize(
    ("status", "ttl"),
    [("sent", 15), ("accepted", 15), ("delivered", 600), ("delivery_failed", 600), ("sending_failed", 600)],
)
async def test_cache_keeps_final_statuses_longer(
    bird: FakeBird, make_client: MakeClient, status: str, ttl: int
) -> None:
    clock = FakeClock()
    client = make_client(clock=clock)
    channel_id, message_id = add_message(bird, status=status)
    await client.get_message(WS, KEY, message_id, channel_id)

    clock.advance(ttl - 1)
    cached = await client.get_message(WS, KEY, message_id, channel_id)
    clock.advance(2)
    refetched = await client.get_message(WS, KEY, message_id, channel_id)

    assert cached.from_cache
    assert not refetched.from_cache
    assert bird.count() == 2


async def test_fresh_bypasses_and_refreshes_the_cache(bird: FakeBird, client: BirdClient) -> None:
    channel_id, message_id = add_message(bird, status="sent")
    await client.get_message(WS, KEY, message_id, channel_id)
    bird.add_message(WS, channel_id, sample_message(message_id, status="delivery_failed"))

    fresh = await client.get_message(WS, KEY, message_id, channel_id, fresh=True)
    cached = await client.get_message(WS, KEY, message_id, channel_id)

    assert (fresh.from_cache, fresh.message.status) == (False, "delivery_failed")
    assert (cached.from_cache, cached.message.status) == (True, "delivery_failed")
    assert bird.count() == 2


async def test_a_search_result_is_cached_too(bird: FakeBird, client: BirdClient) -> None:
    bird.add_channels(WS, 3)
    _, message_id = add_message(bird)
    await client.get_message(WS, KEY, message_id)
    bird.reset_counts()

    assert (await client.get_message(WS, KEY, message_id)).from_cache
    assert bird.count() == 0


# --- errors and retries ---


@pytest.mark.parametrize(
    ("status", "kind"), [(401, "unauthorized"), (403, "forbidden"), (404, "not_found"), (400, "bad_request")]
)
async def test_client_errors_are_mapped_and_not_retried(
    bird: FakeBird, client: BirdClient, sleeps: Sleeps, status: int, kind: str
) -> None:
    channel_id, message_id = add_message(bird)
    bird.fail_next(status, times=5)

    error = await bird_error(client.get_message(WS, KEY, message_id, channel_id))

    assert (error.kind, error.status) == (kind, status)
    assert bird.count() == 1
    assert sleeps.waits == []


async def test_error_detail_comes_from_birds_error_body(bird: FakeBird, client: BirdClient) -> None:
    channel_id = bird.add_channel(WS)

    error = await bird_error(client.get_message(WS, KEY, sample_message()["id"], channel_id))

    assert error.detail == "NotFound: The resource specified in the URL was not found"
    assert str(error).startswith("Bird API: ")
    assert str(error).endswith(f"(HTTP 404): {error.detail}")


async def test_error_detail_is_cut_to_300_characters(bird: FakeBird, client: BirdClient) -> None:
    channel_id, message_id = add_message(bird)
    bird.fail_next(422, body={"code": "InvalidPayload", "message": "x" * 1000, "details": {}})

    error = await bird_error(client.get_message(WS, KEY, message_id, channel_id))

    assert error.kind == "bad_request"
    assert error.detail is not None
    assert len(error.detail) == 300


async def test_429_honours_retry_after(bird: FakeBird, client: BirdClient, sleeps: Sleeps) -> None:
    channel_id, message_id = add_message(bird)
    bird.fail_next(429, retry_after=2)

    found = await client.get_message(WS, KEY, message_id, channel_id)

    assert found.message.id == message_id
    assert sleeps.waits == [2.0]
    assert bird.count() == 2


@pytest.mark.parametrize("retry_after", [None, "soon", "-3", "nan"])
async def test_429_without_a_usable_retry_after_backs_off_with_jitter(
    bird: FakeBird, make_client: MakeClient, sleeps: Sleeps, retry_after: str | None
) -> None:
    channel_id, message_id = add_message(bird)
    bird.fail_next(429, times=2, retry_after=retry_after)

    await make_client(rng=lambda: 0.5).get_message(WS, KEY, message_id, channel_id)

    assert sleeps.waits == [0.125, 0.25]  # half (the jitter) of 0.25 s, then of 0.5 s


async def test_a_retry_after_beyond_the_time_budget_gives_up_at_once(
    bird: FakeBird, client: BirdClient, sleeps: Sleeps
) -> None:
    channel_id, message_id = add_message(bird)
    bird.fail_next(429, retry_after=60)

    error = await bird_error(client.get_message(WS, KEY, message_id, channel_id))

    assert (error.kind, error.status) == ("rate_limited", 429)
    assert sleeps.waits == []
    assert bird.count() == 1


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_retried_with_exponential_backoff(
    bird: FakeBird, client: BirdClient, sleeps: Sleeps, status: int
) -> None:
    channel_id, message_id = add_message(bird)
    bird.fail_next(status, times=2)

    found = await client.get_message(WS, KEY, message_id, channel_id)

    assert found.message.id == message_id
    assert sleeps.waits == [0.25, 0.5]
    assert bird.count() == 3


async def test_retries_exhausted_is_unavailable(bird: FakeBird, make_client: MakeClient, sleeps: Sleeps) -> None:
    channel_id, message_id = add_message(bird)
    bird.fail_next(503, times=10)

    error = await bird_error(make_client(max_attempts=4).get_message(WS, KEY, message_id, channel_id))

    assert (error.kind, error.status) == ("unavailable", 503)
    assert bird.count() == 4
    assert sleeps.waits == [0.25, 0.5, 1.0]


async def test_backoff_is_capped(bird: FakeBird, make_client: MakeClient, sleeps: Sleeps) -> None:
    channel_id, message_id = add_message(bird)
    bird.fail_next(500, times=10)

    await bird_error(make_client(max_attempts=7).get_message(WS, KEY, message_id, channel_id))

    assert sleeps.waits == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]


async def test_a_refused_connection_is_retried_then_unavailable(make_client: MakeClient, sleeps: Sleeps) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]  # nothing listens once the socket is closed

    client = make_client(base_url=f"http://127.0.0.1:{closed_port}", max_attempts=3)
    error = await bird_error(client.get_message(WS, KEY, sample_message()["id"], sample_message()["id"]))

    assert error.kind == "unavailable"
    assert len(sleeps.waits) == 2


async def test_a_hung_connection_times_out_within_the_total_budget(bird: FakeBird, make_client: MakeClient) -> None:
    channel_id, message_id = add_message(bird)
    bird.hang_next(times=100)
    started = time.monotonic()

    error = await bird_error(make_client(total_timeout=0.3).get_message(WS, KEY, message_id, channel_id))

    assert error.kind == "timeout"
    assert time.monotonic() - started < 1.0


async def test_a_read_timeout_is_retried(bird: FakeBird, make_client: MakeClient, sleeps: Sleeps) -> None:
    channel_id, message_id = add_message(bird)
    bird.hang_next()
    async with httpx.AsyncClient(timeout=httpx.Timeout(0.1)) as http:
        found = await make_client(http=http).get_message(WS, KEY, message_id, channel_id)

    assert found.message.id == message_id
    assert bird.count() == 2
    assert len(sleeps.waits) == 1


async def test_read_timeouts_exhausting_the_retries_are_a_timeout(bird: FakeBird, make_client: MakeClient) -> None:
    channel_id, message_id = add_message(bird)
    bird.hang_next(times=100)
    async with httpx.AsyncClient(timeout=httpx.Timeout(0.05)) as http:
        client = make_client(http=http, max_attempts=2)
        error = await bird_error(client.get_message(WS, KEY, message_id, channel_id))

    assert error.kind == "timeout"
    assert bird.count() == 2


async def test_malformed_json_is_malformed_and_not_retried(bird: FakeBird, client: BirdClient) -> None:
    channel_id, message_id = add_message(bird)
    bird.malformed_next()

    error = await bird_error(client.get_message(WS, KEY, message_id, channel_id))

    assert error.kind == "malformed"
    assert bird.count() == 1


async def test_a_body_that_is_not_a_message_is_malformed_without_echoing_it(bird: FakeBird, client: BirdClient) -> None:
    channel_id, message_id = add_message(bird)
    bird.fail_next(200, body={"status": "delivered", "receiver": "+31600000000"})

    error = await bird_error(client.get_message(WS, KEY, message_id, channel_id))

    assert error.kind == "malformed"
    assert error.detail is not None
    assert "id" in error.detail
    assert "+31600000000" not in str(error)


# --- request budget ---


async def test_budget_allows_a_burst_then_paces_requests() -> None:
    clock = FakeClock()
    sleeps = Sleeps(clock)
    budget = RequestBudget(rate=5, burst=5, clock=clock, sleep=sleeps)
    start = clock.now

    for _ in range(10):
        await budget.acquire(WS)

    assert sleeps.waits == pytest.approx([0.2] * 5)
    assert clock.now - start == pytest.approx(1.0)


async def test_budget_gives_concurrent_waiters_successive_slots() -> None:
    clock = FakeClock()
    sleeps = Sleeps()  # the clock stands still: every waiter reserves the next free slot
    budget = RequestBudget(rate=5, burst=2, clock=clock, sleep=sleeps)

    await asyncio.gather(*(budget.acquire(WS) for _ in range(5)))

    assert sorted(sleeps.waits) == pytest.approx([0.2, 0.4, 0.6])


async def test_budget_is_per_workspace() -> None:
    sleeps = Sleeps()
    budget = RequestBudget(rate=5, burst=1, clock=FakeClock(), sleep=sleeps)

    await budget.acquire("a")
    await budget.acquire("b")

    assert sleeps.waits == []


async def test_budget_refunds_a_cancelled_wait() -> None:
    clock = FakeClock()
    never = asyncio.Event()

    async def blocking_sleep(seconds: float) -> None:
        await never.wait()

    budget = RequestBudget(rate=5, burst=1, clock=clock, sleep=blocking_sleep)
    await budget.acquire(WS)
    waiter = asyncio.create_task(budget.acquire(WS))
    await asyncio.sleep(0)
    waiter.cancel()
    await asyncio.gather(waiter, return_exceptions=True)
    clock.advance(0.2)

    await asyncio.wait_for(budget.acquire(WS), 1)  # a token is free again: no wait


async def test_budget_tracks_a_bounded_number_of_workspaces() -> None:
    budget = RequestBudget(rate=5, burst=5, clock=FakeClock(), sleep=Sleeps())  # the clock stands still

    for n in range(5000):
        await budget.acquire(f"00000000-0000-4000-8000-{n:012d}")

    assert len(budget._buckets) <= 1024


async def test_budget_forgets_a_bucket_only_once_it_has_refilled() -> None:
    clock = FakeClock()
    sleeps = Sleeps()
    budget = RequestBudget(rate=5, burst=1, clock=clock, sleep=sleeps)
    for _ in range(3):
        await budget.acquire(WS)  # two tokens in debt: full again after 0.6 s

    clock.advance(0.5)
    await budget.acquire("other")  # expires whatever is full
    await budget.acquire(WS)
    assert sleeps.waits == pytest.approx([0.2, 0.4, 0.1])  # the debt was remembered, not a fresh bucket

    clock.advance(5)
    await budget.acquire("other")
    assert list(budget._buckets) == ["other"]


async def test_every_attempt_spends_from_the_budget(bird: FakeBird, make_client: MakeClient) -> None:
    clock = FakeClock()
    sleeps = Sleeps(clock)
    channel_id = bird.add_channel(WS)
    message_ids = [add_message(bird, channel_id)[1] for _ in range(8)]
    bird.fail_next(503, times=2)
    client = make_client(budget=RequestBudget(rate=5, burst=5, clock=clock, sleep=sleeps), sleep=sleeps)
    start = clock.now

    for message_id in message_ids:
        await client.get_message(WS, KEY, message_id, channel_id)

    assert bird.count() == 10
    assert clock.now - start >= (10 - 5) / 5  # 5 of the 10 requests waited for a token


# --- secrets and logs ---


async def test_the_access_key_never_appears_in_errors_or_logs(
    bird: FakeBird, client: BirdClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    channel_id, message_id = add_message(bird)
    bird.fail_next(503)
    await client.get_message(WS, KEY, message_id, channel_id)
    bird.fail_next(401, body={"code": "Unauthorized", "message": f"access key {KEY} is not valid"})

    error = await bird_error(client.get_message(WS, KEY, sample_message()["id"], channel_id))

    assert KEY not in str(error)
    assert KEY not in repr(error)
    assert error.detail == "Unauthorized: access key [redacted] is not valid"
    assert caplog.records
    assert all(KEY not in record.getMessage() and KEY not in str(vars(record)) for record in caplog.records)
    assert "123456" not in caplog.text  # nor the message body


async def test_one_log_line_per_upstream_request(
    bird: FakeBird, client: BirdClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="birdwatch.bird")
    channel_id, message_id = add_message(bird)
    bird.fail_next(500)

    await client.get_message(WS, KEY, message_id, channel_id)

    records = [r for r in caplog.records if r.name == "birdwatch.bird"]
    path = bird.message_path(WS, channel_id, message_id)
    assert [(r.http_status, r.attempt, r.http_path) for r in records] == [(500, 1, path), (200, 2, path)]  # type: ignore[attr-defined]
    assert all(isinstance(r.elapsed_ms, int) for r in records)  # type: ignore[attr-defined]
    assert f"GET {path} -> 200 (attempt 2" in records[1].getMessage()

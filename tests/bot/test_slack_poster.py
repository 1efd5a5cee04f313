"""bot.slack_poster: per-channel pacing, retries, and loud give-ups, on virtual time."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from collections.abc import Awaitable
from typing import Any, TypeVar

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.slack_poster import MAX_RETRY_AFTER, ChannelPoster

T = TypeVar("T")
SECRET = "text that must never reach the logs"


class VirtualTime:
    """A clock and sleep where time jumps ahead whenever every task is waiting on a timer."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self._timers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._timers, (self.now + seconds, next(self._order), future))
        await future

    async def run(self, awaitable: Awaitable[T]) -> T:
        task = asyncio.ensure_future(awaitable)
        while not task.done():
            for _ in range(20):  # let every runnable task reach its next wait
                await asyncio.sleep(0)
            if self._timers and not task.done():
                at, _, future = heapq.heappop(self._timers)
                self.now = max(self.now, at)
                if not future.done():
                    future.set_result(None)
        return task.result()


def slack_error(error: str, *, status: int = 200, headers: dict[str, str] | None = None) -> SlackApiError:
    response = AsyncSlackResponse(
        client=None,
        http_verb="POST",
        api_url="https://slack.com/api/chat.postMessage",
        req_args={},
        data={"ok": False, "error": error},
        headers=headers or {},
        status_code=status,
    )
    return SlackApiError(error, response)  # type: ignore[no-untyped-call]


def rate_limited(retry_after: str | None = "2") -> SlackApiError:
    return slack_error("ratelimited", status=429, headers={} if retry_after is None else {"Retry-After": retry_after})


class StubClient:
    """Records each chat_postMessage with the time it was made; fails as scripted per channel."""

    def __init__(self, time: VirtualTime) -> None:
        self.time = time
        self.calls: list[tuple[float, dict[str, Any]]] = []
        self.failures: dict[str, list[BaseException]] = {}

    async def chat_postMessage(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append((self.time.now, kwargs))
        script = self.failures.get(kwargs["channel"])
        if script:
            raise script.pop(0)
        await asyncio.sleep(0)
        return {"ok": True}

    def times(self, channel: str) -> list[float]:
        return [at for at, kwargs in self.calls if kwargs["channel"] == channel]


@pytest.fixture
def vtime() -> VirtualTime:
    return VirtualTime()


@pytest.fixture
def client(vtime: VirtualTime) -> StubClient:
    return StubClient(vtime)


@pytest.fixture
def poster(client: StubClient, vtime: VirtualTime) -> ChannelPoster:
    return ChannelPoster(client, sleep=vtime.sleep, clock=vtime.clock)  # type: ignore[arg-type]


def reply(channel: str = "C1", thread_ts: str = "1700000000.000100") -> dict[str, Any]:
    return {"channel": channel, "thread_ts": thread_ts, "text": SECRET, "blocks": []}


def abandoned(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno == logging.WARNING and "abandoned" in r.getMessage()]


class TestPacing:
    async def test_posts_in_one_channel_are_spaced(
        self, poster: ChannelPoster, client: StubClient, vtime: VirtualTime
    ) -> None:
        for ts in ("1.1", "1.2", "1.3"):
            poster.post(**reply(thread_ts=ts))
        await vtime.run(poster.drain())
        assert client.times("C1") == [0.0, 1.0, 2.0]
        assert [kwargs["thread_ts"] for _, kwargs in client.calls] == ["1.1", "1.2", "1.3"]

    async def test_channels_are_not_serialised_against_each_other(
        self, poster: ChannelPoster, client: StubClient, vtime: VirtualTime
    ) -> None:
        for _ in range(3):
            poster.post(**reply("CA"))
            poster.post(**reply("CB"))
        await vtime.run(poster.drain())
        assert client.times("CA") == [0.0, 1.0, 2.0]
        assert client.times("CB") == [0.0, 1.0, 2.0]
        assert vtime.now == 2.0

    async def test_spacing_holds_across_worker_lifetimes(
        self, poster: ChannelPoster, client: StubClient, vtime: VirtualTime
    ) -> None:
        poster.post(**reply())
        await vtime.run(poster.drain())
        poster.post(**reply())
        await vtime.run(poster.drain())
        assert client.times("C1") == [0.0, 1.0]

    async def test_an_idle_channel_posts_at_once(
        self, poster: ChannelPoster, client: StubClient, vtime: VirtualTime
    ) -> None:
        poster.post(**reply())
        await vtime.run(poster.drain())
        vtime.now = 10.0
        poster.post(**reply())
        await vtime.run(poster.drain())
        assert client.times("C1") == [0.0, 10.0]
        assert vtime.sleeps == []

    async def test_post_does_not_wait_and_sets_unfurl_defaults(self, poster: ChannelPoster, client: StubClient) -> None:
        poster.post(**reply())
        assert client.calls == []  # nothing sent until the worker runs
        await poster.drain()
        assert client.calls[0][1] == reply() | {"unfurl_links": False, "unfurl_media": False}

    def test_post_needs_a_channel(self, poster: ChannelPoster) -> None:
        with pytest.raises(ValueError, match="channel"):
            poster.post(text="x")


class TestRateLimit:
    async def test_waits_retry_after_and_retries(
        self, poster: ChannelPoster, client: StubClient, vtime: VirtualTime
    ) -> None:
        client.failures["C1"] = [rate_limited("2")]
        poster.post(**reply())
        await vtime.run(poster.drain())
        assert client.times("C1") == [0.0, 2.0]
        assert vtime.sleeps == [2.0]

    @pytest.mark.parametrize(("header", "wait"), [(None, 1.0), ("soon", 1.0), ("3600", MAX_RETRY_AFTER), ("0", 0.0)])
    async def test_retry_after_default_and_cap(
        self, poster: ChannelPoster, client: StubClient, vtime: VirtualTime, header: str | None, wait: float
    ) -> None:
        client.failures["C1"] = [rate_limited(header)]
        poster.post(**reply())
        await vtime.run(poster.drain())
        assert vtime.sleeps[0] == wait
        assert len(client.calls) == 2

    async def test_a_rate_limited_channel_does_not_hold_up_others(
        self, poster: ChannelPoster, client: StubClient, vtime: VirtualTime
    ) -> None:
        client.failures["CA"] = [rate_limited("30")]
        poster.post(**reply("CA"))
        poster.post(**reply("CB"))
        poster.post(**reply("CB"))
        await vtime.run(poster.drain())
        assert client.times("CB") == [0.0, 1.0]
        assert client.times("CA") == [0.0, 30.0]

    async def test_abandoned_after_max_attempts(
        self,
        poster: ChannelPoster,
        client: StubClient,
        vtime: VirtualTime,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        client.failures["C1"] = [rate_limited("2") for _ in range(10)]
        poster.post(**reply(thread_ts="1700000000.000100"))
        poster.post(**reply(thread_ts="1700000000.000200"))
        with caplog.at_level(logging.INFO, logger="birdwatch.poster"):
            await vtime.run(poster.drain())
        assert len(client.calls) == 8  # four attempts each
        records = abandoned(caplog)
        assert len(records) == 2
        message = records[0].getMessage()
        assert "channel=C1" in message
        assert "thread_ts=1700000000.000100" in message
        assert "ratelimited" in message
        assert "4 attempts" in message
        assert SECRET not in caplog.text


class TestOtherErrors:
    @pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel", "invalid_blocks", "msg_too_long"])
    async def test_permanent_error_is_logged_once_and_not_retried(
        self,
        poster: ChannelPoster,
        client: StubClient,
        vtime: VirtualTime,
        caplog: pytest.LogCaptureFixture,
        error: str,
    ) -> None:
        client.failures["C1"] = [slack_error(error)]
        poster.post(**reply())
        poster.post(**reply(thread_ts="2.0"))
        await vtime.run(poster.drain())
        assert len(client.calls) == 2  # the failed reply once, then the next one
        records = abandoned(caplog)
        assert len(records) == 1
        assert f"reason={error}" in records[0].getMessage()
        assert records[0].exc_info is None
        assert SECRET not in caplog.text

    @pytest.mark.parametrize(
        "failure",
        [
            slack_error("internal_error", status=500),
            slack_error("fatal_error"),
            aiohttp.ClientConnectionError("reset"),
            ConnectionResetError(),
            TimeoutError(),
        ],
    )
    async def test_transient_errors_are_retried_with_backoff(
        self, poster: ChannelPoster, client: StubClient, vtime: VirtualTime, failure: Exception
    ) -> None:
        client.failures["C1"] = [failure, failure]
        poster.post(**reply())
        await vtime.run(poster.drain())
        assert client.times("C1") == [0.0, 1.0, 3.0]
        assert vtime.sleeps == [1.0, 2.0]

    async def test_unexpected_error_is_logged_with_traceback_and_the_worker_goes_on(
        self,
        poster: ChannelPoster,
        client: StubClient,
        vtime: VirtualTime,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        client.failures["C1"] = [TypeError("bad argument")]
        poster.post(**reply())
        poster.post(**reply())
        await vtime.run(poster.drain())
        assert len(client.calls) == 2
        [record] = abandoned(caplog)
        assert "reason=TypeError" in record.getMessage()
        assert record.exc_info is not None


class TestQueueAndShutdown:
    async def test_full_queue_drops_the_new_post_loudly(
        self, client: StubClient, vtime: VirtualTime, caplog: pytest.LogCaptureFixture
    ) -> None:
        poster = ChannelPoster(client, max_queue=2, sleep=vtime.sleep, clock=vtime.clock)  # type: ignore[arg-type]
        for ts in ("1.1", "1.2", "1.3"):
            poster.post(**reply(thread_ts=ts))
        poster.post(**reply("C2"))  # other channels have their own queue
        await vtime.run(poster.drain())
        assert [kwargs["thread_ts"] for _, kwargs in client.calls if kwargs["channel"] == "C1"] == ["1.1", "1.2"]
        [record] = abandoned(caplog)
        assert "thread_ts=1.3" in record.getMessage()
        assert "queue full" in record.getMessage()

    async def test_drain_with_nothing_queued(self, poster: ChannelPoster) -> None:
        await asyncio.wait_for(poster.drain(), timeout=1)

    async def test_drain_includes_posts_made_while_draining(
        self, poster: ChannelPoster, client: StubClient, vtime: VirtualTime
    ) -> None:
        poster.post(**reply("CA"))

        async def post_later() -> None:
            await vtime.sleep(0.5)
            poster.post(**reply("CB"))

        await vtime.run(asyncio.gather(post_later(), poster.drain()))
        await vtime.run(poster.drain())
        assert sorted(kwargs["channel"] for _, kwargs in client.calls) == ["CA", "CB"]

    async def test_aclose_cancels_what_cannot_finish_and_says_so(self, caplog: pytest.LogCaptureFixture) -> None:
        class HangingClient:
            async def chat_postMessage(self, **kwargs: Any) -> None:
                await asyncio.Event().wait()

        poster = ChannelPoster(HangingClient())  # type: ignore[arg-type]
        poster.post(**reply())
        poster.post(**reply(thread_ts="2.0"))
        await poster.aclose(timeout=0.05)
        poster.post(**reply(thread_ts="3.0"))
        reasons = [r.getMessage() for r in abandoned(caplog)]
        assert len(reasons) == 3
        assert "poster stopped before posting" in reasons[0]
        assert "thread_ts=2.0" in reasons[1]
        assert "poster is closed" in reasons[2]
        await asyncio.wait_for(poster.drain(), timeout=1)

    async def test_aclose_before_workers_start(self, client: StubClient, caplog: pytest.LogCaptureFixture) -> None:
        poster = ChannelPoster(client)  # type: ignore[arg-type]
        poster.post(**reply())
        await poster.aclose(timeout=0)
        await asyncio.wait_for(poster.drain(), timeout=1)
        assert len(client.calls) + len(abandoned(caplog)) == 1

    async def test_a_worker_cancelled_before_it_ran_still_accounts_for_its_posts(
        self, client: StubClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        poster = ChannelPoster(client)  # type: ignore[arg-type]
        poster.post(**reply())
        [worker] = [task for task in asyncio.all_tasks() if task.get_name() == "poster:C1"]
        worker.cancel()
        await asyncio.wait_for(poster.drain(), timeout=1)
        assert client.calls == []
        assert len(abandoned(caplog)) == 1
        poster.post(**reply())  # the channel works again
        await poster.drain()
        assert len(client.calls) == 1

    async def test_aclose_waits_for_queued_posts(self, client: StubClient) -> None:
        poster = ChannelPoster(client, min_interval=0.01)  # type: ignore[arg-type]
        poster.post(**reply())
        poster.post(**reply())
        await poster.aclose(timeout=2)
        assert len(client.calls) == 2

"""Post replies through one queue per channel, at the pace Slack accepts.

chat.postMessage allows about one message per second per channel and answers 429 with
``Retry-After`` beyond that. ``ChannelPoster.post`` only enqueues, so a listener never
waits on Slack; a worker task per busy channel sends, spaces, retries and gives up loudly:
every reply that is not posted is logged at WARNING with its channel, thread and reason
(never its text).

Leave the client's own rate-limit retry handler off: retrying here as well would multiply
the attempts and hold the worker in a blocking sleep.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

MAX_RETRY_AFTER = 60.0
DEFAULT_RETRY_AFTER = 1.0
BACKOFF_BASE = 1.0
BACKOFF_MAX = 30.0
# Slack error codes worth another try; anything else (channel_not_found, not_in_channel,
# invalid_blocks, ...) fails the same way every time.
TRANSIENT_ERRORS = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"})

_LOG = logging.getLogger("birdwatch.poster")


class ChannelPoster:
    """Queues chat.postMessage calls per channel; one lazily started worker per busy channel."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        min_interval: float = 1.0,
        max_attempts: int = 4,
        max_queue: int = 1000,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        logger: logging.Logger | None = None,
        on_abandon: Callable[[str], object] | None = None,
    ) -> None:
        self._client = client
        self._on_abandon = on_abandon
        self._min_interval = min_interval
        self._max_attempts = max(max_attempts, 1)
        self._max_queue = max_queue
        self._sleep = sleep
        self._clock = clock
        self._logger = logger or _LOG
        self._queues: dict[str, deque[dict[str, Any]]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._last_post: dict[str, float] = {}  # when each channel last got a call, for spacing
        self._closed = False

    def post(self, **kwargs: Any) -> None:
        """Enqueue ``chat_postMessage(**kwargs)``; returns at once. Call from the event loop."""
        channel = kwargs.get("channel")
        if not isinstance(channel, str) or not channel:
            raise ValueError("post() needs a channel id")
        kwargs.setdefault("unfurl_links", False)
        kwargs.setdefault("unfurl_media", False)
        if self._closed:
            self._abandon(kwargs, "poster is closed")
            return
        queue = self._queues.setdefault(channel, deque())
        if len(queue) >= self._max_queue:
            self._abandon(kwargs, "queue full")
            return
        queue.append(kwargs)
        if channel not in self._workers:
            self._forget_idle_channels()
            task = asyncio.get_running_loop().create_task(self._run(channel, queue), name=f"poster:{channel}")
            # A task cancelled before it first runs never enters _run's finally.
            task.add_done_callback(lambda _: self._retire(channel, queue))
            self._workers[channel] = task

    async def drain(self) -> None:
        """Wait until every queued reply is posted or abandoned."""
        while self._workers:
            # asyncio.wait, unlike gather, leaves the workers running if drain is cancelled.
            await asyncio.wait(list(self._workers.values()))

    async def aclose(self, timeout: float = 5.0) -> None:
        """Stop taking posts, drain for up to ``timeout`` seconds, then cancel what is left."""
        self._closed = True
        try:
            await asyncio.wait_for(self.drain(), timeout)
        except TimeoutError:
            workers = list(self._workers.values())
            for worker in workers:
                worker.cancel()
            if workers:
                await asyncio.wait(workers)

    async def _run(self, channel: str, queue: deque[dict[str, Any]]) -> None:
        try:
            while queue:
                await self._deliver(channel, queue[0])
                queue.popleft()
        finally:
            self._retire(channel, queue)

    def _retire(self, channel: str, queue: deque[dict[str, Any]]) -> None:
        """Forget a finished worker; its queue is only non-empty when it was cancelled or broke."""
        if self._queues.get(channel) is not queue:
            return  # already retired
        del self._queues[channel], self._workers[channel]
        for kwargs in queue:
            self._abandon(kwargs, "poster stopped before posting")
        queue.clear()

    async def _deliver(self, channel: str, kwargs: dict[str, Any]) -> None:
        for attempt in range(1, self._max_attempts + 1):
            await self._wait_turn(channel)
            try:
                await self._client.chat_postMessage(**kwargs)
                return
            except Exception as error:  # a worker must survive anything one post throws
                delay, reason = _retry_delay(error, attempt)
                if delay is None:
                    self._abandon(kwargs, reason, error=error)
                    return
                if attempt == self._max_attempts:
                    self._abandon(kwargs, f"{reason}; gave up after {attempt} attempts")
                    return
                self._logger.info(
                    "chat.postMessage retry in %.1fs: channel=%s thread_ts=%s reason=%s attempt=%d",
                    delay,
                    channel,
                    kwargs.get("thread_ts"),
                    reason,
                    attempt,
                )
                await self._sleep(delay)

    async def _wait_turn(self, channel: str) -> None:
        last = self._last_post.get(channel)
        if last is not None:
            delay = last + self._min_interval - self._clock()
            if delay > 0:
                await self._sleep(delay)
        self._last_post[channel] = self._clock()

    def _forget_idle_channels(self) -> None:
        now = self._clock()
        for channel in [c for c, t in self._last_post.items() if now - t >= self._min_interval]:
            if channel not in self._workers:
                del self._last_post[channel]

    def depth(self) -> int:
        """Replies accepted and not yet posted (or given up), in every channel."""
        return sum(len(queue) for queue in self._queues.values())

    def _abandon(self, kwargs: Mapping[str, Any], reason: str, error: BaseException | None = None) -> None:
        if self._on_abandon is not None:
            self._on_abandon(reason)
        unexpected = error is not None and not isinstance(error, SlackApiError)
        self._logger.warning(
            "reply abandoned: channel=%s thread_ts=%s reason=%s",
            kwargs.get("channel"),
            kwargs.get("thread_ts"),
            reason,
            exc_info=error if unexpected else None,
        )


def _retry_delay(error: BaseException, attempt: int) -> tuple[float | None, str]:
    """Seconds to wait before retrying after ``error`` (None: don't retry), and why it failed."""
    if isinstance(error, SlackApiError):
        response = error.response
        status = getattr(response, "status_code", None) or getattr(response, "status", None)
        data = getattr(response, "data", None)
        code = data.get("error") if isinstance(data, Mapping) else None
        reason = str(code or f"HTTP {status}")
        if status == 429 or code == "ratelimited":
            return _retry_after(getattr(response, "headers", None)), reason
        if (isinstance(status, int) and status >= 500) or code in TRANSIENT_ERRORS:
            return _backoff(attempt), reason
        return None, reason
    if isinstance(error, aiohttp.ClientError | OSError | TimeoutError):
        return _backoff(attempt), type(error).__name__
    return None, type(error).__name__


def _retry_after(headers: object) -> float:
    value = None
    if isinstance(headers, Mapping):
        value = next((v for k, v in headers.items() if str(k).lower() == "retry-after"), None)
    try:
        seconds = float(value) if value is not None else DEFAULT_RETRY_AFTER
    except (TypeError, ValueError):
        seconds = DEFAULT_RETRY_AFTER
    if math.isnan(seconds):
        seconds = DEFAULT_RETRY_AFTER
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _backoff(attempt: int) -> float:
    return min(BACKOFF_BASE * 2.0 ** (attempt - 1), BACKOFF_MAX)

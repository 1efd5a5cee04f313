"""Post replies to Slack dependably: channel posts through one queue per channel, at the pace
Slack accepts, and ``response_url`` posts checked and retried (``ResponseUrlSender``).

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
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Literal

import aiohttp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook import WebhookResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient

MAX_RETRY_AFTER = 60.0
DEFAULT_RETRY_AFTER = 1.0
BACKOFF_BASE = 1.0
BACKOFF_MAX = 30.0
# Slack error codes worth another try; anything else (channel_not_found, not_in_channel,
# invalid_blocks, ...) fails the same way every time.
TRANSIENT_ERRORS = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"})

_LOG = logging.getLogger("birdwatch.poster")


def prepare_reply(kwargs: dict[str, Any]) -> str:
    """Check that a reply names its channel, and keep Slack from unfurling its links (a thread
    reply previewing a runbook or dashboard drowns the explanation); returns the channel."""
    channel = kwargs.get("channel")
    if not isinstance(channel, str) or not channel:
        raise ValueError("post() needs a channel id")
    kwargs.setdefault("unfurl_links", False)
    kwargs.setdefault("unfurl_media", False)
    return channel


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
        channel = prepare_reply(kwargs)
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
        async def turn(_attempt: int) -> bool:
            await self._wait_turn(channel)
            return True

        await deliver(
            self._client,
            kwargs,
            turn,
            max_attempts=self._max_attempts,
            sleep=self._sleep,
            logger=self._logger,
            abandon=self._abandon,
        )

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
        log_abandoned(self._logger, self._on_abandon, kwargs, reason, error)


Delivery = Literal["posted", "abandoned", "yielded"]


async def deliver(
    client: AsyncWebClient,
    kwargs: dict[str, Any],
    turn: Callable[[int], Awaitable[bool]],
    *,
    max_attempts: int,
    sleep: Callable[[float], Awaitable[object]],
    logger: logging.Logger,
    abandon: Callable[[Mapping[str, Any], str, BaseException | None], None],
) -> Delivery:
    """Post one reply: ``turn(attempt)`` waits for the channel's turn before each attempt (False: the
    reply is no longer this caller's to post); 429 is retried after Retry-After, 5xx and network
    errors with backoff; anything else, or the last attempt failing, abandons it loudly."""
    attempt = 0
    while True:
        attempt += 1
        if not await turn(attempt):
            return "yielded"
        try:
            await client.chat_postMessage(**kwargs)
            return "posted"
        except Exception as error:  # a worker must survive anything one post throws
            delay, reason = _retry_delay(error, attempt)
            if delay is None:
                abandon(kwargs, reason, error)
                return "abandoned"
            if attempt >= max_attempts:
                abandon(kwargs, f"{reason}; gave up after {attempt} attempts", None)
                return "abandoned"
            logger.info(
                "chat.postMessage retry in %.1fs: channel=%s thread_ts=%s reason=%s attempt=%d",
                delay,
                kwargs.get("channel"),
                kwargs.get("thread_ts"),
                reason,
                attempt,
            )
            await sleep(delay)


def log_abandoned(
    logger: logging.Logger,
    on_abandon: Callable[[str], object] | None,
    kwargs: Mapping[str, Any],
    reason: str,
    error: BaseException | None = None,
) -> None:
    """Say that a reply was given up on, and why: never silently (the reply's text is not logged)."""
    if on_abandon is not None:
        on_abandon(reason)
    unexpected = error is not None and not isinstance(error, SlackApiError)
    logger.warning(
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


# --- response_url ---------------------------------------------------------------------------------

RESPONSE_URL_ATTEMPTS = 4
RESPONSE_URL_BUDGET = 20.0  # seconds from the first attempt; a response_url lives 30 minutes
RESPONSE_URL_TIMEOUT = 10
RESPONSE_URL_BACKOFF = 0.5


class ResponseUrlSender:
    """Posts to a ``response_url`` and checks the answer: 5xx, 429 (``Retry-After``) and connection
    errors are retried with backoff within ``budget`` seconds; a final failure is logged at WARNING
    with its reason (never the message's text) and returned, not raised."""

    def __init__(
        self,
        *,
        session: Callable[[], aiohttp.ClientSession | None] = lambda: None,
        max_attempts: int = RESPONSE_URL_ATTEMPTS,
        budget: float = RESPONSE_URL_BUDGET,
        backoff_base: float = RESPONSE_URL_BACKOFF,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        logger: logging.Logger | None = None,
    ) -> None:
        self._session = session
        self._max_attempts = max(max_attempts, 1)
        self._budget = budget
        self._backoff_base = backoff_base
        self._sleep = sleep
        self._clock = clock
        self._logger = logger or _LOG

    async def send(self, url: str, message: dict[str, Any]) -> WebhookResponse:
        started = self._clock()
        client = AsyncWebhookClient(url, timeout=RESPONSE_URL_TIMEOUT, session=self._session(), retry_handlers=[])
        for attempt in range(1, self._max_attempts + 1):
            response: WebhookResponse | None = None
            try:
                response = await client.send_dict(message)
            except (aiohttp.ClientError, OSError, TimeoutError) as error:
                delay: float | None = self._backoff(attempt)
                reason = type(error).__name__
            else:
                if response.status_code == 200:
                    return response
                delay, reason = self._retry_delay(response, attempt)
            out_of_budget = delay is not None and self._clock() - started + delay > self._budget
            if delay is None or attempt == self._max_attempts or out_of_budget:
                tried = f"{attempt} attempt" + ("s" if attempt > 1 else "")
                self._logger.warning("response_url post failed: reason=%s after %s", reason, tried)
                return response or WebhookResponse(url=url, status_code=0, body=reason, headers={})
            self._logger.info("response_url retry in %.1fs: reason=%s attempt=%d", delay, reason, attempt)
            await self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover - the loop always returns

    def _backoff(self, attempt: int) -> float:
        return min(self._backoff_base * 2.0 ** (attempt - 1), BACKOFF_MAX)

    def _retry_delay(self, response: WebhookResponse, attempt: int) -> tuple[float | None, str]:
        body = (response.body or "").strip()[:100]
        reason = f"HTTP {response.status_code}" + (f" {body}" if body else "")
        if response.status_code == 429:
            return _retry_after(response.headers), reason
        if response.status_code >= 500:
            return self._backoff(attempt), reason
        return None, reason  # expired or used URL, invalid blocks: the same every time


class CheckedRespond(AsyncRespond):
    """Bolt's ``respond`` with every post checked and retried by a ``ResponseUrlSender``."""

    def __init__(self, *, response_url: str, sender: ResponseUrlSender) -> None:
        super().__init__(response_url=response_url)
        self._sender = sender

    async def __call__(
        self,
        text: str | dict[str, Any] = "",
        blocks: Sequence[Any] | None = None,
        attachments: Sequence[Any] | None = None,
        response_type: str | None = None,
        replace_original: bool | None = None,
        delete_original: bool | None = None,
        unfurl_links: bool | None = None,
        unfurl_media: bool | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> WebhookResponse:
        if isinstance(text, dict):
            return await self._sender.send(self.response_url or "", _message(**text))
        message = _message(
            text=text,
            blocks=blocks,
            attachments=attachments,
            response_type=response_type,
            replace_original=replace_original,
            delete_original=delete_original,
            unfurl_links=unfurl_links,
            unfurl_media=unfurl_media,
            thread_ts=thread_ts,
            metadata=metadata,
        )
        return await self._sender.send(self.response_url or "", message)


def _message(
    text: str = "", blocks: Sequence[Any] | None = None, attachments: Sequence[Any] | None = None, **options: Any
) -> dict[str, Any]:
    """The JSON body of a response_url post, as Bolt's ``respond`` builds it."""
    message: dict[str, Any] = {"text": text}
    if blocks:
        message["blocks"] = [b if isinstance(b, dict) else b.to_dict() for b in blocks]
    if attachments:
        message["attachments"] = [a if isinstance(a, dict) else a.to_dict() for a in attachments]
    message.update({key: value for key, value in options.items() if value is not None})
    return message


def checked_respond(sender: ResponseUrlSender) -> Callable[..., Awaitable[BoltResponse | None]]:
    """A Bolt middleware giving every listener with a ``response_url`` a ``CheckedRespond``."""

    async def use_checked_respond(
        context: AsyncBoltContext, next: Callable[[], Awaitable[BoltResponse | None]]
    ) -> BoltResponse | None:
        if context.response_url:
            context["respond"] = CheckedRespond(response_url=context.response_url, sender=sender)
        return await next()

    return use_checked_respond
